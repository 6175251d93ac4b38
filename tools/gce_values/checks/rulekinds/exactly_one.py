"""exactlyOne: of the switches ``keys``, exactly one is true."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEYS,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    go_string,
    merged,
    nested,
    shown,
    values_expr,
)
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    keys = rule.spec["keys"]
    if sum(go_string(ctx.get(key)) == "true" for key in keys) == 1:
        return None
    now = ", ".join(f"{key} is {shown(ctx.get(key))}" for key in keys)
    return Violation(rule, ctx.user_first(*keys), hint=f"now {now}")


def go_condition(rule: Rule) -> str:
    trues = " ".join(f'(eq (toString {values_expr(k)}) "true")' for k in rule.spec["keys"])
    return f"ne (len (without (list {trues}) false)) 1"


def breaking(rule: Rule, _schema: ValuesSchema) -> list[Example]:
    """None of them on, and all of them on."""
    return [Example(merged(*(nested(key, flag) for key in rule.spec["keys"]))) for flag in (False, True)]


KIND = Kind("exactlyOne", (Field("keys", KEYS),), check, go_condition, breaking)
