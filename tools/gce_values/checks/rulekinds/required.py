"""required: the value at ``key`` must not be empty (Sprig's ``empty``: missing, null, "", 0, false, [], {})."""

from __future__ import annotations

from gce_values import pointer as ptr
from gce_values.checks.rulekind import KEY, Context, Example, Field, Kind, Violation, go_empty, go_is_empty_text, nested
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    return Violation(rule, ptr.from_dotted(rule.key)) if go_empty(ctx.get(rule.key)) else None


def go_condition(rule: Rule) -> str:
    return go_is_empty_text(rule.key)


def breaking(rule: Rule, _schema: ValuesSchema) -> list[Example]:
    return [Example(nested(rule.key, ""))]


KIND = Kind("required", (Field("key", KEY),), check, go_condition, breaking)
