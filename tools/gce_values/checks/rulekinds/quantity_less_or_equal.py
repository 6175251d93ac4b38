"""quantityLessOrEqual: ``keys`` [low, high] are Kubernetes quantities (500m, 2, 512Mi, 4Gi, 1e3) and low <= high.

Both sides read quantities exactly (gce_values.checks.quantities and its template twin); a value that
is not one leaves the rule out (the schema's pattern reports it).
"""

from __future__ import annotations

from gce_values.checks import quantities
from gce_values.checks.rulekind import (
    KEYS,
    MISSING,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    merged,
    nested,
    node_of,
    ordered,
    values_expr,
)
from gce_values.records import TYPE_CHECKING
from gce_values.schema import Rule, ValuesSchema

if TYPE_CHECKING:
    from typing import Any


def quantity(value: Any) -> int | None:
    """A quantity in nano-units, read exactly as the chart's gce.quantity reads it; None if not one."""
    return None if value is MISSING else quantities.reading(value)


def check(rule: Rule, ctx: Context) -> Violation | None:
    return ordered(rule, ctx, quantity)


def go_condition(rule: Rule) -> str:
    low, high = (values_expr(key) for key in rule.spec["keys"])
    return f'eq (include "gce.quantityAbove" (list {low} {high})) "true"'


def template() -> str:
    return quantities.TEMPLATE


def _is_memory(rule: Rule, schema: ValuesSchema) -> bool:
    return "Mi" in node_of(schema, rule.spec["keys"][1]).get("pattern", "")


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    low, high = rule.spec["keys"]
    pairs = [("3Gi", "2048Mi"), ("1025Mi", "1Gi")] if _is_memory(rule, schema) else [("1500m", "1"), ("2", "1500m")]
    return [Example(merged(nested(low, small), nested(high, large))) for small, large in pairs]


def keeping(rule: Rule, schema: ValuesSchema) -> list[Example]:
    """Equal quantities in other units: 1Gi is 1024Mi and 1 CPU is 1000m."""
    low, high = rule.spec["keys"]
    pair = ("1024Mi", "1Gi") if _is_memory(rule, schema) else ("1000m", "1")
    return [Example(merged(nested(low, pair[0]), nested(high, pair[1])))]


KIND = Kind(
    "quantityLessOrEqual",
    (Field("keys", KEYS),),
    check,
    go_condition,
    breaking,
    keeping,
    pool=("500m", "1", "1Gi", "1024Mi", "2Gi"),
    template=template,
)
