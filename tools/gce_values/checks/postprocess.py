"""One problem per cause, told apart by rule id: YAML notes fold into the error they explain, a broken
x-rule replaces the schema's plain "missing required key", repeats go, and credentials are redacted."""

from __future__ import annotations

from collections.abc import Iterable

from gce_values import pointer as ptr
from gce_values.checks import schemacheck, secret, slatequotes, yamlnotes, yamlread
from gce_values.checks.context import REDACTED, Run
from gce_values.report import Problem


def finish(run: Run) -> list[Problem]:
    problems = _dedupe(_fold_yaml_notes(run.problems), run)
    if run.redact:
        problems = [_scrub(p, run.redact) for p in problems]
    return problems


def _fold_yaml_notes(problems: list[Problem]) -> list[Problem]:
    """A YAML note about a value that is also an error becomes part of that error's hint (or goes)."""
    errors_at = {(p.file, p.pointer) for p in problems if p.is_error}
    problems = [p for p in problems if not (p.rule == slatequotes.SLATE_QUOTES and (p.file, p.pointer) in errors_at)]
    notes = {(p.file, p.pointer): p for p in problems if p.rule in yamlnotes.RULES}
    out = []
    folded: set[tuple[str, str]] = set()
    for problem in problems:
        note = notes.get((problem.file, problem.pointer))
        if problem.is_error and note is not None and problem.rule not in (yamlread.DUPLICATE_KEY, secret.SECRET):
            hint = f"{note.message}: {note.hint}" + (f"; {problem.hint}" if problem.hint else "")
            out.append(problem._replace(hint=hint))
            folded.add((note.file, note.pointer))
        else:
            out.append(problem)
    return [p for p in out if not (p.rule in yamlnotes.RULES and (p.file, p.pointer) in folded)]


def _dedupe(problems: list[Problem], run: Run) -> list[Problem]:
    """A rule of kind required says more than the schema's "missing required key" (but not than "null
    deletes it", which names the user's mistake); and each problem once."""
    rule_pointers = {p.pointer for p in problems if p.rule != schemacheck.REQUIRED}
    out, seen = [], set()
    for problem in problems:
        if (
            problem.rule == schemacheck.REQUIRED
            and problem.pointer in rule_pointers
            and not run.facts.was_deleted(problem.pointer)
        ):
            continue
        identity = (problem.file, problem.line, problem.column, problem.pointer, problem.rule, problem.message)
        if identity not in seen:
            seen.add(identity)
            out.append(problem)
    return out


def _scrub(problem: Problem, secrets: Iterable[str]) -> Problem:
    def clean(text: str) -> str:
        for secret_text in secrets:
            text = text.replace(secret_text, REDACTED).replace(ptr.escape(secret_text), REDACTED)
        return text

    return problem._replace(
        pointer=clean(problem.pointer),
        key=clean(problem.key),
        message=clean(problem.message),
        hint=clean(problem.hint) if problem.hint else problem.hint,
    )
