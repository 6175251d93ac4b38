"""What a user installs after a tag, installed the way the README says, from registries of our own.

The chart comes from the OCI registry (pushed there by each Helm the chart supports), the kubelet
pulls the endpoint image from the same registry with the chart's imagePullSecret, and pip installs
gce-values from the package index into a fresh environment. See conftest.py for what is started.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from e2e import manifests
from e2e.settings import Credentials
from release.commands import HELM_INSTALL, INIT, PIP_INSTALL, TOOL_VERSION, render
from release.conftest import RELEASE_REPOSITORY, REPO_ROOT, Rehearsal, publish
from release.registries import REGISTRY_HOST, USERNAME

T = TypeVar("T")
PULL_SECRET = "registry-login"
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")


def helm_tls(helm_key: str, ca_file: Path) -> tuple[list[str], dict[str, str]]:
    """Helm 3.8 has no --ca-file for OCI registries and trusts a private CA only through SSL_CERT_FILE."""
    if helm_key == "v3.8":
        return [], {"SSL_CERT_FILE": str(ca_file)}
    return ["--ca-file", str(ca_file)], {}


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a user's command to its end; a failure fails the test with its output."""
    result = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=600, env={**os.environ, **(env or {})}, cwd=cwd
    )
    assert result.returncode == 0, f"{shlex.join(argv[:4])} ... failed ({result.returncode}): {result.stderr}"
    return result.stdout


def pull_secret(namespace: str, password: str) -> dict[str, Any]:
    """The Secret `kubectl create secret docker-registry` makes, for the rehearsal's registry."""
    token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    config = {"auths": {REGISTRY_HOST: {"username": USERNAME, "password": password, "auth": token}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": PULL_SECRET, "namespace": namespace},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }


def install_from_registry(rehearsal: Rehearsal, helm: Path, helm_key: str, password: str, tmp_path: Path) -> str:
    """Push the chart with ``helm``, then install it from the registry as the README says; returns the
    namespace. The pull secret holds ``password``; the image is pulled on every start (Always)."""
    cluster, names, ca_file = rehearsal.cluster, rehearsal.names, rehearsal.registry.ca_file
    # Helm's registry login of this test only. Not HELM_REGISTRY_CONFIG: Helm 3.8.1 honours it for
    # `registry login` and `push`, but `install` reads the default file under the config folder.
    registry_config = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    chart = rehearsal.assets / f"globus-compute-endpoint-{names['chart-version']}.tgz"
    pushed = publish(
        "push-chart",
        "--helm",
        str(helm),
        "--chart",
        str(chart),
        "--registry",
        REGISTRY_HOST,
        "--username",
        USERNAME,
        "--ca-file",
        str(ca_file),
        stdin=rehearsal.password,
        env=registry_config,
    )
    assert pushed.startswith("chart-digest=sha256:")
    namespace = f"rehearsal-{helm_key.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", namespace)
    for secret in (
        pull_secret(namespace, password),
        manifests.credentials_secret("endpoint-creds", namespace, Credentials("id", "not-a-secret"), {}),
    ):
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(secret).encode())
    conf = {
        "Instance": "rehearsal",
        "endpointUUID": str(uuid.uuid4()),
        "secrets": "endpoint-creds",
        "useClientCredentials": True,
        # The chart's default repository with the rehearsal registry's host, as publish.py pushed it.
        "image": {"repository": names["image"], "pullPolicy": "Always"},
        "imagePullSecret": PULL_SECRET,
    }
    (tmp_path / "my-conf.yaml").write_text(yaml.safe_dump(conf), encoding="utf-8")
    tls, env = helm_tls(helm_key, ca_file)
    assert cluster.kubeconfigs is not None
    command = shlex.split(render(HELM_INSTALL, names))
    run(
        [str(helm), *command[1:], "--namespace", namespace, f"--kubeconfig={cluster.kubeconfigs.admin}", *tls],
        env={**env, **registry_config},
        cwd=tmp_path,
    )
    return namespace


