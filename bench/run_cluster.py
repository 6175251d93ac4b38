"""The chart on the control plane the tests build: start-up, install, worker start and round trips.

What it times (medians with their range, over ``--repeat`` runs where it says so):

- the control plane's cold build (``--cold-build``: an empty Go build and module cache, so every package of
  Kubernetes v1.37.2 and etcd is downloaded and compiled; minutes of both cores);
- control plane ready: etcd, API server, controller manager, scheduler, containerd, kubelet and kube-proxy
  started until the node reports Ready (a fresh start each run);
- ``helm install`` -> the endpoint container running, and -> the chart's engine started in it (the engine
  driver stands in for the Globus part of the endpoint, tests/e2e/engine.py; the pod cannot become Ready
  without Globus);
- one worker's cold start with the prebuilt image on the real kubelet: task submitted -> worker pod
  scheduled (the scheduler's event) -> worker registered with the interchange -> first result;
- ``hello_world`` round trips, p50 and p95 of 50, with 1 worker and with 4 (4 tasks in flight).

Needs root. Writes its section of bench/results.md between markers. Usage: ``make bench-cluster`` or
``python bench/run_cluster.py [--repeat N] [--cold-build] [--out FILE]`` from the tests folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from sections import write_section  # noqa: E402

from cluster import build  # noqa: E402
from cluster.controlplane import ControlPlane  # noqa: E402
from cluster.images import import_endpoint_image  # noqa: E402
from e2e import engine, manifests  # noqa: E402
from e2e.kube import Helm, Kubectl  # noqa: E402
from e2e.release import CHART, Release  # noqa: E402

MARKERS = ("<!-- cluster:start -->", "<!-- cluster:end -->")
NAMESPACE = "gce-bench"
ROUND_TRIPS = 50


def cell(values: list[float], unit: str = "s", digits: int = 1) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cold_build() -> float:
    """Build every program with empty Go caches, into a scratch folder; seconds."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GOCACHE": f"{scratch}/cache", "GOMODCACHE": f"{scratch}/mod", "GOFLAGS": "-modcacherw"}
        started = time.monotonic()
        commands = [f"k8s.io/kubernetes/cmd/{name}" for name in build.KUBERNETES_COMMANDS]
        for args in (
            ["build", "-trimpath", "-o", f"{scratch}/bin/", *commands],
            ["build", "-trimpath", "-o", f"{scratch}/bin/etcd", "go.etcd.io/etcd/server/v3"],
        ):
            subprocess.run(["go", *args], cwd=build.MODULE_DIR, env=env, check=True, capture_output=True)
        return time.monotonic() - started


def values(image: str, workers: int, **extra: Any) -> dict[str, Any]:
    repository, tag = image.rsplit(":", 1)
    return {
        "Instance": "bench",
        "endpointUUID": "5b6c0f6a-5c3d-4d2b-8a9e-7f1b2c3d4e5f",
        "secrets": "gce-bench-credentials",
        "useClientCredentials": True,
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "minBlocks": workers,
        "initBlocks": workers,
        "maxBlocks": max(workers, 1),
        "maxWorkersPerPod": 1,
        "maxIdleTime": 600,
        "initCPU": 0.1,
        "maxCPU": 1,
        "initMem": "256Mi",
        "maxMem": "1Gi",
        **extra,
    }


