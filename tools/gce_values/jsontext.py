"""A value written as JSON text, the way messages show values, without importing json for plain ones.

Messages quote values as JSON (``"abc"``, ``true``, ``512``). Importing json takes longer than
checking a conf, so the common values (None, booleans, integers, printable text with no quote or
backslash) are written here; anything else goes to json.dumps. tests/test_jsontext.py checks that
the two always agree.
"""

from __future__ import annotations

from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

_CONSTANTS = {None: "null", True: "true", False: "false"}


def dumps(value: Any, ensure_ascii: bool = True) -> str:
    """``json.dumps(value, ensure_ascii=ensure_ascii)``."""
    kind = type(value)
    if kind is bool or value is None:
        return _CONSTANTS[value]
    if kind is int:
        return int.__repr__(value)
    if kind is str and _as_is(value, ensure_ascii):
        return f'"{value}"'
    import json

    return json.dumps(value, ensure_ascii=ensure_ascii)


def _as_is(text: str, ensure_ascii: bool) -> bool:
    """Whether json writes ``text`` between quotes unchanged (it escapes quotes, backslashes, controls)."""
    return text.isprintable() and (text.isascii() or not ensure_ascii) and '"' not in text and "\\" not in text
