"""A Record behaves as the typing.NamedTuple it is written as (and as mypy checks it)."""

from __future__ import annotations

import copy
import pickle
from typing import NamedTuple

import pytest

from gce_values.helmyaml.loaded import ScalarNote
from gce_values.records import Record
from gce_values.report import ERROR, Problem


class Spot(Record):
    """A place."""

    line: int
    column: int
    label: str = "here"
    note: str | None = None

    @property
    def where(self) -> str:
        return f"{self.line}:{self.column}"


class SpotTuple(NamedTuple):
    line: int
    column: int
    label: str = "here"
    note: str | None = None


CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((1, 2), {}),
    ((1, 2, "x"), {}),
    ((1, 2, "x", "y"), {}),
    ((1,), {"column": 2}),
    ((), {"line": 1, "column": 2, "note": "n"}),
    ((1, 2), {"note": "n"}),
]


@pytest.mark.parametrize(("args", "named"), CALLS)
def test_construction_matches_named_tuple(args: tuple[object, ...], named: dict[str, object]) -> None:
    record, reference = Spot(*args, **named), SpotTuple(*args, **named)  # type: ignore[arg-type]
    assert tuple(record) == tuple(reference)
    assert (record.line, record.column, record.label, record.note) == tuple(reference)
    assert repr(record) == repr(reference).replace("SpotTuple", "Spot")


@pytest.mark.parametrize(
    ("args", "named"),
    [((), {}), ((1,), {}), ((1, 2, "x", "y", "z"), {}), ((1, 2), {"colour": 3}), ((1, 2), {"line": 3})],
    ids=["nothing", "too few", "too many", "unknown field", "field twice"],
)
def test_wrong_arguments_are_refused_as_named_tuple_refuses_them(
    args: tuple[object, ...], named: dict[str, object]
) -> None:
    with pytest.raises(TypeError):
        SpotTuple(*args, **named)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Spot(*args, **named)  # type: ignore[arg-type]


def test_tuple_behaviour_and_named_tuple_helpers() -> None:
    spot = Spot(3, 4)
    assert tuple(spot) == (3, 4, "here", None)
    assert hash(spot) == hash((3, 4, "here", None))
    assert spot[:2] == (3, 4) and spot.where == "3:4"
    assert Spot._fields == ("line", "column", "label", "note")
    assert Spot._make([5, 6, "x", None]) == Spot(5, 6, "x")
    with pytest.raises(TypeError):
        Spot._make([5, 6])
    assert spot._replace(label="there") == Spot(3, 4, "there")
    assert spot._asdict() == {"line": 3, "column": 4, "label": "here", "note": None}
    assert Spot.__doc__ == "A place." and Spot.__name__ == "Spot"
    with pytest.raises(TypeError):
        spot._replace(colour=1)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        spot.line = 5  # type: ignore[misc]


def test_records_survive_pickling_and_copying() -> None:
    problem = Problem("conf.yaml", 1, 2, "/a", "a", ERROR, "rule", "message", "hint")
    note = ScalarNote("/b", "octal", "010", 8)
    for record in (problem, note):
        assert pickle.loads(pickle.dumps(record)) == record
        assert type(pickle.loads(pickle.dumps(record))) is type(record)
        assert copy.deepcopy(record) == record
    assert problem.is_error
