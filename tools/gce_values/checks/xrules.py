"""Cross-field rules: each ``kind`` of the schema's ``x-rules``, implemented once and generically.

The rule list itself lives only in schema/values.schema.yaml; the same rules become Helm ``fail``
calls (errors) and NOTES.txt lines (warnings) in the chart's generated templates/_rules.tpl. So each
kind is written here twice, side by side: its Python check, and the Go template condition that is
true when the rule is broken (Helm's ``toString``, ``empty`` and ``float64`` semantics). A new kind is
one pair of functions and one entry in KINDS; tests/test_rule_parity.py renders the chart with Helm
and compares both sides on every rule.

Kinds and their fields (besides ``id``, ``message`` and ``severity``):
  required            key: the value must not be empty
  exactlyOne          keys: exactly one of them is true
  lessOrEqual         keys [low, high]: low <= high (numbers; missing counts as 0, as in Helm)
  quantityLessOrEqual keys [low, high]: low <= high as Kubernetes quantities (500m, 2, 512Mi, 4Gi, 1e3),
                      exactly (checks.quantities); a value that is not one leaves the rule out
  forbiddenKeys       key (a mapping), forbidden: [names]: none of these names is a key of it
  requiredWhen        key, and whenNonEmpty: K (K is not empty), whenFalse: K (K is false) or whenTrue: K (K is
                      true)
  releaseNameLength   key (Instance), max: the release name (SLATE: <chart>-<Instance>) fits
  warnWhen            key, when: [{key, greaterThan: N}, {key, equals: V} or {key, notEmpty: true}, ...]:
                      all hold
  namesDefined        key (a list of mappings), field, definedIn (a list of mappings): every item's field
                      is the name of an item of definedIn (a volume mount names a volume)
  uniqueNames         key (a list of mappings), field, reserved: [names]: no two items share the field's
                      value, and none takes a reserved one

The last two need a loop, which a Go template condition cannot hold: their conditions call helper
templates (``HELPER_TEMPLATES``) that _rules.tpl defines beside the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gce_values import pointer as ptr
from gce_values.checks.context import RELEASE_NAME, Run
from gce_values.helmyaml.scalars import as_template_text
from gce_values.records import TYPE_CHECKING, Record
from gce_values.schema import Rule, nodes, release_name

if TYPE_CHECKING:
    from typing import Any

_MISSING = object()


class Violation(Record):
    """A broken rule, to be reported at ``pointer`` (or against ``--release`` when ``on_release``)."""

    rule: Rule
    pointer: str
    hint: str | None = None
    on_release: bool = False


class Context(Record):
    """What rules may look at besides the values."""

    values: dict[str, Any]
    is_user: Callable[[str], bool]
    release: str | None = None

    def get(self, dotted: str) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
        return node

    def user_first(self, *dotted: str) -> str:
        """The pointer of the first key the user supplied (the one to point at), else of the first."""
        for key in dotted:
            if self.is_user(ptr.from_dotted(key)):
                return ptr.from_dotted(key)
        return ptr.from_dotted(dotted[0])


def go_string(value: Any) -> str:
    """Sprig's ``toString``; a missing key is Go's nil, like null."""
    return nodes.go_string(None if value is _MISSING else value)


def _shown(value: Any) -> str:
    """A value in a message: a number as the chart writes it (2000000, not toString's 2e+06)."""
    if value is _MISSING or value is None:
        return "not set"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return as_template_text(value)
    return go_string(value)


def go_empty(value: Any) -> bool:
    """Sprig's ``empty``: missing, null, false, 0, "" and empty lists or maps."""
    return value is _MISSING or not value


def _number(value: Any) -> float | None:
    """Sprig's ``float64`` where it agrees with the schema: a missing or null value counts as 0."""
    if value is _MISSING or value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _values_expr(path: str) -> str:
    """A Go template expression for a dotted value path that is safe when a parent is missing."""
    parts = path.split(".")
    expr = f".Values.{parts[0]}"
    for part in parts[1:]:
        expr = f'(index ({expr} | default dict) "{part}")'
    return expr


def _go_is_empty_text(key: str) -> str:
    return f'eq (toString ({_values_expr(key)} | default "")) ""'


def _check_required(rule: Rule, ctx: Context) -> Violation | None:
    if go_empty(ctx.get(rule.key)):
        return Violation(rule, ptr.from_dotted(rule.key))
    return None


def _go_required(rule: Rule) -> str:
    return _go_is_empty_text(rule.key)


def _check_exactly_one(rule: Rule, ctx: Context) -> Violation | None:
    keys = rule.spec["keys"]
    if sum(go_string(ctx.get(key)) == "true" for key in keys) == 1:
        return None
    now = ", ".join(f"{key} is {_shown(ctx.get(key))}" for key in keys)
    return Violation(rule, ctx.user_first(*keys), hint=f"now {now}")


def _go_exactly_one(rule: Rule) -> str:
    trues = " ".join(f'(eq (toString {_values_expr(k)}) "true")' for k in rule.spec["keys"])
    return f"ne (len (without (list {trues}) false)) 1"


def _ordered(rule: Rule, ctx: Context, measure: Callable[[Any], float | int | None]) -> Violation | None:
    """lessOrEqual and quantityLessOrEqual: the first key's measure must not exceed the second's."""
    low_key, high_key = rule.spec["keys"]
    low, high = measure(ctx.get(low_key)), measure(ctx.get(high_key))
    if low is None or high is None or low <= high:
        return None
    hint = f"now {low_key} is {_shown(ctx.get(low_key))} and {high_key} is {_shown(ctx.get(high_key))}"
    return Violation(rule, ctx.user_first(low_key, high_key), hint=hint)


def _check_less_or_equal(rule: Rule, ctx: Context) -> Violation | None:
    return _ordered(rule, ctx, _number)


def _go_less_or_equal(rule: Rule) -> str:
    low, high = rule.spec["keys"]
    return f"gt (float64 {_values_expr(low)}) (float64 {_values_expr(high)})"


def quantity(value: Any) -> int | None:
    """A Kubernetes quantity in nano-units, read exactly as the chart's gce.quantity reads it (see
    gce_values.checks.quantities); None if not one (a missing key included: the rule then does not apply)."""
    from gce_values.checks.quantities import reading

    return None if value is _MISSING else reading(value)


def quantity_template() -> str:
    """gce.quantity and its helpers: the Go template twin of ``quantity``, for quantityLessOrEqual rules."""
    from gce_values.checks.quantities import TEMPLATE

    return TEMPLATE


def _check_quantity_less_or_equal(rule: Rule, ctx: Context) -> Violation | None:
    return _ordered(rule, ctx, quantity)


def _go_quantity_less_or_equal(rule: Rule) -> str:
    low, high = (_values_expr(key) for key in rule.spec["keys"])
    return f'eq (include "gce.quantityAbove" (list {low} {high})) "true"'


def _check_forbidden_keys(rule: Rule, ctx: Context) -> Violation | None:
    mapping = ctx.get(rule.key)
    if not isinstance(mapping, dict):
        return None
    present = [key for key in rule.spec["forbidden"] if key in mapping]
    if not present:
        return None
    return Violation(rule, ptr.child(ptr.from_dotted(rule.key), present[0]), hint=f"now it has {', '.join(present)}")


def _go_forbidden_keys(rule: Rule) -> str:
    present = " ".join(f'(hasKey ({_values_expr(rule.key)} | default dict) "{key}")' for key in rule.spec["forbidden"])
    return f"or {present}"


def _check_required_when(rule: Rule, ctx: Context) -> Violation | None:
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


def _go_required_when(rule: Rule) -> str:
    if "whenNonEmpty" in rule.spec:
        trigger = f"not (empty {_values_expr(rule.spec['whenNonEmpty'])})"
    else:
        flag = "false" if "whenFalse" in rule.spec else "true"
        trigger = f'eq (toString {_values_expr(rule.spec["when" + flag.capitalize()])}) "{flag}"'
    return f"and ({trigger}) ({_go_is_empty_text(rule.key)})"


def _check_release_name_length(rule: Rule, ctx: Context) -> Violation | None:
    instance = ctx.get(rule.key)
    if ctx.release is None and instance in (_MISSING, None):
        return None
    name = ctx.release if ctx.release is not None else release_name(None if instance is _MISSING else instance)
    limit = int(rule.spec["max"])
    if len(name) <= limit:
        return None
    hint = f"the release name {name!r} is {len(name)} characters long"
    return Violation(rule, ptr.from_dotted(rule.key), hint=hint, on_release=ctx.release is not None)


def _go_release_name_length(rule: Rule) -> str:
    return f"gt (len .Release.Name) {int(rule.spec['max'])}"


def _condition_holds(condition: dict[str, Any], ctx: Context) -> bool:
    value = ctx.get(condition["key"])
    if condition.get("notEmpty"):
        return not go_empty(value)
    if "greaterThan" in condition:
        number = _number(value)
        return number is not None and number > float(condition["greaterThan"])
    return go_string(value) == go_string(condition["equals"])


def _check_warn_when(rule: Rule, ctx: Context) -> Violation | None:
    if all(_condition_holds(condition, ctx) for condition in rule.spec["when"]):
        return Violation(rule, ctx.user_first(rule.key, *(c["key"] for c in rule.spec["when"])))
    return None


def _go_warn_when(rule: Rule) -> str:
    conds = []
    for when in rule.spec["when"]:
        expr = _values_expr(when["key"])
        if when.get("notEmpty"):
            conds.append(f"(not (empty {expr}))")
        elif "greaterThan" in when:
            conds.append(f"(gt (float64 {expr}) (float64 {when['greaterThan']}))")
        else:
            conds.append(f'(eq (toString {expr}) "{go_string(when["equals"])}")')
    return conds[0] if len(conds) == 1 else "and " + " ".join(conds)


def _items(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list value (the schema allows no other items; a missing list is empty)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _field_pointer(rule: Rule, index: int) -> str:
    return ptr.child(ptr.child(ptr.from_dotted(rule.key), index), rule.spec["field"])


def _check_names_defined(rule: Rule, ctx: Context) -> Violation | None:
    field = rule.spec["field"]
    defined = {go_string(item.get("name")) for item in _items(ctx.get(rule.spec["definedIn"]))}
    for index, item in enumerate(_items(ctx.get(rule.key))):
        name = go_string(item.get(field))
        if name not in defined:
            return Violation(rule, _field_pointer(rule, index), hint=f"{name!r} is not among them")
    return None


def _go_names_defined(rule: Rule) -> str:
    items, defined = (f"({_values_expr(key)} | default list)" for key in (rule.key, rule.spec["definedIn"]))
    return f'ne (include "gce.undefinedNames" (list {items} {defined} "{rule.spec["field"]}")) ""'


def _check_unique_names(rule: Rule, ctx: Context) -> Violation | None:
    field = rule.spec["field"]
    reserved = {go_string(name) for name in rule.spec.get("reserved", [])}
    seen: set[str] = set()
    for index, item in enumerate(_items(ctx.get(rule.key))):
        name = go_string(item.get(field))
        if name in reserved or name in seen:
            why = "is reserved" if name in reserved else "comes twice"
            return Violation(rule, _field_pointer(rule, index), hint=f"{name!r} {why}")
        seen.add(name)
    return None


def _go_unique_names(rule: Rule) -> str:
    reserved = " ".join(f'"{go_string(name)}"' for name in rule.spec.get("reserved", []))
    items = f"({_values_expr(rule.key)} | default list)"
    return f'ne (include "gce.repeatedNames" (list {items} "{rule.spec["field"]}" (list {reserved}))) ""'


# The helper templates of the kinds whose condition needs a loop: each prints the first offending name
# (nothing when the rule holds).
HELPER_TEMPLATES = {
    "namesDefined": (
        "{{/* gce.undefinedNames: the first item of a list whose field names no item of another list. */}}\n"
        '{{- define "gce.undefinedNames" -}}\n'
        "{{- $field := index . 2 -}}\n"
        "{{- $defined := list -}}\n"
        '{{- range (index . 1) }}{{ $defined = append $defined (toString (index . "name")) }}{{ end -}}\n'
        "{{- $missing := list -}}\n"
        "{{- range (index . 0) }}{{ if not (has (toString (index . $field)) $defined) }}"
        "{{ $missing = append $missing (toString (index . $field)) }}{{ end }}{{ end -}}\n"
        "{{- if $missing }}{{ first $missing | quote }}{{ end -}}\n"
        "{{- end }}\n"
    ),
    "uniqueNames": (
        "{{/* gce.repeatedNames: the first item of a list whose field repeats another's or a reserved one. */}}\n"
        '{{- define "gce.repeatedNames" -}}\n'
        "{{- $field := index . 1 -}}\n"
        "{{- $seen := index . 2 -}}\n"
        "{{- $repeated := list -}}\n"
        "{{- range (index . 0) }}{{ $name := toString (index . $field) }}"
        "{{ if has $name $seen }}{{ $repeated = append $repeated $name }}{{ end }}"
        "{{ $seen = append $seen $name }}{{ end -}}\n"
        "{{- if $repeated }}{{ first $repeated | quote }}{{ end -}}\n"
        "{{- end }}\n"
    ),
}


class Kind(Record):
    """An x-rule kind: its Python check, and its Go template condition (true when the rule is broken)."""

    check: Callable[[Rule, Context], Violation | None]
    go_condition: Callable[[Rule], str]


KINDS: dict[str, Kind] = {
    "required": Kind(_check_required, _go_required),
    "exactlyOne": Kind(_check_exactly_one, _go_exactly_one),
    "lessOrEqual": Kind(_check_less_or_equal, _go_less_or_equal),
    "quantityLessOrEqual": Kind(_check_quantity_less_or_equal, _go_quantity_less_or_equal),
    "forbiddenKeys": Kind(_check_forbidden_keys, _go_forbidden_keys),
    "requiredWhen": Kind(_check_required_when, _go_required_when),
    "releaseNameLength": Kind(_check_release_name_length, _go_release_name_length),
    "warnWhen": Kind(_check_warn_when, _go_warn_when),
    "namesDefined": Kind(_check_names_defined, _go_names_defined),
    "uniqueNames": Kind(_check_unique_names, _go_unique_names),
}


class UnknownRuleKind(Exception):
    """The schema uses a rule kind this version of gce-values does not implement (a bug, exit 3)."""


def kind_of(rule: Rule) -> Kind:
    kind = KINDS.get(rule.kind)
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
