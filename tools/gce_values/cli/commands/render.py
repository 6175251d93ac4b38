"""`gce-values render`: the merged, validated conf that will be installed, or what Helm makes of it."""

from __future__ import annotations

import click

from gce_values.cli import support
from gce_values.cli.support import examples, format_option, strict_option
from gce_values.schema import editor, load, release_name
from gce_values.sources import read_source
from gce_values.workflow import conffile, fileio, helm


@click.command(
    epilog=examples(
        "gce-values render my-conf.yaml --set maxBlocks=8 -o complete-conf.yaml",
        "gce-values render my-conf.yaml --manifests --namespace slate-group-my-group",
    )
)
@click.argument("confs", nargs=-1, metavar="CONF...")
@click.option("-f", "--values", "value_files", multiple=True, metavar="FILE", help="Another conf, merged after CONF.")
@click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE", help="Set a value (as Helm --set).")
@click.option("--set-string", "set_strings", multiple=True, metavar="KEY=VALUE", help="Set a string (as Helm).")
@click.option("-o", "--output", default="-", show_default=True, help="Where to write; - is standard output.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--manifests", is_flag=True, help="Render the chart's Kubernetes manifests with helm template (needs helm)."
)
@click.option(
    "--endpoint-config",
    is_flag=True,
    help="Print the endpoint's config.yaml and user_config_template.yaml.j2 as the chart renders them (needs helm).",
)
@click.option("--release", help="Release name (default: globus-compute-endpoint-<Instance>, as SLATE names it).")
@click.option(
    "--namespace",
    help="Namespace to render for; required with --manifests and --endpoint-config (on SLATE: slate-group-<group>).",
)
@click.option("--helm-bin", metavar="PATH", help="helm binary (default: $GCE_HELM, helm on PATH, .tools/bin).")
@format_option
@strict_option
@click.pass_context
def render(
    ctx: click.Context,
    *,
    confs: tuple[str, ...],
    value_files: tuple[str, ...],
    set_values: tuple[str, ...],
    set_strings: tuple[str, ...],
    output: str,
    force: bool,
    manifests: bool,
    endpoint_config: bool,
    release: str | None,
    namespace: str | None,
    helm_bin: str | None,
    output_format: str,
    strict: bool,
) -> None:
    """Merge CONF files (then -f files, then --set values) as Helm does, validate, and print the result.

    The result is a complete conf with the chart's comments (and the first CONF's editor schema
    line, if it has one), ready for `slate app install --conf`.
    Nothing is written when the merged conf is invalid. --format applies to the report of problems
    on standard error; with json that report is printed even when it is empty.

    --manifests and --endpoint-config run `helm template` with the chart this tool carries, so
    they need helm 3.8 or later: found with --helm-bin, $GCE_HELM, helm on PATH, or (in a checkout
    of this project) the .tools/bin/helm4 that `make setup` installs; or see
    https://helm.sh/docs/intro/install/. They also need --namespace, the namespace the release
    would be installed in (on SLATE, slate-group-<group>).

    \b
    Exit codes: 0 written, 1 invalid conf (or helm refused it), 2 usage error,
    unreadable input, existing output file or no helm.
    """
    from pathlib import Path

    paths = [*confs, *value_files]
    if not paths:
        raise click.UsageError("give at least one CONF file")
    if manifests and endpoint_config:
        raise click.UsageError("--manifests and --endpoint-config are exclusive")
    if (manifests or endpoint_config) and not namespace:
        raise click.UsageError(
            "--namespace is required with --manifests and --endpoint-config: the namespace the release "
            "would be installed in (on SLATE, slate-group-<group>)"
        )
    if output != "-":
        fileio.refuse_existing(Path(output), force)
    helm_path = helm.find(helm_bin) if manifests or endpoint_config else ""
    result = support.validate_or_exit(
        ctx,
        paths,
        set_values=set_values,
        set_strings=set_strings,
        release=release,
        output_format=output_format,
        strict=strict,
        always=output_format == "json",
    )
    values = result.values
    if not (manifests or endpoint_config):
        schema_url = editor.url_in(read_source(paths[0])[1]) if paths[0] != "-" else None
        fileio.emit(conffile.render(load(), values, include_slate=False, schema_url=schema_url), output, force=force)
        return
    try:
        rendered = helm.template(helm_path, release or release_name(values.get("Instance")), str(namespace), values)
    except helm.HelmFailed as failure:
        for line in failure.lines:
            click.echo(f"helm: {line}", err=True)
        ctx.exit(1)
    if manifests:
        fileio.emit(rendered, output, force=force)
        return
    files = helm.endpoint_config(rendered)
    text = "---\n".join(f"# {name}\n{body.rstrip()}\n" for name, body in files.items())
    fileio.emit(text, output, force=force)
