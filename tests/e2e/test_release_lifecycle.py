"""Helm's whole life of a release on a real API server: install, upgrade, rollback, uninstall.

With the SLATE server's Helm 3.8.1 and with Helm 4, for the blog's five-key conf and for the chart's
full example, into a namespace that enforces Pod Security "restricted": every object is accepted with
no warning, an upgrade changes what it should, a rollback restores it, and an uninstall leaves no
object of the release in any namespace, of any kind the API server serves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import manifests
from e2e.kube import E2eCluster, Helm, Kubectl
from e2e.release import CHART
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

FULL_EXAMPLE = CHART / "ci" / "full-values.yaml"
HELM_VERSIONS = ("v3.8", "v4")
USER_TEMPLATE = "user_config_template.yaml.j2"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"


def blog_conf(endpoint_uuid: str) -> dict[str, Any]:
    """The five keys the SLATE blog post has a user edit, and nothing else."""
    return {
        "endpointUUID": endpoint_uuid,
        "Instance": "blog",
        "secrets": "globus-compute-creds",
        "useClientCredentials": True,
        "minBlocks": 0,
    }


def full_conf(worker_namespace: str, image: Any) -> dict[str, Any]:
    """The chart's full example, its worker namespace replaced by one the test made."""
    values: dict[str, Any] = yaml.safe_load(FULL_EXAMPLE.read_text(encoding="utf-8"))
    values["workerNamespace"] = worker_namespace
    if image is not None:
        values["image"] = {**values.get("image", {}), "repository": image.repository, "tag": image.tag}
    return values


def every_namespaced_resource(kubectl: Kubectl) -> list[str]:
    """Every namespaced resource the API server serves and can list (CRDs and aggregated APIs included)."""
    out = kubectl.run("api-resources", "--namespaced=true", "--verbs=list", "--output=name").stdout
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def objects_of_release(kubectl: Kubectl, release: str) -> list[str]:
    """Objects anywhere on the cluster that belong to the release: its label or Helm's annotation."""
    listed = kubectl.get(",".join(every_namespaced_resource(kubectl)), "--all-namespaces")
    found = []
    for obj in listed.get("items", []):
        meta = obj.get("metadata") or {}
        if (meta.get("labels") or {}).get("release") == release or (meta.get("annotations") or {}).get(
            HELM_RELEASE_ANNOTATION
        ) == release:
            found.append(f"{obj['kind']} {meta.get('namespace')}/{meta['name']}")
    return sorted(found)


def helm_run(helm: Helm, *args: str) -> str:
    """A helm call whose stderr must be empty: the API server's warnings (Pod Security's among them) go there."""
    result = helm.run(*args, timeout=240)
    assert result.stderr.strip() == "", f"helm {args[0]} printed warnings:\n{result.stderr}"
    return result.stdout


def user_template(kubectl: Kubectl, namespace: str, objects: list[dict[str, Any]]) -> str:
    name = manifests.endpoint_configmap(objects)["metadata"]["name"]
    live = kubectl.get("configmap", name, f"--namespace={namespace}")
    text: str = live["data"][USER_TEMPLATE]
    return text


def revision(helm: Helm, release: str, namespace: str) -> int:
    status = json.loads(helm.run("status", release, f"--namespace={namespace}", "--output=json").stdout)
    return int(status["version"])


@pytest.mark.parametrize("conf", ["blog", "full"])
@pytest.mark.parametrize("helm_version", HELM_VERSIONS)
def test_install_upgrade_rollback_uninstall_on_a_restricted_namespace(
    helm_version: str,
    conf: str,
    cluster: E2eCluster,
    helm_bins: dict[str, Path],
    namespace: str,
    namespace_factory_function_scope: Any,
    tmp_path: Path,
) -> None:
    kubectl = cluster.kubectl
    helm = Helm(helm_bins[helm_version], kubectl.kubeconfig)
    release = f"gce-{conf}-{helm_version.replace('.', '')}"
    if conf == "blog":
        values = blog_conf("1f0c6a52-8d4e-4b8e-9f3e-0d6a4f6f3b21")
        if cluster.settings.image is not None:
            values["image"] = {"repository": cluster.settings.image.repository, "tag": cluster.settings.image.tag}
    else:
        workers = f"{namespace}-w"
        namespace_factory_function_scope(workers, extra_metadata={"labels": _restricted_labels(kubectl, namespace)})
        values = full_conf(workers, cluster.settings.image)
    values_file = tmp_path / "conf.yaml"
    values_file.write_text(yaml.safe_dump(values), encoding="utf-8")
    common = (f"--namespace={namespace}", f"--values={values_file}", "--timeout=2m")

    helm_run(helm, "install", release, str(CHART), *common)
    objects = manifests.parse_objects(helm.manifest(release, namespace))
    missing = [
        str(manifests.ref_of(obj, namespace))
        for obj in objects
        if kubectl.get_or_none(
            manifests.resource_of(obj), manifests.ref_of(obj, namespace).namespace, obj["metadata"]["name"]
        )
        is None
    ]
    assert missing == [], "objects of the manifest the API server does not hold"
    before = user_template(kubectl, namespace, objects)

    helm_run(helm, "upgrade", release, str(CHART), *common, "--set=maxBlocks=3")
    after = user_template(kubectl, namespace, objects)
    assert "max_blocks: 3" in after and after != before
    assert revision(helm, release, namespace) == 2

    helm_run(helm, "rollback", release, "1", f"--namespace={namespace}", "--timeout=2m")
    assert user_template(kubectl, namespace, objects) == before
    assert revision(helm, release, namespace) == 3

    helm_run(helm, "uninstall", release, f"--namespace={namespace}", "--timeout=2m")

    def gone() -> tuple[bool | None, str]:
        left = objects_of_release(kubectl, release)
        return (True if not left else None), ", ".join(left)

    wait_for(f"release {release} to leave nothing in any namespace", gone, 180, interval=3.0)


def _restricted_labels(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    """The Pod Security labels of the test's namespace, for the second one it makes."""
    labels: dict[str, str] = kubectl.get("namespace", namespace)["metadata"].get("labels") or {}
    return {key: value for key, value in labels.items() if key.startswith("pod-security.kubernetes.io/")}
