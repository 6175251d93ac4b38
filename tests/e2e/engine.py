"""The chart's endpoint pod running the engine driver, so functions run on a cluster without Globus.

The endpoint cannot get tasks here (the Globus services are not reachable), so, as the runtime tests do,
``globus-compute-endpoint start`` is replaced by a stand-in that runs ``tests/runtime/engine_driver.py``:
the chart's own entrypoint still starts it, in the chart's own pod, with the chart's ServiceAccount,
ConfigMaps and environment; the driver renders and starts the chart's engine with the endpoint's code,
submits functions, and prints one JSON event per line to the pod's log. Everything else (the provider's
pod creates, the scheduler, the kubelet, workers registering with the interchange) is the cluster's.

The stand-in goes in by patching the release's Deployment after install: a ConfigMap with the driver and
the stand-in, mounted over ``/opt/gce-test``, first on PATH. The patch also drops the probes: they
watch the endpoint's PID file, which the stand-in does not write. After the driver ends, the stand-in
sleeps, so its log stays readable and the Deployment does not start it again.

``run_endpoint`` puts in a fuller stand-in instead (``endpoint_standin.py``), for what happens between
the endpoint and its user endpoint processes: it keeps the chart's probes (it writes the PID file and
``endpoint.json`` as the endpoint does), runs several user endpoint processes (engine drivers, each
with its own name, directory and engine) at once, starts more on request and stops them with SIGTERM.
The test talks to them with ``kubectl exec`` (a signal, a request file), as an admin may.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e import manifests
from e2e.kube import Kubectl
from e2e.release import Release
from e2e.waits import wait_for
from runtime.functions import DUMMY_CLIENT, IMAGE_PATH, driver_events

DRIVER = Path(__file__).resolve().parents[1] / "runtime" / "engine_driver.py"
ENDPOINT_STANDIN = Path(__file__).resolve().parent / "endpoint_standin.py"
# Files of the driver's ConfigMap, by key: where each goes under MOUNT, and its mode.
MOUNTED_FILES = {
    "engine_driver.py": ("engine_driver.py", 0o444),
    "standin": ("bin/globus-compute-endpoint", 0o555),
    "ueps.json": ("ueps.json", 0o444),
}
Events = list[dict[str, Any]]
MOUNT = "/opt/gce-test"
# Test credentials the entrypoint requires; nothing contacts Globus with them.
CREDENTIALS = {key: value.decode() for key, value in DUMMY_CLIENT.items()}


def standin(driver_args: list[str]) -> str:
    """``globus-compute-endpoint``: ``start`` runs the driver, anything else the real command."""
    driver = " ".join(["python3", f"{MOUNT}/engine_driver.py", "--endpoint-logging", *driver_args])
    return (
        "#!/bin/sh\n"
        f'if [ "$1" = start ]; then\n  {driver}\n'
        '  echo "{\\"event\\": \\"driver-exit\\", \\"code\\": $?}"\n  exec sleep 86400\nfi\n'
        'exec /opt/venv/bin/globus-compute-endpoint "$@"\n'
    )


def driver_configmap(release: Release, data: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{release.name}-e2e-driver", "namespace": release.namespace, "labels": labels},
        "data": {"engine_driver.py": DRIVER.read_text(encoding="utf-8"), **data},
    }


def deployment_patch(release: Release, keys: list[str], probes: bool) -> dict[str, Any]:
    """A strategic merge patch: the driver's ConfigMap mounted, the stand-in first on PATH; without
    ``probes``, none."""
    container = manifests.first_container_of(release.deployment)
    # Any other key is an input file of the driver's, mounted under its own name.
    mounted = [(key, *MOUNTED_FILES.get(key, (key, 0o444))) for key in keys]
    items = [{"key": key, "path": path, "mode": mode} for key, path, mode in mounted]
    dropped = {} if probes else {"startupProbe": None, "livenessProbe": None, "readinessProbe": None}
    return {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {
                            "name": "e2e-driver",
                            "configMap": {"name": f"{release.name}-e2e-driver", "items": items},
                        }
                    ],
                    "containers": [
                        {
                            "name": container,
                            "volumeMounts": [{"name": "e2e-driver", "mountPath": MOUNT, "readOnly": True}],
                            "env": [{"name": "PATH", "value": f"{MOUNT}/bin:{IMAGE_PATH}"}],
                            **dropped,
                        }
                    ],
                }
            }
        }
    }


def _patch_in(kubectl: Kubectl, release: Release, data: dict[str, str], labels: dict[str, str], probes: bool) -> None:
    """Create the driver's ConfigMap and patch the Deployment (a new pod: the Deployment is Recreate)."""
    configmap = driver_configmap(release, data, labels)
    kubectl.create(configmap)
    kubectl.run(
        "patch",
        "deployment",
        str(release.deployment["metadata"]["name"]),
        f"--namespace={release.namespace}",
        "--type=strategic",
        f"--patch={json.dumps(deployment_patch(release, sorted(configmap['data']), probes))}",
    )


