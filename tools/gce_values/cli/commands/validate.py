"""`gce-values validate`: check confs against the chart's schema and rules, as Helm would read them."""

from __future__ import annotations

from collections.abc import Sequence

import click

from gce_values.cli import validation
from gce_values.cli.commands import EXIT_CODES_HELP
from gce_values.cli.support import examples, flag_option, format_option
from gce_values.cli.validation import Unit


def _units(confs: Sequence[str], value_files: Sequence[str], has_sets: bool) -> list[Unit]:
    if confs and value_files:
        raise click.UsageError("give the confs as arguments (each checked alone) or with -f (merged), not both")
    if [*confs, *value_files].count("-") > 1:
        raise click.UsageError("standard input (-) can be read only once")
    if value_files:
        return [Unit(value_files)]
    if confs:
        return [Unit([conf]) for conf in confs]
    if has_sets:
        return [Unit([])]
    raise click.UsageError("give a conf to check (or - to read it from standard input)")


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
@flag_option(validation.QUIET)
@flag_option(validation.STRICT)
@flag_option(validation.ONLY_CONFS)
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
    if only_confs and not confs:
        raise click.UsageError("--only-confs sorts CONF arguments; give the files as arguments, not with -f")
    units = _units(confs, value_files, bool(set_values or set_strings))
    validation.check(
        units,
        strict=strict,
        only_confs=only_confs,
        set_values=set_values,
        set_strings=set_strings,
        release=release,
        creds_file=creds_file,
    )
    for line in validation.lines(units, output_format, quiet=quiet, style=color is not False):
        click.echo(line.text, err=line.err, color=color)
    ctx.exit(validation.exit_code(units))
