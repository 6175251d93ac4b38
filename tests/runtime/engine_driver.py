"""Run inside the endpoint image: the chart's engine, started the way the endpoint starts it, runs functions.

The endpoint itself cannot get this far here (it needs Globus to hand it tasks), so this script does
the part of it that matters for workers, with the endpoint's own code:

1. lay out the endpoint directory from the ConfigMap files the pod mounts (as the chart's entrypoint
   does), load ``config.yaml`` with ``get_config`` and render ``user_config_template.yaml.j2`` with
   ``render_config_user_template`` in this process's environment (the pod's: POD_IP and the rest),
   as the endpoint does for each user endpoint process (with a submission's variables, ``--user-opts``,
   checked against ``user_config_schema.json``), then load the result with ``load_config_yaml``;
2. start its engine (GlobusComputeEngine with Parsl's KubernetesProvider, which talks to the
   Kubernetes API at KUBERNETES_SERVICE_HOST with the pod's service account token);
3. submit ``hello_world``, any probes (``probe_worker``: what a function sees inside its worker) and a
   function that raises, as packed Task messages through ``engine.submit`` (what the endpoint does
   with a task from Globus), and wait for their Result messages;
4. wait until the engine has scaled the idle worker pod in, then shut the engine down.

With ``--name``, it is one of several user endpoint processes of one endpoint (the endpoint starts one
per identity and configuration): its own endpoint directory (so its own interchange and keys) under
GLOBUS_COMPUTE_USER_DIR, and the name in every event. With ``--batches-on-signal`` it stays up after
its tasks, as a user endpoint process does: SIGUSR1 runs the tasks again, SIGTERM (what the endpoint
sends a user endpoint process it stops) shuts the engine down and ends the process.

It prints one JSON object per line on stdout (``event`` and its data, with wall-clock ``time``); the
test reads them. Usage: ``python3 engine_driver.py [--tasks N] [--no-error-task] [--idle-wait S] [--concurrency K]
[--user-opts FILE] [--probe FILE ...] [--probe-in-new-worker]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import pwd
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# The user endpoint process's name (--name), in every event when set.
ENGINE_NAME: dict[str, str] = {}


def emit(event: str, **data: Any) -> None:
    # One write of the whole line: with --endpoint-logging, the entrypoint's log relay writes to the
    # same output, and a line written in pieces could be split by one of its lines.
    sys.stdout.flush()
    line = json.dumps({"event": event, "time": time.time(), **ENGINE_NAME, **data}) + "\n"
    os.write(sys.stdout.fileno(), line.encode())


def hello_world() -> str:
    return "Hello World!"


def fail_on_purpose(text: str) -> None:
    raise ValueError(text)


def where() -> dict[str, str]:
    """Run in a worker: its pod (the hostname Kubernetes gives it) and the interchange's public key in
    the keys it mounted, which is the interchange it could register with.

    Self-contained: it is sent by value, without this module's globals."""
    import re
    import socket

    # Where a worker pod of the chart mounts the workers' keys (gce_release_provider.KEYS_MOUNT).
    with open("/etc/gce-worker-keys/server.key_secret", encoding="ascii") as keys:
        found = re.search(r'public-key = "([^"]+)"', keys.read())
    return {"pod": socket.gethostname(), "server_key": found.group(1) if found else ""}


