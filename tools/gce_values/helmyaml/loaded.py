"""What reading a conf yields, whichever reader read it (helmyaml.plainread or helmyaml.reader).

Plain data, the 1-based line and column of every value and of its key by JSON pointer, notes about
scalars whose reading may surprise (warnings), and the problems the parse itself found.
"""

from __future__ import annotations

from gce_values.records import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 100


class Pos(Record):
    """1-based line and column of a value and of its key (the value's own for list items and the root)."""

    line: int
    column: int
    key_line: int
    key_column: int


class ScalarNote(Record):
    """How a scalar was read, when that may surprise the user (YAML 1.1, or quotes SLATE may drop).

    ``kind`` is ``bool-word`` (yes/no/on/off/y/n read as a boolean), ``octal`` (a leading zero made
    the number octal), ``number`` (a number the templates would write back as other text: 4.10, 1e3)
    or ``quoted`` (text that would read as a number, boolean or null without its quotes).
    """

    pointer: str
    kind: str
    text: str
    value: Any
    at_key: bool = False


class Issue(Record):
    """Something the parse itself finds (a duplicate key, an out-of-order merge, an extra document)."""

    line: int
    column: int
    pointer: str
    severity: str
    rule: str
    message: str
    hint: str | None = None


class Loaded:
    """A parsed conf: plain data, positions by JSON pointer, notes and parse problems.

    A plain class with slots, like this module's Records (gce_values.records): no dataclass at start-up.
    """

    __slots__ = ("data", "name", "notes", "positions", "problems")

    def __init__(
        self,
        name: str,
        data: dict[str, Any],
        positions: dict[str, Pos],
        notes: list[ScalarNote] | None = None,
        problems: list[Issue] | None = None,
    ) -> None:
        self.name = name
        self.data = data
        self.positions = positions
        self.notes = [] if notes is None else notes
        self.problems = [] if problems is None else problems
