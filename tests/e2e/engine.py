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
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from e2e import manifests
from e2e.kube import Kubectl
from e2e.release import Release
from e2e.waits import wait_for
from runtime.functions import DUMMY_CLIENT, IMAGE_PATH, driver_events

DRIVER = Path(__file__).resolve().parents[1] / "runtime" / "engine_driver.py"
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


def driver_configmap(
    release: Release, driver_args: list[str], labels: dict[str, str], files: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{release.name}-e2e-driver", "namespace": release.namespace, "labels": labels},
        "data": {"engine_driver.py": DRIVER.read_text(encoding="utf-8"), "standin": standin(driver_args), **files},
    }


def deployment_patch(release: Release, files: Iterable[str] = ()) -> dict[str, Any]:
    """A strategic merge patch: the driver's ConfigMap mounted (with the driver's input ``files`` next
    to it), the stand-in first on PATH, no probes."""
    container = manifests.first_container_of(release.deployment)
    return {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {
                            "name": "e2e-driver",
                            "configMap": {
                                "name": f"{release.name}-e2e-driver",
                                "items": [
                                    {"key": "engine_driver.py", "path": "engine_driver.py", "mode": 0o444},
                                    {"key": "standin", "path": "bin/globus-compute-endpoint", "mode": 0o555},
                                    *({"key": name, "path": name, "mode": 0o444} for name in files),
                                ],
                            },
                        }
                    ],
                    "containers": [
                        {
                            "name": container,
                            "volumeMounts": [{"name": "e2e-driver", "mountPath": MOUNT, "readOnly": True}],
                            "env": [{"name": "PATH", "value": f"{MOUNT}/bin:{IMAGE_PATH}"}],
                            "startupProbe": None,
                            "livenessProbe": None,
                            "readinessProbe": None,
                        }
                    ],
                }
            }
        }
    }


def run_driver(
    kubectl: Kubectl,
    release: Release,
    driver_args: list[str],
    labels: dict[str, str],
    files: Mapping[str, str] | None = None,
) -> None:
    """Make the release's endpoint pod run the engine driver (a new pod: the Deployment is Recreate).

    ``files`` (name -> text) are put next to the driver, at ``f"{MOUNT}/{name}"``, for its arguments.
    """
    files = dict(files or {})
    kubectl.create(driver_configmap(release, driver_args, labels, files))
    kubectl.run(
        "patch",
        "deployment",
        str(release.deployment["metadata"]["name"]),
        f"--namespace={release.namespace}",
        "--type=strategic",
        f"--patch={json.dumps(deployment_patch(release, files))}",
    )


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
