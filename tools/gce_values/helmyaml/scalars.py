"""How Helm's YAML (go-yaml v2, YAML 1.1) reads a plain scalar, for both readers and for the checks.

``yes``/``no``/``on``/``off``/``y``/``n`` are booleans, ``010`` is octal 8, ``0o10``/``0x1F``/``0b101``/
``1e3`` are numbers, underscores between digits are dropped, and numbers past 64 bits stay text.
"""

from __future__ import annotations

import functools
import re

from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# go-yaml v2's table of words: YAML 1.1 booleans and nulls, and the special floats.
_BOOL_WORDS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"), False),
}
PLAIN_BOOLS = {"true", "True", "TRUE", "false", "False", "FALSE"}
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
_INFINITY = float("inf")
_SPECIAL_FLOATS = {
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), _INFINITY),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -_INFINITY),
}
# Patterns are compiled (and cached by re) on first use: plainly written confs never need them.
_YAML_STYLE_FLOAT = r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
_DOT_FLOAT = r"\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?"
_DIGITS = {16: set("0123456789abcdefABCDEF"), 10: set("0123456789"), 8: set("01234567"), 2: set("01")}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1


def _go_int(text: str, signed: bool) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b and leading-0 octal prefixes)."""
    body, sign = text, 1
    if body[:1] in ("+", "-"):
        if not signed:
            return None
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if not body:
        return None
    base, digits = 10, body
    if body[0] == "0" and len(body) > 1:
        prefix = body[1].lower()
        base, digits = {"x": (16, body[2:]), "o": (8, body[2:]), "b": (2, body[2:])}.get(prefix, (8, body[1:]))
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    if len(digits.lstrip("0")) > 64:  # beyond 64 bits in any base (and beyond Python's int() digit limit)
        return None
    value = sign * int(digits, base)
    low, high = (INT64_MIN, INT64_MAX) if signed else (0, _UINT64_MAX)
    return value if low <= value <= high else None


def _plain_number(text: str) -> tuple[str, Any] | None:
    first = text[0]
    if first == ".":
        if re.fullmatch(_DOT_FLOAT, text):
            value = float(text.replace("_", ""))
            return None if abs(value) == _INFINITY else ("float", value)  # too big stays text, as in Go
        return None
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return None
    plain = text.replace("_", "")
    for signed in (True, False):
        number = _go_int(plain, signed)
        if number is not None:
            return "int", number
    if plain[-1] in "0123456789." and re.fullmatch(_YAML_STYLE_FLOAT, plain):  # 512Mi needs no pattern
        value = float(plain)
        if abs(value) != _INFINITY:
            return "float", value
    return None


@functools.lru_cache(maxsize=4096)
def resolve_plain(text: str) -> tuple[str, Any]:
    """How go-yaml v2 reads an untagged plain scalar: (kind, value), kind in str/bool/int/float/null.

    Cached: confs repeat the same words and numbers, and a batch of confs repeats them all.
    """
    if text in _NULL_WORDS:
        return "null", None
    if text in _BOOL_WORDS:
        return "bool", _BOOL_WORDS[text]
    if text in _SPECIAL_FLOATS:
        return "float", _SPECIAL_FLOATS[text]
    return _plain_number(text) or ("str", text)


def as_template_text(value: float) -> str:
    """A number as the chart's templates write it back as text (gce.scalarString: whole numbers in full,
    others as Go prints a float64): 4.10 -> "4.1", 1e3 -> "1000", 0x10 -> "16", 1000000.5 -> "1.0000005e+06".

    The twin of the template helper gce.scalarString (chart templates/_helpers.tpl), which names this
    function back; tests/test_template_twins.py renders the helper with real Helm and compares."""
    number = float(value)
    if number.is_integer():
        return f"{number:.0f}"
    return go_float_text(number)


def go_float_text(number: float) -> str:
    """Go's ``%v`` of a float64 (strconv.FormatFloat(f, 'g', -1, 64)): the shortest digits that read back
    the same, with an exponent when it is below -4 or at least 6 (or than the digits, for whole numbers)."""
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    if str(number) == "nan":
        return "NaN"
    sign = "-" if str(number).startswith("-") else ""
    mantissa, _, power = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    written = whole + fraction
    significant = written.lstrip("0")
    point = len(whole) + int(power or 0) - (len(written) - len(significant))
    digits = significant.rstrip("0") or "0"
    if not significant:
        return sign + "0"
    exponent = point - 1
    limit = len(digits) if 6 > len(digits) >= point else 6
    if exponent < -4 or exponent >= limit:
        tail = f"{digits[0]}.{digits[1:]}" if len(digits) > 1 else digits
        return f"{sign}{tail}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
