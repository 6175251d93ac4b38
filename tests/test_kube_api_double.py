"""The Kubernetes API double of the runtime tests, spoken to by the real kubernetes client.

Runs in `make test` (no podman, no root): the double listens on this machine's loopback only, with
no pod runner, so pods are only stored. What the runtime tests and the worker-pod tests rely on:
objects of any plural stored, read, listed by label, patched and deleted; the client's errors for
missing, duplicate and refused requests; every request recorded; the bearer token checked.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from runtime.kube_api_double import KubeApiDouble, TlsFiles

NAMESPACE = "slate-group-double"
TOKEN = "double-test-token"


@pytest.fixture
def double(tmp_path: Path) -> Iterator[KubeApiDouble]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    api = KubeApiDouble(listener, TlsFiles.create(tmp_path / "tls"), TOKEN, record_dir=tmp_path / "pods").start()
    yield api
    api.stop()


def core(double: KubeApiDouble, token: str = TOKEN) -> Any:
    """The client's CoreV1Api against the double (typed Any: the tests pass plain dicts as bodies)."""
    configuration = client.Configuration()
    configuration.host = f"https://127.0.0.1:{double.port}"
    configuration.ssl_ca_cert = str(double.tls.certificate)
    configuration.api_key = {"authorization": f"bearer {token}"}
    return client.CoreV1Api(client.ApiClient(configuration))


def pod_body(name: str, labels: dict[str, str] | None = None) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "example.org/img:1", "command": ["/bin/true"]}]},
    }


def test_pods_are_created_read_listed_by_label_and_deleted(double: KubeApiDouble, tmp_path: Path) -> None:
    api = core(double)
    api.create_namespaced_pod(NAMESPACE, pod_body("w-1", {"parsl-job-id": "1"}))
    api.create_namespaced_pod(NAMESPACE, pod_body("w-2", {"other": "x"}))
    assert api.read_namespaced_pod("w-1", NAMESPACE).status.phase == "Pending"
    listed = api.list_namespaced_pod(NAMESPACE, label_selector="parsl-job-id")
    assert [pod.metadata.name for pod in listed.items] == ["w-1"]
    api.delete_namespaced_pod("w-1", NAMESPACE, body=client.V1DeleteOptions())
    with pytest.raises(client.ApiException) as missing:
        api.read_namespaced_pod("w-1", NAMESPACE)
    assert missing.value.status == 404
    # Every pod body sent is kept as an artifact, as sent: not the stored object with its uid.
    recorded = sorted((tmp_path / "pods").glob("*.json"))
    assert [p.name for p in recorded] == ["01-w-1.json", "02-w-2.json"]
    assert json.loads(recorded[0].read_text(encoding="utf-8")) == pod_body("w-1", {"parsl-job-id": "1"})
    assert [r.verb for r in double.requests] == ["create", "create", "get", "list", "delete", "get"]


def test_configmaps_and_secrets_are_stored_and_served(double: KubeApiDouble) -> None:
    api = core(double)
    double.store.put("configmaps", {"metadata": {"name": "owner", "namespace": NAMESPACE}, "data": {"a": "b"}})
    assert api.read_namespaced_config_map("owner", NAMESPACE).data == {"a": "b"}
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"K": "v"})
    api.create_namespaced_secret(NAMESPACE, secret)
    assert api.read_namespaced_secret("creds", NAMESPACE).metadata.uid
    with pytest.raises(client.ApiException) as duplicate:
        api.create_namespaced_secret(NAMESPACE, secret)
    assert duplicate.value.status == 409
    api.patch_namespaced_secret("creds", NAMESPACE, {"metadata": {"labels": {"x": "y"}}})
    assert api.read_namespaced_secret("creds", NAMESPACE).metadata.labels == {"x": "y"}
    api.delete_namespaced_secret("creds", NAMESPACE)
    assert api.list_namespaced_secret(NAMESPACE).items == []


def test_injected_failure_refuses_as_an_api_server_would(double: KubeApiDouble) -> None:
    api = core(double)
    double.fail("create", "pods", 403, times=1)
    with pytest.raises(client.ApiException) as refused:
        api.create_namespaced_pod(NAMESPACE, pod_body("w-1"))
    assert refused.value.status == 403
    assert '"reason": "Forbidden"' in str(refused.value.body)
    # Only the one refusal asked for: the next create goes through, and nothing was stored before.
    api.create_namespaced_pod(NAMESPACE, pod_body("w-1"))
    assert [r.status for r in double.requests_for("create", "pods")] == [403, 201]


def test_requests_without_the_token_are_unauthorized(double: KubeApiDouble) -> None:
    with pytest.raises(client.ApiException) as refused:
        core(double, token="wrong").list_namespaced_pod(NAMESPACE)
    assert refused.value.status == 401


def test_patches_follow_their_content_type(double: KubeApiDouble) -> None:
    api = core(double)
    data = {"a": "QQ==", "b": "Qg==", "c": "Qw=="}
    api.create_namespaced_secret(NAMESPACE, {"metadata": {"name": "keys"}, "data": data})
    # JSON patch (a list of operations), as kubectl patch --type=json sends it.
    operations = [
        {"op": "test", "path": "/data/a", "value": "QQ=="},
        {"op": "remove", "path": "/data/a"},
        {"op": "add", "path": "/data/d", "value": "RA=="},
        {"op": "replace", "path": "/data/b", "value": "Yg=="},
    ]
    api.patch_namespaced_secret("keys", NAMESPACE, operations, _content_type="application/json-patch+json")
    assert api.read_namespaced_secret("keys", NAMESPACE).data == {"b": "Yg==", "c": "Qw==", "d": "RA=="}
    # Merge patch: null removes an entry, the rest is merged.
    api.patch_namespaced_secret(
        "keys", NAMESPACE, {"data": {"c": None, "e": "RQ=="}}, _content_type="application/merge-patch+json"
    )
    assert api.read_namespaced_secret("keys", NAMESPACE).data == {"b": "Yg==", "d": "RA==", "e": "RQ=="}
    # Strategic merge patch (the client's choice for an object body): a merge for a Secret's data.
    api.patch_namespaced_secret("keys", NAMESPACE, {"data": {"b": None}})
    assert api.read_namespaced_secret("keys", NAMESPACE).data == {"d": "RA==", "e": "RQ=="}
    assert [r.status for r in double.requests_for("patch", "secrets")] == [200, 200, 200]


def test_a_json_patch_that_does_not_apply_is_invalid(double: KubeApiDouble) -> None:
    api = core(double)
    api.create_namespaced_secret(NAMESPACE, {"metadata": {"name": "keys"}, "data": {"a": "QQ=="}})
    for operations in ([{"op": "test", "path": "/data/a", "value": "other"}], [{"op": "remove", "path": "/data/z"}]):
        with pytest.raises(client.ApiException) as invalid:
            api.patch_namespaced_secret("keys", NAMESPACE, operations, _content_type="application/json-patch+json")
        assert invalid.value.status == 422
    assert api.read_namespaced_secret("keys", NAMESPACE).data == {"a": "QQ=="}
