"""`gce-values doctor`: before a plain-Helm install, ask the cluster what only it knows about a conf."""

from __future__ import annotations

import click

from gce_values.cli.support import examples, format_option, strict_option

EXIT_UNREACHABLE = 4


@click.command(
    epilog=examples(
        "gce-values doctor my-conf.yaml --namespace compute",
        "gce-values doctor my-conf.yaml --namespace compute --context prod --format json",
    )
)
@click.argument("conf", metavar="CONF")
@click.option("--namespace", required=True, help="The namespace the release will be installed in.")
@click.option("--release", help="Release name (default: globus-compute-endpoint-<Instance>).")
@click.option(
    "--kubeconfig",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="kubectl's kubeconfig (default: $KUBECONFIG or ~/.kube/config).",
)
@click.option("--context", help="The kubeconfig context to use (default: its current context).")
@click.option(
    "--kubectl", "kubectl_bin", metavar="PATH", help="kubectl binary (default: $GCE_KUBECTL, then kubectl on PATH)."
)
@click.option("--helm-bin", metavar="PATH", help="helm binary (default: $GCE_HELM, helm on PATH, .tools/bin).")
@format_option
@strict_option
@click.pass_context
def doctor(
    ctx: click.Context,
    *,
    conf: str,
    namespace: str,
    release: str | None,
    kubeconfig: str | None,
    context: str | None,
    kubectl_bin: str | None,
    helm_bin: str | None,
    output_format: str,
    strict: bool,
) -> None:
    """Check what only the cluster knows before `helm install`, one line per problem with its fix.

    \b
    With your kubectl and kubeconfig, and changing nothing, it asks the cluster:
    - does the credentials Secret exist with the keys the endpoint reads
      (key names only: no value of a Secret is ever read into gce-values);
    - do imagePullSecret and every Secret, ConfigMap, PersistentVolumeClaim and
      ServiceAccount the conf names exist, with the keys read, in the namespace
      of the pod that uses them (the release's, or workerNamespace);
    - does the API server admit the endpoint pod and a worker pod as the chart's
      provider makes it (a server-side dry run: Pod Security admission and the
      cluster's admission policies); the worker pod is built by the provider
      itself, which needs globus-compute-endpoint installed;
    - may you create every object the chart renders (kubectl auth can-i), and
      grant what its Role grants.
    The conf is validated first (an invalid conf goes no further), then rendered
    with helm as `render --manifests` does.

    \b
    Exit codes: 0 nothing stands in the way (warnings may be shown; with --strict
    they count), 1 a problem was found or the conf is invalid, 2 usage error,
    unreadable conf, or kubectl or helm not found, 4 kubectl could not ask the
    cluster (no server, unknown context, not logged in).
    """
    from gce_values.cli import support
    from gce_values.report import strict as make_strict
    from gce_values.schema import release_name
    from gce_values.workflow import helm, kubectl
    from gce_values.workflow.doctor import run

    result = support.validate_or_exit(ctx, [conf], release=release, output_format=output_format, strict=strict)
    kubectl_path = kubectl.find(kubectl_bin)
    helm_path = helm.find(helm_bin)
    client = kubectl.Kubectl(kubectl_path, kubeconfig, context)
    try:
        problems = run.diagnose(
            client, helm_path, conf, result.values, namespace, release or release_name(result.values.get("Instance"))
        )
    except kubectl.ClusterUnreachable as exc:
        click.echo(f"gce-values doctor: {exc}", err=True)
        ctx.exit(EXIT_UNREACHABLE)
    except helm.HelmFailed as failure:
        for line in failure.lines:
            click.echo(f"helm: {line}", err=True)
        ctx.exit(1)
    if strict:
        problems = make_strict(problems)
    support.show_problems(problems, output_format, files=[conf], err=False, always=output_format == "json")
    errors = sum(problem.is_error for problem in problems)
    if output_format == "text":
        verdict = (
            f"{errors} problem{'s' if errors != 1 else ''} to fix before installing" if errors else "ready to install"
        )
        click.echo(f"{conf}: {verdict} into namespace {namespace}", err=True)
    if errors:
        ctx.exit(1)
