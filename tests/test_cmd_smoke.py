"""`gce-values smoke`: the waiting logic, against a stand-in executor, and the command's refusals.

The real run needs a live endpoint (documented); here the executor is a small stand-in built on real
``concurrent.futures.Future`` objects, the one place the tests use a fake.
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from gce_values.cli.commands import smoke
from gce_values.workflow import taskwait
from support.cli import run

ENDPOINT_ID = "2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3"


class StandInExecutor:
    """Runs the function after ``delay`` seconds on a thread (``delay=None``: never); records shutdowns."""

    def __init__(self, delay: float | None = 0.0, submit_error: Exception | None = None) -> None:
        self.delay = delay
        self.submit_error = submit_error
        self.submitted: list[Callable[..., Any]] = []
        self.shutdowns: list[tuple[bool, bool]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        if self.submit_error:
            raise self.submit_error
        self.submitted.append(fn)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.task_id = "task-0001"  # type: ignore[attr-defined]
        if self.delay is not None:

            def finish() -> None:
                try:
                    future.set_result(fn(*args, **kwargs))
                except Exception as exc:  # noqa: BLE001 - handed to the future like a remote failure
                    future.set_exception(exc)

            threading.Timer(self.delay, finish).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shutdowns.append((wait, cancel_futures))


def test_result_arrives_after_some_waiting() -> None:
    executor = StandInExecutor(delay=0.3)
    ticks: list[float] = []
    outcome = taskwait.run_and_wait(executor, smoke.hello_world, timeout=10, tick=0.05, on_tick=ticks.append)
    assert outcome.status == "done"
    assert outcome.result == "Hello World!"
    assert outcome.task_id == "task-0001"
    assert len(ticks) >= 2, "the progress callback should run while waiting"
    assert ticks == sorted(ticks)
    assert executor.shutdowns == [(False, True)]


def test_gives_up_at_the_deadline_without_hanging() -> None:
    executor = StandInExecutor(delay=None)
    started = time.monotonic()
    outcome = taskwait.run_and_wait(executor, smoke.hello_world, timeout=0.5, tick=0.05)
    took = time.monotonic() - started
    assert outcome.status == "timeout"
    assert outcome.task_id == "task-0001"
    assert 0.5 <= took < 3
    assert executor.shutdowns == [(False, True)], "a pending task must not keep the executor waiting"


def test_a_failing_task_reports_the_last_line_of_its_error() -> None:
    def broken() -> str:
        raise RuntimeError("Traceback (most recent call last):\n  File x\nModuleNotFoundError: no numpy")

    outcome = taskwait.run_and_wait(StandInExecutor(), broken, timeout=5, tick=0.05)
    assert outcome.status == "failed"
    assert outcome.error == "RuntimeError: ModuleNotFoundError: no numpy"


def test_a_failed_submission_is_an_outcome_not_an_exception() -> None:
    executor = StandInExecutor(submit_error=ConnectionError("service unreachable"))
    outcome = taskwait.run_and_wait(executor, smoke.hello_world, timeout=5)
    assert outcome.status == "failed"
    assert "service unreachable" in outcome.error
    assert executor.shutdowns == [(False, True)]


def test_hello_world_travels_as_source_the_workers_can_rebuild() -> None:
    """Workers do not have gce_values installed: the function must arrive as its own source text."""
    from globus_compute_sdk.serialize import ComputeSerializer, PureSourceTextInspect

    serializer = ComputeSerializer(strategy_code=PureSourceTextInspect())
    payload = serializer.serialize(smoke.hello_world)
    assert "gce_values" not in payload
    assert serializer.deserialize(payload)() == "Hello World!"


def _use_executor(monkeypatch: pytest.MonkeyPatch, executor: StandInExecutor) -> None:
    monkeypatch.setattr(smoke, "_make_executor", lambda _endpoint_id: executor)


def test_command_prints_the_result_and_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_executor(monkeypatch, StandInExecutor(delay=0.1))
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, "--timeout", "10")
    assert ran.code == 0, ran.output
    assert ran.stdout == "Hello World!\n"
    assert "\r" not in ran.stderr, "no spinner when standard error is not a terminal"


def test_command_times_out_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_executor(monkeypatch, StandInExecutor(delay=None))
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, "--timeout", "1")
    assert ran.code == 1
    assert "no result after 1s (task task-0001)" in ran.stderr
    assert ran.stdout == ""


def test_command_reports_a_failed_task_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_executor(monkeypatch, StandInExecutor(submit_error=PermissionError("endpoint not allowed")))
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID)
    assert ran.code == 1
    assert "the task failed" in ran.stderr and "endpoint not allowed" in ran.stderr


def test_command_rejects_a_non_uuid_endpoint_id() -> None:
    ran = run("smoke", "--endpoint-id", "my-endpoint")
    assert ran.code == 2
    assert "--endpoint-id" in ran.stderr


def test_command_without_the_sdk_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "globus_compute_sdk", None)  # what an environment without it has
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID)
    assert ran.code == 2
    assert "pip install 'gce-values[smoke]'" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert "Traceback" not in ran.output
