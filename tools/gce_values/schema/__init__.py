"""The annotated values schema: loading it and answering questions about it.

Everything else (Helm's values.schema.json, values.yaml, the chart's rule templates, the README
table, the validator's messages) reads the schema through this module.
"""

from __future__ import annotations

import functools
import marshal
import os
import re
from collections.abc import Iterator

from gce_values import resources
from gce_values.helmyaml.scalars import as_template_text
from gce_values.records import TYPE_CHECKING, Record
from gce_values.schema.goregex import go_regex
from gce_values.schema.nodes import go_string, node_at

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

# Keys that only document or extend the schema; Helm does not need them.
_DOC_KEYS = frozenset({"description", "examples", "default", "title", "$id"})


class Rule(Record):
    """A cross-field rule from ``x-rules``; ``spec`` keeps the kind's own fields."""

    id: str
    kind: str
    message: str
    severity: str
    key: str
    spec: dict[str, Any]


class Removed(Record):
    """A key of a predecessor chart and what to do instead (``x-removed``)."""

    key: str
    hint: str
    replaced_by: str | None


class ValuesSchema:
    """The parsed schema document with helpers keyed by value paths (tuples of keys)."""

    def __init__(self, document: dict[str, Any], source: str | Path | None = None) -> None:
        self.document = document
        self.source = source
        self._rules: list[Rule] | None = None

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.document.get("properties", {})
        return props

    def helm_schema(self) -> dict[str, Any]:
        """The schema without documentation and extensions: what Helm enforces."""
        stripped: dict[str, Any] = _strip(self.document)
        return stripped

    def defaults(self) -> dict[str, Any]:
        """The default value of every key, nested like values.yaml."""
        return _defaults_of(self.document)

    def node(self, path: tuple[str, ...]) -> dict[str, Any] | None:
        """The schema node that describes the value at ``path``, if the schema names it."""
        return node_at(self.document, path)

    def pattern(self, name: str) -> re.Pattern[str]:
        """A pattern of ``x-patterns`` (uuid, dnsSubdomain), compiled to match as Helm does."""
        return go_regex(self.document["x-patterns"][name])

    def matches(self, name: str, text: str) -> bool:
        """Whether ``text`` is a non-empty match of the shared pattern ``name`` (which also allow "")."""
        return bool(text) and self.pattern(name).search(text) is not None

    def allowed_keys(self, path: tuple[str, ...]) -> list[str]:
        """The keys the schema declares for the mapping at ``path``."""
        node = self.node(path)
        if not node:
            return []
        return list(node.get("properties", {}))

    def removed(self) -> dict[str, Removed]:
        """Keys of the predecessor charts, by dotted path."""
        return {
            key: Removed(key=key, hint=entry["hint"], replaced_by=entry.get("replacedBy"))
            for key, entry in self.document.get("x-removed", {}).items()
        }

    def rules(self) -> list[Rule]:
        """The cross-field rules, in the order the schema lists them (read once: every conf checked needs them)."""
        if self._rules is None:
            self._rules = self._read_rules()
        return list(self._rules)

    def _read_rules(self) -> list[Rule]:
        out = []
        for raw in self.document.get("x-rules", []):
            spec = {k: v for k, v in raw.items() if k not in {"id", "kind", "message", "severity", "key"}}
            out.append(
                Rule(
                    id=raw["id"],
                    kind=raw["kind"],
                    message=" ".join(raw["message"].split()),
                    severity=raw.get("severity", "error"),
                    key=raw["key"] if "key" in raw else raw["keys"][0],
                    spec=spec,
                )
            )
        return out

    def leaves(self) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        """Every documented value, depth first in schema order (objects with properties recurse, except the
        SLATE block, which the server fills in and which is documented as one value)."""
        yield from _walk(self.document, ())


def release_name(instance: Any) -> str:
    """The release name SLATE gives a conf: ``<chart>-<Instance>``, or ``<chart>`` when Instance is empty
    or null (SLATE adds no dash then); a number is written as the chart's ``instance`` label writes it
    (gce.scalarString: 1000000 stays 1000000, 12.0 is 12)."""
    if instance is None:
        tag = ""
    elif isinstance(instance, (int, float)) and not isinstance(instance, bool):
        tag = as_template_text(instance)
    else:
        tag = go_string(instance)
    return f"{resources.CHART_NAME}-{tag}" if tag else resources.CHART_NAME


def _walk(node: dict[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for key, child in node.get("properties", {}).items():
        path = (*prefix, key)
        yield path, child
        if "properties" in child and not child.get("x-slate-internal"):
            yield from _walk(child, path)


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key.startswith("x-") or key in _DOC_KEYS:
                continue
            if key in {"properties", "patternProperties", "definitions"}:
                out[key] = {name: _strip(sub) for name, sub in value.items()}
            else:
                out[key] = _strip(value)
        return out
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def _defaults_of(node: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, child in node.get("properties", {}).items():
        if "properties" in child:
            values[key] = _defaults_of(child)
        else:
            values[key] = _copied(child.get("default"))
    return values


def _copied(value: Any) -> Any:
    """A copy of a JSON default (what copy.deepcopy makes of it, without importing copy at start-up)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


# A wheel carries the schema parsed beside the YAML (``values.schema.yaml.marshal``, written by setup.py):
# the schema is read on every run, PyYAML takes ten times longer to parse it, and marshal, built into
# the interpreter, costs no import (json's takes longer than checking a conf). Marshal format 4 is
# read by every Python 3 since 3.4; a form any Python cannot read is ignored and the YAML parsed.
PARSED_SUFFIX = ".marshal"
_MARSHAL_VERSION = 4


def parse(text: str) -> Any:
    """Schema text as data (libyaml's loader when present: ten times faster than PyYAML's own)."""
    from gce_values.pyyaml import yaml  # only without the parsed form: a wheel never needs it

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def parsed_form(text: str) -> bytes:
    """The parsed form of schema ``text``: the document, and the very text it was parsed from.

    Raises ValueError when the document is not plain data (a date, say), so a build fails rather
    than ship a form that reads differently.
    """
    document = parse(text)
    try:
        form = marshal.dumps({"source": text, "document": document}, _MARSHAL_VERSION)
    except ValueError as error:
        raise ValueError(f"the schema is not plain data: {error}") from None
    if marshal.loads(form)["document"] != document:
        raise ValueError("the schema is not plain data: it reads back differently")
    return form


def _read(source: str) -> Any:
    """The parsed schema: from its parsed form when that was made from exactly this text, else the YAML."""
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    try:
        with open(source + PARSED_SUFFIX, "rb") as handle:
            form = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        form = None
    if isinstance(form, dict) and form.get("source") == text and isinstance(form.get("document"), dict):
        return form["document"]
    return parse(text)


@functools.lru_cache(maxsize=4)
def load(path: Path | None = None) -> ValuesSchema:
    """Load and cache the schema (the packaged or checked-out one unless ``path`` is given)."""
    source = os.fspath(path) if path is not None else resources.schema_file()
    return ValuesSchema(_read(source), path or source)
