"""The pods a release will run, built from what Helm renders: the endpoint pod and a worker pod.

The endpoint pod is the Deployment's pod template. A worker pod is made at run time by the chart's
provider (files/gce_release_provider.py), so it is built here by that very provider, with the
settings the chart's user config template gives it, rendered as the endpoint renders it: the shape
the API server will see, not a copy of it kept by hand. The provider needs Parsl and the Kubernetes
client (both come with globus-compute-endpoint); without them the worker pod cannot be built.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import yaml

from gce_values import resources

TEMPLATE = "user_config_template.yaml.j2"
# Stand-ins for what exists only at run time: the endpoint pod's address, the owner ConfigMap's uid,
# the interchange's certificate directory and Parsl's job id. None of them changes what admission sees.
POD_IP = "10.0.0.1"
OWNER_UID = "00000000-0000-4000-8000-000000000000"
CERT_DIR = "/run/gce-doctor/certs"
JOB_ID = "doctor"
_OFFLINE_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:1"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
    "current-context": "offline",
    "users": [{"name": "offline", "user": {"token": "unused"}}],
}


class ShapeUnavailable(Exception):
    """The worker pod cannot be built here; the message says what is missing."""


def documents(manifests: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifests) if isinstance(doc, dict)]


def endpoint_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod the endpoint's Deployment will create, as a Pod object of its own."""
    deployment = next(obj for obj in objects if obj.get("kind") == "Deployment")
    template = deployment["spec"]["template"]
    metadata = {
        **(template.get("metadata") or {}),
        "name": f"{deployment['metadata']['name']}-doctor",
        "namespace": deployment["metadata"]["namespace"],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def provider_settings(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The provider's settings from the rendered user config template, and whether the engine encrypts.

    Rendered with no submission variables, so the conf's defaults hold, as for a plain submission.
    """
    text = next(
        str(obj["data"][TEMPLATE])
        for obj in objects
        if obj.get("kind") == "ConfigMap" and TEMPLATE in (obj.get("data") or {})
    )
    rendered = jinja2.Environment(autoescape=False).from_string(text).render(_GC={"env": {"POD_IP": POD_IP}})
    engine = yaml.safe_load(rendered)["engine"]
    settings = dict(engine["provider"])
    settings.pop("type", None)
    return settings, engine.get("encrypted") is not False


def load_provider() -> ModuleType:
    """The chart's provider module, from the chart this tool carries."""
    path = resources.chart_dir() / "files" / "gce_release_provider.py"
    spec = importlib.util.spec_from_file_location("gce_release_provider", path)
    if spec is None or spec.loader is None:
        raise ShapeUnavailable(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        raise ShapeUnavailable(
            f"the chart's worker provider needs {(exc.name or 'a module').partition('.')[0]}, not installed here "
            "(pip install globus-compute-endpoint)"
        ) from None
    return module


def worker_pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """A worker pod as the chart's provider would send it for this release."""
    settings, encrypted = provider_settings(objects)
    module = load_provider()
    with _offline_kubeconfig():
        provider = module.ReleaseKubernetesProvider(**settings)
    name, namespace = settings["owner_config_map"], settings["namespace"]
    provider.owner_reference = lambda: {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "uid": OWNER_UID}
    launch = "process_worker_pool" + (f" --cert_dir {CERT_DIR}" if encrypted else "")
    command, _ = module.worker_command(launch)
    pod: dict[str, Any] = provider.pod_body(
        settings["image"], f"{settings['pod_name']}.{JOB_ID}", JOB_ID, command, None
    )
    pod["metadata"]["namespace"] = namespace
    return pod


@contextmanager
def _offline_kubeconfig() -> Iterator[None]:
    """Parsl's provider loads a kubeconfig when it is made; let it load one that reaches nothing.

    Not the user's: reading it may run a login plugin, and the pod body needs no connection. The
    kubernetes client fixes its default kubeconfig path when first imported, so that is what is set.
    """
    from kubernetes.config import kube_config

    previous = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    with tempfile.TemporaryDirectory(prefix="gce-doctor-") as scratch:
        path = Path(scratch) / "kubeconfig"
        path.write_text(yaml.safe_dump(_OFFLINE_KUBECONFIG), encoding="utf-8")
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
        try:
            yield
        finally:
            kube_config.KUBE_CONFIG_DEFAULT_LOCATION = previous
