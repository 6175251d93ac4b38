"""Record: the base class of the validator's small immutable records, without importing typing.

A record is written as a typing.NamedTuple is (``class Pos(Record):`` with annotated fields and
defaults) and mypy checks it as one. At run time it is a plain collections.namedtuple built from the
class body: `validate` runs on every commit as a pre-commit hook, and importing typing takes about
as long as checking a conf (a dataclass costs more still: dataclasses imports inspect).

``TYPE_CHECKING`` is this package's switch for imports only type checkers need: it is False at run
time, and mypy treats any name ``TYPE_CHECKING`` as true.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    from collections import namedtuple

    class _RecordType(type):
        """Turns each class derived from Record into a namedtuple of its annotated fields."""

        def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if not bases:
                return super().__new__(cls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[field] for field in fields if field in namespace]
            record = namedtuple(name, fields, defaults=defaults, module=str(namespace["__module__"]))
            for attribute, value in namespace.items():
                if attribute not in fields and attribute != "__module__":
                    setattr(record, attribute, value)
            return record

    class Record(metaclass=_RecordType):
        """The base of a record; see the module docstring."""


__all__ = ["TYPE_CHECKING", "Record"]
