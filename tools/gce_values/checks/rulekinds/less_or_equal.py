"""lessOrEqual: ``keys`` [low, high] are numbers and low <= high (a missing one counts as 0, as in Helm)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEYS,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    merged,
    nested,
    node_of,
    number,
    ordered,
    values_expr,
)
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    return ordered(rule, ctx, number)


def go_condition(rule: Rule) -> str:
    low, high = rule.spec["keys"]
    return f"gt (float64 {values_expr(low)}) (float64 {values_expr(high)})"


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    """The high key at its default, the low one a step above it."""
    low, high = rule.spec["keys"]
    high_node = node_of(schema, high)
    bound = high_node["default"]
    step = 1 if high_node.get("type") == "integer" else 0.5
    return [Example(merged(nested(high, bound), nested(low, bound + step)))]


KIND = Kind("lessOrEqual", (Field("keys", KEYS),), check, go_condition, breaking)
