"""The ways of printing problems (text, JSON, GitHub annotations), chosen by name from REPORTERS.

The JSON shape is a public interface (CI jobs parse it); change it only together with ``JSON_VERSION``:

    {"version": 1, "valid": bool, "files": [name, ...],
     "problems": [{"file", "line", "column", "pointer", "key", "severity", "rule", "message", "hint"}]}

Reporters return lines and never print: the command layer decides where they go and whether a
terminal gets the colours (the escape codes are click's, which strips them when it must).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from gce_values.printable import one_line
from gce_values.report import LONGEST_TEXT, Problem, shown

JSON_VERSION = 1
_RED, _YELLOW = 31, 33


def _style(text: str, color: int | None = None, bold: bool = False, dim: bool = False) -> str:
    """ANSI styling, byte for byte what click.style writes for the same options."""
    codes = ([f"\x1b[{color}m"] if color else []) + (["\x1b[1m"] if bold else []) + (["\x1b[2m"] if dim else [])
    return "".join(codes) + text + "\x1b[0m"


def _location(problem: Problem) -> str:
    if problem.line <= 0 or problem.file.startswith("--set"):  # a --set expression has no lines to point into
        return problem.file
    if problem.column <= 0:
        return f"{problem.file}:{problem.line}"
    return f"{problem.file}:{problem.line}:{problem.column}"


def text_line(problem: Problem, style: bool = False) -> str:
    """``FILE:LINE:COL: error: KEY: message; hint [rule /pointer]`` on one line."""
    problem = shown(problem)
    severity = problem.severity
    if style:
        severity = _style(severity, color=_RED if problem.is_error else _YELLOW, bold=True)
    message = problem.message + (f"; {problem.hint}" if problem.hint else "")
    tail = f"[{problem.rule}{' ' + problem.pointer if problem.pointer else ''}]"
    if style:
        tail = _style(tail, dim=True)
    location = _style(_location(problem), bold=True) if style else _location(problem)
    key = f"{problem.key}: " if problem.key else ""
    return f"{location}: {severity}: {key}{message} {tail}"


def json_problems(problems: Sequence[Problem]) -> list[dict[str, object]]:
    """The problems as the JSON reports write them (every command's), each field clipped as ``shown`` does."""
    return [shown(p)._asdict() for p in problems]


def to_json(problems: Sequence[Problem], files: Sequence[str]) -> str:
    document = {
        "version": JSON_VERSION,
        "valid": not any(p.is_error for p in problems),
        "files": [one_line(name, LONGEST_TEXT) for name in files],
        "problems": json_problems(problems),
    }
    import json  # only for --format json: importing json takes longer than checking a conf

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


Reporter = Callable[[Sequence[Problem], Sequence[str], Collection[str], bool], list[str]]


def _text(problems: Sequence[Problem], _files: Sequence[str], _real_files: Collection[str], style: bool) -> list[str]:
    return [text_line(problem, style=style) for problem in problems]


def _json(problems: Sequence[Problem], files: Sequence[str], _real_files: Collection[str], _style: bool) -> list[str]:
    return [to_json(problems, files)]


def _github(problems: Sequence[Problem], _files: Sequence[str], real_files: Collection[str], _style: bool) -> list[str]:
    return [github_line(problem, is_file=problem.file in real_files) for problem in problems]


# name -> reporter(problems, files, the files that exist on disk, style) -> lines
REPORTERS: dict[str, Reporter] = {"text": _text, "json": _json, "github": _github}
