"""Run inside the chart's endpoint pod as ``globus-compute-endpoint``: the endpoint's own process, without Globus.

The chart's entrypoint execs ``globus-compute-endpoint start NAME ...``; this stand-in then does, of what
the endpoint does (globus_compute_endpoint/endpoint/core_endpoint.py), what the pod and its workers see:

- it refreshes ``daemon.pid`` in the endpoint's directory while it runs, and writes ``endpoint.json``
  (where the endpoint writes what Globus answered to its registration), so the chart's probes judge it;
- it starts user endpoint processes, each in a session of its own, with this process's environment
  (so they log to GLOBUS_COMPUTE_LOG_PATH, the entrypoint's relay): the engine driver with ``--name``
  and ``--endpoint-logging``. Which ones, and their arguments, come from ``ueps.json`` beside this
  file: ``{"name": {"args": [...], "at_start": true}}``; one that is not started at start-up starts
  when a file ``uep-requests/<name>`` appears under GLOBUS_COMPUTE_USER_DIR (the endpoint starts one
  when Globus asks it to);
- at SIGTERM it sends SIGTERM to each user endpoint process still running, waits up to 10 s for them,
  kills the rest, says so on stderr and exits.

It prints ``{"event": "driver-exit", "engine": name, "code": N}`` when a user endpoint process ends.
Anything but ``start`` runs the real ``globus-compute-endpoint``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REAL = "/opt/venv/bin/globus-compute-endpoint"
# The stand-in is <mount>/bin/globus-compute-endpoint; the driver and ueps.json are in <mount>.
HERE = Path(__file__).parent.parent
PID_REFRESH_SECONDS = 5.0
STOP_WAIT_SECONDS = 10.0


def emit(event: str, **data: object) -> None:
    """One write per line: the drivers and the log relay write to the same output."""
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), (json.dumps({"event": event, "time": time.time(), **data}) + "\n").encode())


def start_uep(name: str, spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    args = [str(arg) for arg in spec["args"]]
    driver = [sys.executable, str(HERE / "engine_driver.py"), "--endpoint-logging", "--name", name, *args]
    return subprocess.Popen(driver, start_new_session=True, stdin=subprocess.DEVNULL)


def main() -> int:
    if sys.argv[1:2] != ["start"]:
        os.execv(REAL, [REAL, *sys.argv[1:]])
    endpoint_dir = Path(os.environ["GLOBUS_COMPUTE_USER_DIR"]) / os.environ["GCE_ENDPOINT_NAME"]
    requests = Path(os.environ["GLOBUS_COMPUTE_USER_DIR"]) / "uep-requests"
    requests.mkdir(parents=True, exist_ok=True)
    specs: dict[str, dict[str, Any]] = json.loads((HERE / "ueps.json").read_text(encoding="utf-8"))
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda number, _frame: stopping.append(number))

    endpoint_dir.mkdir(parents=True, exist_ok=True)
    (endpoint_dir / "endpoint.json").write_text(json.dumps({"endpoint_id": os.environ["GCE_ENDPOINT_UUID"]}))
    running = {name: start_uep(name, spec) for name, spec in specs.items() if spec.get("at_start")}
    started = set(running)
    refreshed = 0.0
    while not stopping:
        if time.monotonic() - refreshed >= PID_REFRESH_SECONDS:
            (endpoint_dir / "daemon.pid").write_text(f"{os.getpid()}\n")
            refreshed = time.monotonic()
        for request in sorted(requests.iterdir()):
            request.unlink()
            if request.name in specs and request.name not in started:
                running[request.name] = start_uep(request.name, specs[request.name])
                started.add(request.name)
        for name, process in list(running.items()):
            if process.poll() is not None:
                emit("driver-exit", engine=name, code=process.returncode)
                del running[name]
        time.sleep(0.2)

    for process in running.values():
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    for name, process in running.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        emit("driver-exit", engine=name, code=process.returncode)
    print("endpoint stand-in: every user endpoint process has ended; shutdown complete", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
