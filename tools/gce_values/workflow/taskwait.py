"""Submit one function to an endpoint and wait for its result, with a deadline and a heartbeat.

The blog post's recipe calls ``get_result`` by hand until it stops raising ``TaskPending``; here the
executor's future is polled in short slices until it is done or the deadline passes. The executor is
passed in (anything with ``submit`` and ``shutdown`` like ``concurrent.futures.Executor``), so this
logic runs the same against the Globus Compute SDK and against a stand-in in tests.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class TaskExecutor(Protocol):
    """The part of ``concurrent.futures.Executor`` (and of ``globus_compute_sdk.Executor``) used here."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]: ...

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How the wait ended: ``done`` (``result`` holds the value), ``failed`` (``error``) or ``timeout``."""

    status: str
    elapsed: float
    result: Any = None
    error: str = ""
    task_id: str = ""


def run_and_wait(
    executor: TaskExecutor,
    function: Callable[[], Any],
    timeout: float,
    *,
    tick: float = 1.0,
    on_tick: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Submit ``function`` and wait up to ``timeout`` seconds; ``on_tick(elapsed)`` runs after each slice.

    The executor is always shut down without waiting, so a task that never finishes cannot hang the
    caller past its deadline.
    """
    start = clock()
    try:
        future = executor.submit(function)
    except Exception as exc:  # noqa: BLE001 - any submission failure is reported, not raised
        executor.shutdown(wait=False, cancel_futures=True)
        return Outcome("failed", clock() - start, error=_describe(exc))
    try:
        while True:
            elapsed = clock() - start
            remaining = timeout - elapsed
            if remaining <= 0:
                return Outcome("timeout", elapsed, task_id=_task_id(future))
            try:
                value = future.result(timeout=min(tick, remaining))
            except concurrent.futures.TimeoutError:
                if on_tick is not None:
                    on_tick(clock() - start)
                continue
            except Exception as exc:  # noqa: BLE001 - the task's own failure is the outcome
                return Outcome("failed", clock() - start, error=_describe(exc), task_id=_task_id(future))
            return Outcome("done", clock() - start, result=value, task_id=_task_id(future))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _task_id(future: concurrent.futures.Future[Any]) -> str:
    """The Globus Compute task ID, once the service has assigned one (ComputeFuture.task_id)."""
    return str(getattr(future, "task_id", "") or "")


def _describe(exc: BaseException) -> str:
    """One line about an exception: remote tracebacks are long, the last line says what went wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__
