"""JSON Schema validation of merged values, with messages a user can act on.

jsonschema (imported only here, and only when a conf is checked) does the validation, built once per
schema and process. Two things make it agree with Helm: ``pattern`` is matched with Go RE2 semantics
(``$`` is the end of the text, not "before a final newline"; ``\\d``/``\\w`` are ASCII), and every
format is checked. Its messages are then rewritten: unknown keys get "did you mean", removed keys of
the predecessor charts say what replaced them, enums list the allowed values, and anyOf/oneOf report
the branch that was meant rather than every alternative. Values are shown through a callback, so a
value that looks like a credential is never printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.helmyaml.scalars import resolve_plain
from gce_values.records import TYPE_CHECKING, Record
from gce_values.schema import Removed, fastcheck, fasterrors
from gce_values.schema.goregex import go_regex
from gce_values.schema.nodes import type_name

if TYPE_CHECKING:
    from typing import Any, Protocol

    class Facts(Protocol):
        """What the checker needs to know about the merged values beyond the values themselves."""

        def show(self, pointer: str, value: Any) -> str:
            """The value as the user should see it (redacted when it looks like a credential)."""

        def hides(self, pointer: str) -> bool:
            """Whether the value at ``pointer`` looks like a credential (and is never shown)."""

        def source_of(self, pointer: str) -> str | None:
            """The display name of the source that supplied the value, None for a chart default."""

        def was_deleted(self, pointer: str) -> bool:
            """Whether a user ``null`` deleted the default at ``pointer``."""


_COMBINATORS = ("anyOf", "oneOf")
# "Did you mean" is for typos: past this many unknown keys in one mapping, it is the wrong file instead.
_SUGGEST_FOR_AT_MOST = 20


class Finding(Record):
    """A schema violation at ``pointer`` (``at_key``: point at the key rather than the value)."""

    pointer: str
    at_key: bool
    rule: str
    message: str
    hint: str | None = None


def _jsonschema(module: str = "") -> Any:
    """Import jsonschema (or a submodule) on first use: it takes a tenth of a second to import."""
    import importlib

    return importlib.import_module("jsonschema" + (f".{module}" if module else ""))


def _go_pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not go_regex(pattern).search(instance):
        yield _jsonschema("exceptions").ValidationError(f"does not match {pattern!r}")


_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def validator_for(document: dict[str, Any]) -> Any:
    """The jsonschema validator for ``document``, built (and the schema checked) once per process."""
    cached = _VALIDATORS.get(id(document))
    if cached is not None and cached[0] is document:
        return cached[1]
    validators = _jsonschema("validators")
    base = validators.validator_for(document)
    base.check_schema(document)
    helm_like = validators.extend(base, {"pattern": _go_pattern})
    validator = helm_like(document, format_checker=_jsonschema().FormatChecker())
    _VALIDATORS[id(document)] = (document, validator)
    return validator


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant (ignoring case), if one is close enough."""
    lowered = {choice.lower(): choice for choice in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    import difflib  # only for an error message

    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def _expected(types: Any) -> str:
    names = [type_name(str(t)) for t in (types if isinstance(types, list) else [types])]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _examples_hint(schema: dict[str, Any]) -> str | None:
    """The schema's examples (or its non-empty default), as a hint after a pattern failure."""
    examples = [e for e in schema.get("examples", []) if isinstance(e, str) and e]
    default = schema.get("default")
    if not examples and isinstance(default, str) and default:
        examples = [default]
    return "for example " + " or ".join(jsontext.dumps(e) for e in examples[:2]) if examples else None


def _schema_hint(schema: dict[str, Any]) -> str | None:
    text = schema.get("x-errorMessage") or schema.get("description")
    return " ".join(str(text).split()) if text else None


class _Translator:
    def __init__(self, facts: Facts, removed: dict[str, Removed]) -> None:
        self.facts = facts
        self.removed = removed

    def findings(self, error: Any) -> list[Finding]:
        pointer = ptr.join(error.absolute_path)
        keyword = error.validator
        if "propertyNames" in error.schema_path and isinstance(error.instance, str):
            return [self._bad_key_name(error, pointer)]
        if keyword == "additionalProperties" and error.validator_value is False:
            return list(self._unknown_keys(error, pointer))
        if keyword == "required":
            return list(self._missing(error, pointer))
        if keyword in _COMBINATORS:
            meant = _meant_branch(error)
            if meant is None:
                return [Finding(pointer, False, keyword, f"matches more than one of the {keyword} alternatives")]
            inner = self.findings(meant)
            total = len(error.validator_value)
            return [
                Finding(f.pointer, f.at_key, f.rule, f.message, _join(f.hint, f"closest of {total} alternatives"))
                for f in inner
            ]
        return [Finding(pointer, False, keyword, *self._value_message(error, pointer))]

    def _unknown_keys(self, error: Any, pointer: str) -> Iterator[Finding]:
        allowed = list(error.schema.get("properties", {}))
        patterns = [go_regex(p) for p in error.schema.get("patternProperties", {})]
        unknown = 0
        for key in error.instance:
            if key in error.schema.get("properties", {}) or any(p.search(key) for p in patterns):
                continue
            child = ptr.child(pointer, key)
            dotted = ".".join(ptr.tokens(child))
            gone = self.removed.get(dotted)
            if gone is not None:
                why = " ".join(gone.hint.split()).rstrip(".")
                use = f"use {gone.replaced_by}; " if gone.replaced_by and gone.replaced_by not in why else ""
                hint = f"{use}`gce-values migrate OLD-CONF -o NEW-CONF` converts a conf of the old charts"
                message = f"{key!r} is no longer a setting of this chart: {why}"
                yield Finding(child, True, "removed-key", message, hint)
                continue
            unknown += 1
            match = close_match(key, allowed) if unknown <= _SUGGEST_FOR_AT_MOST else None
            yield Finding(
                child, True, "unknown-key", f"unknown key {key!r}", f"did you mean {match!r}?" if match else None
            )

    def _missing(self, error: Any, pointer: str) -> Iterator[Finding]:
        for key in error.validator_value:
            if key in error.instance:
                continue
            child = ptr.child(pointer, key)
            if self.facts.was_deleted(child):
                yield Finding(
                    child,
                    True,
                    "required",
                    f"{key!r} is required, but null deletes it",
                    "in Helm a null removes the key and its default; give a value instead",
                )
            else:
                yield Finding(child, True, "required", f"missing required key {key!r}")

    def _bad_key_name(self, error: Any, pointer: str) -> Finding:
        key = error.instance
        child = ptr.child(pointer, key)
        if error.validator == "pattern":
            from gce_values.schema import patternwords  # only a pattern needs it

            message = f"key {key!r} {patternwords.explain(key, error.validator_value)}"
        elif error.validator == "maxLength":
            message = f"key {key!r} is longer than {error.validator_value} characters"
        elif error.validator == "enum":
            message = f"key {key!r} is not allowed here: use one of {', '.join(map(str, error.validator_value))}"
        else:
            message = f"key {key!r} is not allowed here ({error.validator})"
        return Finding(child, True, "propertyNames", message, _schema_hint(error.schema))

    def _value_message(self, error: Any, pointer: str) -> tuple[str, str | None]:
        keyword, limit, value = error.validator, error.validator_value, error.instance
        shown = self.facts.show(pointer, value)
        if keyword == "type":
            return f"expected {_expected(limit)}, got {shown}", self._type_hint(pointer, limit, value)
        if keyword == "enum":
            allowed = ", ".join(jsontext.dumps(v) for v in limit)
            match = close_match(value, [v for v in limit if isinstance(v, str)]) if isinstance(value, str) else None
            return f"must be one of {allowed}; got {shown}", f"did you mean {jsontext.dumps(match)}?" if match else None
        if keyword == "const":
            return f"must be {jsontext.dumps(limit)}; got {shown}", None
        if keyword == "pattern":
            return f"{shown} {self._pattern_words(pointer, value, limit)}", _examples_hint(error.schema)
        if keyword == "format":
            words = self._pattern_words(pointer, value, str(error.schema.get("pattern", "")))
            return f"{shown} is not a valid {limit}: it {words}", _examples_hint(error.schema)
        bounds = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
            "multipleOf": "a multiple of",
        }
        if keyword in bounds:
            return f"must be {bounds[keyword]} {jsontext.dumps(limit)}; got {shown}", None
        if keyword in ("minLength", "maxLength"):
            word = "at least" if keyword == "minLength" else "at most"
            return f"is {len(value)} characters long; {word} {limit} allowed", error.schema.get("x-errorMessage")
        if keyword in ("minItems", "maxItems", "minProperties", "maxProperties"):
            word = "at least" if keyword.startswith("min") else "at most"
            noun = "items" if keyword.endswith("Items") else "keys"
            return f"has {len(value)} {noun}; {word} {limit} allowed", _schema_hint(error.schema)
        if keyword == "uniqueItems":
            return "has the same item more than once", None
        return f"does not satisfy the schema's {keyword!r} rule", _schema_hint(error.schema)

    def _pattern_words(self, pointer: str, value: Any, pattern: str) -> str:
        """What is wrong with ``value``, in words; nothing specific about a value that looks like a credential."""
        if not isinstance(value, str) or self.facts.hides(pointer):
            return "is not in the expected form"
        from gce_values.schema import patternwords  # only a pattern needs it

        return patternwords.explain(value, pattern)

    def _type_hint(self, pointer: str, expected: Any, value: Any) -> str | None:
        wanted = set(expected if isinstance(expected, list) else [expected])
        source = self.facts.source_of(pointer) or ""
        if value is None:
            return "a null deletes only keys that have a default; remove the line or give a value"
        if not isinstance(value, str):
            return None

        kind, _ = resolve_plain(value)
        numeric = kind in ("int", "float") and wanted & {"integer", "number"}
        boolean = kind == "bool" and "boolean" in wanted
        if not (numeric or boolean):
            return None
        if source.startswith("--set-string"):
            return "--set-string always gives a string: use --set"
        if source.startswith("--set"):
            return "--set reads only integers, true/false and null: put this value in a -f file"
        return "remove the quotes"


