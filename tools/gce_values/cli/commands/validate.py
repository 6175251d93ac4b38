"""`gce-values validate`: check confs against the chart's schema and rules, as Helm would read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from gce_values.cli.commands import EXIT_CODES_HELP
from gce_values.cli.support import examples, format_option, strict_option

if TYPE_CHECKING:
    from gce_values.errors import InputError
    from gce_values.report import Problem

EXIT_VALID, EXIT_INVALID, EXIT_INPUT = 0, 1, 2


@dataclass
class _Unit:
    """What is validated as one: a conf, or the -f files merged with --set."""

    paths: list[str]
    names: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    input_error: InputError | None = None
    skipped: bool = False

    @property
    def title(self) -> str:
        return " + ".join(self.names or self.paths) or "(chart defaults)"


def _units(confs: Sequence[str], value_files: Sequence[str], has_sets: bool) -> list[_Unit]:
    if confs and value_files:
        raise click.UsageError("give the confs as arguments (each checked alone) or with -f (merged), not both")
    if [*confs, *value_files].count("-") > 1:
        raise click.UsageError("standard input (-) can be read only once")
    if value_files:
        return [_Unit(list(value_files))]
    if confs:
        return [_Unit([conf]) for conf in confs]
    if has_sets:
        return [_Unit([])]
    raise click.UsageError("give a conf to check (or - to read it from standard input)")


def _input_problem(error: InputError) -> Problem:
    from gce_values.report import ERROR, Problem

    return Problem(
        file=error.source or "gce-values",
        line=error.line or 0,
        column=error.column or 0,
        pointer="",
        key="",
        severity=ERROR,
        rule=error.rule,
        message=error.detail,
        hint=None,
    )


@click.command(
    epilog=EXIT_CODES_HELP
    + "\n"
    + examples(
        "gce-values validate my-conf.yaml",
        "gce-values validate -f base.yaml -f site.yaml --set maxBlocks=8 --format github",
    )
)
@click.argument("confs", nargs=-1, metavar="[CONF]...")
@click.option(
    "-f",
    "--values",
    "value_files",
    multiple=True,
    metavar="FILE",
    help="Merge these files in order, like helm -f (later files win), and check the result.",
)
@click.option("--set", "set_values", multiple=True, metavar="KEY=VAL", help="Set values like helm --set.")
@click.option(
    "--set-string", "set_strings", multiple=True, metavar="KEY=VAL", help="Set string values like helm --set-string."
)
@click.option(
    "--release",
    metavar="NAME",
    help="The release name for plain helm (default: SLATE's globus-compute-endpoint-<Instance>).",
)
@click.option(
    "--creds",
    "creds_file",
    metavar="FILE",
    help="The credentials env file; warn if endpointUUID is its client ID. Its secret is never shown.",
)
@format_option
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the problems, no summary.")
@strict_option
@click.option(
    "--only-confs",
    is_flag=True,
    help="Skip CONFs that are not confs for this chart (no key only this chart has, no schema line "
    "of it): for hooks handed every YAML file of a repository. The pre-commit hook uses it.",
)
@click.pass_context
def validate(
    ctx: click.Context,
    confs: tuple[str, ...],
    value_files: tuple[str, ...],
    set_values: tuple[str, ...],
    set_strings: tuple[str, ...],
    release: str | None,
    creds_file: str | None,
    output_format: str,
    color: bool | None,
    quiet: bool,
    strict: bool,
    only_confs: bool,
) -> None:
    """Check each CONF (or the -f files merged, with --set) against the chart's schema and rules.

    Values are read as Helm reads them (YAML 1.1: yes/no/on/off are booleans, 010 is 8) and merged as
    Helm merges them (maps deeply, later files win, null deletes a key). Every problem is printed as
    FILE:LINE:COL: error|warning: KEY: message, with the JSON pointer of the value; use - for
    standard input.
    """
    from gce_values import confdetect, report
    from gce_values.errors import NOT_UTF8, TOO_LARGE, InputError
    from gce_values.schema import load
    from gce_values.sources import read_source

    not_text = (NOT_UTF8, TOO_LARGE)
    from gce_values.validator import validate_sources

    if only_confs and not confs:
        raise click.UsageError("--only-confs sorts CONF arguments; give the files as arguments, not with -f")
    units = _units(confs, value_files, bool(set_values or set_strings))
    for unit in units:
        try:
            try:
                sources = [read_source(path) for path in unit.paths]
            except InputError as error:
                if only_confs and error.rule in not_text:
                    unit.skipped = True  # a hook is handed every file: one that is no text is no conf
                    continue
                raise
            unit.names = [name for name, _ in sources]
            if only_confs and not confdetect.is_conf(sources[0][1], load()):
                unit.skipped = True
                continue
            result = validate_sources(sources, set_values, set_strings, release=release, creds_file=creds_file)
            unit.problems = report.strict(result.problems) if strict else result.problems
        except InputError as error:
            unit.input_error = error
            unit.problems = [_input_problem(error)]
    _print(units, output_format, color, quiet)
    if any(unit.input_error for unit in units):
        ctx.exit(EXIT_INPUT)
    ctx.exit(EXIT_INVALID if any(p.is_error for unit in units for p in unit.problems) else EXIT_VALID)


def _print(units: list[_Unit], output_format: str, color: bool | None, quiet: bool) -> None:
    from gce_values import report
    from gce_values.cli.support import show_problems

    if output_format == "json":
        files = [name for unit in units if not unit.skipped for name in (unit.names or unit.paths)]
        show_problems([p for unit in units for p in unit.problems], "json", files=files, err=False, always=True)
        return
    for unit in units:
        if unit.skipped:
            continue
        to_stderr = unit.input_error is not None and output_format == "text"
        show_problems(unit.problems, output_format, files=unit.names, err=to_stderr, color=color)
        if not quiet and unit.input_error is None:
            click.echo(report.summary(unit.title, unit.problems), color=color)
    skipped = sum(unit.skipped for unit in units)
    if skipped and not quiet and output_format == "text":
        click.echo(report.skipped(skipped), color=color)
