"""Cross-field rules: the registry of x-rule kinds, and the check that runs the schema's ``x-rules``.

The rule list itself lives only in schema/values.schema.yaml; the same rules become Helm ``fail``
calls (errors) and NOTES.txt lines (warnings) in the chart's generated templates/_rules.tpl. Each kind
is one module of gce_values.checks.rulekinds (see gce_values.checks.rulekind for what a kind holds),
found by listing that folder; `gce-values schema build` refuses a rule whose kind is unknown or whose
fields are not its kind's (``rule_errors``), so a rule that reaches validation is well formed.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence

from gce_values.checks import rulekinds
from gce_values.checks.context import RELEASE_NAME, Run
from gce_values.checks.rulekind import CONDITIONS, KEY, KEYS, NAMES, NUMBER, TEXT, Context, Kind, Violation
from gce_values.records import TYPE_CHECKING
from gce_values.schema import Rule, ValuesSchema

if TYPE_CHECKING:
    from typing import Any

_KINDS: dict[str, Kind] = {}


def kinds() -> dict[str, Kind]:
    """Every kind, by name: the ``KIND`` of each module in the rulekinds folder (imported once)."""
    if not _KINDS:
        folder = os.path.dirname(os.path.realpath(rulekinds.__file__))
        for entry in sorted(os.listdir(folder)):
            stem, suffix = os.path.splitext(entry)
            if suffix == ".py" and stem != "__init__":
                kind: Kind = importlib.import_module(f"{rulekinds.__name__}.{stem}").KIND
                _KINDS[kind.name] = kind
    return _KINDS


class UnknownRuleKind(Exception):
    """The schema uses a rule kind this version of gce-values does not implement (a bug, exit 3)."""


def kind_of(rule: Rule) -> Kind:
    kind = kinds().get(rule.kind)
    if kind is None:
        raise UnknownRuleKind(f"schema rule {rule.id!r} has kind {rule.kind!r}, which gce-values lacks")
    return kind


def go_condition(rule: Rule) -> str:
    """The rule as a Go template condition, true when the values (or the release name) break it."""
    return kind_of(rule).go_condition(rule)


def broken(rules: Sequence[Rule], ctx: Context) -> list[Violation]:
    """Every rule that ``ctx.values`` breaks, in schema order."""
    out = []
    for rule in rules:
        violation = kind_of(rule).check(rule, ctx)
        if violation is not None:
            out.append(violation)
    return out


# Rule ids are the schema's (x-rules), not this module's.
RULES: tuple[str, ...] = ()


def check(run: Run) -> None:
    ctx = Context(values=run.merged.values, is_user=run.facts.is_user, release=run.release)
    for violation in broken(run.schema.rules(), ctx):
        rule = violation.rule
        where = (RELEASE_NAME, 0, 0) if violation.on_release else run.facts.locate(violation.pointer, True)
        run.add(where, violation.pointer, rule.severity, rule.id, rule.message, violation.hint)


# --- the rules as the schema writes them, checked when the schema is built ----------------------------

_COMMON = ("id", "kind", "message", "severity")


def rule_errors(schema: ValuesSchema) -> list[str]:
    """What is wrong with the schema's x-rules, one line each: an unknown kind, a field the kind does not
    have or lacks, a field of the wrong shape, a key the schema does not name, a repeated id."""
    errors = []
    seen: set[str] = set()
    for index, raw in enumerate(schema.document.get("x-rules", [])):
        where = f"x-rules[{index}] ({raw.get('id', 'no id')})"
        if raw.get("id") in seen:
            errors.append(f"{where}: the id is used twice")
        seen.add(raw.get("id"))
        errors.extend(f"{where}: {problem}" for problem in _rule_problems(raw, schema))
    return errors


def _rule_problems(raw: dict[str, Any], schema: ValuesSchema) -> list[str]:
    missing_common = [name for name in ("id", "kind", "message") if not isinstance(raw.get(name), str)]
    if missing_common:
        return [f"needs {', '.join(missing_common)} (text)"]
    if raw.get("severity", "error") not in ("error", "warning"):
        return [f"severity is {raw['severity']!r}, not error or warning"]
    kind = kinds().get(raw["kind"])
    if kind is None:
        return [f"unknown kind {raw['kind']!r}; the kinds are {', '.join(sorted(kinds()))}"]
    fields = {field.name: field for field in kind.fields}
    problems = [
        f"{kind.name} has no field {name!r}; its fields are {', '.join(fields)}"
        for name in raw
        if name not in fields and name not in _COMMON
    ]
    problems += [
        f"{kind.name} needs the field {field.name!r}"
        for field in kind.fields
        if field.required and field.name not in raw
    ]
    for group in kind.one_of:
        if sum(name in raw for name in group) != 1:
            problems.append(f"{kind.name} needs exactly one of {', '.join(group)}")
    for name, value in raw.items():
        if name in fields:
            problems.extend(f"{name}: {problem}" for problem in _shape_problems(fields[name].shape, value, schema))
    return problems or kind.spec_problems(raw)


def _shape_problems(shape: str, value: Any, schema: ValuesSchema) -> list[str]:
    if shape == KEY:
        return _key_problems(value, schema)
    if shape == KEYS:
        if not isinstance(value, list) or len(value) < 2:
            return ["must be a list of at least two keys"]
        return [problem for key in value for problem in _key_problems(key, schema)]
    if shape == CONDITIONS:
        if not isinstance(value, list) or not value or not all(isinstance(c, dict) and "key" in c for c in value):
            return ["must be a list of conditions, each a mapping with a key"]
        return [problem for condition in value for problem in _key_problems(condition["key"], schema)]
    if shape == NAMES:
        return [] if isinstance(value, list) and value else ["must be a non-empty list"]
    if shape == NUMBER:
        return [] if isinstance(value, int) and not isinstance(value, bool) else ["must be a whole number"]
    if shape == TEXT:
        return [] if isinstance(value, str) and value else ["must be a non-empty text"]
    return [f"the kind declares an unknown shape {shape!r}"]


def _key_problems(value: Any, schema: ValuesSchema) -> list[str]:
    if not isinstance(value, str) or schema.node(tuple(value.split("."))) is None:
        return [f"{value!r} is not a key of the schema"]
    return []