class Bench:
    """One control plane, one namespace; installs, runs the driver, reads the times back."""

    def __init__(self, control_plane: ControlPlane, image: str, scratch: Path) -> None:
        assert control_plane.kubeconfigs is not None
        self.kubectl = Kubectl(control_plane.bin_dir / "kubectl", control_plane.kubeconfigs.admin)
        self.helm = Helm(REPO_ROOT / ".tools" / "bin" / "helm4", control_plane.kubeconfigs.admin)
        self.image = image
        self.scratch = scratch
        self.kubectl.run("create", "namespace", NAMESPACE)
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "gce-bench-credentials", "namespace": NAMESPACE},
            "stringData": engine.CREDENTIALS,
        }
        self.kubectl.create(secret)

    def install(self, name: str, conf: dict[str, Any]) -> tuple[Release, float]:
        path = self.scratch / f"{name}.yaml"
        path.write_text(yaml.safe_dump(conf), encoding="utf-8")
        started = time.time()
        self.helm.install(name, CHART, NAMESPACE, path)
        release = Release(name, NAMESPACE, conf["endpointUUID"], conf["secrets"])
        release.objects = manifests.parse_objects(self.helm.manifest(name, NAMESPACE))
        return release, started

    def uninstall(self, release: Release) -> None:
        self.helm.uninstall(release.name, NAMESPACE)
        self.kubectl.run(
            "delete", "configmap", f"{release.name}-e2e-driver", f"--namespace={NAMESPACE}", "--wait=false"
        )

    def run(
        self, name: str, conf: dict[str, Any], driver_args: list[str], until: str
    ) -> tuple[Release, float, list[dict[str, Any]]]:
        release, installed = self.install(name, conf)
        engine.run_driver(self.kubectl, release, driver_args, {"gce-bench": name})
        events, _ = engine.wait_for_events(self.kubectl, release, until, 900, interval=1.0)
        return release, installed, events

    def container_started(self, release: Release) -> float:
        pod = engine.driver_pod(self.kubectl, release)
        assert pod is not None
        state = pod["status"]["containerStatuses"][0]["state"]
        return parse_time(state["running"]["startedAt"])

    def scheduled_at(self, namespace: str) -> list[float]:
        """When the scheduler bound each worker pod (its events carry microseconds)."""
        listed = self.kubectl.get("events.events.k8s.io", f"--namespace={namespace}")
        return sorted(
            parse_time(event["eventTime"])
            for event in listed["items"]
            if event.get("reason") == "Scheduled"
            and event.get("eventTime")
            and "." in event["regarding"]["name"]  # worker pods are <release>-worker.<job id>
        )


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def measure_ready(repeat: int) -> list[float]:
    ready = []
    for index in range(repeat):
        with ControlPlane(f"gce-bench-ready-{index}") as control_plane:
            ready.append(control_plane.timings["ready"])
    return ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold-build", action="store_true", help="also time a build with empty Go caches")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results.md")
    options = parser.parse_args()
    load_before = os.getloadavg()[0]
    cold = [cold_build()] if options.cold_build else []
    ready = measure_ready(options.repeat)
    to_running: list[float] = []
    to_engine: list[float] = []
    cold_start: dict[str, list[float]] = {"scheduled": [], "registered": [], "result": []}
    trips: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch, ControlPlane("gce-bench") as control_plane:
        assert control_plane.node is not None
        image = import_endpoint_image(control_plane.node)
        with control_plane.network():
            bench = Bench(control_plane, image, Path(scratch))
            for index in range(options.repeat):
                release, installed, events = bench.run(
                    f"gce-cold{index}", values(image, 0), ["--no-error-task", "--idle-wait", "0"], "result"
                )
                started = next(e["time"] for e in events if e["event"] == "started")
                submitted = next(e["time"] for e in events if e["event"] == "submitted")
                to_running.append(bench.container_started(release) - installed)
                to_engine.append(started - installed)
                scheduled = bench.scheduled_at(NAMESPACE)
                cold_start["scheduled"].append(scheduled[-1] - submitted if scheduled else float("nan"))
                cold_start["registered"].append(
                    next(e["time"] for e in events if e["event"] == "registered") - submitted
                )
                cold_start["result"].append(next(e["time"] for e in events if e["event"] == "result") - submitted)
                bench.uninstall(release)
            for workers in (1, 4):
                args = ["--tasks", str(ROUND_TRIPS), "--concurrency", str(workers), "--wait-managers", str(workers)]
                release, _, events = bench.run(
                    f"gce-trips{workers}",
                    values(image, workers),
                    [*args, "--no-error-task", "--idle-wait", "0"],
                    "shutdown",
                )
                trips[workers] = [e["seconds"] for e in events if e["event"] == "result"]
                bench.uninstall(release)
    lines = report(options, load_before, cold, ready, to_running, to_engine, cold_start, trips)
    write_section(options.out, MARKERS, lines)
    print("\n".join(lines))
    return 0


def report(
    options: argparse.Namespace,
    load_before: float,
    cold: list[float],
    ready: list[float],
    to_running: list[float],
    to_engine: list[float],
    cold_start: dict[str, list[float]],
    trips: dict[int, list[float]],
) -> list[str]:
    cpu = os.cpu_count()
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (a shared machine: expect noise)"
    rows: list[tuple[str, Callable[[], str]]] = [
        ("cold build of the control plane (empty Go caches, 1 run)", lambda: cell([c / 60 for c in cold], "min")),
        (f"control plane ready (fresh start to node Ready, {len(ready)} runs)", lambda: cell(ready)),
        (
            "`helm install` -> the endpoint pod running the engine driver (the test patches the Deployment"
            " after install; the Recreate strategy replaces the first pod)",
            lambda: cell(to_running),
        ),
        ("`helm install` -> the chart's engine started in that pod", lambda: cell(to_engine)),
        ("task submitted -> worker pod scheduled", lambda: cell(cold_start["scheduled"])),
        ("task submitted -> worker registered", lambda: cell(cold_start["registered"])),
        ("task submitted -> first result", lambda: cell(cold_start["result"])),
    ]
    lines = [
        "## The chart on the control plane built by the tests (issue 21)",
        "",
        f"`make bench-cluster`, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {cpu} CPUs, {load}."
        " Kubernetes v1.37.2 (kube-apiserver, controller manager, scheduler, kubelet, kube-proxy) and etcd 3.7.0"
        " built from tests/cluster/kube, Debian's containerd 1.6.20 and runc, one node; the endpoint image"
        " imported into containerd (no pull). The endpoint's Globus part is replaced by the engine driver;"
        " everything between the engine and the worker (API server, scheduler, kubelet, interchange) is real.",
        "",
        "| what | median (range) |",
        "|---|---|",
        *(f"| {label} | {value()} |" for label, value in rows),
        "",
        "`hello_world` round trips (from handing the task to the engine to its result, timed in the driver),"
        f" {ROUND_TRIPS} per row, workers already registered:",
        "",
        "| workers (tasks in flight) | p50 | p95 | max |",
        "|---|---|---|---|",
    ]
    for workers, values_ in trips.items():
        ms = [v * 1000 for v in values_]
        lines.append(
            f"| {workers} | {percentile(ms, 0.5):.0f} ms | {percentile(ms, 0.95):.0f} ms | {max(ms):.0f} ms |"
            if ms
            else f"| {workers} | n/a | n/a | n/a |"
        )
    lines += ["", f"Runs: {options.repeat} of each timed step unless the row says otherwise."]
    return lines


if __name__ == "__main__":
    if shutil.which("go") is None:
        print("bench-cluster: go is not installed", file=sys.stderr)
        sys.exit(1)
    sys.exit(main())
