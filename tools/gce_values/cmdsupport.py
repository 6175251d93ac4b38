"""What several workflow commands share: options, and "validate, show the problems, stop if invalid"."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gce_values.report import Problem
    from gce_values.validator import Result

FORMATS = ("text", "json", "github")

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How problems are printed (on standard error).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors.")


def examples(*commands: str) -> str:
    """A help epilog that ends a command's --help with these example command lines."""
    return "\b\nExamples:\n" + "\n".join(f"  {command}" for command in commands)


def show_problems(
    problems: Sequence[Problem],
    output_format: str,
    *,
    err: bool = True,
    always: bool = False,
    files: Sequence[str] = (),
) -> None:
    """Print problems with the report module's renderers (on standard error unless ``err`` is false).

    ``always`` prints even an empty report, for commands whose report is their output.
    """
    from gce_values import report

    if not problems and not always:
        return
    ordered = report.sort_problems(problems, files)
    if output_format == "json":
        click.echo(report.to_json(ordered, files), err=err)
        return
    for problem in ordered:
        if output_format == "github":
            click.echo(report.github_line(problem, is_file=Path(problem.file).is_file()), err=err)
        else:
            click.echo(report.text_line(problem, style=True), err=err)


def check_instance(value: str) -> str:
    """An Instance answer, or click.BadParameter saying what SLATE accepts."""
    value = value.strip()
    if not value or not _matches_schema("Instance", value):
        raise click.BadParameter(
            "use 1 to 29 lowercase letters, digits and dashes, not starting or ending with a dash (e.g. atlas-ml)",
            param_hint="Instance",
        )
    return value


def check_secret_name(value: str) -> str:
    """A secret name answer, or click.BadParameter saying what Kubernetes accepts."""
    value = value.strip()
    if not value or not _matches_schema("secrets", value):
        raise click.BadParameter(
            "use lowercase letters, digits, dashes and dots, starting and ending with a letter or digit "
            "(e.g. globus-compute-creds)",
            param_hint="secret name",
        )
    return value


def check_option(check: Callable[[str], str], value: str, option: str) -> str:
    """Run an answer check on an option's value, naming the option in the error."""
    try:
        return check(value)
    except click.BadParameter as error:
        raise click.BadParameter(error.message, param_hint=option) from None


def _matches_schema(key: str, value: str) -> bool:
    from gce_values.schema import load

    node = load().node((key,)) or {}
    limit = int(node.get("maxLength", len(value)))
    return len(value) <= limit and re.match(str(node.get("pattern", "")), value) is not None


def validate_or_exit(
    ctx: click.Context,
    paths: Sequence[str],
    *,
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str | None = None,
    output_format: str = "text",
    strict: bool = False,
) -> Result:
    """Validate the confs (merged in order, then --set/--set-string); exit 1 when invalid.

    Warnings of a valid conf are printed too, and count as errors with ``strict``.
    """
    from gce_values import report
    from gce_values.validator import read_source, validate_sources

    sources = [read_source(path) for path in paths]
    result = validate_sources(sources, set_values=set_values, set_strings=set_strings, release=release)
    problems = report.strict(result.problems) if strict else result.problems
    show_problems(problems, output_format, files=[name for name, _text in sources])
    if any(problem.is_error for problem in problems):
        ctx.exit(1)
    return result
