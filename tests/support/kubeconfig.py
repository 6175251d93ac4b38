"""A kubeconfig that only lets ``load_kube_config()`` succeed offline: nothing ever connects to it."""

from __future__ import annotations

from typing import Any

DUMMY_KUBECONFIG: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline", "namespace": "default"}}],
    "current-context": "offline",
    "users": [{"name": "offline", "user": {"token": "dummy-token"}}],
}
