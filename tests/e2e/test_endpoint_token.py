"""The endpoint's ServiceAccount, as itself: a real token from the TokenRequest API, real API calls.

`auth can-i --as` (test_chart_on_cluster.py) asks the authorizer; these tests act. With the token the
API server issues for the endpoint's ServiceAccount, every call the worker provider makes succeeds,
and what it must never do (Secrets beyond its own key entries, pods elsewhere) is refused. The rules
the server reports for that token are exactly the chart's Role plus what every authenticated user has.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e import manifests
from e2e.access import other_namespace
from e2e.identity import account_kubectl, client_for, endpoint_kubectl, status_of
from e2e.kube import E2eCluster, Kubectl
from e2e.release import InstallRelease

pytestmark = pytest.mark.e2e


def baseline_rules(cluster: E2eCluster, namespace: str, tmp_path: Path) -> set[tuple[str, str, tuple[str, ...]]]:
    """What any ServiceAccount without a binding of its own is granted (the cluster's defaults)."""
    cluster.kubectl.run("create", "serviceaccount", "gce-e2e-nobody", f"--namespace={namespace}")
    return granted_rules(account_kubectl(cluster, namespace, "gce-e2e-nobody", tmp_path), namespace)


def granted_rules(kubectl: Kubectl, namespace: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """(verb, resource.group, resourceNames) the server says the caller may use in ``namespace``."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    }
    # --validate=false: client-side validation lists CRDs, which this caller may not (the server validates).
    created = kubectl.run("create", "--validate=false", "--filename=-", "--output=json", stdin=json.dumps(review))
    answer = json.loads(created.stdout)
    return {triple for rule in answer["status"]["resourceRules"] for triple in rule_triples(rule)}


def role_rules(objects: list[dict[str, Any]], namespace: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """The same triples, from the chart's Roles in ``namespace`` (what the chart intends)."""
    roles = [
        obj for obj in objects if obj["kind"] == "Role" and obj["metadata"].get("namespace", namespace) == namespace
    ]
    return {triple for role in roles for rule in role.get("rules") or [] for triple in rule_triples(rule)}


def rule_triples(rule: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    """One RBAC rule (a Role's, or a SelfSubjectRulesReview's, which have the same fields) as triples."""
    names = tuple(sorted(rule.get("resourceNames") or []))
    return {
        (verb, f"{resource}.{group}" if group else resource, names)
        for group in rule.get("apiGroups") or [""]
        for resource in rule.get("resources") or []
        for verb in rule["verbs"]
    }


def test_the_token_is_granted_exactly_the_charts_role(
    worker_namespace: str, install_release: InstallRelease, cluster: E2eCluster, tmp_path: Path
) -> None:
    release = install_release(worker_namespace=worker_namespace)
    as_endpoint = endpoint_kubectl(cluster, release, tmp_path)
    worker_ns = release.worker_identity().namespace

    baseline = baseline_rules(cluster, worker_ns, tmp_path)

    granted = granted_rules(as_endpoint, worker_ns) - baseline

    assert granted == role_rules(release.objects, worker_ns)
    assert {verb for verb, resource, _ in granted if resource == "pods"} == {"create", "get", "delete"}
    elsewhere = other_namespace(release.namespace, worker_ns)
    assert granted_rules(as_endpoint, elsewhere) - baseline == set()


def test_every_call_the_provider_makes_succeeds_and_nothing_more(
    worker_namespace: str,
    install_release: InstallRelease,
    cluster: E2eCluster,
    tmp_path: Path,
    run_labels: dict[str, str],
) -> None:
    """The provider's calls, made as it makes them: the kubernetes client, the endpoint's token, by name."""
    release = install_release(worker_namespace=worker_namespace)
    api = client_for(endpoint_kubectl(cluster, release, tmp_path))
    workers = release.worker_identity()
    ns = workers.namespace

    owner = api.read_namespaced_config_map(workers.owner_config_map, ns)
    pod = manifests.worker_pod_manifest(
        workers, "tokentest1", cluster.settings.worker_image, {**run_labels, **workers.labels}, owner.metadata.uid
    )
    api.create_namespaced_pod(ns, pod)
    api.read_namespaced_pod(pod["metadata"]["name"], ns)
    api.patch_namespaced_secret(workers.keys_secret, ns, {"metadata": {"annotations": {"gce-e2e/touched": "yes"}}})
    api.delete_namespaced_pod(pod["metadata"]["name"], ns)

    elsewhere = other_namespace(release.namespace, ns)
    stolen = {"metadata": {"name": "gce-e2e-stolen"}, "stringData": {"a": "b"}}
    refused: dict[str, Callable[[], object]] = {
        "list secrets": lambda: api.list_namespaced_secret(ns),
        "read the keys secret": lambda: api.read_namespaced_secret(workers.keys_secret, ns),
        "create a secret": lambda: api.create_namespaced_secret(ns, stolen),
        "patch another secret": lambda: api.patch_namespaced_secret(f"{workers.keys_secret}-other", ns, {}),
        "list pods": lambda: api.list_namespaced_pod(ns),
        "read pods elsewhere": lambda: api.list_namespaced_pod(elsewhere),
        "create a pod elsewhere": lambda: api.create_namespaced_pod(elsewhere, {**pod, "metadata": {"name": "x"}}),
        "exec into a pod": lambda: api.connect_get_namespaced_pod_exec("x", ns, command=["true"]),
        # OwnerReferencesPermissionEnforcement: blocking the owner's deletion needs rights on its
        # finalizers, which the endpoint has not; the provider's references do not ask for it.
        "block the owner's deletion": lambda: api.create_namespaced_pod(ns, blocking_owner(pod)),
    }
    statuses = {what: status_of(call) for what, call in refused.items()}
    assert statuses == dict.fromkeys(refused, 403)


def blocking_owner(pod: dict[str, Any]) -> dict[str, Any]:
    """The worker pod under another name, its owner reference asking to block the owner's deletion."""
    references = [{**ref, "blockOwnerDeletion": True} for ref in pod["metadata"]["ownerReferences"]]
    return {**pod, "metadata": {**pod["metadata"], "name": "blocking", "ownerReferences": references}}
