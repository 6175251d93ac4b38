"""Ordinary things a cluster does behind the endpoint's back, and tasks that still complete.

A worker pod deleted by hand, worker pods evicted by a drain of their node, the owner ConfigMap
recreated (a new uid): each between two tasks of one engine run, on the real control plane. Before the
provider's fixes (issue 22) the first two left the lost block RUNNING forever, and the third had the
garbage collector delete every new worker at birth: the second task never finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from e2e import engine, manifests
from e2e.kube import E2eCluster, Kubectl
from e2e.release import InstallRelease, Release, release_workers, wait_until_pod_gone
from e2e.settings import Credentials
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])
RUN_TIMEOUT = 600.0
# Between the two tasks: time for the disturbance, for the engine to notice it and to start a worker.
HOLD_SECONDS = "45"


def first_worker(kubectl: Kubectl, release: Release) -> str:
    workers = release.worker_identity()
    return wait_for(
        "a worker pod of the release",
        lambda: ((names[0] if (names := release_workers(kubectl, workers)) else None), "none yet"),
        60,
    )


def run_around(
    cluster: E2eCluster,
    install_release: InstallRelease,
    run_labels: dict[str, str],
    disturb: Callable[[Kubectl, Release], None],
    **values: object,
) -> list[dict[str, object]]:
    """Two hello_world tasks with a pause between them, ``disturb`` run in the pause; the driver's events."""
    kubectl = cluster.kubectl
    # A task that was on the lost worker fails with ManagerLost unless the engine may run it again: the
    # retries the chart offers for that (maxRetriesOnSystemFailure) are on, as a user who expects this would set.
    release = install_release(
        credentials=DUMMY, extra_values={"maxBlocks": 1, "maxRetriesOnSystemFailure": 2, **values}
    )
    args = ["--tasks", "2", "--hold", HOLD_SECONDS, "--no-error-task", "--idle-wait", "0", "--result-timeout", "300"]
    engine.run_driver(kubectl, release, args, run_labels)
    engine.wait_for_events(kubectl, release, "managers", RUN_TIMEOUT)
    disturb(kubectl, release)
    events, log = engine.wait_for_events(kubectl, release, "shutdown", RUN_TIMEOUT)
    assert engine.results(events, "hello_world") == ["Hello World!", "Hello World!"], log[-5000:]
    return events


def test_a_worker_pod_deleted_by_hand_is_replaced_and_the_next_task_completes(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    def delete_worker(kubectl: Kubectl, release: Release) -> None:
        name = first_worker(kubectl, release)
        namespace = release.worker_identity().namespace
        kubectl.run("delete", "pod", name, f"--namespace={namespace}", "--wait=true", timeout=120)

    run_around(cluster, install_release, run_labels, delete_worker, maxIdleTime=600)


def test_workers_evicted_by_a_node_drain_are_replaced_after_uncordon(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    def drain_workers(kubectl: Kubectl, release: Release) -> None:
        name = first_worker(kubectl, release)
        node = json.loads(kubectl.run("get", "nodes", "--output=json").stdout)["items"][0]["metadata"]["name"]
        workers = release.worker_identity()
        # Only the workers are evicted (the endpoint pod is the test's driver); --force because a worker's
        # owner is a ConfigMap, not a controller that would recreate it.
        selector = f"{manifests.PARSL_JOB_LABEL},{','.join(f'{k}={v}' for k, v in workers.labels.items())}"
        try:
            kubectl.run("drain", node, f"--pod-selector={selector}", "--force", "--timeout=120s", timeout=180)
            wait_until_pod_gone(kubectl, workers.namespace, name, timeout=120)
        finally:
            kubectl.run("uncordon", node)

    run_around(cluster, install_release, run_labels, drain_workers, maxIdleTime=600)


def test_a_recreated_owner_configmap_owns_the_next_workers(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    recreated: dict[str, str] = {}

    def recreate_owner(kubectl: Kubectl, release: Release) -> None:
        workers = release.worker_identity()
        namespace = f"--namespace={workers.namespace}"
        # The idle worker goes first (maxIdleTime 5 s), so the next task needs a new block.
        wait_for(
            "the idle worker to be scaled in",
            lambda: (True if not release_workers(kubectl, workers) else None, "still there"),
            120,
        )
        owner = json.loads(kubectl.run("get", "configmap", workers.owner_config_map, namespace, "--output=json").stdout)
        kubectl.run("delete", "configmap", workers.owner_config_map, namespace)
        fresh = {key: owner[key] for key in ("apiVersion", "kind", "data") if key in owner}
        fresh["metadata"] = {
            k: v for k, v in owner["metadata"].items() if k in ("name", "namespace", "labels", "annotations")
        }
        kubectl.create(fresh)
        recreated["old"] = owner["metadata"]["uid"]
        recreated["new"] = kubectl.get("configmap", workers.owner_config_map, namespace)["metadata"]["uid"]

    events = run_around(cluster, install_release, run_labels, recreate_owner, maxIdleTime=5)
    assert recreated["old"] != recreated["new"]
    assert len([e for e in events if e["event"] == "result"]) == 2
