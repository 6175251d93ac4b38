"""An endpoint UUID copied from documentation: the schema's example, or the nil or max UUID.

Valid in form, but every conf that copies it names the same endpoint, and two endpoints started with
one UUID take each other's tasks (and the second is refused), so it is worth a warning.
"""

from __future__ import annotations

from gce_values.checks.context import Run
from gce_values.report import WARNING

EXAMPLE_UUID = "example-uuid"
RULES = (EXAMPLE_UUID,)
_POINTER = "/endpointUUID"
_PLACEHOLDERS = frozenset({"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"})


def check(run: Run) -> None:
    value = run.merged.values.get("endpointUUID")
    if not isinstance(value, str):
        return
    text = value.strip().lower()
    node = run.schema.properties.get("endpointUUID", {})
    examples = {str(example).lower() for example in node.get("examples", [])}
    if text in _PLACEHOLDERS:
        what = "the nil UUID, a placeholder"
    elif text in examples:
        what = "the example UUID of this chart's documentation"
    else:
        return
    run.add(
        run.facts.locate(_POINTER, False),
        _POINTER,
        WARNING,
        EXAMPLE_UUID,
        f"is {what}: every conf that copies it names the same endpoint, and two endpoints with one UUID collide",
        "make one of your own: gce-values init, or python3 -c 'import uuid; print(uuid.uuid4())'",
    )
