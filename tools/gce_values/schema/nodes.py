"""Which schema node describes a value, and which JSON types a node or a value has."""

from __future__ import annotations

from collections.abc import Iterable

from gce_values.helmyaml.scalars import go_float_text
from gce_values.records import TYPE_CHECKING
from gce_values.schema.goregex import go_regex

if TYPE_CHECKING:
    from typing import Any

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def node_at(document: dict[str, Any], tokens: Iterable[str]) -> dict[str, Any] | None:
    """The schema node that applies to the value at ``tokens`` (properties, patterns, extras, items)."""
    node: Any = document
    for token in tokens:
        if not isinstance(node, dict):
            return None
        props = node.get("properties")
        if isinstance(props, dict) and token in props:
            node = props[token]
            continue
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict):
            matched = next((sub for pat, sub in patterns.items() if go_regex(pat).search(token)), None)
            if matched is not None:
                node = matched
                continue
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            node = extra
            continue
        items = node.get("items")
        if isinstance(items, dict) and token.isdigit():
            node = items
            continue
        return None
    return node if isinstance(node, dict) else None


def accepted_types(node: dict[str, Any] | None) -> set[str] | None:
    """The JSON types a node accepts (None when it does not say)."""
    if node is None or "type" not in node:
        return None
    kind = node["type"]
    return set(kind) if isinstance(kind, list) else {kind}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def type_name(kind: str) -> str:
    """``integer`` -> ``an integer``."""
    return _TYPE_NAMES.get(kind, kind)


def go_string(value: Any) -> str:
    """Sprig's ``toString`` of a scalar Helm has read: Go's ``%v``, every number a float64 there, so 12 is "12"
    and 1000000 is "1e+06". The template function's twin: tests/test_template_twins.py renders both."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_float_text(float(value))
    return str(value)
