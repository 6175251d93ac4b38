"""`gce-values init`: write a new conf, commented like the chart's values.yaml, with a fresh endpoint UUID."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from gce_values.cli import support
from gce_values.cli.support import examples
from gce_values.schema import editor as editor_schema
from gce_values.schema import load
from gce_values.validator import validate_sources
from gce_values.workflow import conffile, fileio

DEFAULT_INSTANCE = "default"
SUGGESTED_SECRET = "globus-compute-creds"


def _interactive() -> bool:
    return click.get_text_stream("stdin").isatty()


@click.command(
    epilog=examples(
        "gce-values init -o my-conf.yaml --instance atlas-ml --secret globus-compute-creds",
        "gce-values init -o my-conf.yaml --secret globus-compute-creds --endpoint-uuid EXISTING-UUID",
    )
)
@click.option(
    "-o",
    "--output",
    default="my-conf.yaml",
    show_default=True,
    help="Where to write the conf; - writes it to standard output.",
)
@click.option(
    "--instance",
    help=f"Instance tag (SLATE names the release globus-compute-endpoint-<Instance>). "
    f"Asked for on a terminal; otherwise {DEFAULT_INSTANCE!r}.",
)
@click.option(
    "--secret",
    "secret_name",
    help="Name of the SLATE secret with the client credentials. Asked for on a terminal; "
    f"otherwise {SUGGESTED_SECRET!r}, as on the terminal.",
)
@click.option(
    "--endpoint-uuid", help="Use this endpoint UUID (e.g. to keep an existing endpoint) instead of a new one."
)
@click.option(
    "--schema-url",
    metavar="URL-OR-PATH",
    help="Schema for editors, written as the conf's `# yaml-language-server: $schema=` line. Default: "
    "the released conf.schema.json of the chart this tool carries (a versioned URL). A relative path "
    "is read from the conf's directory.",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.pass_context
def init(
    ctx: click.Context,
    *,
    output: str,
    instance: str | None,
    secret_name: str | None,
    endpoint_uuid: str | None,
    schema_url: str | None,
    force: bool,
) -> None:
    """Write a new conf with a fresh endpoint UUID, client credentials on and minBlocks 0.

    Every key carries the comment the chart's values.yaml has, and the first line points
    editors (yaml-language-server: VS Code's YAML extension, Neovim, Helix, ...) at the conf
    schema of this chart version. The conf is validated before it is written; an existing file
    is replaced only with --force. Without a terminal nothing is asked: the prompts' defaults apply.

    \b
    Warnings (such as a secret name SLATE's server would read as a boolean or a
    number) are printed, and the conf is written all the same.

    \b
    Exit codes: 0 written, 1 the answers make an invalid conf, 2 usage error or
    the output file exists.
    """

    if output != "-":
        fileio.refuse_existing(Path(output), force)
    interactive = _interactive()
    if instance is not None:
        instance = support.check_option(support.check_instance, instance, "--instance")
    elif interactive:
        instance = click.prompt("Instance tag", default=DEFAULT_INSTANCE, value_proc=support.check_instance)
    else:
        instance = DEFAULT_INSTANCE
    if secret_name is not None:
        secret_name = support.check_option(support.check_secret_name, secret_name, "--secret")
    elif interactive:
        secret_name = click.prompt(
            "Name of the SLATE secret with the client credentials",
            default=SUGGESTED_SECRET,
            value_proc=support.check_secret_name,
        )
    else:
        secret_name = SUGGESTED_SECRET
        click.echo(f"note: no --secret given: the conf names the secret {SUGGESTED_SECRET}", err=True)
    if endpoint_uuid is not None and not _is_uuid(endpoint_uuid.strip()):
        raise click.BadParameter("not a UUID (e.g. 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3)", param_hint="--endpoint-uuid")
    endpoint_id = endpoint_uuid.strip().lower() if endpoint_uuid else str(uuid.uuid4())

    answers = {
        "Instance": instance,
        "endpointUUID": endpoint_id,
        "secrets": secret_name,
        "useClientCredentials": True,
        "useUserCredentials": False,
        "minBlocks": 0,
    }
    url = schema_url or editor_schema.url()
    text = conffile.render(load(), answers, include_slate=False, schema_url=url)
    result = validate_sources([("<stdout>" if output == "-" else output, text)])
    support.show_problems(result.problems, "text")
    if not result.ok:
        ctx.exit(1)
    fileio.emit(text, output, force=force)
    if output != "-":
        click.echo(f"wrote {output} (Instance {instance}, endpointUUID {endpoint_id}, secret {secret_name})", err=True)
        click.echo(
            "next: `gce-values secret create --name "
            f"{secret_name}` (if the secret does not exist yet), then "
            f"`gce-values install {output} --group GROUP --cluster CLUSTER`",
            err=True,
        )


def _is_uuid(text: str) -> bool:
    return load().matches("uuid", text)
