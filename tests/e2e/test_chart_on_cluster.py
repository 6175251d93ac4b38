"""The chart on a live cluster, without Globus credentials: install, labels, rights, uninstall, failure message.

Opt-in (see tests/e2e/README.md): `make e2e KUBECONFIG=~/.kube/config`. Each test installs its own
release into its own namespace (or into E2E_NAMESPACE) and removes it again.
"""

from __future__ import annotations

from typing import Any

import pytest

from e2e import access, manifests
from e2e.kube import E2eCluster, Kubectl
from e2e.release import (
    EX_CONFIG,
    INSTANCE,
    InstallRelease,
    Release,
    wait_for_crash,
    wait_until_gone,
    wait_until_pod_gone,
)
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

# The entrypoint's message when the credentials secret is missing or has no client ID (files/entrypoint.sh).
NO_CLIENT_ID = "no client ID in the credentials secret"


def _release_objects(kubectl: Kubectl, release: Release) -> list[dict[str, Any]]:
    """Everything labelled release=<name> in the release's namespaces, of the kinds it is made of."""
    resources = manifests.sweep_resources(release.objects)
    return [
        obj
        for namespace in manifests.namespaces_of(release.objects, release.namespace)
        for obj in kubectl.items(resources, namespace, release.label_selector)
    ]


def test_every_object_of_the_release_carries_the_slate_labels(
    install_release: InstallRelease, cluster: E2eCluster
) -> None:
    """`slate instance info/logs/scale` find an instance's objects by `release=<name>`: every object the
    release made, and the endpoint pod its Deployment starts, must carry it and SLATE's other labels."""
    release = install_release()

    def probe() -> tuple[list[dict[str, Any]] | None, str]:
        found = _release_objects(cluster.kubectl, release)
        has_pod = any(obj["kind"] == "Pod" for obj in found)
        return (found if has_pod else None), ", ".join(str(manifests.ref_of(obj)) for obj in found)

    found = wait_for("the endpoint pod to appear under the release label", probe, cluster.settings.pod_timeout)

    assert manifests.missing_refs(release.objects, found, release.namespace) == []
    assert manifests.label_problems(found, release.name, INSTANCE) == []


def test_endpoint_may_manage_worker_pods_and_nothing_else(
    worker_namespace: str, install_release: InstallRelease, cluster: E2eCluster
) -> None:
    """The endpoint's token is in a pod that talks to the internet: it may start, watch and delete pods
    in the worker namespace only; worker pods, which run users' functions, may do nothing."""
    release = install_release(worker_namespace=worker_namespace)
    workers = release.worker_identity()
    assert workers.namespace == worker_namespace
    assert workers.service_account, "worker pods should run under the chart's own rights-less service account"

    checks = access.service_account_checks(
        release.namespace,
        manifests.service_account_of(release.deployment),
        workers.namespace,
        workers.service_account,
        workers.owner_config_map,
        workers.keys_secret,
    )
    contrary = [str(check) for check in checks if cluster.kubectl.can_i(check) != check.expected]

    assert contrary == [], "the cluster answers contrary to these expectations"


def test_uninstall_deletes_this_endpoints_workers_only_and_leaves_nothing(
    worker_namespace: str, install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    """A worker pod owned by the release's ConfigMap, as the provider makes it, goes with the release
    (Kubernetes' garbage collector; no hook runs); a pod of another release stays; nothing is left."""
    kubectl, image = cluster.kubectl, cluster.settings.worker_image
    release = install_release(worker_namespace=worker_namespace)
    workers = release.worker_identity()
    owner = kubectl.get_or_none("configmap", workers.namespace, workers.owner_config_map)
    assert owner is not None, f"no ConfigMap {workers.owner_config_map} in {workers.namespace}"
    others = {key: f"{value}-other" for key, value in workers.labels.items()}
    ours = manifests.worker_pod_manifest(
        workers, "abcd1234", image, {**run_labels, **workers.labels}, owner["metadata"]["uid"]
    )
    decoy = manifests.worker_pod_manifest(workers, "decoy5678", image, {**run_labels, **others})
    assert manifests.is_release_worker(ours, workers)
    assert not manifests.is_release_worker(decoy, workers)
    kubectl.create(ours)
    kubectl.create(decoy)

    cluster.helm.uninstall(release.name, release.namespace)

    wait_until_pod_gone(kubectl, workers.namespace, ours["metadata"]["name"], timeout=120)
    survivor = kubectl.get_or_none("pod", workers.namespace, decoy["metadata"]["name"])
    assert survivor is not None, "uninstalling deleted a worker pod of another release"
    assert "deletionTimestamp" not in survivor["metadata"], "uninstalling deleted a worker pod of another release"
    wait_until_gone(kubectl, release, timeout=180)


def test_missing_credentials_secret_stops_the_endpoint_with_the_documented_message(
    install_release: InstallRelease, cluster: E2eCluster
) -> None:
    """A conf naming a secret that does not exist must not leave the endpoint waiting at a login prompt:
    the container exits with EX_CONFIG and a log line that says what is missing."""
    release = install_release()  # without credentials: the secret the conf names is never created

    pod, ended = wait_for_crash(cluster.kubectl, release, cluster.settings.pod_timeout)
    container = manifests.first_container_of(release.deployment)
    log = cluster.kubectl.logs(release.namespace, pod["metadata"]["name"], container, previous=True)

    assert ended.exit_code == EX_CONFIG, log
    assert NO_CLIENT_ID in log + ended.message, log