def probe_worker(actions: dict[str, list[str]]) -> dict[str, Any]:
    """Look around the worker, from inside the function: each action's outcome, or its error.

    Self-contained: it is sent by value, without this module's globals. Actions: ``read`` a file,
    ``write`` text to one, ``exists``, ``env`` (the variables named), ``hostname``, ``jwt_subject``
    (the ``sub`` claim of a token file, never the token), ``bypass`` (whether the proxy settings send
    a URL around the proxy) and ``get`` (an HTTP GET, as the requests package does it with the
    environment's proxy settings: the status, or the exception's type).
    """
    import base64
    import json
    import os
    import socket

    import requests

    def outcome(action: list[str]) -> Any:
        kind, *args = action
        if kind == "read":
            with open(args[0], encoding="utf-8") as stream:
                return stream.read()
        if kind == "write":
            with open(args[0], "w", encoding="utf-8") as stream:
                return stream.write(args[1])
        if kind == "exists":
            return os.path.exists(args[0])
        if kind == "env":
            return {name: os.environ.get(name) for name in args}
        if kind == "hostname":
            return socket.gethostname()
        if kind == "jwt_subject":
            with open(args[0], encoding="ascii") as stream:
                payload = stream.read().split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]
        if kind == "bypass":
            return requests.utils.should_bypass_proxies(args[0], no_proxy=None)
        if kind == "get":
            # Any HTTP answer shows the request arrived; whom it reached is not what this checks.
            return requests.get(args[0], timeout=10, verify=False).status_code
        raise ValueError(f"unknown probe action {kind!r}")

    found: dict[str, Any] = {}
    for name, action in actions.items():
        try:
            found[name] = {"ok": outcome(action)}
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test asserts
            found[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return found


FUNCTIONS = {"hello_world": hello_world, "where": where}


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1, help="tasks to run")
    parser.add_argument("--function", choices=sorted(FUNCTIONS), default="hello_world", help="what the tasks run")
    parser.add_argument("--name", help="this user endpoint process's name (its directory); default GCE_ENDPOINT_NAME")
    parser.add_argument(
        "--batches-on-signal",
        action="store_true",
        help="after the tasks, SIGUSR1 runs them again and SIGTERM stops the engine (a user endpoint process)",
    )
    parser.add_argument("--no-error-task", action="store_true")
    parser.add_argument("--result-timeout", type=float, default=300)
    parser.add_argument("--idle-wait", type=float, default=90, help="seconds to wait for scale-in (0: none)")
    parser.add_argument("--hold", type=float, default=0, help="seconds to wait between tasks")
    parser.add_argument("--concurrency", type=int, default=1, help="hello_world tasks in flight at once")
    parser.add_argument("--wait-managers", type=int, default=0, help="first wait until this many workers registered")
    parser.add_argument(
        "--delete-running-pod",
        action="store_true",
        help="delete the first worker pod the engine sees running, through the Kubernetes API (as kubectl)",
    )
    parser.add_argument(
        "--user-opts",
        type=pathlib.Path,
        help="a JSON file of a submission's user endpoint config (the template's variables), checked against"
        " user_config_schema.json as the endpoint checks it",
    )
    parser.add_argument(
        "--probe",
        type=pathlib.Path,
        action="append",
        default=[],
        help="a JSON file of probe_worker actions, run as one task after the other tasks (repeatable)",
    )
    parser.add_argument(
        "--probe-in-new-worker",
        action="store_true",
        help="before each probe after the first, wait (up to --idle-wait) until the idle worker is scaled in,"
        " so that the probe runs in a new worker pod",
    )
    parser.add_argument(
        "--endpoint-logging",
        action="store_true",
        help="log as the endpoint's user endpoint process does (to GLOBUS_COMPUTE_LOG_PATH)",
    )
    return parser.parse_args()


def load_engine(endpoint_dir: pathlib.Path, user_opts: dict[str, Any]) -> Any:
    """The engine of the user config, rendered from the chart's template as the endpoint renders it for
    a submission with these ``user_opts``, which the endpoint checks against the schema first."""
    from globus_compute_endpoint.endpoint.config.utils import (
        get_config,
        load_config_yaml,
        load_user_config_schema,
        load_user_config_template,
        render_config_user_template,
    )
    from globus_compute_endpoint.endpoint.identity_mapper import MappedPosixIdentity

    config_dir = pathlib.Path(os.environ["GCE_CONFIG_DIR"])
    endpoint_dir.mkdir(parents=True, exist_ok=True)
    for name in ("config.yaml", "user_config_template.yaml.j2", "user_config_schema.json"):
        if (config_dir / name).is_file():
            shutil.copyfile(config_dir / name, endpoint_dir / name)
    core_config = get_config(endpoint_dir)
    template_path = endpoint_dir / "user_config_template.yaml.j2"
    identity = MappedPosixIdentity(pwd.getpwuid(os.getuid()), [], None)
    template = load_user_config_template(template_path)
    schema = load_user_config_schema(endpoint_dir / "user_config_schema.json")
    rendered = render_config_user_template(core_config, template, template_path, identity, schema, user_opts)
    emit("rendered", text=rendered)
    engine = load_config_yaml(rendered).engine
    emit("engine", type=type(engine).__name__, provider=type(engine.provider).__name__)
    return engine


