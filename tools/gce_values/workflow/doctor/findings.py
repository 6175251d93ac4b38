"""The one way a doctor check states a finding: a report.Problem with the fix as its hint."""

from __future__ import annotations

from gce_values.report import ERROR, WARNING, Problem

# Rule ids of the doctor's findings (the JSON report's `rule`).
MISSING_OBJECT = "doctor-missing-object"
MISSING_KEY = "doctor-missing-key"
CREDENTIAL_KEYS = "doctor-credential-keys"
POD_REFUSED = "doctor-pod-refused"
POD_WARNING = "doctor-pod-warning"
NOT_ALLOWED = "doctor-not-allowed"
NOT_CHECKED = "doctor-not-checked"


def finding(source: str, pointer: str, message: str, fix: str | None, rule: str, *, warning: bool = False) -> Problem:
    """A finding about the conf ``source`` at ``pointer`` (a JSON pointer into it, or "" for the conf as a whole)."""
    key = pointer.lstrip("/").replace("/", ".")
    return Problem(source, 0, 0, pointer, key, WARNING if warning else ERROR, rule, message, fix)
