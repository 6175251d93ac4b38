"""Schema violations of the merged values (jsonschema is the reference; a quick check answers valid confs)."""

from __future__ import annotations

from gce_values.checks.context import Run
from gce_values.report import ERROR
from gce_values.schema import reference

REQUIRED = "required"
# Besides these, a violation's rule id is the JSON Schema keyword it breaks (type, enum, pattern...).
RULES = (REQUIRED, "unknown-key", "removed-key", "propertyNames")


def check(run: Run) -> None:
    for finding in reference.check(run.document, run.merged.values, run.facts, run.schema.removed()):
        where = run.facts.locate(finding.pointer, finding.at_key)
        run.add(where, finding.pointer, ERROR, finding.rule, finding.message, finding.hint)