class Submitter:
    """Tasks in, results out, the way the endpoint hands them to its engine."""

    def __init__(self, engine: Any, result_timeout: float) -> None:
        from globus_compute_sdk.serialize import ComputeSerializer

        self.engine = engine
        self.serde = ComputeSerializer()
        self.result_timeout = result_timeout

    def run(self, function: Any, *args: Any) -> None:
        from globus_compute_common import messagepack
        from globus_compute_common.messagepack.message_types import Result, Task
        from globus_compute_endpoint.engines.base import GCFuture

        serde = self.serde
        task_id = uuid.uuid4()
        started = time.monotonic()
        buffer = serde.pack_buffers([serde.serialize(function), serde.serialize(args), serde.serialize({})])
        future = GCFuture(task_id)
        self.engine.submit(future, messagepack.pack(Task(task_id=task_id, task_buffer=buffer)), {})
        emit("submitted", function=function.__name__, task_id=str(task_id))
        result = messagepack.unpack(future.result(timeout=self.result_timeout))
        assert isinstance(result, Result)
        if result.is_error:
            details = result.error_details
            emit("error", function=function.__name__, text=result.data, code=details.code if details else None)
        else:
            value = serde.deserialize(result.data)
            emit("result", function=function.__name__, value=value, seconds=time.monotonic() - started)


def wait_for_scale_in(engine: Any, seconds: float) -> None:
    """The engine cancels idle blocks, and the provider deletes their pods.

    (The interchange notices a vanished worker only after its heartbeat threshold, so the provider's
    job states are what tells.)
    """
    jobs = engine.provider.resources
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(job["status"].terminal for job in jobs.values()):
        time.sleep(1)
    emit("idle", jobs={str(job_id): job["status"].state.name for job_id, job in jobs.items()})


def endpoint_logging(endpoint_dir: pathlib.Path) -> None:
    """The logging of a user endpoint process (globus_compute_endpoint/cli.py, _start_user_endpoint)."""
    from globus_compute_endpoint.logging_config import COMPUTE_EP_DIR_ENV, ensure_paths, setup_logging

    endpoint_dir.mkdir(parents=True, exist_ok=True)
    os.environ[COMPUTE_EP_DIR_ENV] = str(endpoint_dir.resolve())
    setup_logging(logfile=ensure_paths(None), debug=False, console_enabled=False)


def wait_for_managers(engine: Any, count: int, timeout: float) -> None:
    """Wait until ``count`` workers have registered (a benchmark times tasks, not worker starts)."""
    deadline = time.monotonic() + timeout
    while len(engine.get_connected_managers()) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    emit("managers", count=len(engine.get_connected_managers()), blocks=[])


def watch_registrations(engine: Any) -> Callable[[], None]:
    """Emit ``registered`` when the first worker manager has connected to the interchange.

    Returns what stops the watch: it must end before the engine shuts down, since it asks through the
    engine's command client, a ZMQ socket, which two threads must not use at once (libzmq aborts the
    process when the shutdown closes the socket under a question).
    """
    stop = threading.Event()

    def watch() -> None:
        try:
            while not stop.is_set() and not engine.get_connected_managers():
                stop.wait(0.2)
        except Exception:  # noqa: BLE001 - the engine shut down before any worker registered: nothing to say
            return
        if not stop.is_set():
            emit("registered")

    thread = threading.Thread(target=watch, name="registrations", daemon=True)
    thread.start()

    def stopped() -> None:
        stop.set()
        thread.join()

    return stopped


