"""Schema violations of the merged values: a quick check answers valid confs, schema.reference explains the rest."""

from __future__ import annotations

from gce_values.checks.context import Run
from gce_values.report import ERROR
from gce_values.schema import fastcheck

REQUIRED = "required"
# Besides these, a violation's rule id is the JSON Schema keyword it breaks (type, enum, pattern...).
RULES = (REQUIRED, "unknown-key", "removed-key", "propertyNames")


def check(run: Run) -> None:
    quick = fastcheck.compiled(run.document)
    if quick is not None and quick(run.merged.values):
        return  # valid, as most confs are: no need to load the code that explains errors
    from gce_values.schema import reference

    for finding in reference.explain(run.document, run.merged.values, run.facts, run.schema.removed()):
        where = run.facts.locate(finding.pointer, finding.at_key)
        run.add(where, finding.pointer, ERROR, finding.rule, finding.message, finding.hint)
