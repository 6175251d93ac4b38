"""`gce-values secret create|check`: the client credentials env file behind the endpoint's SLATE secret."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

import click

from gce_values import report
from gce_values.checks import credentials
from gce_values.cli import support
from gce_values.cli.support import examples, format_option, strict_option
from gce_values.errors import InputError
from gce_values.workflow import fileio, slate


@click.group(
    epilog=examples(
        "gce-values secret create -o client_creds.env --group my-group --cluster uchicago-prod",
        "gce-values secret check client_creds.env",
    )
)
def secret() -> None:
    """Write or check client_creds.env, the file a SLATE (or Kubernetes) secret is made from.

    Secret values are never printed, not even in error messages.
    """


@secret.command(
    epilog=examples(
        "gce-values secret create -o client_creds.env --group my-group --cluster uchicago-prod",
        "gce-values secret create -o client_creds.env --from-env old-funcx.env --force",
    )
)
@click.option("-o", "--output", default="client_creds.env", show_default=True, help="The env file to write.")
@click.option(
    "--from-env",
    "from_env",
    metavar="FILE",
    help="Take the client ID and secret from this env file (GLOBUS_COMPUTE_* or FUNCX_SDK_* keys).",
)
@click.option("--name", default="globus-compute-creds", show_default=True, help="Name for the secret.")
@click.option("--group", help="SLATE group, to complete the printed `slate secret create` command.")
@click.option("--cluster", help="SLATE cluster, to complete the printed `slate secret create` command.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.pass_context
def create(
    ctx: click.Context,
    *,
    output: str,
    from_env: str | None,
    name: str,
    group: str | None,
    cluster: str | None,
    force: bool,
) -> None:
    """Write the env file (mode 0600 from its creation) and print the commands that make the secret.

    The client ID and secret come from --from-env, else from the environment variables
    GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET (or the old FUNCX_SDK_CLIENT_ID
    and FUNCX_SDK_CLIENT_SECRET), else from prompts on a terminal (the secret is not echoed).

    \b
    Exit codes: 0 written, 1 the client ID is not a UUID or the secret is empty,
    2 usage error, unreadable --from-env file or existing output file.
    """

    if output == "-":
        raise click.UsageError("-o - would print the secret; give a file name")
    name = support.check_option(support.check_secret_name, name, "--name")
    target = Path(output)
    fileio.refuse_existing(target, force)
    if from_env:
        found = credentials.values_from_env_file(Path(from_env))
        source = from_env
    else:
        found, legacy_used = credentials.from_environment(os.environ)
        for legacy in legacy_used:
            click.echo(
                f"note: took {legacy} from the environment (the old spelling); the file gets the new one", err=True
            )
        source = "the environment"
    if len(found) < 2:
        found = _ask_for_missing(found, from_env, source)
    reasons = [
        reason
        for reason in (
            credentials.client_id_problem(found[credentials.CLIENT_ID]),
            credentials.client_secret_problem(found[credentials.CLIENT_SECRET]),
        )
        if reason
    ]
    if reasons:
        for reason in reasons:
            click.echo(f"gce-values secret create: {source}: {reason}", err=True)
        ctx.exit(1)
    text = credentials.render(found[credentials.CLIENT_ID], found[credentials.CLIENT_SECRET])
    fileio.write_text(target, text, force=force, mode=fileio.SECRET_MODE)
    click.echo(f"wrote {output} (readable by you only); create the secret with one of:", err=True)
    group_arg, cluster_arg = group or "GROUP", cluster or "CLUSTER"
    click.echo(shlex.join(slate.secret_create_argv(name, group_arg, cluster_arg, output)))
    click.echo(shlex.join(["kubectl", "create", "secret", "generic", name, "--from-env-file", output]))
    click.echo(f"then set `secrets: {name}` in your conf, and delete {output} once the secret exists.", err=True)


def _ask_for_missing(found: dict[str, str], from_env: str | None, source: str) -> dict[str, str]:
    """Prompt (on a terminal only) for what the file or environment did not provide."""

    missing = [key for key in (credentials.CLIENT_ID, credentials.CLIENT_SECRET) if key not in found]
    if from_env:
        names = " or ".join(f"{key} (or {credentials.LEGACY[key]})" for key in missing)
        raise InputError(f"has no {names}; it needs both the client ID and the secret", source=from_env)
    if not click.get_text_stream("stdin").isatty():
        raise click.UsageError(
            f"no terminal to ask for, and no {' or '.join(missing)}: give --from-env FILE, or set "
            "GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET (or FUNCX_SDK_*) in the environment"
        )
    answers = dict(found)
    if credentials.CLIENT_ID in missing:
        answers[credentials.CLIENT_ID] = click.prompt(
            "Client ID (a UUID)", value_proc=lambda v: _answer(credentials.client_id_problem, v)
        )
    if credentials.CLIENT_SECRET in missing:
        answers[credentials.CLIENT_SECRET] = click.prompt(
            "Client secret (not shown)",
            hide_input=True,
            value_proc=lambda v: _answer(credentials.client_secret_problem, v),
        )
    return answers


def _answer(problem_of: Callable[[str], str | None], value: str) -> str:
    """A prompt's answer, or click.BadParameter (which makes click ask again)."""
    reason = problem_of(value)
    if reason:
        raise click.BadParameter(reason)
    return value


@secret.command(
    epilog=examples("gce-values secret check client_creds.env", "gce-values secret check --strict creds.env")
)
@click.argument("env_file", metavar="FILE")
@format_option
@strict_option
@click.pass_context
def check(ctx: click.Context, env_file: str, output_format: str, strict: bool) -> None:
    """Check an existing credentials env file: permissions, keys, the client ID's form, a non-empty secret.

    Either key spelling is accepted: GLOBUS_COMPUTE_CLIENT_ID/_SECRET (current) or
    FUNCX_SDK_CLIENT_ID/_SECRET (older, still read by this chart).

    \b
    Exit codes: 0 fine (warnings allowed unless --strict), 1 problems found
    (or a world-readable file), 2 the file cannot be read.
    """

    found = credentials.check(Path(env_file))
    problems = report.strict(found) if strict else found
    support.show_problems(
        report.sort_problems(problems, [env_file]),
        output_format,
        err=False,
        always=output_format == "json",
        files=[env_file],
    )
    failed = any(problem.is_error for problem in problems)
    if not found and output_format == "text":
        click.echo(f"{env_file}: ok")
    ctx.exit(1 if failed else 0)
