"""A reader for plainly written confs, without PyYAML: the start-up cost of one `validate` run.

Importing PyYAML and its libyaml binding takes longer than checking a conf, and a conf as
`gce-values init` writes it (or a person edits it) uses a small part of YAML. ``load`` reads that
part and returns None for anything else, so that the full reader (helmyaml.reader, which follows
go-yaml as Helm reads it) handles the text from the start. Accepted, and nothing more:

- block mappings and block sequences (indented by spaces; a mapping's list may be indentless;
  ``- key: value`` items), ``{}`` and ``[]`` as the only flow collections, comments, blank lines;
- keys written plainly (a letter or ``_``, then letters, digits, ``_ . -``; at most 1000 characters)
  that are not YAML 1.1 words such as ``on`` or ``no``, each once per mapping;
- plain values that read as a decimal integer (``0``, ``-12``, at most 15 digits), a decimal
  fraction (``0.5``), ``true``/``false`` (any capitalisation Helm reads as such), ``null``, or text
  of letters, digits and ``_ . / -`` (inner spaces too, not first) that reads as text (``512Mi``,
  a UUID);
- quoted values on one line without escapes (``'text'``, ``"text"``), whose text either reads as
  text when unquoted or is one of the plain numbers/booleans/null above (then noted as ``quoted``,
  as the full reader notes it).

Everything else - anchors, tags, multi-line or block scalars, escapes, ``~``, ``yes``/``no``/``on``/
``off``, octal or hex numbers, timestamps, ``---`` and directives, tabs, CR, non-ASCII text, odd
indentation, duplicate keys, an empty conf - goes to the full reader. The values, positions and
notes are the full reader's (its Loaded, Pos and ScalarNote, its scalar rules): tests/test_plainread.py
compares the two readers on generated confs and on the repository's YAML files.
"""

from __future__ import annotations

import re

from gce_values import pointer as ptr
from gce_values.helmyaml.loaded import Loaded, Pos, ScalarNote
from gce_values.helmyaml.scalars import as_template_text, resolve_plain
from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# Limits far inside the full reader's (depth 100, 10,000 values): beyond them, the full reader decides.
_MAX_DEPTH = 20
_MAX_VALUES = 2_000

# libyaml (and go-yaml) refuse a plain key longer than 1024 characters: longer ones go to the full reader.
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]{0,999}):(?: +|$)")
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./ -]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
_WORDS = frozenset(("true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"))
# YAML 1.1 words that go-yaml reads as booleans: as keys, left to the full reader.
_AMBIGUOUS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF")
)


class _NotPlain(Exception):
    """The text uses YAML this reader leaves to the full reader."""


class _Lines:
    """The significant lines (not blank, not only a comment): 1-based number, indent, text.

    A last line of indent -1 ends every block, so that no one needs to ask whether a line follows.
    """

    __slots__ = ("at", "items")

    def __init__(self, text: str) -> None:
        self.items: list[tuple[int, int, str]] = []
        for number, line in enumerate(text.split("\n"), start=1):
            body = line.lstrip(" ")
            if not body or body[0] == "#":
                continue
            if line.startswith(("---", "...", "%")):
                raise _NotPlain
            self.items.append((number, len(line) - len(body), line))
        self.items.append(_END)
        self.at = 0


_END = (0, -1, "")