def endpoint_pod(rehearsal: Rehearsal, namespace: str) -> dict[str, Any] | None:
    pods = json.loads(rehearsal.cluster.kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    return pods[0] if pods else None


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 600) -> T:
    """Poll ``probe`` until it returns something; fail the test, naming ``what``, after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(2)
    pytest.fail(f"{what}: not seen within {timeout:g} s", pytrace=False)


@pytest.mark.parametrize("helm_key", ["v3.8", "v4"])
def test_the_chart_installs_from_the_registry_and_the_kubelet_pulls_the_image(
    rehearsal: Rehearsal, helm_bins: dict[str, Path], helm_key: str, tmp_path: Path
) -> None:
    namespace = install_from_registry(rehearsal, helm_bins[helm_key], helm_key, rehearsal.password, tmp_path)

    def started() -> dict[str, Any] | None:
        pod = endpoint_pod(rehearsal, namespace)
        statuses = (pod or {}).get("status", {}).get("containerStatuses") or []
        for status in statuses:
            states = {**(status.get("state") or {}), **(status.get("lastState") or {})}
            if status.get("imageID") and ("running" in states or "terminated" in states):
                return dict(status)
        return None

    status = wait_for("the endpoint container started", started)
    # The container runs what the registry served: the digest podman pushed, under the registry's name.
    assert status["imageID"] == f"{rehearsal.names['image']}@{rehearsal.image_digest}"
    assert status["image"] == f"{rehearsal.names['image']}:{rehearsal.names['image-tag']}"
    events = rehearsal.cluster.kubectl("get", "events", "-n", namespace, "-o", "json")
    pulled = [event for event in json.loads(events)["items"] if event.get("reason") == "Pulled"]
    assert any(REGISTRY_HOST in event.get("message", "") for event in pulled), events
    rehearsal.cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_a_wrong_registry_password_shows_as_an_image_pull_failure(
    rehearsal: Rehearsal, helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    namespace = install_from_registry(rehearsal, helm_bins["v4"], "v4", "wrong-" + rehearsal.password, tmp_path)

    def refused() -> list[dict[str, Any]] | None:
        pod = endpoint_pod(rehearsal, namespace)
        waiting = [
            (status.get("state") or {}).get("waiting") or {}
            for status in (pod or {}).get("status", {}).get("containerStatuses") or []
        ]
        if not any(state.get("reason") in PULL_FAILURES for state in waiting):
            return []
        events = json.loads(rehearsal.cluster.kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
        return [event for event in events if event.get("reason") == "Failed" and "pull" in event.get("message", "")]

    failures = wait_for("an image pull failure", refused, timeout=300)
    messages = " | ".join(event["message"] for event in failures)
    assert "401 Unauthorized" in messages or "authorization failed" in messages, messages
    assert rehearsal.password not in messages
    rehearsal.cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def test_pip_installs_gce_values_from_the_index_and_its_schema_url_is_the_release_asset(
    rehearsal: Rehearsal, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(["python3", "-m", "venv", str(venv)])
    # Only the rehearsal's index: no pip configuration of the host's, and no route out of the namespace.
    no_config = {"PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    command = shlex.split(PIP_INSTALL)
    run([str(venv / "bin" / command[0]), *command[1:], "--index-url", rehearsal.index_url], env=no_config)

    version = run([str(venv / "bin" / "gce-values"), *shlex.split(TOOL_VERSION)[1:]])
    names = rehearsal.names
    assert f"chart globus-compute-endpoint {names['chart-version']}" in version
    assert f"globus-compute-endpoint {names['app-version']}" in version

    init = shlex.split(render(INIT, names))
    run(
        [str(venv / "bin" / init[0]), *init[1:], "--instance", "rehearsal", "--secret", "endpoint-creds"],
        cwd=tmp_path,
    )
    conf_text = (tmp_path / "my-conf.yaml").read_text(encoding="utf-8")
    url = next(line.split("$schema=", 1)[1].strip() for line in conf_text.splitlines() if "$schema=" in line)
    # The release's own asset, so the editor line resolves from the day of the release.
    release = f"https://github.com/{RELEASE_REPOSITORY}/releases/download/v{names['chart-version']}/"
    assert url == release + "conf.schema.json"
    asset = rehearsal.assets / url.rsplit("/", 1)[1]
    assert asset.is_file(), f"the release has no asset named like {url}"
    assert json.loads(asset.read_text(encoding="utf-8"))["$id"] == url
    carried = run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import gce_values.resources as r, sys; sys.stdout.write(str(r.chart_dir() / 'conf.schema.json'))",
        ]
    )
    assert Path(carried).read_bytes() == asset.read_bytes()


def test_the_release_carries_every_asset_and_the_catalog_folder_is_this_chart(rehearsal: Rehearsal) -> None:
    names = rehearsal.names
    chart_version = names["chart-version"]
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    tool_version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert tool_version is not None
    found = {path.name for path in rehearsal.assets.iterdir()}
    assert found == {
        f"globus-compute-endpoint-{chart_version}.tgz",
        "conf.schema.json",
        f"gce_values-{tool_version.group(1)}-py3-none-any.whl",
        f"gce_values-{tool_version.group(1)}.tar.gz",
        "slate-catalog-globus-compute.tar.gz",
    }
    with tarfile.open(rehearsal.assets / "slate-catalog-globus-compute.tar.gz") as tar:
        member = tar.extractfile("charts/globus-compute/Chart.yaml")
        assert member is not None
        catalog_chart = yaml.safe_load(member.read())
    assert (catalog_chart["version"], catalog_chart["appVersion"]) == (chart_version, names["app-version"])
