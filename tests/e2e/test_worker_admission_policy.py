"""The opt-in ValidatingAdmissionPolicy on a real API server: the endpoint's token runs worker pods only.

RBAC cannot limit pod create to a shape, so with `workerAdmissionPolicy.enabled` (plain Helm) the
chart installs a policy that admits, from the endpoint's ServiceAccount, only pods of this release's
worker shape. Here the API server evaluates it: a worker-shaped pod passes, a pod of another image,
one that mounts another Secret, or one that runs as another ServiceAccount is refused, with the
policy's message; the same pods from another identity (the admin) are not its business; and the worker pods the chart's
provider creates pass it, so a function still runs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from e2e import engine, manifests
from e2e.identity import client_for, endpoint_kubectl, status_of
from e2e.kube import E2eCluster
from e2e.release import InstallRelease
from e2e.settings import Credentials
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])


def worker_shape(cluster: E2eCluster, release: Any, run_labels: dict[str, str], owner_uid: str) -> dict[str, Any]:
    """A pod as the provider makes it: the worker image, the release's labels, owned by the owner ConfigMap,
    the workers' ServiceAccount without its token."""
    workers = release.worker_identity()
    image = f"{cluster.settings.image.repository}:{cluster.settings.image.tag}" if cluster.settings.image else ""
    pod = manifests.worker_pod_manifest(workers, "vap00001", image, {**run_labels, **workers.labels}, owner_uid)
    pod["spec"]["serviceAccountName"] = workers.service_account
    return pod


def test_the_policy_admits_the_worker_shape_and_refuses_any_other_pod(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str], tmp_path: Path
) -> None:
    from kubernetes.client.exceptions import ApiException

    release = install_release(credentials=DUMMY, extra_values={"workerAdmissionPolicy": {"enabled": True}})
    kinds = {obj["kind"] for obj in release.objects}
    assert {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} <= kinds
    api = client_for(endpoint_kubectl(cluster, release, tmp_path))
    workers = release.worker_identity()
    owner = api.read_namespaced_config_map(workers.owner_config_map, workers.namespace)
    good = worker_shape(cluster, release, run_labels, owner.metadata.uid)

    def named(pod: dict[str, Any], name: str) -> dict[str, Any]:
        changed = copy.deepcopy(pod)
        changed["metadata"]["name"] = workers.pod_name(name)
        return changed

    other_image = named(good, "vap00002")
    other_image["spec"]["containers"][0]["image"] = "docker.io/library/busybox:latest"
    other_secret = named(good, "vap00003")
    other_secret["spec"]["volumes"] = [{"name": "loot", "secret": {"secretName": "someone-elses"}}]
    other_secret["spec"]["containers"][0]["volumeMounts"] = [{"name": "loot", "mountPath": "/loot"}]
    other_account = named(good, "vap00004")
    other_account["spec"]["serviceAccountName"] = "default"

    # The API server compiles a new policy and starts enforcing it shortly after it is created: wait
    # (with dry runs, which pass through admission but store nothing) until it refuses a foreign image.
    wait_for(
        "the admission policy to be in force",
        lambda: (True if status_of(lambda: api.create_namespaced_pod(workers.namespace, other_image, dry_run="All"))
                 in (403, 422) else None, "a foreign image is still admitted"),
        60,
    )  # fmt: skip
    api.create_namespaced_pod(workers.namespace, good)
    refusals: dict[str, str] = {}
    for what, pod in {"image": other_image, "secret": other_secret, "account": other_account}.items():
        try:
            api.create_namespaced_pod(workers.namespace, pod)
            refusals[what] = "admitted"
        except ApiException as exc:
            refusals[what] = f"{exc.status} {exc.body}"
    assert all(text.startswith(("403", "422")) for text in refusals.values()), refusals
    assert "ValidatingAdmissionPolicy" in refusals["image"] and "worker image" in refusals["image"], refusals
    assert "Secret" in refusals["secret"], refusals
    assert "service account" in refusals["account"], refusals
    # The admin is not the endpoint: the policy does not apply to it.
    cluster.kubectl.create(named(other_image, "vap00005"))

    # And the pods the chart's provider really makes pass it: a function runs through one.
    engine.run_driver(cluster.kubectl, release, ["--no-error-task", "--idle-wait", "0"], run_labels)
    events, log = engine.wait_for_events(cluster.kubectl, release, "shutdown", 600)
    assert engine.results(events, "hello_world") == ["Hello World!"], log[-4000:]
