"""Find credentials pasted into a conf, without ever repeating them.

A conf is stored by the SLATE server, shown by `slate instance info` and often committed to git; the
endpoint's credentials belong in the SLATE (Kubernetes) secret named by ``secrets``. What counts as a
credential here:
  - a PEM block (``-----BEGIN ... PRIVATE KEY-----`` and friends);
  - a ``GLOBUS_COMPUTE_CLIENT_SECRET=...`` or ``FUNCX_SDK_CLIENT_SECRET=...`` line pasted into a value;
  - a key named like *secret*, *token*, *password* (that the schema does not declare as a name of a
    secret) holding a literal of 8 or more characters;
  - a URL with a password in it (``scheme://user:password@host``): often needed (a proxy in
    userEnvironment), so a warning rather than an error, but redacted like the rest;
  - a high-entropy, base64-like run of 40 or more characters (Globus client secrets and tokens).
Findings carry the pointer and a description of the *kind* of value found; the caller redacts the
matched text from every message.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator

from gce_values import pointer as ptr
from gce_values.records import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import Any

# Patterns are compiled (and cached by re) on first use: most runs need only some of them.
_PEM = r"-----BEGIN ([A-Z0-9 ]{1,40})-----"
_ENV_ASSIGNMENT = r"\b(GLOBUS_COMPUTE_CLIENT_SECRET|FUNCX_SDK_CLIENT_SECRET)\s*[=:]\s*['\"]?([^\s'\"$]+)"
# What a key named for a credential contains, case aside.
_SECRET_WORDS = (
    "secret",
    "token",
    "password",
    "passwd",
    "credential",
    *(f"{kind}{joint}key" for kind in ("api", "private") for joint in ("", "-", "_")),
)
_TOKEN_LENGTH = 40
_TOKEN = rf"[A-Za-z0-9+/_-]{{{_TOKEN_LENGTH},}}={{0,2}}"
# A reference to a secret kept elsewhere, not the secret itself.
_REFERENCE = r"^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|<[^<>]*>|\*+)$"
MIN_LITERAL = 8
MIN_ENTROPY = 4.0


URL_PASSWORD = "a URL with a password in it (user:password@host)"


class Finding(Record):
    """A credential-looking value (or key) at ``pointer``; ``matched`` is the text to redact."""

    pointer: str
    at_key: bool
    what: str
    matched: tuple[str, ...]


def url_userinfo(text: str) -> tuple[str, ...]:
    """The ``user:password@`` parts of the URLs in ``text`` (each authority is read once: linear)."""
    found = []
    start = text.find("://")
    while start >= 0:
        end = start + 3
        while end < len(text) and text[end] not in "/?#" and not text[end].isspace():
            end += 1
        authority = text[start + 3 : end]
        user, at, _ = authority.rpartition("@")
        if at and ":" in user and user.partition(":")[2]:
            found.append(user + "@")
        start = text.find("://", end)
    return tuple(found)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    import math  # a shared library: loaded only for a long enough run of token characters

    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _random_looking(token: str) -> bool:
    body = token.rstrip("=")
    classes = sum((any(c.islower() for c in body), any(c.isupper() for c in body), any(c.isdigit() for c in body)))
    return classes == 3 and entropy(body) >= MIN_ENTROPY


@functools.lru_cache(maxsize=4096)
def scan_text(text: str) -> tuple[str, tuple[str, ...]] | None:
    """What credential-like content ``text`` holds (a description, and the matched parts), if any.

    Cached: every conf has the same keys, and a batch of confs repeats most texts.
    """
    # Each pattern is tried only where it can match: this runs on every key and text of every conf.
    pem = re.search(_PEM, text) if "-----BEGIN " in text else None
    if pem:
        return f"a PEM block (BEGIN {pem.group(1)})", (text,)
    assignment = re.search(_ENV_ASSIGNMENT, text) if "_CLIENT_SECRET" in text else None
    if assignment:
        return f"a {assignment.group(1)}= assignment", (assignment.group(2),)
    userinfo = url_userinfo(text) if "://" in text else ()
    if userinfo:
        return URL_PASSWORD, userinfo
    if len(text) < _TOKEN_LENGTH:
        return None
    tokens = tuple(token for token in re.findall(_TOKEN, text) if _random_looking(token))
    if tokens:
        return f"a {len(tokens[0])}-character random-looking string, like a Globus client secret or token", tokens
    return None


def _named_secret(key: str, value: str, is_declared: Callable[[str], bool], pointer: str) -> bool:
    """Whether ``value``, under ``key`` in the mapping at ``pointer``, is a literal credential by its key's name."""
    if not _secret_key_name(key) or is_declared(ptr.child(pointer, key)):
        return False
    literal = value.strip()
    return not (len(literal) < MIN_LITERAL or any(c.isspace() for c in literal) or re.match(_REFERENCE, literal))


@functools.lru_cache(maxsize=4096)
def _secret_key_name(key: str) -> bool:
    """Whether ``key`` is named like a credential (cached: every conf has the same keys)."""
    folded = key.casefold()
    return any(word in folded for word in _SECRET_WORDS)


def scan(data: Any, is_declared: Callable[[str], bool], pointer: str = ptr.ROOT) -> Iterator[Finding]:
    """Every credential-looking value or key in ``data``.

    ``is_declared(pointer)`` says whether the schema names that key itself (so ``secrets`` or
    ``imagePullSecret``, which hold the *name* of a secret, are not taken for one).
    """
    if isinstance(data, dict):
        # Pointers are made only for a finding or a collection: this runs on every key of every conf.
        for key, value in data.items():
            in_key = scan_text(key)
            if in_key:
                yield Finding(ptr.child(pointer, key), True, in_key[0], (key, *in_key[1]))
            if isinstance(value, str):
                found = scan_text(value)
                if _named_secret(key, value, is_declared, pointer):
                    what = found[0] if found else f"a literal value for a key named {key!r}"
                    yield Finding(ptr.child(pointer, key), False, what, (value,))
                elif found:
                    yield Finding(ptr.child(pointer, key), False, found[0], (value, *found[1]))
            elif isinstance(value, (dict, list)):  # nothing else can hold a secret
                yield from scan(value, is_declared, ptr.child(pointer, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from scan(item, is_declared, ptr.child(pointer, index))
    elif isinstance(data, str):
        found = scan_text(data)
        if found:
            yield Finding(pointer, False, found[0], (data, *found[1]))
