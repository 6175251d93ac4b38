"""Problems found in a conf and the three ways of printing them (text, JSON, GitHub annotations).

The JSON shape is a public interface (CI jobs parse it); change it only together with ``JSON_VERSION``:

    {"version": 1, "valid": bool, "files": [name, ...],
     "problems": [{"file", "line", "column", "pointer", "key", "severity", "rule", "message", "hint"}]}

``line`` and ``column`` are 1-based; they are 0 when the problem has no position (an unreadable file).
Every text field is printed one-line-safe (gce_values.printable): control characters escaped, and
keys and pointers clipped at 200 characters, messages at 1000, so a hostile key cannot forge or flood
the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from gce_values.printable import one_line

JSON_VERSION = 1
_LONGEST_TEXT = 1000
ERROR = "error"
WARNING = "warning"


class Problem(NamedTuple):
    """One thing wrong with a conf, located in the source that supplied the value.

    A NamedTuple rather than a dataclass: it is created at every start-up, and a dataclass costs
    about a millisecond to create (plus the import of dataclasses) where a pre-commit hook has ~50.
    """

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


def skipped(name: str) -> str:
    """The line for a file `validate --only-confs` left alone."""
    return f"{one_line(name, _LONGEST_TEXT)}: skipped, not a conf for this chart"


def summary(name: str, problems: Sequence[Problem]) -> str:
    errors, warnings = counts(problems)
    name = one_line(name, _LONGEST_TEXT)
    if errors:
        text = f"{name}: invalid, {_plural(errors, 'error')}"
        return text + (f", {_plural(warnings, 'warning')}" if warnings else "")
    if warnings:
        return f"{name}: valid, {_plural(warnings, 'warning')}"
    return f"{name}: valid"


def shown(problem: Problem) -> Problem:
    """The problem with every text field safe to print on its one line (see the module's docstring)."""
    return problem._replace(
        file=one_line(problem.file, _LONGEST_TEXT),
        pointer=one_line(problem.pointer),
        key=one_line(problem.key),
        message=one_line(problem.message, _LONGEST_TEXT),
        hint=one_line(problem.hint, _LONGEST_TEXT) if problem.hint else problem.hint,
    )


def _location(problem: Problem) -> str:
    if problem.line <= 0:
        return problem.file
    if problem.column <= 0:
        return f"{problem.file}:{problem.line}"
    return f"{problem.file}:{problem.line}:{problem.column}"


def text_line(problem: Problem, style: bool = False) -> str:
    """``FILE:LINE:COL: error: KEY: message; hint [rule /pointer]`` on one line."""
    import click

    problem = shown(problem)
    severity = problem.severity
    if style:
        severity = click.style(severity, fg="red" if problem.is_error else "yellow", bold=True)
    message = problem.message + (f"; {problem.hint}" if problem.hint else "")
    tail = f"[{problem.rule}{' ' + problem.pointer if problem.pointer else ''}]"
    if style:
        tail = click.style(tail, dim=True)
    location = click.style(_location(problem), bold=True) if style else _location(problem)
    key = f"{problem.key}: " if problem.key else ""
    return f"{location}: {severity}: {key}{message} {tail}"


def to_json(problems: Sequence[Problem], files: Sequence[str]) -> str:
    document = {
        "version": JSON_VERSION,
        "valid": not any(p.is_error for p in problems),
        "files": [one_line(name, _LONGEST_TEXT) for name in files],
        "problems": [shown(p)._asdict() for p in problems],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(problem: Problem, is_file: bool) -> str:
    """A GitHub Actions workflow command; ``file=`` only for real files, not ``--set #N``."""
    problem = shown(problem)
    command = "error" if problem.is_error else "warning"
    props = []
    if is_file:
        props.append(f"file={_escape_property(problem.file)}")
        if problem.line > 0:
            props.append(f"line={problem.line}")
        if problem.line > 0 and problem.column > 0:
            props.append(f"col={problem.column}")
    props.append(f"title={_escape_property('gce-values ' + problem.rule)}")
    where = "" if is_file else f"{problem.file}: "
    key = f"{problem.key}: " if problem.key else ""
    message = where + key + problem.message + (f"; {problem.hint}" if problem.hint else "")
    return f"::{command} {','.join(props)}::{_escape_data(message)}"
