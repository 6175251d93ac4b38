"""`gce-values smoke`: run the blog post's hello_world on a live endpoint and wait for "Hello World!".

Needs the optional extra `smoke` (globus-compute-sdk) and a Globus login (the SDK asks on first use,
or reads GLOBUS_COMPUTE_CLIENT_ID/_SECRET from the environment).
"""

from __future__ import annotations

import sys
from typing import Any

import click

EXPECTED = "Hello World!"
_SPINNER = "|/-\\"


def hello_world() -> str:
    return "Hello World!"


@click.command()
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
    Exit codes: 0 the endpoint answered "Hello World!", 1 the task failed, timed
    out or returned something else, 2 usage error or globus-compute-sdk missing
    (pip install 'gce-values[smoke]').
    """
    from gce_values.workflow import taskwait

    if not _is_uuid(endpoint_id.strip()):
        raise click.BadParameter("not a UUID (the endpointUUID of your conf)", param_hint="--endpoint-id")
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
        click.echo(f"gce-values smoke: cannot reach Globus Compute: {type(exc).__name__}: {exc}", err=True)
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
