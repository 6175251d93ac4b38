"""JSON pointers (RFC 6901) for value paths, and the dotted spelling users see in messages.

Every module that talks about "where" a value is (the YAML loader, the merge, the schema checks, the
rules) uses these pointers as keys, so positions, provenance and problems line up.
"""

from __future__ import annotations

from collections.abc import Iterable

ROOT = ""


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def child(pointer: str, token: str | int) -> str:
    """The pointer of key (or list index) ``token`` under ``pointer``."""
    text = str(token)
    # Most keys need no escaping; this runs for every value of every conf checked.
    if "~" in text or "/" in text:
        text = escape(text)
    return f"{pointer}/{text}"


def join(tokens: Iterable[str | int]) -> str:
    return "".join("/" + escape(str(token)) for token in tokens)


def tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [unescape(part) for part in pointer[1:].split("/")]


def parent(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ROOT


def ancestors(pointer: str) -> Iterable[str]:
    """``pointer`` itself, then each enclosing pointer up to the root."""
    while True:
        yield pointer
        if not pointer:
            return
        pointer = parent(pointer)


def from_dotted(path: str) -> str:
    """``endpoint.admins`` -> ``/endpoint/admins`` (the form x-rules and x-removed use)."""
    return join(path.split("."))


def dotted(pointer: str, is_index: Iterable[bool]) -> str:
    """``/endpoint/admins/0`` -> ``endpoint.admins[0]``; keys with odd characters are quoted.

    ``is_index`` says, token by token, which are list indices (only the data can tell ``/a/0`` apart).
    """
    parts = tokens(pointer)
    if not parts:
        return "(root)"
    out = ""
    for part, index in zip(parts, is_index, strict=False):
        if index:
            out += f"[{part}]"
        elif _is_plain_key(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def _is_plain_key(key: str) -> bool:
    """Whether ``key`` can be written plainly in a dotted path: ASCII letters, digits, _ and - only."""
    return key.isascii() and key.replace("_", "a").replace("-", "a").isalnum()