def _leaves(errors: Iterable[Any]) -> Iterator[Any]:
    for error in errors:
        if error.validator in _COMBINATORS and error.context:
            yield from _leaves(error.context)
        else:
            yield error


def _meant_branch(error: Any) -> Any | None:
    """The sub-error of the alternative the user most likely meant: the deepest, not a mere type miss."""
    depth = len(error.absolute_path)
    leaves = list(_leaves(error.context))
    if not leaves:
        return None
    misses_by_branch: dict[Any, int] = {}
    for leaf in leaves:
        branch = leaf.absolute_schema_path[len(error.absolute_schema_path)]
        misses_by_branch[branch] = misses_by_branch.get(branch, 0) + 1

    def score(leaf: Any) -> tuple[int, bool, int]:
        branch = leaf.absolute_schema_path[len(error.absolute_schema_path)]
        type_miss = leaf.validator == "type" and len(leaf.absolute_path) == depth
        return (len(leaf.absolute_path), not type_miss, -misses_by_branch[branch])

    return max(leaves, key=score)


def _join(first: str | None, second: str) -> str:
    return f"{first} ({second})" if first else second


def explain(
    document: dict[str, Any], values: dict[str, Any], facts: Facts, removed: dict[str, Removed]
) -> list[Finding]:
    """Every schema violation in ``values``, found without jsonschema when the schema allows it."""

    errors: list[Any] = []
    if fastcheck.compiled(document) is not None:
        errors = list(fasterrors.errors(document, values))
    if not errors:
        errors = list(validator_for(document).iter_errors(values))
    translator = _Translator(facts, removed)
    out: list[Finding] = []
    for error in errors:
        out.extend(translator.findings(error))
    return out
