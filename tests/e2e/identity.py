"""Acting as a ServiceAccount of the cluster: a token from the TokenRequest API, kubectl and the
kubernetes client with that token alone (no client certificate that would make the caller an admin)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from e2e import manifests
from e2e.kube import E2eCluster, Kubectl
from e2e.release import Release


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
