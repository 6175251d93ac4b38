"""`gce-values smoke`: run the blog post's hello_world on a live endpoint and wait for "Hello World!".

Needs the optional extra `smoke` (globus-compute-sdk) and the client credentials the endpoint runs
with, in GLOBUS_COMPUTE_CLIENT_ID/_SECRET: the endpoint accepts tasks only from the identity it
registered as, and with the credentials set the SDK never starts an interactive login (which would
wait for an answer forever in CI). The older FUNCX_SDK_CLIENT_ID/_SECRET names, which the SDK no
longer reads, are taken over with a note.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any

import click

from gce_values.checks import credentials
from gce_values.cli.support import examples
from gce_values.errors import InputError
from gce_values.schema import load
from gce_values.sources import read_source
from gce_values.validator import validate_sources
from gce_values.workflow import taskwait
from gce_values.workflow.programs import ProgramMissing

EXPECTED = "Hello World!"
_SPINNER = "|/-\\"
CLIENT_ID, CLIENT_SECRET = "GLOBUS_COMPUTE_CLIENT_ID", "GLOBUS_COMPUTE_CLIENT_SECRET"
OLD_NAMES = {CLIENT_ID: "FUNCX_SDK_CLIENT_ID", CLIENT_SECRET: "FUNCX_SDK_CLIENT_SECRET"}
COMPUTE_DIR_VAR = "GLOBUS_COMPUTE_USER_DIR"  # where the SDK keeps its token store (storage.db)


def hello_world() -> str:
    return "Hello World!"


@click.command(
    epilog=examples(
        "gce-values smoke my-conf.yaml --env-file client_creds.env",
        "gce-values smoke --endpoint-id 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3    # credentials in the environment",
    )
)
@click.argument("conf", required=False, metavar="[CONF]")
@click.option("--endpoint-id", help="The endpoint's UUID; by default the endpointUUID of CONF.")
@click.option(
    "--env-file",
    metavar="FILE",
    help="Read the client credentials from this env file (client_creds.env) instead of the environment.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the result (the first task also waits for a worker pod to start).",
)
@click.pass_context
def smoke(ctx: click.Context, conf: str | None, endpoint_id: str | None, env_file: str | None, timeout: float) -> None:
    """Submit hello_world to the endpoint of CONF (or --endpoint-id) and wait for its result.

    \b
    Needs the client credentials the endpoint runs with (those in the secret
    your conf names): from --env-file, or in the environment as
      GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET
    The endpoint accepts tasks only from that identity. It never starts an
    interactive Globus login. FUNCX_SDK_CLIENT_ID and FUNCX_SDK_CLIENT_SECRET
    (the SLATE blog's names, which the SDK no longer reads) are used when the
    new names are unset, with a note. The SDK's token store goes to a temporary
    directory, removed at the end (unless GLOBUS_COMPUTE_USER_DIR is set).
    Needs globus-compute-sdk: pip install globus-compute-sdk (or pip install
    'gce-values[smoke]'; in a checkout of this project, pip install '.[smoke]').

    \b
    Exit codes: 0 the endpoint answered "Hello World!", 1 the task failed, timed
    out or returned something else, or Globus refused the credentials or could
    not be reached (the message says which), 2 usage error, no client
    credentials, no endpoint UUID or globus-compute-sdk missing.
    """
    import tempfile

    endpoint = _endpoint_id(conf, endpoint_id)
    if env_file:
        _credentials_from_file(env_file, os.environ)
    for note in use_client_credentials(os.environ):
        click.echo(f"note: {note}", err=True)
    with tempfile.TemporaryDirectory(prefix="gce-smoke-") as scratch:
        chosen = os.environ.get(COMPUTE_DIR_VAR)
        os.environ[COMPUTE_DIR_VAR] = chosen or scratch
        try:
            _submit_and_wait(ctx, endpoint, timeout)
        finally:
            if chosen is None:
                del os.environ[COMPUTE_DIR_VAR]


def _submit_and_wait(ctx: click.Context, endpoint_id: str, timeout: float) -> None:
    executor = _make_executor(endpoint_id)
    click.echo(f"submitted hello_world to endpoint {endpoint_id}; waiting up to {timeout:g}s", err=True)
    progress = _Progress(timeout) if click.get_text_stream("stderr").isatty() else None
    outcome = taskwait.run_and_wait(executor, hello_world, timeout, on_tick=progress.tick if progress else None)
    if progress:
        progress.clear()
    task = f" (task {outcome.task_id})" if outcome.task_id else ""
    if outcome.status == "timeout":
        click.echo(
            f"gce-values smoke: no result after {timeout:g}s{task}; is the endpoint running "
            "(`slate instance logs`)? The first task also waits for a worker pod to start.",
            err=True,
        )
        ctx.exit(1)
    if outcome.status == "failed":
        click.echo(f"gce-values smoke: the task failed{task}: {outcome.error}", err=True)
        ctx.exit(1)
    click.echo(str(outcome.result))
    if outcome.result != EXPECTED:
        click.echo(f"gce-values smoke: expected {EXPECTED!r}{task}", err=True)
        ctx.exit(1)
    click.echo(f"ok after {outcome.elapsed:.0f}s{task}", err=True)


def _endpoint_id(conf: str | None, endpoint_id: str | None) -> str:
    """The endpoint UUID: --endpoint-id, else the endpointUUID of CONF."""

    if conf and endpoint_id:
        raise click.UsageError("give CONF or --endpoint-id, not both")
    if endpoint_id is not None:
        if not _is_uuid(endpoint_id.strip()):
            raise click.BadParameter("not a UUID (the endpointUUID of your conf)", param_hint="--endpoint-id")
        return endpoint_id.strip()
    if not conf:
        raise click.UsageError("give CONF (its endpointUUID is used) or --endpoint-id UUID")

    value = validate_sources([read_source(conf)]).values.get("endpointUUID")
    if not isinstance(value, str) or not _is_uuid(value.strip()):
        raise InputError("has no endpointUUID to test (run `gce-values validate` on it)", source=conf)
    return value.strip()


def _credentials_from_file(env_file: str, env: MutableMapping[str, str]) -> None:
    """The client ID and secret of an env file, into ``env`` (either spelling; values never printed)."""
    from pathlib import Path

    found = credentials.values_from_env_file(Path(env_file))
    for name, check in ((CLIENT_ID, credentials.client_id_problem), (CLIENT_SECRET, credentials.client_secret_problem)):
        if name not in found:
            raise InputError(f"has no {name} (or {OLD_NAMES[name]})", source=env_file)
        if reason := check(found[name]):
            raise InputError(f"{reason} (`gce-values secret check {env_file}` says more)", source=env_file)
        env[name] = found[name]


def use_client_credentials(env: MutableMapping[str, str]) -> list[str]:
    """Make sure ``env`` holds both GLOBUS_COMPUTE_CLIENT_* names; returns notes for the user.

    An old FUNCX_SDK_* value fills a new name that is unset. Without both credentials this raises
    an InputError (exit 2) naming what is missing, never printing a value.
    """

    notes = []
    for name, old in OLD_NAMES.items():
        if not env.get(name, "").strip() and env.get(old, "").strip():
            env[name] = env[old].strip()
            notes.append(f"using {old} as {name}: globus-compute-sdk reads only the new name; rename it")
    missing = [name for name in (CLIENT_ID, CLIENT_SECRET) if not env.get(name, "").strip()]
    if missing:
        raise InputError(
            f"smoke needs the endpoint's client credentials: set {' and '.join(missing)} (the values in the "
            "secret your conf names; FUNCX_SDK_CLIENT_ID/_SECRET work too); without them the SDK would ask "
            "for an interactive Globus login, and the endpoint accepts tasks only from its own client"
        )
    if not _is_uuid(env[CLIENT_ID].strip()):
        raise InputError(f"{CLIENT_ID} is not a UUID: it must be the client ID of the Globus app")
    return notes


def _make_executor(endpoint_id: str) -> Any:
    """A Globus Compute executor that sends functions as source text (the workers lack this package)."""

    try:
        from globus_compute_sdk import Executor
        from globus_compute_sdk.serialize import ComputeSerializer, PureSourceTextInspect
    except ImportError:
        raise ProgramMissing(
            "smoke needs globus-compute-sdk: pip install globus-compute-sdk (or pip install 'gce-values[smoke]'; "
            "in a checkout of this project, pip install '.[smoke]')"
        ) from None
    serializer = ComputeSerializer(strategy_code=PureSourceTextInspect())
    try:
        return Executor(endpoint_id=endpoint_id, serializer=serializer)
    except Exception as exc:  # noqa: BLE001 - login and network failures end the test, with their reason
        click.echo(f"gce-values smoke: {_why_not(exc)}: {type(exc).__name__}: {exc}", err=True)
        raise click.exceptions.Exit(1) from None


def _why_not(exc: Exception) -> str:
    """Whether Globus could not be reached, or answered and refused the credentials."""
    import globus_sdk

    if isinstance(exc, globus_sdk.NetworkError):
        return "cannot reach Globus (a network problem: a proxy, a firewall, DNS, or no connection)"
    if isinstance(exc, globus_sdk.GlobusAPIError) and exc.http_status in (400, 401, 403):
        return (
            "Globus refused the client credentials (check the client ID and secret, e.g. "
            "`gce-values secret check client_creds.env`)"
        )
    return "Globus Compute could not be used"


class _Progress:
    """A one-line spinner with the elapsed time, redrawn on standard error (a terminal)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.turns = 0

    def tick(self, elapsed: float) -> None:
        self.turns += 1
        spinner = _SPINNER[self.turns % len(_SPINNER)]
        sys.stderr.write(f"\r{spinner} waiting for the result: {elapsed:.0f}s of {self.timeout:g}s ")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()


def _is_uuid(text: str) -> bool:
    return load().matches("uuid", text)
