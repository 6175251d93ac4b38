"""image.digest: the pods run the exact image that was tested, by digest, under every Helm."""

from __future__ import annotations

import pytest

from chartrender import HELM_VERSIONS, SEED_FILE, HelmRenderer

DIGEST = "sha256:" + "4f2a9c0d6e8b1a3c" * 4
REPOSITORY = "registry.example.org/science/gce-endpoint"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_digest_replaces_the_tag_for_endpoint_and_workers(chart: HelmRenderer, helm: str) -> None:
    values = {"image": {"repository": REPOSITORY, "tag": "4.19.0", "digest": DIGEST}}
    rendered = chart.template(helm, values, files=[SEED_FILE])
    (container,) = rendered.deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{REPOSITORY}@{DIGEST}"
    template = rendered.configmap["data"]["user_config_template.yaml.j2"]
    assert f'image: "{REPOSITORY}@{DIGEST}"' in template
    # Pinned by digest, checkov's digest check passes on its own: its skip is gone.
    annotations = rendered.deployment["metadata"]["annotations"]
    assert not [v for v in annotations.values() if str(v).startswith("CKV_K8S_43")]


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_without_digest_the_tag_is_used(chart: HelmRenderer, helm: str) -> None:
    rendered = chart.template(helm, {"image": {"repository": REPOSITORY}}, files=[SEED_FILE])
    (container,) = rendered.deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{REPOSITORY}:4.19.0"


@pytest.mark.parametrize("digest", ["sha256:abc", "4f2a9c0d6e8b1a3c" * 4, "SHA256:" + "4F2A9C0D6E8B1A3C" * 4])
def test_malformed_digest_is_refused_by_helm(chart: HelmRenderer, digest: str) -> None:
    rendered = chart.template("v4", {"image": {"digest": digest}}, files=[SEED_FILE])
    assert not rendered.ok
    assert "digest" in rendered.stderr
