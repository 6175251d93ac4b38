"""namesDefined: the ``field`` of every item of the list ``key`` names an item of the list ``definedIn`` (a
volume mount names a volume). The loop is in names_defined.tpl (gce.undefinedNames)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEY,
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
    defined = {go_string(item.get("name")) for item in items(ctx.get(rule.spec["definedIn"]))}
    for index, item in enumerate(items(ctx.get(rule.key))):
        name = go_string(item.get(field))
        if name not in defined:
            return Violation(rule, field_pointer(rule, index), hint=f"{name!r} is not among them")
    return None


def go_condition(rule: Rule) -> str:
    listed, defined = (f"({values_expr(key)} | default list)" for key in (rule.key, rule.spec["definedIn"]))
    return f'ne (include "gce.undefinedNames" (list {listed} {defined} "{rule.spec["field"]}")) ""'


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    """One item that names a defined one, one that does not."""
    defined = nested(rule.spec["definedIn"], [item_of(schema, rule.spec["definedIn"], "name", "v")])
    listed = [item_of(schema, rule.key, rule.spec["field"], name) for name in ("v", "undefined")]
    return [Example(merged(defined, nested(rule.key, listed)))]


KIND = Kind(
    "namesDefined",
    (Field("key", KEY), Field("field", TEXT), Field("definedIn", KEY)),
    check,
    go_condition,
    breaking,
    pool=(
        [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
        [{"name": "data", "mountPath": "/data"}],
        [{"name": "other", "mountPath": "/data"}],
    ),
    template=partial_beside(__file__),
)
