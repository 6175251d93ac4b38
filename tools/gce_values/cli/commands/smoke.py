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

from gce_values.cli.support import examples

EXPECTED = "Hello World!"
_SPINNER = "|/-\\"
CLIENT_ID, CLIENT_SECRET = "GLOBUS_COMPUTE_CLIENT_ID", "GLOBUS_COMPUTE_CLIENT_SECRET"
OLD_NAMES = {CLIENT_ID: "FUNCX_SDK_CLIENT_ID", CLIENT_SECRET: "FUNCX_SDK_CLIENT_SECRET"}


def hello_world() -> str:
    return "Hello World!"


@click.command(
    epilog=examples(
        "set -a; . ./client_creds.env; set +a    # GLOBUS_COMPUTE_CLIENT_ID and _SECRET",
        "gce-values smoke --endpoint-id 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3",
    )
)
@click.option("--endpoint-id", required=True, help="The endpoint's UUID (endpointUUID in the conf).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the result (the first task also waits for a worker pod to start).",
)
@click.pass_context
def smoke(ctx: click.Context, endpoint_id: str, timeout: float) -> None:
    """Submit hello_world to the endpoint and wait for its result.

    \b
    Needs the client credentials the endpoint runs with (those in the secret
    your conf names) in the environment:
      GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET
    The endpoint accepts tasks only from that identity. It never starts an
    interactive Globus login. FUNCX_SDK_CLIENT_ID and FUNCX_SDK_CLIENT_SECRET
    (the SLATE blog's names, which the SDK no longer reads) are used when the
    new names are unset, with a note. Needs globus-compute-sdk:
    pip install 'gce-values[smoke]'.

    \b
    Exit codes: 0 the endpoint answered "Hello World!", 1 the task failed, timed
    out or returned something else, 2 usage error, no client credentials or
    globus-compute-sdk missing.
    """
    from gce_values.workflow import taskwait

    if not _is_uuid(endpoint_id.strip()):
        raise click.BadParameter("not a UUID (the endpointUUID of your conf)", param_hint="--endpoint-id")
    for note in use_client_credentials(os.environ):
        click.echo(f"note: {note}", err=True)
    executor = _make_executor(endpoint_id.strip())
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


def use_client_credentials(env: MutableMapping[str, str]) -> list[str]:
    """Make sure ``env`` holds both GLOBUS_COMPUTE_CLIENT_* names; returns notes for the user.

    An old FUNCX_SDK_* value fills a new name that is unset. Without both credentials this raises
    an InputError (exit 2) naming what is missing, never printing a value.
    """
    from gce_values.errors import InputError

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
    from gce_values.workflow.programs import ProgramMissing

    try:
        from globus_compute_sdk import Executor
        from globus_compute_sdk.serialize import ComputeSerializer, PureSourceTextInspect
    except ImportError:
        raise ProgramMissing(
            "smoke needs globus-compute-sdk: pip install 'gce-values[smoke]' (or pip install globus-compute-sdk)"
        ) from None
    serializer = ComputeSerializer(strategy_code=PureSourceTextInspect())
    try:
        return Executor(endpoint_id=endpoint_id, serializer=serializer)
    except Exception as exc:  # noqa: BLE001 - login and network failures end the test, with their reason
        click.echo(
            f"gce-values smoke: Globus Compute refused the client credentials or cannot be reached: "
            f"{type(exc).__name__}: {exc}",
            err=True,
        )
        raise click.exceptions.Exit(1) from None


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
    from gce_values.schema import load

    return load().matches("uuid", text)
