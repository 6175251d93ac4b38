"""What several workflow commands share: options, and "validate, show the problems, stop if invalid"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gce_values import report
from gce_values.cli.validation import STRICT, Flag, report_lines
from gce_values.schema import load
from gce_values.schema.goregex import go_regex
from gce_values.sources import read_source
from gce_values.validator import validate_sources

if TYPE_CHECKING:
    from gce_values.report import Problem
    from gce_values.validator import Result

FC = TypeVar("FC", bound=Callable[..., Any])


def flag_option(flag: Flag) -> Callable[[FC], FC]:
    """A click option for a flag declared in gce_values.cli.validation (which the fast path reads too)."""
    return click.option(*flag.decls, flag.dest, is_flag=True, help=flag.help)


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for GitHub Actions annotations.",
)
strict_option = flag_option(STRICT)


def examples(*commands: str) -> str:
    """A help epilog that ends a command's --help with these example command lines."""
    return "\b\nExamples:\n" + "\n".join(f"  {command}" for command in commands)


def show_problems(
    problems: Sequence[Problem],
    output_format: str,
    *,
    files: Sequence[str] = (),
    err: bool = True,
    always: bool = False,
    color: bool | None = None,
) -> None:
    """The one printer of problems, for every command, through a reporter of the registry.

    ``files`` are the names of the sources read (GitHub annotations point into those that are real
    files); ``always`` prints even an empty report, for commands whose report is their output;
    ``color`` False keeps the text plain even on a terminal.
    """

    if not problems and not always:
        return
    for line in report_lines(problems, output_format, files, color is not False):
        click.echo(line, err=err, color=color)


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
    node = load().node((key,)) or {}
    limit = int(node.get("maxLength", len(value)))
    return len(value) <= limit and go_regex(str(node.get("pattern", ""))).search(value) is not None


def validate_or_exit(
    ctx: click.Context,
    paths: Sequence[str],
    *,
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str | None = None,
    output_format: str = "text",
    strict: bool = False,
    always: bool = False,
) -> Result:
    """Validate the confs (merged in order, then --set/--set-string); exit 1 when invalid.

    Warnings of a valid conf are printed too, and count as errors with ``strict``; ``always`` prints
    the report (on standard error) even when there is nothing in it.
    """

    sources = [read_source(path) for path in paths]
    result = validate_sources(sources, set_values=set_values, set_strings=set_strings, release=release)
    problems = report.strict(result.problems) if strict else result.problems
    show_problems(problems, output_format, files=[name for name, _text in sources], always=always)
    if any(problem.is_error for problem in problems):
        ctx.exit(1)
    return result
