"""YAML 1.1 readings that surprise: words read as booleans (yes, on, n) and octal numbers (010 is 8)."""

from __future__ import annotations

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.checks.context import Run
from gce_values.report import WARNING
from gce_values.schema import nodes

BOOLEAN = "yaml11-boolean"
OCTAL = "yaml11-octal"
RULES = (BOOLEAN, OCTAL)


def check(run: Run) -> None:
    for loaded, source in zip(run.loaded, run.inputs, strict=True):
        for note in loaded.notes:
            if note.kind not in ("bool-word", "octal"):
                continue
            origin = source.origin(note.pointer)
            where = (origin.source, origin.key_line, origin.key_column) if note.at_key else origin[:3]
            as_json = jsontext.dumps(note.value)
            if note.kind == "octal":
                decimal = int(note.text.replace("_", ""), 10)
                message = f"{note.text} is read as the octal number {note.value} (YAML 1.1, as Helm reads it)"
                hint = f'write {decimal} if you mean {decimal}, or quote it ("{note.text}") to keep the text'
                run.add(where, note.pointer, WARNING, OCTAL, message, hint, loaded.data)
            elif note.at_key:
                message = f"the key {note.text} is read as the boolean {as_json}, so the key is {as_json!r}"
                run.add(where, note.pointer, WARNING, BOOLEAN, message, f'quote it ("{note.text}")', loaded.data)
            else:
                types = nodes.accepted_types(nodes.node_at(run.document, ptr.tokens(note.pointer)))
                if types is None or "string" in types:
                    message = f"{note.text} is read as the boolean {as_json} (YAML 1.1, as Helm reads it)"
                    hint = f'quote it ("{note.text}") if you mean the word'
                    run.add(where, note.pointer, WARNING, BOOLEAN, message, hint, loaded.data)
