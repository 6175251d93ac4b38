"""Problem, the one record every check produces, and what is done with a list of them before printing.

``line`` and ``column`` are 1-based; they are 0 when the problem has no position (an unreadable file).
Every text field is printed one-line-safe (gce_values.printable): control characters escaped, and
keys and pointers clipped at 200 characters, messages at 1000, so a hostile key cannot forge or flood
the output. The reporters that print problems are in gce_values.report.reporters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gce_values.printable import one_line
from gce_values.records import Record

LONGEST_TEXT = 1000
ERROR = "error"
WARNING = "warning"


class Problem(Record):
    """One thing wrong with a conf, located in the source that supplied the value (a Record: see gce_values.records)."""

    file: str
    line: int
    column: int
    pointer: str
    key: str
    severity: str
    rule: str
    message: str
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def sort_problems(problems: Iterable[Problem], source_order: Sequence[str] = ()) -> list[Problem]:
    """By source (in the order given, then by name), line, column; errors before warnings at one place."""
    rank = {name: index for index, name in enumerate(source_order)}
    return sorted(
        problems,
        key=lambda p: (
            rank.get(p.file, len(rank)),
            p.file,
            p.line,
            p.column,
            p.severity != ERROR,
            p.pointer,
            p.rule,
        ),
    )


def strict(problems: Iterable[Problem]) -> list[Problem]:
    """``--strict``: every warning becomes an error."""
    return [p._replace(severity=ERROR) if p.severity == WARNING else p for p in problems]


def counts(problems: Iterable[Problem]) -> tuple[int, int]:
    errors = warnings = 0
    for problem in problems:
        if problem.is_error:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def skipped(count: int) -> str:
    """The one line for the files `validate --only-confs` left alone (a hook is handed every file)."""
    return f"skipped {_plural(count, 'file')} that {'is' if count == 1 else 'are'} not a conf for this chart"


def summary(name: str, problems: Sequence[Problem]) -> str:
    errors, warnings = counts(problems)
    name = one_line(name, LONGEST_TEXT)
    if errors:
        text = f"{name}: invalid, {_plural(errors, 'error')}"
        return text + (f", {_plural(warnings, 'warning')}" if warnings else "")
    if warnings:
        return f"{name}: valid, {_plural(warnings, 'warning')}"
    return f"{name}: valid"


def shown(problem: Problem) -> Problem:
    """The problem with every text field safe to print on its one line (see the module's docstring)."""
    return problem._replace(
        file=one_line(problem.file, LONGEST_TEXT),
        pointer=one_line(problem.pointer),
        key=one_line(problem.key),
        message=one_line(problem.message, LONGEST_TEXT),
        hint=one_line(problem.hint, LONGEST_TEXT) if problem.hint else problem.hint,
    )