def delete_first_running_pod(engine: Any) -> None:
    """In a thread: once the first worker pod runs, delete it the way ``kubectl delete pod`` does, with
    a client of its own (on the in-cluster configuration, which the provider loaded: the pod's service
    account)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    def delete() -> None:
        api = client.CoreV1Api()
        provider = engine.provider
        while True:
            for job in list(provider.resources.values()):
                try:
                    pod = api.read_namespaced_pod(job["pod_name"], provider.namespace)
                except ApiException:
                    continue
                if pod.status and pod.status.phase == "Running":
                    api.delete_namespaced_pod(job["pod_name"], provider.namespace)
                    emit("deleted", pod=job["pod_name"])
                    return
            time.sleep(0.5)

    threading.Thread(target=delete, name="delete-running-pod", daemon=True).start()


def key_identity(engine: Any) -> dict[str, str]:
    """The engine's interchange keys as the provider names them: the Secret entries' prefix and the
    server's public key (empty without encryption)."""
    cert_dir = getattr(engine.executor, "cert_dir", None)
    if not cert_dir:
        return {}
    import zmq.auth
    from gce_release_provider import engine_key_id

    public, _ = zmq.auth.load_certificate(pathlib.Path(cert_dir) / "server.key")
    return {"key_id": engine_key_id(pathlib.Path(cert_dir)), "server_key": public.decode("ascii")}


class Signals:
    """SIGUSR1 asks for the tasks again, SIGTERM for the end, as the endpoint stops a user endpoint process.

    Installed after the engine has started: its interchange is a process of its own, which keeps the
    default handlers.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        for number in (signal.SIGUSR1, signal.SIGTERM):
            signal.signal(number, lambda received, _frame: self.received.append(received))

    def another_batch(self) -> bool:
        emit("waiting")
        while not self.received:
            time.sleep(0.2)
        return self.received.pop(0) == signal.SIGUSR1


def run_batch(engine: Any, submitter: Submitter, options: argparse.Namespace) -> None:
    """The tasks, the probes, the failing task unless left out, then the wait for scale-in."""
    function = FUNCTIONS[options.function]
    if options.concurrency > 1:
        with ThreadPoolExecutor(options.concurrency) as pool:
            list(pool.map(lambda _: submitter.run(function), range(options.tasks)))
    for index in range(options.tasks if options.concurrency == 1 else 0):
        if index and options.hold:
            time.sleep(options.hold)
        submitter.run(function)
        managers = engine.get_connected_managers()
        emit("managers", count=len(managers), blocks=sorted({str(m.get("block_id")) for m in managers}))
    for index, probe in enumerate(options.probe):
        if index and options.probe_in_new_worker:
            wait_for_scale_in(engine, options.idle_wait)
        submitter.run(probe_worker, json.loads(probe.read_text(encoding="utf-8")))
    if not options.no_error_task:
        submitter.run(fail_on_purpose, "raised on purpose in the worker")
    if options.idle_wait > 0:
        wait_for_scale_in(engine, options.idle_wait)


def main() -> int:
    options = parse_options()
    name = options.name or os.environ["GCE_ENDPOINT_NAME"]
    endpoint_id = uuid.UUID(os.environ["GCE_ENDPOINT_UUID"])
    if options.name:
        ENGINE_NAME["engine"] = options.name
        endpoint_id = uuid.uuid5(endpoint_id, options.name)
    endpoint_dir = pathlib.Path(os.environ["GLOBUS_COMPUTE_USER_DIR"]) / name
    if options.endpoint_logging:
        endpoint_logging(endpoint_dir)
    user_opts = json.loads(options.user_opts.read_text(encoding="utf-8")) if options.user_opts else {}
    engine = load_engine(endpoint_dir, user_opts)
    engine.start(endpoint_id=endpoint_id, run_dir=str(endpoint_dir))
    emit("started", pid=os.getpid(), **key_identity(engine))
    signals = Signals() if options.batches_on_signal else None
    stop_watching = watch_registrations(engine)
    if options.delete_running_pod:
        delete_first_running_pod(engine)
    completed = False
    try:
        submitter = Submitter(engine, options.result_timeout)
        if options.wait_managers:
            wait_for_managers(engine, options.wait_managers, options.result_timeout)
        run_batch(engine, submitter, options)
        while signals is not None and signals.another_batch():
            run_batch(engine, submitter, options)
        completed = True
    finally:
        stop_watching()
        engine.shutdown()
        emit("shutdown")
        # The last line this process logs, as a user endpoint process logs its end.
        logging.getLogger("globus_compute_endpoint.engine_driver").info("user endpoint %s: engine stopped", name)
        if not completed:
            # The engine's and Parsl's own logs die with the container's volumes: show their ends.
            for path in sorted(endpoint_dir.rglob("*.log")):
                lines = path.read_text(errors="replace").splitlines()[-150:]
                print(f"== {path}", *lines, sep="\n", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
