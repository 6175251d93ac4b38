"""releaseNameLength: the release name (SLATE's ``<chart>-<Instance>``, or ``--release``) is at most ``max`` long.

Helm checks the release name itself, before it renders, with the same limit; the rule's own message
shows where Helm does not check (gce-values predicts it for SLATE from ``key``, the Instance).
"""

from __future__ import annotations

from gce_values import pointer as ptr
from gce_values.checks.rulekind import KEY, MISSING, NUMBER, Context, Example, Field, Kind, Violation
from gce_values.schema import Rule, ValuesSchema, release_name


def check(rule: Rule, ctx: Context) -> Violation | None:
    instance = ctx.get(rule.key)
    if ctx.release is None and instance in (MISSING, None):
        return None
    name = ctx.release if ctx.release is not None else release_name(None if instance is MISSING else instance)
    limit = int(rule.spec["max"])
    if len(name) <= limit:
        return None
    hint = f"the release name {name!r} is {len(name)} characters long"
    return Violation(rule, ptr.from_dotted(rule.key), hint=hint, on_release=ctx.release is not None)


def go_condition(rule: Rule) -> str:
    return f"gt (len .Release.Name) {int(rule.spec['max'])}"


def breaking(rule: Rule, _schema: ValuesSchema) -> list[Example]:
    return [Example({}, release="r" * (int(rule.spec["max"]) + 1))]


def keeping(rule: Rule, _schema: ValuesSchema) -> list[Example]:
    return [Example({}, release="r" * int(rule.spec["max"]))]


KIND = Kind(
    "releaseNameLength",
    (Field("key", KEY), Field("max", NUMBER)),
    check,
    go_condition,
    breaking,
    keeping,
    on_release=True,
)
