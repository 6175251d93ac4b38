"""One problem per cause, told apart by rule id: YAML notes fold into the error they explain, a broken
x-rule replaces the schema's plain "missing required key", repeats go, and credentials are redacted."""

from __future__ import annotations

from gce_values.checks import helm3limits, schemacheck, secret, slatequotes, yamlnotes, yamlread
from gce_values.checks.context import Run
from gce_values.redact import Redactor
from gce_values.report import Problem


def finish(run: Run) -> list[Problem]:
    problems = _dedupe(_fold_yaml_notes(run.problems), run)
    if run.redact:
        problems = [_scrub(p, run.redact) for p in problems]
    return problems


def _scrub(problem: Problem, redact: Redactor) -> Problem:
    return problem._replace(
        pointer=redact(problem.pointer),
        key=redact(problem.key),
        message=redact(problem.message),
        hint=redact(problem.hint) if problem.hint else problem.hint,
    )


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
    """A rule of kind required says more than the schema's "missing required key" (and, for a key a null
    deleted, lends its advice to "null deletes it", which names the user's mistake); a character Helm 3
    cannot check says more than the schema pattern that also refuses it, and a pattern as much as the
    format it backs; and each problem once."""
    rule_pointers = {p.pointer for p in problems if p.rule != schemacheck.REQUIRED}
    problems = _one_for_a_deleted_required_key(problems, run)
    unreadable = {p.pointer for p in problems if p.rule == helm3limits.UNREADABLE_TEXT}
    patterns = {p.pointer for p in problems if p.rule == schemacheck.PATTERN}
    out, seen = [], set()
    for problem in problems:
        if problem.rule == schemacheck.PATTERN and problem.pointer in unreadable:
            continue
        if problem.rule == schemacheck.FORMAT and problem.pointer in patterns:
            continue
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


def _one_for_a_deleted_required_key(problems: list[Problem], run: Run) -> list[Problem]:
    """An empty required key (`secrets:`) is one mistake: "null deletes it", with the rule's advice as its hint."""
    required_rules = {rule.id for rule in run.schema.rules() if rule.kind == "required"}
    deleted = {p.pointer for p in problems if p.rule == schemacheck.REQUIRED and run.facts.was_deleted(p.pointer)}
    advice = {
        p.pointer: p.message.split(" is required: ", 1)[-1]
        for p in problems
        if p.rule in required_rules and p.pointer in deleted
    }
    if not advice:
        return problems
    out = []
    for problem in problems:
        if problem.rule in required_rules and problem.pointer in advice:
            continue
        if problem.rule == schemacheck.REQUIRED and problem.pointer in advice:
            out.append(
                problem._replace(hint=f"in Helm a null removes the key and its default; {advice[problem.pointer]}")
            )
        else:
            out.append(problem)
    return out
