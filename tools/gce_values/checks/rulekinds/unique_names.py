"""uniqueNames: no two items of the list ``key`` share the value of ``field``, and none takes one of
``reserved``. The loop is in unique_names.tpl (gce.repeatedNames)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEY,
    NAMES,
    TEXT,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    field_pointer,
    go_string,
    item_of,
    items,
    merged,
    nested,
    partial_beside,
    values_expr,
)
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    field = rule.spec["field"]
    reserved = {go_string(name) for name in rule.spec.get("reserved", [])}
    seen: set[str] = set()
    for index, item in enumerate(items(ctx.get(rule.key))):
        name = go_string(item.get(field))
        if name in reserved or name in seen:
            why = "is reserved" if name in reserved else "comes twice"
            return Violation(rule, field_pointer(rule, index), hint=f"{name!r} {why}")
        seen.add(name)
    return None


def go_condition(rule: Rule) -> str:
    reserved = " ".join(f'"{go_string(name)}"' for name in rule.spec.get("reserved", []))
    listed = f"({values_expr(rule.key)} | default list)"
    return f'ne (include "gce.repeatedNames" (list {listed} "{rule.spec["field"]}" (list {reserved}))) ""'


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    """A value twice, and each reserved one (the items otherwise valid, a named volume defined)."""
    field = rule.spec["field"]
    volumes = _defined(rule, schema)
    repeated = "/twice" if field == "mountPath" else "v"
    values = [[repeated, repeated], *([str(name)] for name in rule.spec.get("reserved", []))]
    return [
        Example(merged(volumes, nested(rule.key, [item_of(schema, rule.key, field, v) for v in each])))
        for each in values
    ]


def _defined(rule: Rule, schema: ValuesSchema) -> dict[str, object]:
    """The list the items' names must be defined in (by a namesDefined rule), holding one item named v."""
    for other in schema.rules():
        if other.kind == "namesDefined" and other.key == rule.key:
            return nested(other.spec["definedIn"], [item_of(schema, other.spec["definedIn"], "name", "v")])
    return {}


KIND = Kind(
    "uniqueNames",
    (Field("key", KEY), Field("field", TEXT), Field("reserved", NAMES, required=False)),
    check,
    go_condition,
    breaking,
    pool=(
        [{"name": "a", "emptyDir": {"sizeLimit": "1Gi"}}, {"name": "b", "emptyDir": {"sizeLimit": "1Gi"}}],
        [{"name": "a", "emptyDir": {"sizeLimit": "1Gi"}}, {"name": "a", "emptyDir": {"sizeLimit": "1Gi"}}],
        [{"name": "worker-keys", "emptyDir": {"sizeLimit": "1Gi"}}],
        [{"name": "a", "mountPath": "/a"}, {"name": "a", "mountPath": "/b"}],
        [{"name": "a", "mountPath": "/a"}, {"name": "a", "mountPath": "/a"}],
        [{"name": "a", "mountPath": "/etc/gce-worker-keys"}],
    ),
    template=partial_beside(__file__),
)
