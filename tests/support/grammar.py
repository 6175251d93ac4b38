"""Hypothesis strategies built from the grammar of the values the chart's schema and rules read.

Each strategy writes YAML text for one value, the way a user could: Kubernetes quantities (sign, digits,
dot, every suffix and decimal exponent, and near misses of each), numbers in the spellings YAML 1.1 and
Go's float printing produce, strings in plain, single- and double-quoted form with escapes, and
credentials in the shapes gce_values.checks.secretscan knows (a URL password, a token, a client-secret
assignment). They feed tests/test_grammar_differential.py, which holds live Helm's verdict against
validate's.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

_DIGITS = st.text("0123456789", max_size=22)
_SUFFIXES = ("", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
# Suffixes Kubernetes refuses or the schema does not take: each should fail the same way everywhere.
_BAD_SUFFIXES = ("K", "ki", "KI", "mi", "e", "E+", "i", "Mb", " Mi", "m ")


@st.composite
def quantity_text(draw: st.DrawFn) -> str:
    """A quantity as text: mostly well formed, sometimes one step outside the grammar."""
    sign = draw(st.sampled_from(("", "", "", "+", "-")))
    whole = draw(_DIGITS)
    dot = draw(st.sampled_from(("", "", ".")))
    fraction = draw(_DIGITS) if dot else ""
    if not whole and not fraction and draw(st.booleans()):
        whole = "1"
    kind = draw(st.integers(0, 9))
    if kind < 6:
        suffix = draw(st.sampled_from(_SUFFIXES))
    elif kind < 9:
        power = draw(st.integers(-30, 30))
        mark = draw(st.sampled_from(("e", "E")))
        plus = draw(st.sampled_from(("", "+"))) if power >= 0 else "-"
        suffix = f"{mark}{plus}{str(abs(power)).zfill(draw(st.integers(1, 4)))}"
    else:
        suffix = draw(st.sampled_from(_BAD_SUFFIXES))
    return f"{sign}{whole}{dot}{fraction}{suffix}"


@st.composite
def number_text(draw: st.DrawFn) -> str:
    """A YAML number: what Python writes, what Go prints (1.0000005e+06), or a whole number."""
    value = draw(
        st.one_of(
            st.integers(0, 10**20),
            st.floats(min_value=0, max_value=1e22, allow_nan=False, allow_infinity=False),
            st.decimals(min_value=0, max_value=10**7, places=4).map(float),
        )
    )
    if isinstance(value, int):
        return str(value)
    from gce_values.helmyaml.scalars import go_float_text

    return draw(st.sampled_from((repr(value), go_float_text(value))))


def yaml_forms(text: str) -> st.SearchStrategy[str]:
    """``text`` as a plain, single-quoted or double-quoted YAML scalar (with an escape or two)."""
    single = "'" + text.replace("'", "''") + "'"
    double = json.dumps(text)
    escaped = '"' + "".join(f"\\x{ord(c):02x}" if c.isdigit() and c in "17" else c for c in text) + '"'
    return st.sampled_from((text, single, double, escaped))


@st.composite
def quantity_value(draw: st.DrawFn) -> str:
    """The YAML text of a quantity key's value: a quantity in some scalar form, or a number."""
    if draw(st.integers(0, 4)) == 0:
        return draw(number_text())
    return draw(quantity_text().flatmap(yaml_forms))


_SECRET_WORDS = st.text("abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789", min_size=8, max_size=24)


@st.composite
def credential_text(draw: st.DrawFn, shapes: tuple[str, ...] = ("url",)) -> tuple[str, str]:
    """(text with a credential of one of ``shapes`` in it, the secret part that must never be printed):
    a URL with a password, a random-looking token, or a client-secret assignment."""
    secret = "Zq" + draw(_SECRET_WORDS)  # a prefix no other generated text has
    shape = draw(st.sampled_from(shapes))
    if shape == "token":
        token = secret + draw(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=40))
        return token, token
    if shape == "assignment":
        name = draw(st.sampled_from(("GLOBUS_COMPUTE_CLIENT_SECRET", "FUNCX_SDK_CLIENT_SECRET")))
        return f"{name}={secret}", secret
    user = draw(st.sampled_from(("user", "u", "alice.b", "a%40b")))
    host = draw(st.sampled_from(("host", "example.org:8443", "10.0.0.1", "[::1]:5000")))
    scheme = draw(st.sampled_from(("https", "http", "postgres", "redis", "git+ssh", "s3")))
    path = draw(st.sampled_from(("", "/", "/repo/img:1", "?x=1")))
    return f"{scheme}://{user}:{secret}@{host}{path}", secret
