"""Where go-yaml v2 (what Helm 3 and Helm 4 read values with) and libyaml (what parses here) part ways.

libyaml finds the events; these functions then hold each one to go-yaml v2's rules:
  - escapes in double-quoted text: go-yaml knows ``\\'`` (libyaml does not) and not ``\\/`` (libyaml,
    following YAML 1.2 and JSON, does); ``double_quoted_escapes`` finds what go-yaml would refuse, and
    ``quote_escape_at`` tells a ``\\'`` that libyaml stopped at;
  - ``!!timestamp``: Go's time.Parse with go-yaml's four layouts, so 2001-13-45 is refused;
  - ``!!binary``: Go's base64, which skips line breaks and nothing else.
"""

from __future__ import annotations

import functools
import re

# The characters go-yaml v2 accepts after a backslash in double-quoted text (and x, u, U with hex digits).
ESCAPES = frozenset("0abt\tnvfre \"'\\N_LP")
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_HEX = frozenset("0123456789abcdefABCDEF")
_LINE_BREAKS = frozenset("\r\n\x85\u2028\u2029")


@functools.cache
def _timestamp() -> re.Pattern[str]:
    """go-yaml's four timestamp layouts; compiled when first needed (only a !!timestamp tag needs it)."""
    return re.compile(
        r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
        r"(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?"
    )


def double_quoted_escapes(source: str) -> str | None:
    """The first escape go-yaml v2 refuses in ``source`` (a double-quoted scalar as written), if any."""
    index = source.find("\\")
    while index != -1 and index + 1 < len(source):
        char = source[index + 1]
        if char in _HEX_ESCAPES:
            digits = source[index + 2 : index + 2 + _HEX_ESCAPES[char]]
            if len(digits) != _HEX_ESCAPES[char] or not set(digits) <= _HEX:
                return "\\" + char
            step = 2 + len(digits)
        elif char in ESCAPES or char in _LINE_BREAKS:
            step = 2
        else:
            return "\\" + char
        index = source.find("\\", index + step)
    return None


def quote_escape_at(text: str, line: int, column: int) -> bool:
    """Whether libyaml stopped at a ``\\'`` (0-based line, column of the backslash or of the quote after
    it): an escape go-yaml reads in double quotes, and libyaml refuses."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return False
    return any(at >= 0 and text.startswith("\\'", start + at) for at in (column, column - 1))


def timestamp_ok(text: str) -> bool:
    """Whether go-yaml v2 reads ``text`` as a timestamp (Go's time.Parse, go-yaml's four layouts)."""
    import calendar  # here, not at start-up: only a !!timestamp tag gets this far

    match = _timestamp().fullmatch(text)
    if match is None:
        return False
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    separator, zone = match.group(4), match.group(8)
    if separator is None:
        return True
    if (separator == " ") == (zone is not None):  # T needs a zone, a space allows none
        return False
    hour, minute, second = (int(match.group(i)) for i in (5, 6, 7))
    if hour > 23 or minute > 59 or second > 59:
        return False
    return zone in (None, "Z") or (int(zone[1:3]) <= 24 and int(zone[4:6]) <= 59)


def binary_text(text: str) -> str | None:
    """The text a ``!!binary`` value decodes to, as Helm holds it; None when Go's base64 refuses it."""
    import base64  # here, not at start-up: only a !!binary tag gets this far
    import binascii

    try:
        raw = base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="replace")
