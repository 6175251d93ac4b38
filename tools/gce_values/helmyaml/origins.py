"""Where each value came from: a source's name and positions, kept in step with Helm's merge.

Every problem names the file (or ``--set #N``) and the line and column that supplied the value; the
merge and the --set parser record that here as they replace values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gce_values import pointer as ptr
from gce_values.helmyaml.loaded import Pos
from gce_values.records import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from typing import Any


class Origin(Record):
    """Where a value came from: a source's display name and the 1-based position in it."""

    source: str
    line: int
    column: int
    key_line: int
    key_column: int


class Source(Record):
    """One input: its display name, its data, and positions of its values by JSON pointer.

    Not a dataclass, like Merged: see records.Record on start-up time.
    """

    name: str
    data: dict[str, Any]
    positions: Mapping[str, Pos]

    def origin(self, pointer: str) -> Origin:
        """The position of ``pointer``, or of its nearest ancestor the parser saw (aliases, merges)."""
        pos = self.positions.get(pointer)
        if pos is not None:  # nearly always: this runs for every value
            return Origin._make((self.name, *pos))
        for candidate in ptr.ancestors(pointer):
            pos = self.positions.get(candidate)
            if pos is not None:
                return Origin(self.name, *pos)
        return Origin(self.name, 1, 1, 1, 1)


def clone(value: Any) -> Any:
    """A copy of JSON-like data (much faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


def walk(value: Any, pointer: str) -> Iterator[str]:
    """``pointer`` and the pointer of everything inside ``value``."""
    yield pointer
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, ptr.child(pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, ptr.child(pointer, index))


class Origins:
    """The Origin of the value at each pointer, recorded as cheaply as it can be.

    The merge records one for every value, and only the few a problem is reported at are ever read:
    a value from a source's own text is kept as that Source and made an Origin when it is read.
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[str, Origin | Source] = {}

    def __contains__(self, pointer: str) -> bool:
        return pointer in self._entries

    def __setitem__(self, pointer: str, entry: Origin | Source) -> None:
        self._entries[pointer] = entry

    def setdefault(self, pointer: str, entry: Origin | Source) -> None:
        self._entries.setdefault(pointer, entry)

    def get(self, pointer: str) -> Origin | None:
        entry = self._entries.get(pointer)
        return None if entry is None else _as_origin(pointer, entry)

    def pop(self, pointer: str) -> Origin | None:
        origin = self.get(pointer)
        self._entries.pop(pointer, None)
        return origin

    def discard(self, pointer: str) -> None:
        self._entries.pop(pointer, None)

    def items(self) -> Iterator[tuple[str, Origin]]:
        for pointer, entry in self._entries.items():
            yield pointer, _as_origin(pointer, entry)


def _as_origin(pointer: str, entry: Origin | Source) -> Origin:
    """The Origin an entry stands for: itself, or where its Source holds ``pointer``."""
    return entry.origin(pointer) if isinstance(entry, Source) else entry


class Tracker:
    """Origins by pointer, kept in step with the values as they are replaced."""

    def __init__(self) -> None:
        self.origins = Origins()

    def replace(self, pointer: str, old: Any, new: Any, entry: Origin | Source) -> None:
        """``new`` replaced ``old`` at ``pointer``; ``entry`` (an Origin, or the Source whose text holds
        ``new``) is where each new value came from."""
        if isinstance(old, (dict, list)):
            for stale in list(walk(old, pointer)):
                self.origins.discard(stale)
        self._record(new, pointer, entry)

    def _record(self, value: Any, pointer: str, entry: Origin | Source) -> None:
        """``entry`` for ``value`` and for everything inside it (what walk() yields, without its generators)."""
        self.origins[pointer] = entry
        if isinstance(value, dict):
            for key, item in value.items():
                self._record(item, ptr.child(pointer, key), entry)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._record(item, ptr.child(pointer, index), entry)
