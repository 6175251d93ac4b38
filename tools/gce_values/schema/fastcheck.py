"""A quick yes/no schema check for the common case: a conf that is valid.

Importing jsonschema and building its validator costs about a tenth of a second, longer than Helm
takes to lint the chart; most confs checked (pre-commit hooks, CI, `install`) are valid. This module
compiles the subset of draft-07 the chart's schema uses into plain Python checks. It only answers
"valid"; whenever it says "invalid", or the schema uses a keyword outside the subset, the caller runs
jsonschema, which finds and explains the errors. So a mistake here can only cost time, never hide an
error, as long as it never calls an invalid conf valid: tests compare it with jsonschema on generated
values to make sure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from gce_values.records import TYPE_CHECKING
from gce_values.schema.formats import FORMATS
from gce_values.schema.goregex import go_regex

if TYPE_CHECKING:
    from typing import Any

    Check = Callable[[Any], bool]

# Keywords that do not affect validity.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "properties",
    "patternProperties",
    "additionalProperties",
    "required",
    "propertyNames",
    "enum",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "format",
}


class _Unsupported(Exception):
    """The schema uses something this module does not implement; use jsonschema instead."""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": is_number,
    "integer": lambda v: is_number(v) and (isinstance(v, int) or float(v).is_integer()),
}


def is_type(value: Any, kind: str) -> bool:
    """JSON Schema's type test: booleans are not numbers, 1.0 is an integer."""
    return _TYPES[kind](value)


def json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, but 1 is 1.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return False
    return bool(left == right)


def _compile(node: Any) -> Check:
    if node is True or node == {}:
        return lambda _v: True
    if node is False:
        return lambda _v: False
    if not isinstance(node, dict):
        raise _Unsupported
    unknown = {key for key in node if not key.startswith("x-")} - _SUPPORTED
    if unknown or isinstance(node.get("items"), list):
        raise _Unsupported
    checks: list[Check] = []
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        tests = [_TYPES[kind] for kind in kinds]
        checks.append(tests[0] if len(tests) == 1 else lambda v: any(test(v) for test in tests))
    if "enum" in node:
        allowed = list(node["enum"])
        checks.append(lambda v: any(json_equal(v, each) for each in allowed))
    if "const" in node:
        constant = node["const"]
        checks.append(lambda v: json_equal(v, constant))
    checks.extend(_string_checks(node))
    checks.extend(_format_checks(node))
    checks.extend(_number_checks(node))
    checks.extend(_object_checks(node))
    checks.extend(_array_checks(node))
    check = _all_of(checks)
    _BY_NODE[id(node)] = (node, check)
    return check


# The check compiled for each schema node (kept with the node, whose id is the key).
_BY_NODE: dict[int, tuple[dict[str, Any], Check]] = {}


def known_valid(node: Any, value: Any) -> bool:
    """Whether ``node``'s compiled quick check passes ``value``; False when it has none.

    schema.fasterrors skips what passes: where the quick check finds nothing, neither does it.
    """
    entry = _BY_NODE.get(id(node))
    return entry is not None and entry[0] is node and entry[1](value)


def _all_of(checks: list[Check]) -> Check:
    """One check that passes when all pass (it runs for every value of every conf: no generators)."""
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]

    def every(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - all() and its generator cost more, for every value
            if not check(value):
                return False
        return True

    return every


def _format_checks(node: dict[str, Any]) -> list[Check]:
    if "format" not in node:
        return []
    test = FORMATS.get(node["format"])
    if test is None:
        raise _Unsupported
    return [lambda v: not isinstance(v, str) or test(v)]


def _string_checks(node: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    if "pattern" in node:
        # Compiled when first matched (go_regex caches it): a conf without the key never pays for it. A
        # node's own default matches its pattern (tests/test_validate_fastcheck.py checks each one), so
        # a value left at the default, as most values of a conf written by `init` are, needs no regex.
        pattern = node["pattern"]
        default = node.get("default")
        out.append(lambda v: not isinstance(v, str) or v == default or go_regex(pattern).search(v) is not None)
    return out + _length_checks(node, str, "minLength", "maxLength")


def _length_checks(
    node: dict[str, Any], kind: type[str | list[Any] | dict[str, Any]], low_key: str, high_key: str
) -> list[Check]:
    """minLength/maxLength of strings, minItems/maxItems of arrays, minProperties/maxProperties of objects."""
    out: list[Check] = []
    if low_key in node:
        low = node[low_key]
        out.append(lambda v: not isinstance(v, kind) or len(v) >= low)
    if high_key in node:
        high = node[high_key]
        out.append(lambda v: not isinstance(v, kind) or len(v) <= high)
    return out


def _number_checks(node: dict[str, Any]) -> list[Check]:
    tests = {
        "minimum": lambda v, n: v >= n,
        "maximum": lambda v, n: v <= n,
        "exclusiveMinimum": lambda v, n: v > n,
        "exclusiveMaximum": lambda v, n: v < n,
    }
    out: list[Check] = []
    for keyword, test in tests.items():
        if keyword in node:
            if not is_number(node[keyword]):
                raise _Unsupported
            out.append(functools.partial(lambda v, t, n: not is_number(v) or t(v, n), t=test, n=node[keyword]))
    return out


def _object_checks(node: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    properties = {key: _compile(sub) for key, sub in node.get("properties", {}).items()}
    patterns = [(p, _compile(sub)) for p, sub in node.get("patternProperties", {}).items()]
    extra = _compile(node.get("additionalProperties", True))
    required = list(node.get("required", []))
    names = _compile(node["propertyNames"]) if "propertyNames" in node else None

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key in required:
            if key not in value:
                return False
        for key, item in value.items():
            if names is not None and not names(key):
                return False
            known = key in properties
            if known and not properties[key](item):
                return False
            matched = False
            for pattern, sub in patterns:
                if go_regex(pattern).search(key):  # compiled when a mapping first has a key to match
                    matched = True
                    if not sub(item):
                        return False
            if not known and not matched and not extra(item):
                return False
        return True

    out.append(check)
    return out + _length_checks(node, dict, "minProperties", "maxProperties")


def _array_checks(node: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    if "items" in node:
        item_check = _compile(node["items"])
        out.append(lambda v: not isinstance(v, list) or all(item_check(item) for item in v))
    out.extend(_length_checks(node, list, "minItems", "maxItems"))
    if node.get("uniqueItems") is True:
        out.append(lambda v: not isinstance(v, list) or all_different(v))
    return out


def all_different(items: list[Any]) -> bool:
    """uniqueItems in linear time: equal items (as json_equal has it) have equal canonical forms."""
    return len({_canonical(item) for item in items}) == len(items)


def _canonical(value: Any) -> Any:
    """A hashable form of JSON-like data in which 1 and 1.0 are one, true and 1 are not."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("list", tuple(_canonical(item) for item in value))
    if isinstance(value, dict):
        return ("dict", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("other", id(value))


_COMPILED: dict[int, tuple[dict[str, Any], Check | None]] = {}


def compiled(document: dict[str, Any]) -> Check | None:
    """The quick check for ``document`` (once per process), or None if it needs full jsonschema."""
    cached = _COMPILED.get(id(document))
    if cached is None or cached[0] is not document:
        try:
            check: Check | None = _compile(document)
        except _Unsupported:
            check = None
        cached = (document, check)
        _COMPILED[id(document)] = cached
    return cached[1]
