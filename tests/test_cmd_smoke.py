"""`gce-values smoke`: the waiting logic, against a stand-in executor, and the command's refusals.

The real run needs a live endpoint (documented); here the executor is a small stand-in built on real
``concurrent.futures.Future`` objects, the one place the tests use a fake.
"""

from __future__ import annotations

import concurrent.futures
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gce_values.cli.commands import smoke
from gce_values.workflow import taskwait
from support.cli import run

ENDPOINT_ID = "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"
CLIENT_ID = "5a1c9f0e-8d3b-4c27-9e61-0b7d2f4a8c13"
PLANTED = "PlantedS3cret+/Value=="
CREDENTIALS = {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": PLANTED}
CREDENTIAL_NAMES = (
    "GLOBUS_COMPUTE_CLIENT_ID",
    "GLOBUS_COMPUTE_CLIENT_SECRET",
    "FUNCX_SDK_CLIENT_ID",
    "FUNCX_SDK_CLIENT_SECRET",
)
NO_CREDENTIALS: dict[str, str | None] = dict.fromkeys(CREDENTIAL_NAMES)


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
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, "--timeout", "10", env=CREDENTIALS)
    assert ran.code == 0, ran.output
    assert ran.stdout == "Hello World!\n"
    assert "\r" not in ran.stderr, "no spinner when standard error is not a terminal"


def test_command_times_out_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_executor(monkeypatch, StandInExecutor(delay=None))
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, "--timeout", "1", env=CREDENTIALS)
    assert ran.code == 1
    assert "no result after 1s (task task-0001)" in ran.stderr
    assert ran.stdout == ""


def test_command_reports_a_failed_task_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_executor(monkeypatch, StandInExecutor(submit_error=PermissionError("endpoint not allowed")))
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, env=CREDENTIALS)
    assert ran.code == 1
    assert "the task failed" in ran.stderr and "endpoint not allowed" in ran.stderr


def test_command_rejects_a_non_uuid_endpoint_id() -> None:
    ran = run("smoke", "--endpoint-id", "my-endpoint")
    assert ran.code == 2
    assert "--endpoint-id" in ran.stderr


def test_command_without_the_sdk_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "globus_compute_sdk", None)  # what an environment without it has
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, env=CREDENTIALS)
    assert ran.code == 2
    assert "pip install globus-compute-sdk" in ran.stderr, "the SDK itself: installable whatever gce-values is"
    assert len(ran.stderr.strip().splitlines()) == 1
    assert "Traceback" not in ran.output


