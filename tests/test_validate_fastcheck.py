"""The quick validity check gives jsonschema's answer on the chart's schema, so skipping jsonschema is safe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gce_values.helmyaml import origins
from gce_values.schema import fastcheck, fasterrors, formats, load
from gce_values.schema import reference as schema_check
from support.paths import SEED

SCHEMA = load()
DEFAULTS = SCHEMA.defaults()
PATHS = [path for path, _node in SCHEMA.leaves()]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**31),
    st.sampled_from([0, 1, 4, 443, 1000, 1001, 0.5, 2.0, 1e3, -0.0, 5671]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "ok", "Bad Name", "ci", "a" * 30, "512Mi", "1", "x\n", "true", "Always", "nvidia.com/gpu"]),
    st.sampled_from(["7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57", "2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3", "100m", "1.5"]),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "nvidia.com/gpu", "Bad Key", "X_1", "ID", "1"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def value_sets(draw: st.DrawFn) -> dict[str, Any]:
    values: dict[str, Any] = origins.clone(DEFAULTS) | dict(SEED)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PATHS))
        branch = values
        for key in path[:-1]:
            if not isinstance(branch.get(key), dict):
                branch[key] = {}
            branch = branch[key]
        if draw(st.integers(0, 9)) == 0:
            branch.pop(path[-1], None)
        else:
            branch[path[-1]] = draw(VALUES)
    if draw(st.integers(0, 9)) == 0:
        values[draw(st.sampled_from(["extra", "replicaCount"]))] = draw(VALUES)
    return values


def test_the_chart_schema_is_within_the_quick_subset() -> None:
    assert fastcheck.compiled(SCHEMA.document) is not None


@settings(max_examples=400, deadline=None)
@given(values=value_sets())
def test_quick_check_agrees_with_jsonschema(values: dict[str, Any]) -> None:
    quick = fastcheck.compiled(SCHEMA.document)
    assert quick is not None
    assert quick(values) == schema_check.validator_for(SCHEMA.document).is_valid(values)


def pattern_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema node, at any depth, that has a pattern and a default."""
    if isinstance(node, dict):
        if "pattern" in node and "default" in node:
            yield node
        for child in node.values():
            yield from pattern_nodes(child)
    elif isinstance(node, list):
        for child in node:
            yield from pattern_nodes(child)


def test_every_default_passes_its_own_node_so_the_quick_check_may_skip_its_pattern() -> None:
    nodes = list(pattern_nodes(SCHEMA.document))
    assert len(nodes) >= 5
    for node in nodes:
        assert schema_check.validator_for(node).is_valid(node["default"]), node


def test_a_default_that_breaks_its_pattern_would_be_caught_by_the_quick_check_of_other_values() -> None:
    """The shortcut is for the node's own default only: any other text is matched against the pattern."""
    node = {"type": "object", "properties": {"a": {"type": "string", "pattern": "^[a-z]+$", "default": "ok"}}}
    quick = fastcheck.compiled(node)
    assert quick is not None
    assert quick({"a": "ok"}) and quick({"a": "fine"})
    assert not quick({"a": "Not OK"})


def test_keywords_outside_the_subset_fall_back_to_jsonschema() -> None:
    assert fastcheck.compiled({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}}) is None
    assert fastcheck.compiled({"$ref": "#/definitions/x", "definitions": {"x": {}}}) is None
    assert fastcheck.compiled({"items": [{"type": "string"}]}) is None


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        ([1, {"a": True}], [1.0, {"a": True}], True),
        ("1", 1, False),
    ],
)
def test_json_equality(left: object, right: object, equal: bool) -> None:
    assert fastcheck.json_equal(left, right) is equal


def _findings(errors: Any) -> list[tuple[str, bool, str, str, str | None]]:
    translator = schema_check._Translator(_Shown(), SCHEMA.removed())
    return sorted({tuple(f) for error in errors for f in translator.findings(error)})  # type: ignore[misc]


class _Shown:
    """Facts for the message translator: values as they are, nothing deleted by a null."""

    def show(self, pointer: str, value: Any) -> str:
        return repr(value)

    def hides(self, pointer: str) -> bool:
        return False

    def source_of(self, pointer: str) -> str | None:
        return None

    def was_deleted(self, pointer: str) -> bool:
        return False


@settings(max_examples=400, deadline=None)
@given(values=value_sets())
def test_errors_found_without_jsonschema_are_jsonschemas(values: dict[str, Any]) -> None:
    reference = list(schema_check.validator_for(SCHEMA.document).iter_errors(values))
    assert fastcheck.compiled(SCHEMA.document) is not None  # its checks let fasterrors skip valid parts
    fast = list(fasterrors.errors(SCHEMA.document, values))
    assert _findings(fast) == _findings(reference)
    assert bool(fast) == (not fastcheck.compiled(SCHEMA.document)(values))  # type: ignore[misc]


def _jsonschema_uuid(value: str) -> bool:
    from jsonschema import FormatChecker

    return FormatChecker(["uuid"]).conforms(value, "uuid")


UUID_EDGES = [
    "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57",
    "2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3",
    "2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a",
    "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57a",
    "{7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57}",
    "urn:uuid:7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57",
    "2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2g3",
    "2f0bd7f3-3a94-4e38-9a0c-4a50f29fd_a3",
    " f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3",
    "+f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3",
    "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57-",
    "2f0bd7f3-3a94-4e38-9a0c--a50f29fd2a3",
    "2f0bd7f33a944e389a0c4a50f29fd2a3",
    "",
    "-" * 36,
]


@pytest.mark.parametrize("value", UUID_EDGES)
def test_uuid_format_is_jsonschemas(value: str) -> None:
    assert formats.is_uuid(value) == _jsonschema_uuid(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF-{}_+ :urnid", min_size=30, max_size=46))
def test_uuid_format_is_jsonschemas_on_generated_text(value: str) -> None:
    assert formats.is_uuid(value) == _jsonschema_uuid(value)
