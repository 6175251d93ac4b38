"""Record: the base class of the validator's small immutable records, without importing typing.

A record is written as a typing.NamedTuple is (``class Pos(Record):`` with annotated fields and
defaults) and mypy checks it as one. At run time it is a tuple subclass made here from the class
body: `validate` runs on every commit as a pre-commit hook, importing typing takes about as long as
checking a conf, and collections.namedtuple compiles code for every class it makes (70 us each, for
some twenty records). A dataclass would cost more still: dataclasses imports inspect.

A record has what the validator uses of a named tuple: fields by name and by position, defaults,
keyword arguments, ``_fields``, ``_make``, ``_replace``, ``_asdict``, a repr, equality and pickling.

``TYPE_CHECKING`` is this package's switch for imports only type checkers need: it is False at run
time, and mypy treats any name ``TYPE_CHECKING`` as true.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    from operator import itemgetter

    class _RecordType(type):
        """Makes each class derived from Record a tuple subclass with its annotated fields."""

        def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if not bases:
                return super().__new__(cls, name, bases, namespace)
            fields = tuple(namespace.get("__annotations__", {}))
            defaults = {field: namespace.pop(field) for field in fields if field in namespace}
            body = {**namespace, **_members(name, fields, defaults)}
            body.update((field, property(itemgetter(index))) for index, field in enumerate(fields))
            return type(name, (_RecordBase,), body)

    class _RecordBase(tuple):
        __slots__ = ()
        _fields: tuple[str, ...] = ()

        @classmethod
        def _make(cls, values):
            record = tuple.__new__(cls, values)
            if len(record) != len(cls._fields):
                raise TypeError(f"{cls.__name__} takes {len(cls._fields)} values, not {len(record)}")
            return record

        def _replace(self, **changes):
            values = [changes.pop(field, value) for field, value in zip(self._fields, self, strict=True)]
            if changes:
                raise TypeError(f"{type(self).__name__} has no field {next(iter(changes))!r}")
            return tuple.__new__(type(self), values)

        def _asdict(self):
            return dict(zip(self._fields, self, strict=True))

        def __getnewargs__(self):
            return tuple(self)

        def __repr__(self):
            shown = ", ".join(f"{field}={value!r}" for field, value in zip(self._fields, self, strict=True))
            return f"{type(self).__name__}({shown})"

    def _members(name: str, fields: tuple[str, ...], defaults: dict[str, object]) -> dict[str, object]:
        """``__new__`` (positional arguments the quick way, keywords and defaults the careful one) and ``_fields``."""
        count = len(fields)
        tail = tuple(defaults.values())
        required = count - len(tail)

        def __new__(cls, *values, **named):
            if len(values) == count and not named:
                return tuple.__new__(cls, values)
            if not named and required <= len(values) < count:
                return tuple.__new__(cls, values + tail[len(values) - required :])
            return tuple.__new__(cls, _arranged(name, fields, defaults, values, named))

        return {"__new__": __new__, "__slots__": (), "_fields": fields, "_field_defaults": defaults}

    def _arranged(name, fields, defaults, values, named):
        if len(values) > len(fields):
            raise TypeError(f"{name} takes {len(fields)} values, not {len(values)}")
        given = dict(zip(fields, values, strict=False))
        for field, value in named.items():
            if field not in fields or field in given:
                raise TypeError(f"{name}: {'unexpected' if field not in fields else 'repeated'} field {field!r}")
            given[field] = value
        missing = [field for field in fields if field not in given and field not in defaults]
        if missing:
            raise TypeError(f"{name}: missing {', '.join(missing)}")
        return tuple(given[field] if field in given else defaults[field] for field in fields)

    class Record(metaclass=_RecordType):
        """The base of a record; see the module docstring."""


__all__ = ["TYPE_CHECKING", "Record"]
