"""`gce-values install`: validate a conf, then hand it to `slate app install` (or `helm upgrade --install`)."""

from __future__ import annotations

import json
import shlex

import click

from gce_values import resources, versions
from gce_values.cli import support
from gce_values.cli.support import examples, format_option, strict_option
from gce_values.schema import release_name
from gce_values.workflow import helm, programs, slate


@click.command(
    epilog=examples(
        "gce-values install my-conf.yaml --group my-group --cluster uchicago-prod --dry-run",
        "gce-values install my-conf.yaml --helm --namespace compute",
    )
)
@click.argument("conf", metavar="CONF")
@click.option("--group", help="SLATE group that owns the instance (required without --helm).")
@click.option("--cluster", help="SLATE cluster to install on (required without --helm).")
@click.option("--dev", is_flag=True, help="Install from SLATE's incubator catalog (slate app install --dev).")
@click.option(
    "--local",
    "local_chart",
    is_flag=True,
    help="Upload the chart this tool carries (slate app install --local) instead of installing the "
    "catalog's copy of the same version. Most SLATE servers refuse such ad-hoc installs.",
)
@click.option("--helm", "use_helm", is_flag=True, help="Install with plain Helm and the chart this tool carries.")
@click.option("--namespace", help="Namespace to install into with --helm (required with --helm).")
@click.option("--release", help="Release name for --helm (default: globus-compute-endpoint-<Instance>).")
@click.option("--dry-run", is_flag=True, help="Validate and print the command; run nothing.")
@click.option("--slate-bin", metavar="PATH", help="slate binary (default: $GCE_SLATE, then slate on PATH).")
@click.option("--helm-bin", metavar="PATH", help="helm binary (default: $GCE_HELM, helm on PATH, .tools/bin).")
@format_option
@strict_option
@click.pass_context
def install(
    ctx: click.Context,
    *,
    conf: str,
    group: str | None,
    cluster: str | None,
    dev: bool,
    local_chart: bool,
    use_helm: bool,
    namespace: str | None,
    release: str | None,
    dry_run: bool,
    slate_bin: str | None,
    helm_bin: str | None,
    output_format: str,
    strict: bool,
) -> None:
    """Validate CONF and install exactly the chart version it was validated against.

    \b
    On SLATE (the default) it runs
      slate app install globus-compute-endpoint --version VERSION \\
        --group G --cluster C --conf CONF
    where VERSION is the version of the chart this tool carries, so SLATE installs
    that version from its catalog or refuses. --local uploads the carried chart
    instead (slate app install --local DIR), which SLATE servers allow only when
    their operator enabled ad-hoc installs. With --helm it runs
      helm upgrade --install RELEASE CHART -f CONF --namespace NS
    with the carried chart.

    \b
    Before it runs anything it says what may not exist yet (the chart version
    in SLATE's catalog, the default image); when slate fails, it names the
    likely cause and what to try instead. With --dry-run --format json it prints
    {"valid": true, "command": [...], "notes": [...]}.

    \b
    Exit codes: 0 installed (or --dry-run printed the command), 1 invalid conf,
    2 usage error, unreadable conf or slate/helm not installed; when slate or helm
    itself fails, its own exit code.
    """
    _check_options(conf, group, cluster, dev=dev, local_chart=local_chart, use_helm=use_helm, namespace=namespace)
    result = support.validate_or_exit(
        ctx, [conf], release=release if use_helm else None, output_format=output_format, strict=strict
    )
    program = _program(use_helm, helm_bin if use_helm else slate_bin, dry_run=dry_run)
    version = versions.chart_metadata()["version"]
    if use_helm:
        argv = helm.upgrade_argv(program, release or release_name(result.values.get("Instance")), conf, str(namespace))
    elif local_chart:
        argv = slate.install_local_argv(program, conf, str(group), str(cluster), str(resources.chart_dir()))
    else:
        argv = slate.install_argv(program, conf, str(group), str(cluster), version=version, dev=dev)
    notes = slate.before_install(result.values, version=version, from_catalog=not (use_helm or local_chart), dev=dev)
    if dry_run:
        _show_dry_run(argv, notes, output_format)
        return
    for note in notes:
        click.echo(f"note: {note}", err=True)
    code, errors = programs.run_keeping_errors(argv)
    if code != 0:
        hint = (
            None
            if use_helm
            else slate.failure_hint(errors, version=version, group=str(group), cluster=str(cluster), dev=dev)
        )
        _report_failure(ctx, argv, code, hint)
    click.echo(f"installed; when the endpoint is up, test it with `gce-values smoke {shlex.quote(conf)}`", err=True)


def _check_options(
    conf: str,
    group: str | None,
    cluster: str | None,
    *,
    dev: bool,
    local_chart: bool,
    use_helm: bool,
    namespace: str | None,
) -> None:
    """Usage errors (exit 2) for options that do not go together, before the conf is even read."""
    if use_helm and (group or cluster or dev or local_chart):
        raise click.UsageError("--group, --cluster, --dev and --local are for SLATE; leave them out with --helm")
    if use_helm and not namespace:
        raise click.UsageError("--namespace is required with --helm: the namespace to install into")
    if namespace and not use_helm:
        raise click.UsageError("--namespace is for --helm; SLATE installs into slate-group-<group>")
    if dev and local_chart:
        raise click.UsageError("--dev picks a catalog and --local uploads the chart instead: use one of them")
    if not use_helm:
        missing = [name for name, value in (("--group", group), ("--cluster", cluster)) if not value]
        if missing:
            raise click.UsageError(f"{' and '.join(missing)} required (or use --helm to install with plain Helm)")
    if conf == "-":
        raise click.UsageError("CONF must be a file: slate and helm read it themselves")


def _program(use_helm: bool, explicit: str | None, *, dry_run: bool) -> str:
    """The helm or slate binary; with --dry-run a missing one is only named, so the command can still be shown."""
    tool = "helm" if use_helm else "slate"
    try:
        return helm.find(explicit) if use_helm else slate.find(explicit)
    except programs.ProgramMissing:
        if not dry_run:
            raise
        click.echo(f"note: {tool} is not installed here; the command is shown as it would run", err=True)
        return tool


def _report_failure(ctx: click.Context, argv: list[str], code: int, hint: str | None) -> None:
    """slate or helm failed: say which command, the likely cause if known, and exit with its code."""
    click.echo(f"gce-values install: `{shlex.join(argv[:3])} ...` failed with exit code {code}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    ctx.exit(code)


def _show_dry_run(argv: list[str], notes: list[str], output_format: str) -> None:
    """The command that would run, for people (notes on stderr) or as one JSON document for programs."""
    if output_format == "json":
        click.echo(json.dumps({"valid": True, "command": argv, "notes": notes}, indent=2))
        return
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(shlex.join(argv))
