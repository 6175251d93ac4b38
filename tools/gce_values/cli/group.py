"""The click group behind `gce-values`, whose subcommands are imported only when used.

Importing click takes longer than a valid conf takes to check, so gce_values.cli loads this module
only when its fast path (gce_values.cli.fastpath) does not settle the call.
"""

from __future__ import annotations

import importlib
import sys

import click

from gce_values.cli.commands import COMMANDS, EXIT_CODES_HELP, MAINTAINER_COMMANDS


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(f"gce_values.cli.commands.{module}"), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx) if name not in MAINTAINER_COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from gce_values import versions

    click.echo(versions.describe())
    ctx.exit(0)


@click.group(
    cls=LazyGroup,
    epilog=EXIT_CODES_HELP
    + "\b\nExamples:\n"
    + "  gce-values init -o my-conf.yaml --instance atlas-ml --secret globus-compute-creds\n"
    + "  gce-values install my-conf.yaml --group my-group --cluster uchicago-prod --dry-run",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the tool, chart and endpoint versions and exit.",
)
def cli() -> None:
    """Create, validate and render confs for the globus-compute-endpoint Helm chart."""


USAGE_ERROR = "usage-error"


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asked for ``--format json`` (so that even its usage errors are JSON)."""
    for index, arg in enumerate(args):
        if arg == "--format=json" or (arg == "--format" and args[index + 1 : index + 2] == ["json"]):
            return True
    return False


def _json_report(
    message: str, rule: str, source: str | None = None, line: int | None = None, column: int | None = None
) -> None:
    """With --format json, the error also as the JSON report on standard output (programs read that)."""
    if not _wants_json(sys.argv[1:]):
        return
    from gce_values.report import ERROR, Problem
    from gce_values.report.reporters import to_json

    problem = Problem(source or "gce-values", line or 0, column or 0, "", "", ERROR, rule, message, None)
    click.echo(to_json([problem], [source] if source else []))


def exit_code(error: Exception) -> int:
    """Print what went wrong in one line (never a traceback) and return the exit code that says so."""
    from gce_values.errors import InputError

    if isinstance(error, click.Abort):
        # click turns Ctrl-C into Abort: report it as the shell does (128 + SIGINT), and an
        # end of input at a prompt as unusable input.
        if isinstance(error.__cause__ or error.__context__, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            return 130
        click.echo("Aborted.", err=True)
        return 2
    if isinstance(error, InputError):
        click.echo(f"gce-values: {error}", err=True)
        _json_report(error.detail, error.rule, error.source, error.line, error.column)
        return 2
    if isinstance(error, click.ClickException):
        error.show()
        _json_report(error.format_message(), USAGE_ERROR)
        return 2 if isinstance(error, click.UsageError) else error.exit_code
    click.echo(f"gce-values: internal error: {type(error).__name__}: {error}", err=True)
    return 3
