"""`gce-values migrate`: turn a conf for a predecessor chart into a conf for this one, with a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gce_values.cli.support import examples

if TYPE_CHECKING:
    from gce_values.validator import Result
    from gce_values.workflow.migration import Migration

_ACTION_ORDER = ("copied", "renamed", "changed", "review", "dropped", "unmapped")


@click.command(
    epilog=examples(
        "gce-values migrate old-conf.yaml -o my-conf.yaml",
        "gce-values migrate old-conf.yaml --format json > my-conf.yaml 2> report.json",
    )
)
@click.argument("old_conf", metavar="OLD-CONF")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write the new conf; - is stdout.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Format of the report (on stderr): one line per key of the old conf, copied, renamed, changed, "
    "kept for review, dropped or not mapped.",
)
@click.pass_context
def migrate(ctx: click.Context, old_conf: str, output: str, force: bool, output_format: str) -> None:
    """Convert a conf written for SLATE's globus-compute-endpoint 0.1.x or Globus' 0.7.x chart.

    Keys with the same meaning are copied, renamed keys moved, keys that no longer exist dropped
    with the reason, and old defaults that are unsafe today (maxBlocks 100, a python:3.x worker
    image, pip-installing the endpoint in every worker) replaced. Values you chose that may not
    work any more (your own worker image, a workerInit that installs the endpoint) are kept and
    marked for review. A conf that is already for this chart is recognised and copied as it is.
    The new conf has the chart's comments, the editor schema line, and is validated.

    \b
    Exit codes: 0 the new conf is complete and valid and nothing needs review;
    1 it was written, but the report lists something to fill in (e.g. no
    endpointUUID or secrets), to fix, or to review (a value kept that may need
    changing, a key not carried over); 2 usage error, unreadable old conf or
    existing output.
    """
    from gce_values.schema import editor as editor_schema
    from gce_values.schema import load
    from gce_values.sources import read_source
    from gce_values.validator import validate_sources
    from gce_values.workflow import conffile, fileio, migration

    if output != "-":
        fileio.refuse_existing(Path(output), force)
    name, text = read_source(old_conf)
    old = _parse(name, text)
    schema = load()
    result = migration.migrate(old, schema)
    new_text = conffile.render(schema, result.values, include_slate=False, schema_url=editor_schema.url())
    checked = validate_sources([("<stdout>" if output == "-" else output, new_text)])
    fileio.emit(new_text, output, force=force)
    if output_format == "json":
        click.echo(json.dumps(_json_report(name, output, result, checked), indent=2), err=True)
    else:
        _text_report(name, output, result, checked)
    ctx.exit(0 if checked.ok and not result.to_review else 1)


def _parse(name: str, text: str) -> dict[str, Any]:
    """The old conf as Helm read it, with the loader's limits on depth, aliases and size.

    Anything but a mapping cannot be migrated (an InputError, exit code 2).
    """
    from gce_values.helmyaml import reader

    return reader.load(text, name).data


def _text_report(source: str, output: str, result: Migration, checked: Result) -> None:
    from gce_values.cli import support
    from gce_values.printable import one_line
    from gce_values.workflow import migration

    target = "standard output" if output == "-" else output
    echo = _stderr_echo
    if result.predecessor == migration.THIS_CHART:
        dropped = sum(1 for change in result.changes if change.action == "dropped")
        what = f"{dropped} key(s) it no longer has dropped" if dropped else "nothing to convert"
        echo(
            f"{one_line(source, 1000)} is already a conf for this chart: {what}; "
            f"migrated{'' if dropped else ' as it is'} to {one_line(target, 1000)}"
        )
    else:
        echo(f"migrated {one_line(source, 1000)} (a conf for {result.predecessor}) to {one_line(target, 1000)}")
    for action in _ACTION_ORDER:
        for change in (c for c in result.changes if c.action == action):
            arrow = f" -> {change.new_key}" if change.new_key and change.new_key != change.key else ""
            reason = f": {one_line(change.reason, 1000)}" if change.reason else ""
            echo(f"  {action}: {one_line(change.key)}{arrow}{reason}")
    if result.to_review:
        echo("review before installing: " + ", ".join(one_line(change.key) for change in result.to_review))
    if result.to_fill_in:
        echo("fill in before installing:")
        for change in result.to_fill_in:
            echo(f"  {change.key}: {change.reason}")
    if checked.problems:
        echo("the new conf is not valid yet:" if not checked.ok else "the new conf has warnings:")
        support.show_problems(checked.problems, "text")


def _json_report(source: str, output: str, result: Migration, checked: Result) -> dict[str, Any]:
    return {
        "source": source,
        "output": output,
        "predecessor": result.predecessor,
        "valid": checked.ok,
        "needsReview": [c.key for c in result.to_review],
        "changes": [
            {"key": c.key, "action": c.action, "newKey": c.new_key, "reason": c.reason}
            for c in result.changes
            if c.action != "fill-in"
        ],
        "fillIn": [{"key": c.key, "reason": c.reason} for c in result.to_fill_in],
        "problems": [problem._asdict() for problem in checked.problems],
    }


def _stderr_echo(line: str) -> None:
    click.echo(line, err=True)
