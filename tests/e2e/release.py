"""One installed release of the chart, and what the live tests read about it from the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from e2e import manifests, pods
from e2e.kube import Kubectl
from e2e.settings import Credentials, E2eSettings
from e2e.waits import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "chart" / "globus-compute-endpoint"
INSTANCE = "e2e"
# Exit code of the entrypoint for missing or invalid configuration or credentials (files/entrypoint.sh).
EX_CONFIG = 78


class EndpointFailed(AssertionError):
    """The endpoint pod is in a state it will not leave by itself; the message says which."""


@dataclass
class Release:
    """A release a test installed, with the objects Helm made for it (read back with `helm get`)."""

    name: str
    namespace: str
    endpoint_uuid: str
    secret_name: str
    objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def deployment(self) -> manifests.Obj:
        return manifests.find_one(self.objects, "Deployment")

    def worker_identity(self) -> manifests.WorkerIdentity:
        return manifests.worker_identity(manifests.endpoint_configmap(self.objects))

    @property
    def label_selector(self) -> str:
        """What the SLATE server selects the instance's objects by."""
        return f"release={self.name}"


class InstallRelease(Protocol):
    """The install_release fixture: installs the chart under a fresh release name.

    With ``credentials``, it first creates the secret the conf names from them; without, the conf
    names a secret that does not exist.
    """

    def __call__(
        self,
        worker_namespace: str | None = None,
        endpoint_uuid: str | None = None,
        credentials: Credentials | None = None,
        extra_values: dict[str, Any] | None = None,
    ) -> Release: ...


def e2e_values(
    settings: E2eSettings, endpoint_uuid: str, secret_name: str, worker_namespace: str | None
) -> dict[str, Any]:
    """A conf the chart accepts; no credentials stand behind it unless the test creates the secret.

    Small worker requests, so the hello-world worker fits on a laptop cluster.
    """
    values: dict[str, Any] = {
        "Instance": INSTANCE,
        "endpointUUID": endpoint_uuid,
        "secrets": secret_name,
        "useClientCredentials": True,
        "minBlocks": 0,
        "maxBlocks": 1,
        "initCPU": 0.1,
        "maxCPU": 1,
        "initMem": "256Mi",
    }
    if settings.image is not None:
        values["image"] = {"repository": settings.image.repository, "tag": settings.image.tag}
    if worker_namespace:
        values["workerNamespace"] = worker_namespace
    return values


def endpoint_pod(kubectl: Kubectl, release: Release) -> dict[str, Any] | None:
    """The endpoint's pod (the newest, should a restart overlap), or None before it exists."""
    found = kubectl.items(["pods"], release.namespace, manifests.pod_selector_of(release.deployment))
    return max(found, key=lambda pod: pod["metadata"]["creationTimestamp"]) if found else None


def _unstuck(pod: dict[str, Any]) -> None:
    reason = pods.stuck_reason(pod)
    if reason:
        raise EndpointFailed(
            f"the endpoint pod cannot start: {reason} (set E2E_IMAGE to an image the cluster can pull)"
        )


def wait_for_crash(kubectl: Kubectl, release: Release, timeout: float) -> tuple[dict[str, Any], pods.ContainerExit]:
    """Wait until the endpoint container has exited and been restarted at least once.

    Its previous run is then fixed, so its exit code and log can be read without racing a restart.
    """
    container = manifests.first_container_of(release.deployment)

    def probe() -> tuple[tuple[dict[str, Any], pods.ContainerExit] | None, str]:
        pod = endpoint_pod(kubectl, release)
        if pod is None:
            return None, "no endpoint pod yet"
        _unstuck(pod)
        ended = pods.container_exit(pod, container)
        return ((pod, ended) if ended and ended.previous else None), pods.summary(pod)

    return wait_for("the endpoint container to exit and restart", probe, timeout)


def wait_for_ready(kubectl: Kubectl, release: Release, timeout: float) -> dict[str, Any]:
    """Wait until the endpoint pod is ready (registered with Globus Compute); fail at once if it crashes."""
    container = manifests.first_container_of(release.deployment)

    def probe() -> tuple[dict[str, Any] | None, str]:
        pod = endpoint_pod(kubectl, release)
        if pod is None:
            return None, "no endpoint pod yet"
        _unstuck(pod)
        ended = pods.container_exit(pod, container)
        if ended is not None:
            log = kubectl.logs(release.namespace, pod["metadata"]["name"], container, previous=ended.previous)
            raise EndpointFailed(f"the endpoint exited with code {ended.exit_code}; its log ends:\n{log[-3000:]}")
        return (pod if pods.is_ready(pod) else None), pods.summary(pod)

    return wait_for("the endpoint pod to become ready", probe, timeout, interval=5.0)


def leftovers(kubectl: Kubectl, release: Release) -> list[str]:
    """Objects of the release still on the cluster: anything labelled with it (worker pods included)."""
    resources = manifests.sweep_resources(release.objects)
    found = [
        str(manifests.ref_of(obj, namespace))
        for namespace in manifests.namespaces_of(release.objects, release.namespace)
        for obj in kubectl.items(resources, namespace, release.label_selector)
    ]
    return sorted(set(found))


def wait_until_gone(kubectl: Kubectl, release: Release, timeout: float) -> None:
    def probe() -> tuple[bool | None, str]:
        left = leftovers(kubectl, release)
        return (True if not left else None), ", ".join(left)

    wait_for(f"release {release.name} to leave nothing behind", probe, timeout, interval=3.0)


def wait_until_pod_gone(kubectl: Kubectl, namespace: str, name: str, timeout: float) -> None:
    def probe() -> tuple[bool | None, str]:
        pod = kubectl.get_or_none("pod", namespace, name)
        return (True if pod is None else None), (pods.summary(pod) if pod else "")

    wait_for(f"pod {namespace}/{name} to be deleted", probe, timeout)


def release_workers(kubectl: Kubectl, workers: manifests.WorkerIdentity) -> list[str]:
    """Names of the worker pods of this endpoint still on the cluster (terminating ones included)."""
    found = kubectl.items(["pods"], workers.namespace, manifests.PARSL_JOB_LABEL)
    return sorted(pod["metadata"]["name"] for pod in found if manifests.is_release_worker(pod, workers))


def wait_until_no_workers(kubectl: Kubectl, workers: manifests.WorkerIdentity, timeout: float) -> None:
    def probe() -> tuple[bool | None, str]:
        left = release_workers(kubectl, workers)
        return (True if not left else None), ", ".join(left)

    wait_for(f"the worker pods {workers.pod_prefix}.* to be deleted", probe, timeout)
