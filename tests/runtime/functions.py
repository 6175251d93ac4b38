"""The function-run harness: the chart's engine in the endpoint image, worker pods through the API double.

One ``FunctionRun`` is one private network namespace holding the KubeApiDouble (a thread of the test,
listening on the namespace's 127.0.0.1 with HTTPS and a service account token), the engine container
(started as the rendered Deployment's endpoint container, running engine_driver.py instead of the
entrypoint) and the worker containers the double starts for the pods the engine asks for. Nothing in
it can reach anything outside the namespace.

The double starts out holding what ``helm install`` would have created of the rendered ConfigMaps and
Secrets (the worker provider reads its owner ConfigMap and writes the workers' keys Secret).

With ``through_entrypoint``, the engine container runs the chart's own entrypoint, as the Deployment
says, which then execs a stand-in for ``globus-compute-endpoint`` (the endpoint cannot run here: it
needs Globus) that runs engine_driver.py with ``--endpoint-logging``: the driver then logs as the
endpoint's user endpoint process does, to GLOBUS_COMPUTE_LOG_PATH as the entrypoint set it up.

The benchmark uses it too (bench/run_cold_start.py), with a worker image that pip-installs at start.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.kube_api_double import KubeApiDouble, TlsFiles, in_cluster_files
from runtime.netns import NetworkNamespace
from runtime.pods import EndpointPod, PodmanPodRunner, only
from runtime.pypi_tunnel import PypiTunnel
from runtime.testbed import BUILD_DIR, RUN_ID, Podman

DRIVER = Path(__file__).resolve().parent / "engine_driver.py"
DRIVER_IN_CONTAINER = "/opt/gce-test/engine_driver.py"
STANDIN_DIR_IN_CONTAINER = "/opt/gce-test/bin"
POD_IP = "127.0.0.1"
# The endpoint image's PATH (images/endpoint/Dockerfile), with the stand-in's directory in front.
IMAGE_PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the entrypoint requires in the credentials secret; never used (nothing contacts Globus).
DUMMY_CLIENT = {
    "GLOBUS_COMPUTE_CLIENT_ID": b"0d7c9a5e-1f2b-4c3d-8e9f-0a1b2c3d4e5f",
    "GLOBUS_COMPUTE_CLIENT_SECRET": b"runtime-test-placeholder",
}
# Kinds Helm creates that the engine's provider reads or writes, by the plural the double stores them under.
SEEDED_PLURALS = {"ConfigMap": "configmaps", "Secret": "secrets"}
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_CA_IN_CONTAINER = "/etc/ssl/certs/host-ca-bundle.crt"


def driver_events(stdout: str) -> list[dict[str, Any]]:
    """The driver's JSON lines among the container's output (which may hold relayed log lines too)."""
    decoder = json.JSONDecoder()
    events = []
    for line in stdout.splitlines():
        if line.startswith('{"event"'):
            try:
                events.append(decoder.raw_decode(line)[0])
            except json.JSONDecodeError:
                continue  # cut by another writer; the test then misses this event and says so
    return events


@dataclass
class RunResult:
    """What one run produced: the driver's events, its exit code and output, and the double's record."""

    events: list[dict[str, Any]]
    returncode: int
    stderr: str
    double: KubeApiDouble
    runner: PodmanPodRunner
    seconds: float
    stdout: str = ""

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    def results(self, function: str) -> list[Any]:
        return [e["value"] for e in self.of("result") if e["function"] == function]

    def errors(self, function: str) -> list[dict[str, Any]]:
        return [e for e in self.of("error") if e["function"] == function]


@dataclass
class FunctionRun:
    """Settings of one run; ``run()`` does it and cleans up after itself."""

    podman: Podman
    image: str
    docs: Sequence[dict[str, Any]]
    name: str
    artifacts: Path = BUILD_DIR / "artifacts"
    driver_args: Sequence[str] = ()
    worker_extra_args: Sequence[str] = ()
    timeout: float = 600
    inject: Sequence[tuple[str, str, int]] = ()
    runner_type: type[PodmanPodRunner] = PodmanPodRunner
    through_entrypoint: bool = False
    # Benchmark only: give the worker pods a way to PyPI (pypi_tunnel.py), for pip at worker start.
    pypi_for_workers: bool = False

    def _engine_options(self, pod: EndpointPod, name: str, network: str, work: Path) -> list[str]:
        """``podman run`` options of the engine container: the driver instead of the entrypoint, or
        (``through_entrypoint``) the chart's entrypoint, which execs the stand-in endpoint."""
        extra = ["--volume", f"{DRIVER}:{DRIVER_IN_CONTAINER}:ro"]
        if not self.through_entrypoint:
            return pod.podman_args(
                self.image, name, network, args=["python3", DRIVER_IN_CONTAINER, *self.driver_args], extra=extra
            )
        standin = work / "standin"
        standin.mkdir()
        script = standin / "globus-compute-endpoint"
        driver = " ".join(["python3", DRIVER_IN_CONTAINER, "--endpoint-logging", *self.driver_args])
        # `start` (what the entrypoint execs) runs the driver; anything else (the engine runs its
        # interchange with `globus-compute-endpoint python-exec ...`) goes to the real command.
        script.write_text(
            f'#!/bin/sh\nif [ "$1" = start ]; then exec {driver}; fi\nexec /opt/venv/bin/globus-compute-endpoint "$@"\n'
        )
        script.chmod(0o755)
        extra += ["--volume", f"{standin}:{STANDIN_DIR_IN_CONTAINER}:ro"]
        pod.extra_env = {**pod.extra_env, "PATH": f"{STANDIN_DIR_IN_CONTAINER}:{IMAGE_PATH}"}
        return pod.podman_args(self.image, name, network, args=None, extra=extra)

    def run(self) -> RunResult:
        work = BUILD_DIR / "work" / self.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        pods_dir = self.artifacts / "pods" / self.name
        logs_dir = self.artifacts / "logs" / self.name
        for directory in (pods_dir, logs_dir):
            shutil.rmtree(directory, ignore_errors=True)
        namespace = str(only(self.docs, "Deployment")["metadata"]["namespace"])
        token = secrets.token_urlsafe(32)
        label = f"gce-rt-{RUN_ID}-{self.name}"
        engine_name = f"{label}-engine"
        with NetworkNamespace(label) as netns:
            tls = TlsFiles.create(work / "tls")
            worker_args = list(self.worker_extra_args)
            tunnel = PypiTunnel(netns).start() if self.pypi_for_workers else None
            if tunnel is not None:
                worker_args += [
                    *("--env", f"HTTPS_PROXY={tunnel.url}", "--env", f"https_proxy={tunnel.url}"),
                    *("--env", f"PIP_CERT={HOST_CA_IN_CONTAINER}"),
                    *("--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_IN_CONTAINER}:ro"),
                ]
            runner = self.runner_type(
                self.podman, netns.podman_network, label, logs_dir=logs_dir, extra_args=worker_args,
                volumes_dir=work / "pod-volumes",
            )  # fmt: skip
            double = KubeApiDouble(netns.listen(), tls, token, runner=runner, record_dir=pods_dir)
            runner.lookup = double.store.get
            for doc in self.docs:
                if doc.get("kind") in SEEDED_PLURALS:
                    double.store.put(SEEDED_PLURALS[doc["kind"]], doc)
            for verb, plural, status in self.inject:
                double.fail(verb, plural, status)
            double.start()
            pod = EndpointPod(
                self.docs,
                field_values={"status.podIP": POD_IP, "metadata.namespace": namespace},
                secret=DUMMY_CLIENT if self.through_entrypoint else None,
                volumes_dir=work / "volumes",
                service_account=in_cluster_files(work / "serviceaccount", tls, token, namespace),
                # What the kubelet puts in every pod's environment.
                extra_env={"KUBERNETES_SERVICE_HOST": POD_IP, "KUBERNETES_SERVICE_PORT": str(double.port)},
            )
            options = self._engine_options(pod, engine_name, netns.podman_network, work)
            started = time.monotonic()
            try:
                completed = subprocess.run(
                    self.podman.argv("run", *options),
                    capture_output=True, text=True, check=False, timeout=self.timeout, env=self.podman.env,
                )  # fmt: skip
            finally:
                self.podman.run("rm", "--force", "--time", "0", engine_name, check=False, timeout=60)
                double.stop()
                if tunnel is not None:
                    tunnel.stop()
                for leftover in self.podman.run("ps", "-aq", "--filter", f"label={label}=1").stdout.split():
                    self.podman.run("rm", "--force", "--time", "0", leftover, check=False, timeout=60)
            seconds = time.monotonic() - started
        events = driver_events(completed.stdout)
        logs_dir.mkdir(parents=True, exist_ok=True)
        (logs_dir / "engine-driver.stderr").write_text(completed.stderr, encoding="utf-8")
        requests = [
            {"method": r.method, "path": r.path, "status": r.status, "time": r.time, "body": r.body}
            for r in double.requests
        ]
        (logs_dir / "api-requests.json").write_text(json.dumps(requests, indent=1) + "\n", encoding="utf-8")
        (logs_dir / "engine-container.stdout").write_text(completed.stdout, encoding="utf-8")
        return RunResult(events, completed.returncode, completed.stderr, double, runner, seconds, completed.stdout)
