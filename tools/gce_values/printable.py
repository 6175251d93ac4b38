"""Text from a user's files, made safe to print as part of one line of a message.

Keys, file names and values come from input that may be hostile: a key with a newline would forge a
second problem line, terminal escape sequences would recolour or retitle the user's terminal, and a
megabyte-long key would make a megabyte-long message. Messages show such text escaped and clipped.
"""

from __future__ import annotations

# Longest piece of user text shown in a message; the message says when it was cut.
LONGEST = 200
ELLIPSIS = "…"


def one_line(text: str, longest: int = LONGEST) -> str:
    """``text`` with control, separator and format characters escaped (``\\n``, ``\\x1b``, ``\\u202e``), clipped."""
    clipped = text[:longest]
    if not clipped.isprintable():
        clipped = "".join(ch if ch.isprintable() else _escaped(ch) for ch in clipped)
    return clipped + ELLIPSIS if len(text) > longest else clipped


def _escaped(char: str) -> str:
    return char.encode("unicode_escape", errors="backslashreplace").decode("ascii")