def run_driver(
    kubectl: Kubectl,
    release: Release,
    driver_args: list[str],
    labels: dict[str, str],
    files: dict[str, str] | None = None,
) -> None:
    """Make the release's endpoint pod run the engine driver; ``files`` (name -> text) go next to it,
    at ``f"{MOUNT}/{name}"``, for its arguments."""
    _patch_in(kubectl, release, {"standin": standin(driver_args), **(files or {})}, labels, probes=False)


def run_endpoint(kubectl: Kubectl, release: Release, ueps: dict[str, dict[str, Any]], labels: dict[str, str]) -> None:
    """Make the release's endpoint pod run the endpoint stand-in, with the chart's probes.

    ``ueps``: the user endpoint processes it may run, by name: ``{"args": [driver options], "at_start":
    bool}`` (endpoint_standin.py).
    """
    data = {
        "standin": "#!/usr/bin/env python3\n" + ENDPOINT_STANDIN.read_text(encoding="utf-8"),
        "ueps.json": json.dumps(ueps),
    }
    _patch_in(kubectl, release, data, labels, probes=True)


def exec_in(kubectl: Kubectl, release: Release, pod: dict[str, Any], script: str, *args: str) -> str:
    """Run a shell script in the endpoint container (as its user, with its environment); its stdout."""
    container = manifests.first_container_of(release.deployment)
    name = pod["metadata"]["name"]
    command = ["exec", name, f"--namespace={release.namespace}", f"--container={container}", "--"]
    return kubectl.run(*command, "/bin/sh", "-c", script, "sh", *args).stdout


def signal_uep(kubectl: Kubectl, release: Release, pod: dict[str, Any], pid: int, name: str) -> None:
    """Send a signal (``USR1``, ``TERM``) to a user endpoint process, by its pid in the container."""
    exec_in(kubectl, release, pod, 'kill -s "$1" "$2"', name, str(pid))


def of_engine(events: Events, engine: str, name: str | None = None) -> Events:
    """The events of one user endpoint process (``--name``), of one kind if ``name`` is given."""
    return [e for e in events if e.get("engine") == engine and (name is None or e["event"] == name)]


def wait_until(
    kubectl: Kubectl, release: Release, what: str, done: Callable[[Events], bool], timeout: float
) -> tuple[Events, str]:
    """Wait until the events in the endpoint pod's log satisfy ``done``; returns them and the log."""
    started = time.monotonic()

    def probe() -> tuple[tuple[Events, str] | None, str]:
        pod = driver_pod(kubectl, release)
        if pod is None:
            return None, "no endpoint pod yet"
        log = driver_log(kubectl, release, pod)
        events = driver_events(log)
        if done(events):
            return (events, log), ""
        seen = [(e["event"], e.get("engine", "")) for e in events]
        return None, f"{time.monotonic() - started:.0f} s; events so far: {seen}; log ends: {log[-2500:]}"

    return wait_for(what, probe, timeout)


def driver_pod(kubectl: Kubectl, release: Release) -> dict[str, Any] | None:
    """The endpoint pod that mounts the driver (the patched template's), or None before it exists."""
    found = kubectl.items(["pods"], release.namespace, manifests.pod_selector_of(release.deployment))
    patched = [
        pod
        for pod in found
        if any(volume.get("name") == "e2e-driver" for volume in pod["spec"].get("volumes", []))
        and "deletionTimestamp" not in pod["metadata"]
    ]
    return max(patched, key=lambda pod: pod["metadata"]["creationTimestamp"]) if patched else None


def driver_log(kubectl: Kubectl, release: Release, pod: dict[str, Any]) -> str:
    container = manifests.first_container_of(release.deployment)
    result = kubectl.run(
        "logs", pod["metadata"]["name"], f"--namespace={release.namespace}", f"--container={container}", check=False
    )
    return result.stdout


def wait_for_events(
    kubectl: Kubectl, release: Release, until: str, timeout: float, interval: float = 2.0
) -> tuple[list[dict[str, Any]], str]:
    """Wait until the driver has printed an event named ``until``; returns all its events and its log."""
    started = time.monotonic()

    def probe() -> tuple[tuple[list[dict[str, Any]], str] | None, str]:
        pod = driver_pod(kubectl, release)
        if pod is None:
            return None, "no driver pod yet"
        log = driver_log(kubectl, release, pod)
        events = driver_events(log)
        names = [event["event"] for event in events]
        if until in names or "driver-exit" in names:
            return (events, log), ""
        return None, f"{time.monotonic() - started:.0f} s; events so far: {names}; log ends: {log[-1500:]}"

    return wait_for(f"the engine driver's {until!r} event", probe, timeout, interval=interval)


def results(events: list[dict[str, Any]], function: str) -> list[Any]:
    return [event["value"] for event in events if event["event"] == "result" and event["function"] == function]
