"""Numbers the templates turn back into text: silent changes, and text the key's pattern refuses.

Keys that take text or a number (``x-slate-coerce``: image.tag, Instance, CPU quantities) are written
into the manifests as text again. An unquoted ``4.10`` is the number 4.1 and becomes the tag ``4.1``;
``0x10`` becomes ``16``; ``-1`` stays ``-1`` but is no valid tag, and the schema's pattern (which JSON
Schema applies to strings only) never sees it. A changed text is an error on keys whose text is an
identifier (``x-text``: tags, names) and a warning elsewhere (a quantity keeps its amount); text the
pattern refuses is an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.checks.context import Run
from gce_values.helmyaml.scalars import as_template_text
from gce_values.records import TYPE_CHECKING
from gce_values.report import ERROR, WARNING
from gce_values.schema import nodes
from gce_values.schema.goregex import go_regex

if TYPE_CHECKING:
    from typing import Any

TEXT_CHANGED = "number-text-changed"
TEXT_INVALID = "number-text-invalid"
RULES = (TEXT_CHANGED, TEXT_INVALID)
_NOTE_KINDS = ("number", "octal")


def check(run: Run) -> None:
    written: dict[tuple[str, str], str] = {}
    for loaded in run.loaded:
        for note in loaded.notes:
            if note.kind in _NOTE_KINDS and not note.at_key:
                written[(loaded.name, note.pointer)] = note.text
    for path, value in _numbers(run.merged.values):
        node = nodes.node_at(run.document, path)
        if not node or node.get("x-slate-coerce") is not True:
            continue
        pointer = ptr.join(path)
        text = as_template_text(value)
        where = run.facts.locate(pointer, False)
        original = written.get((where[0], pointer))
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not go_regex(pattern).search(text):
            from gce_values.schema import patternwords

            message = (
                f"{original or text} is a number, written into the manifests as {jsontext.dumps(text)}, which "
                f"{patternwords.explain(text, pattern)}"
            )
            run.add(where, pointer, ERROR, TEXT_INVALID, message, "quote it and give a valid value")
        elif original is not None and original != text:
            severity = ERROR if node.get("x-text") is True else WARNING
            message = (
                f"{original} is read as a number (YAML 1.1, as Helm reads it) and written into the manifests "
                f"as {jsontext.dumps(text)}"
            )
            run.add(where, pointer, severity, TEXT_CHANGED, message, f'quote it ("{original}") to keep the text')


def _numbers(values: Any) -> Iterator[tuple[tuple[str, ...], float]]:
    """Each number in ``values`` with its path (a pointer is built only for the few the check keeps)."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), values)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*path, key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, str(index)), item) for index, item in enumerate(node))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield path, node