class _Reader:
    __slots__ = ("lines", "notes", "positions", "values")

    def __init__(self, text: str) -> None:
        self.lines = _Lines(text)
        self.positions: dict[str, Pos] = {}
        self.notes: list[ScalarNote] = []
        self.values = 0

    def count(self) -> None:
        self.values += 1
        if self.values > _MAX_VALUES:
            raise _NotPlain

    # A block collection whose first entry starts at column ``column`` (0-based) of the current line.
    def block(self, column: int, pointer: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise _NotPlain
        line = self.lines.items[self.lines.at][2]
        if line.startswith("-", column):
            return self.sequence(column, pointer, depth)
        return self.mapping(column, pointer, depth)

    def mapping(self, column: int, pointer: str, depth: int) -> dict[str, Any]:
        data: dict[str, Any] = {}
        lines = self.lines
        items = lines.items
        while True:
            number, _, line = items[lines.at]
            match = _KEY.match(line, column)
            if match is None:
                raise _NotPlain
            key = match.group(1)
            if key in data or key in _WORDS or key in _AMBIGUOUS:
                raise _NotPlain
            child = ptr.child(pointer, key)
            data[key] = self.value(number, line, match.end(), column, child, depth, in_mapping=True)
            indent = items[lines.at][1]
            if indent < column:
                return data
            if indent > column or items[lines.at][2].startswith("-", column):
                raise _NotPlain

    def sequence(self, column: int, pointer: str, depth: int) -> list[Any]:
        data: list[Any] = []
        lines = self.lines
        items = lines.items
        while True:
            number, _, line = items[lines.at]
            if not line.startswith("- ", column):
                raise _NotPlain
            start = column + 2
            while line.startswith(" ", start):
                start += 1
            child = ptr.child(pointer, len(data))
            if _KEY.match(line, start):
                self.count()
                self.positions[child] = Pos(number, start + 1, number, start + 1)
                data.append(self.block(start, child, depth + 1))
            else:
                data.append(self.value(number, line, start, column, child, depth, in_mapping=False))
            _, indent, following = items[lines.at]
            if indent < column:
                return data
            if indent > column or not following.startswith("-", column):
                # An indentless list ends where its mapping's next key starts; anything else is not plain.
                if indent == column and _KEY.match(following, column):
                    return data
                raise _NotPlain

    def value(self, number: int, line: str, start: int, column: int, pointer: str, depth: int, in_mapping: bool) -> Any:
        """The value starting at ``start`` of ``line`` (a mapping key's or a list item's); moves past it."""
        key_column = column + 1 if in_mapping else start + 1
        lines = self.lines
        lines.at += 1
        self.values += 1
        if self.values > _MAX_VALUES:
            raise _NotPlain
        text = line[start:]
        if text and text[0] != "#":
            cut = text.find(" #")
            text = (text if cut < 0 else text[:cut]).rstrip(" ")
            value = _PLAIN_VALUES.get(text, _NotPlain)
            if value is _NotPlain:
                value = self.scalar(text, pointer)
            self.positions[pointer] = Pos(number, start + 1, number, key_column)
            return value
        if not in_mapping:
            raise _NotPlain  # "-" alone on its line: left to the full reader
        below, indent, below_line = lines.items[lines.at]
        if indent > column or (indent == column and below_line.startswith("- ", column)):
            self.positions[pointer] = Pos(below, indent + 1, number, key_column)
            return self.block(indent, pointer, depth + 1)
        raise _NotPlain  # an empty value (null), or a line that does not belong here

    def scalar(self, text: str, pointer: str) -> Any:
        if text == "{}":
            return {}
        if text == "[]":
            return []
        first = text[0]
        if first in "'\"":
            if len(text) < 2 or text[-1] != first or first in text[1:-1] or "\\" in text:
                raise _NotPlain
            inner = text[1:-1]
            if inner:
                kind, unquoted = resolve_plain(inner)
                if kind != "str":  # text that would read as a number, boolean or null without its quotes
                    self.notes.append(ScalarNote(pointer, "quoted", inner, unquoted))
            return inner
        return _plain_value(text)


def _plain_value(text: str) -> Any:
    """The value of a plain scalar in the accepted forms, by the full reader's scalar rules."""
    kind, value = resolve_plain(text)
    if kind == "str":
        if not _PLAIN_TEXT.fullmatch(text):
            raise _NotPlain
    elif text not in _WORDS and not (kind != "bool" and _NUMBER.fullmatch(text)):
        raise _NotPlain  # yes/no/on/off, ~, octal, hex, exponents, .inf...
    elif kind in ("int", "float") and as_template_text(value) != text:
        raise _NotPlain  # 4.10, 1.50: the full reader notes the text the templates would change
    if len(_PLAIN_VALUES) < _MAX_REMEMBERED:
        _PLAIN_VALUES[text] = value
    return value


# Plain scalars already read, and their values (all immutable): confs repeat the same words and numbers.
_PLAIN_VALUES: dict[str, Any] = {}
_MAX_REMEMBERED = 4096


def load(text: str, name: str) -> Loaded | None:
    """``text`` read as helmyaml.reader.load reads it, or None when it is not plainly written."""
    if not (text.isascii() and text.replace("\n", "").isprintable()):
        return None  # printable ASCII and newlines only: no tab, no CR, no control or non-ASCII character
    try:
        reader = _Reader(text)
        first = reader.lines.items[0]
        if first[1] != 0:
            return None
        reader.count()
        reader.positions[ptr.ROOT] = Pos(first[0], 1, first[0], 1)
        data = reader.mapping(0, ptr.ROOT, 1)
    except _NotPlain:
        return None
    if reader.lines.items[reader.lines.at] is not _END:
        return None
    return Loaded(name=name, data=data, positions=reader.positions, notes=reader.notes)
