"""`gce-values schema build [--check]`: regenerate, or check, the files derived from the schema."""

from __future__ import annotations

from pathlib import Path

import click

from gce_values import resources
from gce_values.checks import xrules
from gce_values.cli.support import examples
from gce_values.schema import load
from gce_values.workflow import build as builder


@click.group(hidden=True, epilog=examples("gce-values schema build", "gce-values schema build --check"))
def schema() -> None:
    """Work with schema/values.schema.yaml, the source of every chart value (for maintainers)."""


@schema.command(epilog=examples("gce-values schema build", "gce-values schema build --check"))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a generated file is stale.")
@click.option(
    "--chart",
    "chart_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Chart directory (default: the chart this tool carries).",
)
@click.pass_context
def build(ctx: click.Context, check: bool, chart_dir: Path | None) -> None:
    """Generate values.schema.json, conf.schema.json, values.yaml, templates/_rules.tpl and the README values table.

    First the schema's x-rules are checked against their kinds (a kind that exists, its fields and no
    others, keys the schema names): a broken rule is one line each and exit 1, and nothing is written.
    """
    chart = chart_dir or resources.chart_dir()
    schema_doc = load()
    broken = xrules.rule_errors(schema_doc)
    for line in broken:
        click.echo(f"{schema_doc.source}: {line}", err=True)
    if broken:
        ctx.exit(1)
    if check:
        stale = builder.stale_files(schema_doc, chart)
        for name in stale:
            click.echo(f"{chart / name}: stale; run `gce-values schema build`", err=True)
        ctx.exit(1 if stale else 0)
    for name in builder.write_all(schema_doc, chart):
        click.echo(f"wrote {chart / name}")
