"""The endpoint's ServiceAccount, as itself: a real token from the TokenRequest API, real API calls.

`auth can-i --as` (test_chart_on_cluster.py) asks the authorizer; these tests act. With the token the
API server issues for the endpoint's ServiceAccount, every call the worker provider makes succeeds,
and what it must never do (Secrets beyond its own key entries, pods elsewhere) is refused. The rules
the server reports for that token are exactly the chart's Role plus what every authenticated user has.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import manifests
from e2e.access import other_namespace
from e2e.kube import E2eCluster, Kubectl
from e2e.release import InstallRelease, Release

pytestmark = pytest.mark.e2e


def token_kubeconfig(admin: Kubectl, token: str, path: Path) -> Kubectl:
    """kubectl with only the token: the admin kubeconfig's server and CA, no client certificate."""
    config = yaml.safe_load(admin.kubeconfig.read_text(encoding="utf-8"))
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster],
                "users": [{"name": "endpoint", "user": {"token": token}}],
                "contexts": [{"name": "endpoint", "context": {"cluster": cluster["name"], "user": "endpoint"}}],
                "current-context": "endpoint",
            }
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return Kubectl(admin.binary, path)


def account_kubectl(cluster: E2eCluster, namespace: str, account: str, tmp_path: Path) -> Kubectl:
    """kubectl as ``account``, with a token the TokenRequest API issued for it."""
    token = cluster.kubectl.run("create", "token", account, f"--namespace={namespace}", "--duration=15m").stdout.strip()
    assert token.count(".") == 2, "the TokenRequest API returned no JWT"
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{namespace}:{account}"
    return token_kubeconfig(cluster.kubectl, token, tmp_path / f"{account}.kubeconfig")


def endpoint_kubectl(cluster: E2eCluster, release: Release, tmp_path: Path) -> Kubectl:
    return account_kubectl(cluster, release.namespace, manifests.service_account_of(release.deployment), tmp_path)


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
    rules = set()
    for rule in answer["status"]["resourceRules"]:
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                name = f"{resource}.{group}" if group else resource
                for verb in rule["verbs"]:
                    rules.add((verb, name, tuple(sorted(rule.get("resourceNames") or []))))
    return rules


def role_rules(objects: list[dict[str, Any]], namespace: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """The same triples, from the chart's Roles in ``namespace`` (what the chart intends)."""
    rules = set()
    for role in objects:
        if role["kind"] != "Role" or role["metadata"].get("namespace", namespace) != namespace:
            continue
        for rule in role.get("rules") or []:
            for group in rule.get("apiGroups") or [""]:
                for resource in rule.get("resources") or []:
                    name = f"{resource}.{group}" if group else resource
                    for verb in rule["verbs"]:
                        rules.add((verb, name, tuple(sorted(rule.get("resourceNames") or []))))
    return rules


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
    }
    statuses = {what: status_of(call) for what, call in refused.items()}
    assert statuses == dict.fromkeys(refused, 403)


def client_for(kubectl: Kubectl) -> Any:
    """A kubernetes CoreV1Api built from a token kubeconfig, as the provider builds its own in the pod."""
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(kubectl.kubeconfig))  # type: ignore[no-untyped-call]
    return client.CoreV1Api(api_client)


def status_of(call: Callable[[], object]) -> int:
    """The HTTP status a client call ends with (200 when it succeeds)."""
    from kubernetes.client.exceptions import ApiException

    try:
        call()
    except ApiException as exc:
        return int(exc.status)
    return 200
