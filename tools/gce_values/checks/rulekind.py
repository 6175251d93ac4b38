"""What an x-rule kind is made of, and the Helm semantics its two sides share.

A kind of the schema's ``x-rules`` is one module of gce_values.checks.rulekinds holding one ``KIND``:
its fields (checked when the schema is built, so a misspelt field is an error from
`gce-values schema build`), its Python check, its Go template condition (true when the rule is broken;
`gce-values schema build` writes it into the chart's templates/_rules.tpl) with any helper partial it
calls, and examples: confs that break a rule of the kind and confs that keep it at its edge. The build,
the validator and the tests (the Python-vs-Helm parity test, the chart's rule test) read everything
from the registry (gce_values.checks.xrules); CONTRIBUTING.md, "Adding a rule kind", shows the steps.

Both sides follow Helm: a missing key is Go's nil, Sprig's ``toString``, ``empty`` and ``float64``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gce_values import pointer as ptr
from gce_values.helmyaml.scalars import as_template_text
from gce_values.records import TYPE_CHECKING, Record
from gce_values.schema import Rule, ValuesSchema, nodes

if TYPE_CHECKING:
    from typing import Any

MISSING = object()

# The shapes a field of a rule can take, and what each must be in the schema document.
KEY = "key"  # a dotted value path the schema names
KEYS = "keys"  # a list of such paths
CONDITIONS = "conditions"  # a list of mappings, each with a "key" (a path) and what it must be
NAMES = "names"  # a list of texts
NUMBER = "number"  # a whole number
TEXT = "text"  # a text that is not a path


class Field(Record):
    """A field of a rule of some kind, besides ``id``, ``kind``, ``message`` and ``severity``."""

    name: str
    shape: str
    required: bool = True


class Example(Record):
    """A conf (values over the seed conf) and the release name to render it with (None: the usual one)."""

    values: dict[str, Any]
    release: str | None = None


class Violation(Record):
    """A broken rule, to be reported at ``pointer`` (or against ``--release`` when ``on_release``)."""

    rule: Rule
    pointer: str
    hint: str | None = None
    on_release: bool = False


class Context(Record):
    """What rules may look at besides the values."""

    values: dict[str, Any]
    is_user: Callable[[str], bool]
    release: str | None = None

    def get(self, dotted: str) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return MISSING
            node = node[part]
        return node

    def user_first(self, *dotted: str) -> str:
        """The pointer of the first key the user supplied (the one to point at), else of the first."""
        for key in dotted:
            if self.is_user(ptr.from_dotted(key)):
                return ptr.from_dotted(key)
        return ptr.from_dotted(dotted[0])


def _no_examples(_rule: Rule, _schema: ValuesSchema) -> list[Example]:
    return []


def _no_problems(_raw: dict[str, Any]) -> list[str]:
    return []


class Kind(Record):
    """An x-rule kind: everything about it, in one place (see the module's docstring).

    ``one_of``: groups of fields of which a rule gives exactly one; ``pool``: values its keys may
    take beside the common ones, for the parity test; ``template``: the helper partials its condition
    calls (None: it calls none); ``on_release``: it looks at the release name, which Helm checks too;
    ``spec_problems``: what else is wrong with a rule as the schema writes it, once its fields have
    the declared shapes (checked when the schema is built).
    """

    name: str
    fields: tuple[Field, ...]
    check: Callable[[Rule, Context], Violation | None]
    go_condition: Callable[[Rule], str]
    breaking: Callable[[Rule, ValuesSchema], list[Example]]
    keeping: Callable[[Rule, ValuesSchema], list[Example]] = _no_examples
    one_of: tuple[tuple[str, ...], ...] = ()
    pool: tuple[Any, ...] = ()
    template: Callable[[], str] | None = None
    on_release: bool = False
    spec_problems: Callable[[dict[str, Any]], list[str]] = _no_problems

    def keys(self, rule: Rule) -> list[str]:
        """Every value path ``rule`` looks at, in field order, each once."""
        found: list[str] = []
        for field in self.fields:
            value: Any = rule.key if field.name == "key" else rule.spec.get(field.name)
            if value is None:
                continue
            if field.shape == KEY:
                found.append(value)
            elif field.shape == KEYS:
                found.extend(value)
            elif field.shape == CONDITIONS:
                found.extend(condition["key"] for condition in value)
        return list(dict.fromkeys(found))


def partial_beside(module_file: str) -> Callable[[], str]:
    """The helper partial kept in the ``.tpl`` file beside a kind's module (read only by the build)."""

    def read() -> str:
        with open(os.path.splitext(module_file)[0] + ".tpl", encoding="utf-8") as handle:
            return handle.read()

    return read


def go_string(value: Any) -> str:
    """Sprig's ``toString``; a missing key is Go's nil, like null."""
    return nodes.go_string(None if value is MISSING else value)


def shown(value: Any) -> str:
    """A value in a message: a number as the chart writes it (2000000, not toString's 2e+06)."""
    if value is MISSING or value is None:
        return "not set"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return as_template_text(value)
    return go_string(value)


def go_empty(value: Any) -> bool:
    """Sprig's ``empty``: missing, null, false, 0, "" and empty lists or maps."""
    return value is MISSING or not value


def number(value: Any) -> float | None:
    """Sprig's ``float64`` where it agrees with the schema: a missing or null value counts as 0."""
    if value is MISSING or value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def ordered(rule: Rule, ctx: Context, measure: Callable[[Any], float | int | None]) -> Violation | None:
    """The first of ``keys`` must not measure more than the second (a value ``measure`` cannot read: no verdict)."""
    low_key, high_key = rule.spec["keys"]
    low, high = measure(ctx.get(low_key)), measure(ctx.get(high_key))
    if low is None or high is None or low <= high:
        return None
    hint = f"now {low_key} is {shown(ctx.get(low_key))} and {high_key} is {shown(ctx.get(high_key))}"
    return Violation(rule, ctx.user_first(low_key, high_key), hint=hint)


def values_expr(path: str) -> str:
    """A Go template expression for a dotted value path that is safe when a parent is missing."""
    parts = path.split(".")
    expr = f".Values.{parts[0]}"
    for part in parts[1:]:
        expr = f'(index ({expr} | default dict) "{part}")'
    return expr


def go_is_empty_text(key: str) -> str:
    return f'eq (toString ({values_expr(key)} | default "")) ""'


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``"a.b"``: a value as a conf writes it."""
    conf: dict[str, Any] = {}
    node = conf
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return conf


def merged(*confs: dict[str, Any]) -> dict[str, Any]:
    """The confs merged as Helm merges -f files (maps deeply, later ones win)."""
    out: dict[str, Any] = {}
    for conf in confs:
        for key, value in conf.items():
            out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def node_of(schema: ValuesSchema, dotted: str) -> dict[str, Any]:
    return schema.node(tuple(dotted.split("."))) or {}


def with_requirements(conf: dict[str, Any], schema: ValuesSchema, but: str = "") -> dict[str, Any]:
    """``conf`` with a value for every key that a switch it turns on requires (the requiredWhen rules with
    ``whenTrue``), ``but`` the one given, as a user writes them together: an example breaks one rule only."""
    for rule in schema.rules():
        switch = rule.spec.get("whenTrue")
        if rule.kind != "requiredWhen" or rule.severity != "error" or not switch or rule.key == but:
            continue
        node: Any = conf
        for part in switch.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if node is True:
            conf = merged(conf, nested(rule.key, "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))
    return conf


def items(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list value (the schema allows no other items; a missing list is empty)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def field_pointer(rule: Rule, index: int) -> str:
    """The pointer of the ``field`` of the item at ``index`` of the list ``rule.key``."""
    return ptr.child(ptr.child(ptr.from_dotted(rule.key), index), rule.spec["field"])


def item_of(schema: ValuesSchema, dotted: str, field: str, value: str) -> dict[str, Any]:
    """A valid item of the list at ``dotted`` whose ``field`` is ``value``: a mount (when the items need a
    mountPath) or an emptyDir volume, for examples."""
    if "mountPath" in node_of(schema, dotted).get("items", {}).get("required", []):
        item: dict[str, Any] = {"name": "v", "mountPath": f"/{value}"}
    else:
        item = {"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}
    item[field] = value
    return item
