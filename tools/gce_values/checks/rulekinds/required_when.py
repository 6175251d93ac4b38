"""requiredWhen: ``key`` must not be empty when ``whenNonEmpty`` is not empty, ``whenTrue`` is true or
``whenFalse`` is false (a rule gives exactly one of the three)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEY,
    Context,
    Example,
    Field,
    Kind,
    Violation,
    go_empty,
    go_is_empty_text,
    go_string,
    merged,
    nested,
    node_of,
    values_expr,
    with_requirements,
)
from gce_values.records import TYPE_CHECKING
from gce_values.schema import Rule, ValuesSchema

if TYPE_CHECKING:
    from typing import Any

_UUID = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def check(rule: Rule, ctx: Context) -> Violation | None:
    if "whenNonEmpty" in rule.spec:
        trigger = rule.spec["whenNonEmpty"]
        triggered = not go_empty(ctx.get(trigger))
    else:
        flag = "false" if "whenFalse" in rule.spec else "true"
        trigger = rule.spec["when" + flag.capitalize()]
        triggered = go_string(ctx.get(trigger)) == flag
    if triggered and go_empty(ctx.get(rule.key)):
        return Violation(rule, ctx.user_first(rule.key, trigger))
    return None


def go_condition(rule: Rule) -> str:
    if "whenNonEmpty" in rule.spec:
        trigger = f"not (empty {values_expr(rule.spec['whenNonEmpty'])})"
    else:
        flag = "false" if "whenFalse" in rule.spec else "true"
        trigger = f'eq (toString {values_expr(rule.spec["when" + flag.capitalize()])}) "{flag}"'
    return f"and ({trigger}) ({go_is_empty_text(rule.key)})"


def _non_empty(schema: ValuesSchema, dotted: str) -> Any:
    """A valid, non-empty value for the key at ``dotted``."""
    node = node_of(schema, dotted)
    if node.get("type") == "array":
        return [_UUID if node.get("items", {}).get("format") == "uuid" else "example"]
    return _UUID if node.get("format") == "uuid" else "example"


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    spec = rule.spec
    if "whenNonEmpty" in spec:
        trigger = nested(spec["whenNonEmpty"], _non_empty(schema, spec["whenNonEmpty"]))
    elif "whenTrue" in spec:
        trigger = with_requirements(nested(spec["whenTrue"], True), schema, but=rule.key)
    else:
        trigger = nested(spec["whenFalse"], False)
    return [Example(merged(trigger, nested(rule.key, "")))]


KIND = Kind(
    "requiredWhen",
    (
        Field("key", KEY),
        Field("whenNonEmpty", KEY, required=False),
        Field("whenTrue", KEY, required=False),
        Field("whenFalse", KEY, required=False),
    ),
    check,
    go_condition,
    breaking,
    one_of=(("whenNonEmpty", "whenTrue", "whenFalse"),),
)
