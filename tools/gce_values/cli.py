"""The `gce-values` command: a click group whose subcommands are imported only when used.

Start-up time matters (pre-commit hooks run it on every commit), so this module imports nothing
heavy; each subcommand lives in ``gce_values.commands.<name>`` and is loaded on demand.
"""

from __future__ import annotations

import importlib
import sys

import click

from gce_values.errors import InputError

# name -> (module under gce_values.commands, attribute, one-line help shown by --help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "completion": ("completion", "completion", "Print a shell completion script (bash, zsh or fish)."),
    "init": ("init", "init", "Write a new, commented conf with a fresh endpoint UUID."),
    "install": ("install", "install", "Validate a conf, then install it with slate (or helm)."),
    "migrate": ("migrate", "migrate", "Convert a conf for a predecessor chart, reporting every change."),
    "render": ("render", "render", "Print the merged, validated conf, or helm's manifests of it."),
    "schema": ("schema_cmd", "schema", "Generate or check the files derived from the values schema."),
    "secret": ("secret", "secret", "Write or check the credentials env file (client_creds.env)."),
    "smoke": ("smoke", "smoke", "Run hello_world on a live endpoint and wait for its result."),
    "validate": ("validate", "validate", "Check confs against the chart's schema and rules, as Helm reads them."),
}

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (the conf is valid)
  1  the conf is invalid (or, with --strict, has warnings)
  2  usage error or unreadable input (missing file, not YAML, not a mapping)
  3  internal error (a bug: please report it)
"""


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(f"gce_values.commands.{module}"), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from gce_values import versions

    click.echo(versions.describe())
    ctx.exit(0)


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    """Entry point: run the CLI, turning unexpected exceptions into exit code 3 without a traceback."""
    try:
        code = cli.main(prog_name="gce-values", standalone_mode=False)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(2)
    except InputError as exc:
        click.echo(f"gce-values: {exc}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        click.echo(f"gce-values: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
