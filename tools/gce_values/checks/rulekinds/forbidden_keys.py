"""forbiddenKeys: the mapping at ``key`` has none of the keys ``forbidden``."""

from __future__ import annotations

from gce_values import pointer as ptr
from gce_values.checks.rulekind import KEY, NAMES, Context, Example, Field, Kind, Violation, nested, values_expr
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    mapping = ctx.get(rule.key)
    if not isinstance(mapping, dict):
        return None
    present = [key for key in rule.spec["forbidden"] if key in mapping]
    if not present:
        return None
    return Violation(rule, ptr.child(ptr.from_dotted(rule.key), present[0]), hint=f"now it has {', '.join(present)}")


def go_condition(rule: Rule) -> str:
    present = " ".join(f'(hasKey ({values_expr(rule.key)} | default dict) "{key}")' for key in rule.spec["forbidden"])
    return f"or {present}"


def breaking(rule: Rule, _schema: ValuesSchema) -> list[Example]:
    return [Example(nested(rule.key, {key: "1"})) for key in rule.spec["forbidden"]]


KIND = Kind(
    "forbiddenKeys",
    (Field("key", KEY), Field("forbidden", NAMES)),
    check,
    go_condition,
    breaking,
    pool=({}, {"nvidia.com/gpu": "1"}, {"cpu": "1"}, {"memory": "1Gi"}, {"release": "x"}),
)
