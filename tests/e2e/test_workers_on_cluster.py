"""Functions through worker pods that the chart's endpoint pod starts on the cluster, and their end.

The endpoint pod is the chart's (its Deployment, ServiceAccount token, ConfigMaps and entrypoint); only
the part that talks to Globus is replaced by the engine driver (``e2e/engine.py``). The worker pods are
created by the chart's provider through that ServiceAccount, admitted by the real API server (RBAC,
Pod Security "restricted", OwnerReferencesPermissionEnforcement), scheduled and run by the real kubelet,
and deleted by Kubernetes' garbage collector when the release goes.
"""

from __future__ import annotations

import pytest

from e2e import engine, manifests
from e2e.kube import E2eCluster
from e2e.release import InstallRelease, release_workers, wait_until_no_workers
from e2e.settings import Credentials
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])
RUN_TIMEOUT = 600.0


def test_hello_world_returns_through_worker_pods_the_endpoint_started(
    worker_namespace: str, install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    kubectl = cluster.kubectl
    # Idle workers go after 5 s, so the test sees the engine scale its pod in.
    release = install_release(worker_namespace=worker_namespace, credentials=DUMMY, extra_values={"maxIdleTime": 5})
    workers = release.worker_identity()
    engine.run_driver(kubectl, release, ["--idle-wait", "120"], run_labels)

    events, log = engine.wait_for_events(kubectl, release, "idle", RUN_TIMEOUT)

    assert engine.results(events, "hello_world") == ["Hello World!"], log[-4000:]
    errors = [e for e in events if e["event"] == "error" and e["function"] == "fail_on_purpose"]
    assert len(errors) == 1 and errors[0]["code"] == "RemoteExecutionError", log[-4000:]
    assert "registered" in [e["event"] for e in events]
    # The idle worker was scaled in: the provider deleted its pod through the API.
    (idle,) = [e for e in events if e["event"] == "idle"]
    assert set(idle["jobs"].values()) == {"CANCELLED"}, idle
    wait_until_no_workers(kubectl, workers, timeout=120)


def test_uninstall_deletes_running_workers_after_the_endpoint_was_killed(
    worker_namespace: str, install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    kubectl = cluster.kubectl
    release = install_release(worker_namespace=worker_namespace, credentials=DUMMY)
    workers = release.worker_identity()
    # One task, then a long wait before the next: the worker pod stays up, busy or idle.
    engine.run_driver(kubectl, release, ["--tasks", "2", "--hold", "900", "--no-error-task"], run_labels)
    events, log = engine.wait_for_events(kubectl, release, "managers", RUN_TIMEOUT)
    assert engine.results(events, "hello_world") == ["Hello World!"], log[-4000:]
    running = release_workers(kubectl, workers)
    assert running, "no worker pod of the release while a task had just run"

    # Killed, not stopped: no chance to scale in or delete anything.
    pod = engine.driver_pod(kubectl, release)
    assert pod is not None
    kubectl.run(
        "delete", "pod", pod["metadata"]["name"], f"--namespace={release.namespace}", "--grace-period=0", "--force"
    )
    still = wait_for(
        "the worker pods to outlive their endpoint",
        lambda: ((left or None), "") if (left := release_workers(kubectl, workers)) else (None, "none left"),
        30,
    )
    assert set(running) <= set(still)

    cluster.helm.uninstall(release.name, release.namespace)

    wait_until_no_workers(kubectl, workers, timeout=180)
    owner = kubectl.get_or_none("configmap", workers.namespace, workers.owner_config_map)
    assert owner is None


def test_worker_pods_carry_the_owner_the_garbage_collector_follows(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    """What the provider sent passed admission as it is: owned by the live owner ConfigMap (its uid)."""
    kubectl = cluster.kubectl
    release = install_release(credentials=DUMMY)
    workers = release.worker_identity()
    engine.run_driver(kubectl, release, ["--tasks", "2", "--hold", "900", "--no-error-task"], run_labels)
    engine.wait_for_events(kubectl, release, "managers", RUN_TIMEOUT)
    owner = kubectl.get_or_none("configmap", workers.namespace, workers.owner_config_map)
    assert owner is not None
    for name in release_workers(kubectl, workers):
        pod = kubectl.get_or_none("pod", workers.namespace, name)
        assert pod is not None
        assert manifests.is_release_worker(pod, workers)
        (reference,) = pod["metadata"]["ownerReferences"]
        assert reference["uid"] == owner["metadata"]["uid"]
        assert reference["kind"] == "ConfigMap" and reference["name"] == workers.owner_config_map
