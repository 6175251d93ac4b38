"""warnWhen: every condition of ``when`` holds ({key, greaterThan: N}, {key, equals: V} or {key, notEmpty: true});
meant for rules of severity warning (NOTES.txt prints them)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    CONDITIONS,
    KEY,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    go_empty,
    go_string,
    merged,
    nested,
    number,
    values_expr,
    with_requirements,
)
from gce_values.records import TYPE_CHECKING
from gce_values.schema import Rule, ValuesSchema

if TYPE_CHECKING:
    from typing import Any


def _holds(condition: dict[str, Any], ctx: Context) -> bool:
    value = ctx.get(condition["key"])
    if condition.get("notEmpty"):
        return not go_empty(value)
    if "greaterThan" in condition:
        found = number(value)
        return found is not None and found > float(condition["greaterThan"])
    return go_string(value) == go_string(condition["equals"])


def check(rule: Rule, ctx: Context) -> Violation | None:
    if all(_holds(condition, ctx) for condition in rule.spec["when"]):
        return Violation(rule, ctx.user_first(rule.key, *(c["key"] for c in rule.spec["when"])))
    return None


def go_condition(rule: Rule) -> str:
    conds = []
    for when in rule.spec["when"]:
        expr = values_expr(when["key"])
        if when.get("notEmpty"):
            conds.append(f"(not (empty {expr}))")
        elif "greaterThan" in when:
            conds.append(f"(gt (float64 {expr}) (float64 {when['greaterThan']}))")
        else:
            conds.append(f'(eq (toString {expr}) "{go_string(when["equals"])}")')
    return conds[0] if len(conds) == 1 else "and " + " ".join(conds)


def _holding_value(when: dict[str, Any]) -> Any:
    if when.get("notEmpty"):
        return "example"
    return when.get("equals", when.get("greaterThan", 0) + 1)


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    """Every condition made to hold (with what the switches it turns on require)."""
    conf = merged(*(nested(when["key"], _holding_value(when)) for when in rule.spec["when"]))
    return [Example(with_requirements(conf, schema))]


_TESTS = ("equals", "greaterThan", "notEmpty")


def spec_problems(raw: dict[str, Any]) -> list[str]:
    """Each condition has its key and exactly one test."""
    for condition in raw["when"]:
        unknown = sorted(set(condition) - {"key", *_TESTS})
        if unknown:
            return [f"when: a condition has no field {unknown[0]!r}; it has key and one of {', '.join(_TESTS)}"]
        if sum(test in condition for test in _TESTS) != 1:
            return [f"when: a condition needs exactly one of {', '.join(_TESTS)}"]
    return []


KIND = Kind(
    "warnWhen",
    (Field("key", KEY), Field("when", CONDITIONS)),
    check,
    go_condition,
    breaking,
    spec_problems=spec_problems,
)
