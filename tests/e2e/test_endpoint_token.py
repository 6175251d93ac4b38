"""The endpoint's ServiceAccount, as itself: a real token from the TokenRequest API, real API calls.

`auth can-i --as` (test_chart_on_cluster.py) asks the authorizer; these tests act. With the token the
API server issues for the endpoint's ServiceAccount, every call the worker provider makes succeeds,
and what it must never do (Secrets beyond its own key entries, pods elsewhere) is refused. The rules
the server reports for that token are exactly the chart's Role plus what every authenticated user has.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import manifests
from e2e.access import other_namespace
from e2e.kube import E2eCluster, Kubectl
from e2e.release import InstallRelease, Release

pytestmark = pytest.mark.e2e

# Resource rules the API server grants every authenticated user (ClusterRole system:basic-user).
BASIC_USER_RESOURCES = {
    "selfsubjectaccessreviews.authorization.k8s.io",
    "selfsubjectrulesreviews.authorization.k8s.io",
    "selfsubjectreviews.authentication.k8s.io",
}


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


def endpoint_kubectl(cluster: E2eCluster, release: Release, tmp_path: Path) -> Kubectl:
    account = manifests.service_account_of(release.deployment)
    token = cluster.kubectl.run(
        "create", "token", account, f"--namespace={release.namespace}", "--duration=15m"
    ).stdout.strip()
    assert token.count(".") == 2, "the TokenRequest API returned no JWT"
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{release.namespace}:{account}"
    return token_kubeconfig(cluster.kubectl, token, tmp_path / "endpoint.kubeconfig")


def granted_rules(kubectl: Kubectl, namespace: str) -> set[tuple[str, str, tuple[str, ...]]]:
    """(verb, resource.group, resourceNames) the server says the caller may use in ``namespace``."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    }
    answer = json.loads(kubectl.run("create", "--filename=-", "--output=json", stdin=json.dumps(review)).stdout)
    rules = set()
    for rule in answer["status"]["resourceRules"]:
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                name = f"{resource}.{group}" if group else resource
                if name in BASIC_USER_RESOURCES:
                    continue
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

    granted = granted_rules(as_endpoint, worker_ns)

    assert granted == role_rules(release.objects, worker_ns)
    assert {verb for verb, resource, _ in granted if resource == "pods"} == {"create", "get", "delete"}
    elsewhere = other_namespace(release.namespace, worker_ns)
    assert granted_rules(as_endpoint, elsewhere) == set()


def test_every_call_the_provider_makes_succeeds_and_nothing_more(
    worker_namespace: str,
    install_release: InstallRelease,
    cluster: E2eCluster,
    tmp_path: Path,
    run_labels: dict[str, str],
) -> None:
    release = install_release(worker_namespace=worker_namespace)
    as_endpoint = endpoint_kubectl(cluster, release, tmp_path)
    workers = release.worker_identity()
    ns = f"--namespace={workers.namespace}"

    # The provider's calls, by name, as it makes them.
    owner = json.loads(as_endpoint.run("get", "configmap", workers.owner_config_map, ns, "--output=json").stdout)
    pod = manifests.worker_pod_manifest(
        workers, "tokentest1", cluster.settings.worker_image, {**run_labels, **workers.labels}, owner["metadata"]["uid"]
    )
    as_endpoint.create(pod)
    as_endpoint.run("get", "pod", pod["metadata"]["name"], ns, "--output=json")
    as_endpoint.run(
        "patch",
        "secret",
        workers.keys_secret,
        ns,
        "--type=merge",
        '--patch={"metadata":{"annotations":{"gce-e2e/touched":"yes"}}}',
    )
    as_endpoint.run("delete", "pod", pod["metadata"]["name"], ns, "--wait=false")

    refused = {
        "list secrets": ["get", "secrets", ns],
        "read the keys secret": ["get", "secret", workers.keys_secret, ns],
        "create a secret": ["create", "secret", "generic", "gce-e2e-stolen", "--from-literal=a=b", ns],
        "list pods": ["get", "pods", ns],
        "read pods elsewhere": ["get", "pods", f"--namespace={other_namespace(release.namespace, workers.namespace)}"],
        "patch another secret": ["patch", "secret", f"{workers.keys_secret}-other", ns, "--type=merge", "--patch={}"],
    }
    answers = {what: as_endpoint.run(*argv, check=False) for what, argv in refused.items()}
    allowed = [what for what, result in answers.items() if result.returncode == 0 or "Forbidden" not in result.stderr]
    assert allowed == [], {what: answers[what].stderr for what in allowed}
