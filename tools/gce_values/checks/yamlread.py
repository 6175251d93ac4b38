"""What the YAML reader itself found: duplicate keys, merges (<<) that override, extra documents."""

from __future__ import annotations

from gce_values.checks.context import Run, key_text
from gce_values.report import Problem

DUPLICATE_KEY = "duplicate-key"
RULES = (DUPLICATE_KEY, "yaml-merge-order", "extra-document")


def check(run: Run) -> None:
    for loaded in run.loaded:
        for issue in loaded.problems:
            key = key_text(issue.pointer, loaded.data) if issue.pointer else ""
            run.problems.append(
                Problem(
                    loaded.name,
                    issue.line,
                    issue.column,
                    issue.pointer,
                    key,
                    issue.severity,
                    issue.rule,
                    issue.message,
                    issue.hint,
                )
            )
