"""Pre-delete cleanup: remove the worker pods this endpoint started, so uninstall leaves none behind.

Parsl's KubernetesProvider creates bare pods (no owner, so Kubernetes never garbage-collects them),
named ``<prefix>.<job id>``, labelled ``parsl-job-id`` and annotated by the chart with the owning
release. This job first scales the endpoint to zero (it then stops its own workers and cannot start
new ones), then deletes what is left. It is best effort and always exits 0 within its deadline, so
it can never keep `helm uninstall` / `slate instance delete` from finishing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

WORKER_LABEL = "parsl-job-id"


def log(message: str) -> None:
    print(f"gce-cleanup: {message}", file=sys.stderr, flush=True)


def is_our_worker(pod: Any, prefix: str, owner_key: str, owner_value: str) -> bool:
    """True for a pod this release's endpoint created: Parsl's label, our name prefix and annotation."""
    meta = pod.metadata
    labels = meta.labels or {}
    annotations = meta.annotations or {}
    return (
        WORKER_LABEL in labels
        and (meta.name or "").startswith(prefix + ".")
        and annotations.get(owner_key) == owner_value
    )


def select_workers(pods: Iterable[Any], prefix: str, owner_key: str, owner_value: str) -> list[str]:
    """Names of the pods to delete, sorted."""
    return sorted(pod.metadata.name for pod in pods if is_our_worker(pod, prefix, owner_key, owner_value))


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def stop_endpoint(apps: Any, core: Any, namespace: str, deployment: str, selector: str, deadline: float) -> None:
    """Scale the endpoint to zero and wait (until the deadline) for its pod to go."""
    try:
        apps.patch_namespaced_deployment_scale(deployment, namespace, {"spec": {"replicas": 0}})
    except Exception as exc:  # noqa: BLE001 - best effort, reported
        log(f"could not scale deployment {deployment} to 0: {exc}")
        return
    log(f"scaled deployment {deployment} to 0; waiting for the endpoint to stop")
    while _remaining(deadline) > 0:
        if not core.list_namespaced_pod(namespace, label_selector=selector).items:
            return
        time.sleep(2)
    log("the endpoint pod is still running at the deadline")


def delete_workers(core: Any, namespace: str, prefix: str, owner_key: str, owner_value: str, deadline: float) -> int:
    """Delete this release's worker pods and wait for them to go; returns how many remain."""
    names = select_workers(core.list_namespaced_pod(namespace, label_selector=WORKER_LABEL).items, prefix, owner_key, owner_value)
    for name in names:
        try:
            core.delete_namespaced_pod(name, namespace)
            log(f"deleted worker pod {namespace}/{name}")
        except Exception as exc:  # noqa: BLE001 - best effort, reported
            log(f"could not delete worker pod {namespace}/{name}: {exc}")
    while names and _remaining(deadline) > 0:
        pods = core.list_namespaced_pod(namespace, label_selector=WORKER_LABEL).items
        names = select_workers(pods, prefix, owner_key, owner_value)
        if names:
            time.sleep(2)
    return len(names)


def main() -> int:
    from kubernetes import client, config  # in the endpoint image; imported here so tests need not load it

    env = os.environ
    deadline = time.monotonic() + float(env.get("GCE_TIMEOUT_SECONDS", "100"))
    try:
        config.load_incluster_config()
        core, apps = client.CoreV1Api(), client.AppsV1Api()
        stop_endpoint(apps, core, env["GCE_RELEASE_NAMESPACE"], env["GCE_DEPLOYMENT"], env["GCE_ENDPOINT_SELECTOR"], deadline)
        left = delete_workers(
            core, env["GCE_WORKER_NAMESPACE"], env["GCE_WORKER_PREFIX"], env["GCE_OWNER_ANNOTATION"], env["GCE_OWNER_VALUE"], deadline
        )
    except Exception as exc:  # noqa: BLE001 - never block the uninstall
        log(f"cleanup failed: {type(exc).__name__}: {exc}")
        return 0
    if left:
        log(f"{left} worker pod(s) were still terminating at the deadline")
    else:
        log("no worker pods left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