def _smoke_process(tmp_path: Path, env: dict[str, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, as CI runs it: no terminal, standard input empty, a fresh HOME."""
    full = {**os.environ, "HOME": str(tmp_path), **env}
    target = args or ("--endpoint-id", ENDPOINT_ID)
    return subprocess.run(
        [str(Path(sys.executable).parent / "gce-values"), "smoke", *target, "--timeout", "5"],
        stdin=subprocess.DEVNULL,
        env={name: value for name, value in full.items() if value is not None},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_without_credentials_it_never_prompts_and_says_what_to_set(tmp_path: Path) -> None:
    ran = _smoke_process(tmp_path, NO_CREDENTIALS)
    assert ran.returncode == 2, ran.stderr
    assert "GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET" in ran.stderr
    assert "FUNCX_SDK_CLIENT_ID" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert not (tmp_path / ".globus_compute").exists(), "no login was started"


def test_help_names_the_credentials() -> None:
    ran = run("smoke", "--help")
    assert "GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET" in ran.stdout
    assert "FUNCX_SDK_CLIENT_ID" in ran.stdout


def test_half_the_credentials_names_the_missing_one() -> None:
    env = {**NO_CREDENTIALS, "GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID}
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, env=env)
    assert ran.code == 2
    assert "set GLOBUS_COMPUTE_CLIENT_SECRET " in ran.stderr


def test_a_client_id_that_is_not_a_uuid_is_refused_without_echoing_it() -> None:
    env = {**NO_CREDENTIALS, "GLOBUS_COMPUTE_CLIENT_ID": PLANTED, "GLOBUS_COMPUTE_CLIENT_SECRET": PLANTED}
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, env=env)
    assert ran.code == 2
    assert "GLOBUS_COMPUTE_CLIENT_ID is not a UUID" in ran.stderr
    assert PLANTED not in ran.output


def test_old_names_fill_the_new_ones_with_a_note() -> None:
    env = {"FUNCX_SDK_CLIENT_ID": CLIENT_ID, "FUNCX_SDK_CLIENT_SECRET": PLANTED, "GLOBUS_COMPUTE_CLIENT_SECRET": ""}
    notes = smoke.use_client_credentials(env)
    assert env["GLOBUS_COMPUTE_CLIENT_ID"] == CLIENT_ID
    assert env["GLOBUS_COMPUTE_CLIENT_SECRET"] == PLANTED
    assert len(notes) == 2 and all("FUNCX_SDK_CLIENT_" in note for note in notes)
    assert not any(PLANTED in note for note in notes)
    mixed = {
        "GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID,
        "GLOBUS_COMPUTE_CLIENT_SECRET": "new",
        "FUNCX_SDK_CLIENT_SECRET": "old",
    }
    assert smoke.use_client_credentials(mixed) == []
    assert mixed["GLOBUS_COMPUTE_CLIENT_SECRET"] == "new", "the current name wins"


def test_old_names_reach_the_real_sdk_which_never_prompts(tmp_path: Path) -> None:
    """The real SDK, its Globus Auth address a closed local port: it fails (after its retries), never asks."""
    closed = "http://127.0.0.1:9/"
    env = {**NO_CREDENTIALS, "FUNCX_SDK_CLIENT_ID": CLIENT_ID, "FUNCX_SDK_CLIENT_SECRET": PLANTED}
    env.update(GLOBUS_SDK_SERVICE_URL_AUTH=closed, GLOBUS_SDK_SERVICE_URL_FUNCX=closed)
    ran = _smoke_process(tmp_path, env)
    assert ran.returncode == 1, ran.stderr
    assert "note: using FUNCX_SDK_CLIENT_ID as GLOBUS_COMPUTE_CLIENT_ID" in ran.stderr
    assert "cannot reach Globus" in ran.stderr
    assert PLANTED not in ran.stdout + ran.stderr


# --- the conf, an env file, and which of "refused" and "unreachable" -----------------------------


class _RefusingAuth(http.server.BaseHTTPRequestHandler):
    """Globus Auth as it answers unknown client credentials: 401, invalid_client."""

    def do_POST(self) -> None:
        body = json.dumps({"error": "invalid_client"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the command's output, not the server's."""


@pytest.fixture
def refusing_auth() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingAuth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


@pytest.fixture
def conf_and_env_file(tmp_path: Path) -> tuple[Path, Path]:
    conf = tmp_path / "my-conf.yaml"
    conf.write_text(f"endpointUUID: {ENDPOINT_ID}\nsecrets: globus-compute-creds\n")
    env_file = tmp_path / "client_creds.env"
    env_file.write_text(f"FUNCX_SDK_CLIENT_ID={CLIENT_ID}\nFUNCX_SDK_CLIENT_SECRET={PLANTED}\n")
    env_file.chmod(0o600)
    return conf, env_file


@pytest.mark.parametrize("answer", ["refused", "unreachable"])
def test_smoke_takes_the_conf_and_env_file_and_says_which_failure(
    tmp_path: Path, conf_and_env_file: tuple[Path, Path], refusing_auth: str, answer: str
) -> None:
    """The real SDK, Globus Auth a local server that refuses, or a closed port: the message says which."""
    conf, env_file = conf_and_env_file
    auth = refusing_auth if answer == "refused" else _closed_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {**NO_CREDENTIALS, "GLOBUS_SDK_SERVICE_URL_AUTH": auth, "GLOBUS_SDK_SERVICE_URL_FUNCX": auth}
    ran = _smoke_process(home, env, str(conf), "--env-file", str(env_file))
    assert ran.returncode == 1, ran.stderr
    if answer == "refused":
        assert "Globus refused the client credentials" in ran.stderr and "cannot reach" not in ran.stderr
    else:
        assert "cannot reach Globus" in ran.stderr and "refused the client" not in ran.stderr
    assert PLANTED not in ran.stdout + ran.stderr
    assert not list(home.rglob("storage.db")), "the SDK's token store was left behind"


def test_smoke_needs_an_endpoint_from_the_conf_or_the_option(tmp_path: Path) -> None:
    assert run("smoke", env=CREDENTIALS).code == 2
    no_uuid = tmp_path / "c.yaml"
    no_uuid.write_text("secrets: creds\n")
    ran = run("smoke", str(no_uuid), env=CREDENTIALS)
    assert ran.code == 2 and "has no endpointUUID" in ran.stderr


def test_smoke_refuses_an_env_file_with_a_comment_in_a_value(tmp_path: Path) -> None:
    env_file = tmp_path / "client_creds.env"
    env_file.write_text(f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={PLANTED} # mine\n")
    ran = run("smoke", "--endpoint-id", ENDPOINT_ID, "--env-file", str(env_file), env=NO_CREDENTIALS)
    assert ran.code == 2
    assert "comment" in ran.stderr
    assert PLANTED not in ran.output
