"""Quoted numbers, booleans and nulls that SLATE's server may unquote when it rewrites the conf."""

from __future__ import annotations

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.checks.context import Run, show_value
from gce_values.helmyaml.loaded import ScalarNote
from gce_values.records import TYPE_CHECKING
from gce_values.report import WARNING
from gce_values.schema import nodes

if TYPE_CHECKING:
    from typing import Any

SLATE_QUOTES = "slate-quotes"
RULES = (SLATE_QUOTES,)


def check(run: Run) -> None:
    for loaded, source in zip(run.loaded, run.inputs, strict=True):
        for note in loaded.notes:
            if note.kind == "quoted":
                origin = source.origin(note.pointer)
                where = (origin.source, origin.key_line, origin.key_column) if note.at_key else origin[:3]
                _check_note(run, note, where, loaded.data)


def _check_note(run: Run, note: ScalarNote, where: tuple[str, int, int], data: Any) -> None:
    node = nodes.node_at(run.document, ptr.tokens(note.pointer))
    types = nodes.accepted_types(node)
    unquoted_type = nodes.json_type(note.value)
    coerced = bool(node and node.get("x-slate-coerce") is True)
    takes_it = _accepts(types, unquoted_type) and _within_bounds(node, note.value)
    if coerced and _accepts(types, "string") and takes_it and _same_text(note):
        return
    if note.value is None:
        read_as = "null, which deletes the key"
    else:
        read_as = f"{show_value(note.value)}, {nodes.type_name(unquoted_type)}"
    message = (
        f"{jsontext.dumps(note.text)} may lose its quotes on SLATE (its server rewrites the conf); "
        f"Helm would then read {read_as}"
    )
    if not takes_it:
        hint = f"this key does not accept that, so the install would fail there; {_another_form(note.value)}"
    else:
        hint = "check that this key means the same thing either way"
    run.add(where, note.pointer, WARNING, SLATE_QUOTES, message, hint, data)


def _another_form(value: Any) -> str:
    """What to write instead, for what the text would be read as once unquoted."""
    if value is None:
        return "use a text YAML does not read as null (null, Null, NULL, ~)"
    if isinstance(value, bool):
        return "use a text YAML 1.1 does not read as a boolean (yes, no, on, off, y, n, true, false)"
    return "use a text that does not read as a number (add a letter, e.g. a prefix)"


def _within_bounds(node: dict[str, Any] | None, value: Any) -> bool:
    """Whether a number meets the node's bounds (JSON Schema applies them to numbers only)."""
    if node is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    bounds = {word: node[word] for word in _BOUNDS if isinstance(node.get(word), (int, float))}
    return (
        value >= bounds.get("minimum", value)
        and value <= bounds.get("maximum", value)
        and ("exclusiveMinimum" not in bounds or value > bounds["exclusiveMinimum"])
        and ("exclusiveMaximum" not in bounds or value < bounds["exclusiveMaximum"])
    )


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _accepts(types: set[str] | None, kind: str) -> bool:
    if types is None:
        return True
    return kind in types or (kind == "integer" and "number" in types)


def _same_text(note: ScalarNote) -> bool:
    """Whether the templates, turning the unquoted number back into a string, get the same text
    ("4.19" does; "1.10" becomes 1.1, "010" becomes 8 and "1e3" becomes 1000, which do not)."""
    value = note.value
    if isinstance(value, bool):
        return note.text == str(value).lower()  # "true" does; "yes" or "True" become true, which do not
    if not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and value.is_integer():
        return False
    return str(value) == note.text
