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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Settings:
    """What the chart tells the job through its environment."""

    release_namespace: str
    deployment: str
    endpoint_selector: str
    worker_namespace: str
    worker_prefix: str
    owner_key: str
    owner_value: str
    timeout_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            release_namespace=env["GCE_RELEASE_NAMESPACE"],
            deployment=env["GCE_DEPLOYMENT"],
            endpoint_selector=env["GCE_ENDPOINT_SELECTOR"],
            worker_namespace=env["GCE_WORKER_NAMESPACE"],
            worker_prefix=env["GCE_WORKER_PREFIX"],
            owner_key=env["GCE_OWNER_ANNOTATION"],
            owner_value=env["GCE_OWNER_VALUE"],
            timeout_seconds=float(env.get("GCE_TIMEOUT_SECONDS", "100")),
        )


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def stop_endpoint(apps: Any, core: Any, settings: Settings, deadline: float) -> None:
    """Scale the endpoint to zero and wait (until the deadline) for its pod to go."""
    try:
        apps.patch_namespaced_deployment_scale(
            settings.deployment, settings.release_namespace, {"spec": {"replicas": 0}}
        )
    except Exception as exc:  # noqa: BLE001 - best effort, reported
        log(f"could not scale deployment {settings.deployment} to 0: {exc}")
        return
    log(f"scaled deployment {settings.deployment} to 0; waiting for the endpoint to stop")
    while _remaining(deadline) > 0:
        if not core.list_namespaced_pod(settings.release_namespace, label_selector=settings.endpoint_selector).items:
            return
        time.sleep(2)
    log("the endpoint pod is still running at the deadline")


def _our_workers(core: Any, settings: Settings) -> list[str]:
    pods = core.list_namespaced_pod(settings.worker_namespace, label_selector=WORKER_LABEL).items
    return select_workers(pods, settings.worker_prefix, settings.owner_key, settings.owner_value)


def delete_workers(core: Any, settings: Settings, deadline: float) -> int:
    """Delete this release's worker pods and wait for them to go; returns how many remain."""
    namespace = settings.worker_namespace
    names = _our_workers(core, settings)
    for name in names:
        try:
            core.delete_namespaced_pod(name, namespace)
            log(f"deleted worker pod {namespace}/{name}")
        except Exception as exc:  # noqa: BLE001 - best effort, reported
            log(f"could not delete worker pod {namespace}/{name}: {exc}")
    while names and _remaining(deadline) > 0:
        names = _our_workers(core, settings)
        if names:
            time.sleep(2)
    return len(names)


def main() -> int:
    from kubernetes import client, config  # in the endpoint image; imported here so tests need not load it

    try:
        settings = Settings.from_env(os.environ)
        deadline = time.monotonic() + settings.timeout_seconds
        config.load_incluster_config()  # type: ignore[no-untyped-call]  # kubernetes has no annotations
        core, apps = client.CoreV1Api(), client.AppsV1Api()
        stop_endpoint(apps, core, settings, deadline)
        left = delete_workers(core, settings, deadline)
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
