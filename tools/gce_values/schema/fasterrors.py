"""The schema errors of an invalid conf, found as jsonschema finds them, without importing jsonschema.

Importing jsonschema and building its validator costs more than Helm takes to lint the chart, and a
conf with a mistake is the one a user waits on. For the draft-07 subset fastcheck compiles, this
module walks the schema keyword by keyword, in jsonschema's order and with its semantics (Python's
``re.search`` for property patterns, Go's RE2 for ``pattern`` as the reference configures it, the
FormatChecker's uuid), and yields records with the fields schema.reference reads from jsonschema's
ValidationError. The messages are then made by the same code either way. jsonschema stays the
reference: tests compare the two on generated confs, and the caller falls back to jsonschema
whenever this module finds nothing although the quick check said "invalid".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from gce_values.records import TYPE_CHECKING, Record
from gce_values.schema.fastcheck import all_different, is_number, is_type, json_equal, known_valid
from gce_values.schema.formats import FORMATS
from gce_values.schema.goregex import go_regex

if TYPE_CHECKING:
    from typing import Any

_BOUNDS = {
    "minimum": lambda value, limit: value < limit,
    "maximum": lambda value, limit: value > limit,
    "exclusiveMinimum": lambda value, limit: value <= limit,
    "exclusiveMaximum": lambda value, limit: value >= limit,
}


Path = tuple[str | int, ...]


class SchemaError(Record):
    """What schema.reference reads of a jsonschema ValidationError."""

    validator: str
    validator_value: Any
    instance: Any
    schema: dict[str, Any]
    absolute_path: Path
    schema_path: Path


def errors(node: Any, value: Any, path: Path = (), schema_path: Path = ()) -> Iterator[SchemaError]:
    """Every error of ``value`` against ``node``, depth first in the schema's keyword order."""
    if node is True or not isinstance(node, dict):
        if node is False:
            yield SchemaError("false", False, value, {}, path, schema_path)
        return
    for keyword, limit in node.items():
        here = (*schema_path, keyword)
        walk = _SUBSCHEMA_WALKS.get(keyword)
        if walk is not None:
            yield from walk(node, limit, value, path, here)
        elif _fails(keyword, limit, value):
            yield SchemaError(keyword, limit, value, node, path, here)


def _properties(node: dict[str, Any], limit: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if isinstance(value, dict):
        for key, sub in limit.items():
            # A value the quick check passes has no errors: only the others are walked.
            if key in value and not known_valid(sub, value[key]):
                yield from errors(sub, value[key], (*path, key), (*here, key))


def _pattern_properties(node: dict[str, Any], limit: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if isinstance(value, dict):
        for pattern, sub in limit.items():
            for key, item in value.items():
                if re.search(pattern, key):
                    yield from errors(sub, item, (*path, key), (*here, pattern))


def _property_names(node: dict[str, Any], limit: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if isinstance(value, dict):
        for key in value:
            yield from errors(limit, key, path, here)


def _items(node: dict[str, Any], limit: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from errors(limit, item, (*path, index), (*here, index))


def _required(node: dict[str, Any], limit: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if isinstance(value, dict):
        for key in limit:
            if key not in value:
                yield SchemaError("required", limit, value, node, path, here)


def _additional(node: dict[str, Any], extra: Any, value: Any, path: Path, here: Path) -> Iterator[SchemaError]:
    if not isinstance(value, dict):
        return
    known = node.get("properties", {})
    patterns = list(node.get("patternProperties", {}))
    extras = [key for key in value if key not in known and not any(re.search(p, key) for p in patterns)]
    if isinstance(extra, dict):
        for key in extras:
            yield from errors(extra, value[key], (*path, key), here)
    elif extra is False and extras:
        yield SchemaError("additionalProperties", False, value, node, path, here)


# The keywords whose errors lie in subschemas or in the keys of a mapping, each walked by its own part.
_SUBSCHEMA_WALKS: dict[str, Callable[[dict[str, Any], Any, Any, Path, Path], Iterator[SchemaError]]] = {
    "properties": _properties,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "items": _items,
    "required": _required,
}


def _fails(keyword: str, limit: Any, value: Any) -> bool:
    """Whether ``value`` breaks a keyword that looks at the value alone (annotations never do)."""
    if keyword == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        return not any(is_type(value, kind) for kind in kinds)
    if keyword == "enum":
        return all(not json_equal(value, each) for each in limit)
    if keyword == "const":
        return not json_equal(value, limit)
    if isinstance(value, str):
        return _string_fails(keyword, limit, value)
    if keyword in _BOUNDS:
        return is_number(value) and bool(_BOUNDS[keyword](value, limit))
    if isinstance(value, list):
        if keyword == "minItems":
            return bool(len(value) < limit)
        if keyword == "maxItems":
            return bool(len(value) > limit)
        if keyword == "uniqueItems":
            return bool(limit) and not all_different(value)
    if isinstance(value, dict):
        if keyword == "minProperties":
            return bool(len(value) < limit)
        if keyword == "maxProperties":
            return bool(len(value) > limit)
    return False


def _string_fails(keyword: str, limit: Any, value: str) -> bool:
    if keyword == "pattern":
        return go_regex(limit).search(value) is None
    if keyword == "format":
        test = FORMATS.get(limit)
        return test is not None and not test(value)
    if keyword == "minLength":
        return bool(len(value) < limit)
    if keyword == "maxLength":
        return bool(len(value) > limit)
    return False
