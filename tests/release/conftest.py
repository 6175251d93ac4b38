"""The release rehearsal's session: what a tag publishes, published to real registries of our own.

``make release-rehearsal`` opts in (RELEASE_REHEARSAL=1); any other run skips these tests at collection,
so no fixture here starts anything unasked. Opted in, the session

1. builds the release assets with tools/release/publish.py, the script the tag workflow runs;
2. makes the registry's CA and password, and starts the test control plane with its node's containerd
   trusting that CA (one control plane, as every live test uses);
3. starts docker-registry inside the cluster's network namespace and pushes the endpoint image to it
   (podman, the image tests/runtime/testbed.py builds, reused when already built);
4. lays out a PEP 503 index of the wheel and sdist (and the locked runtime dependencies, so pip needs
   no other index) and serves it on 127.0.0.1 in that namespace, which has no route out;

and keeps this thread in the namespace, so helm, pip and kubectl reach all of it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cluster.controlplane import ControlPlane
from cluster.processes import ClusterError, apt_install
from release.registries import (
    REGISTRY_HOST,
    USERNAME,
    RegistryFiles,
    missing_programs,
    serve_folder,
    start_registry,
    write_simple_index,
)
from runtime.testbed import TestbedError, build_endpoint_image, ensure_base_image, setup_podman

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = Path(__file__).resolve().parent
PUBLISH = REPO_ROOT / "tools" / "release" / "publish.py"
# The GitHub repository the rehearsed release is made in (the tag workflow passes its own).
RELEASE_REPOSITORY = "rehearsal-owner/globus-compute-endpoint"
WORK_DIR = REPO_ROOT / "build" / "release-rehearsal"
# gce-values' runtime dependencies at locked versions (the set `make bench` installs the wheel with).
RUNTIME_LOCK = REPO_ROOT / "requirements" / "bench.txt"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RELEASE_REHEARSAL") == "1":
        return
    marker = pytest.mark.skip(reason="the release rehearsal runs only with `make release-rehearsal` (root)")
    for item in items:
        if RELEASE_DIR in item.path.resolve().parents:
            item.add_marker(marker)


@dataclass(frozen=True)
class Rehearsal:
    """What the session published, and where."""

    cluster: ControlPlane
    registry: RegistryFiles
    names: dict[str, str]
    assets: Path
    image_digest: str
    index_url: str

    @property
    def password(self) -> str:
        return self.registry.password


def publish(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """tools/release/publish.py with the project's python (the one that has ``build``)."""
    result = subprocess.run(
        [sys.executable, str(PUBLISH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        pytest.fail(f"publish.py {args[0]} failed: {result.stderr.strip()}", pytrace=False)
    return result.stdout


def parse_names(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def push_image(reference: str, destination: str, files: RegistryFiles) -> str:
    """podman push with the registry's CA and a 0600 auth file; returns the manifest digest pushed."""
    try:
        podman = setup_podman()
    except TestbedError as exc:
        pytest.fail(f"podman: {exc}", pytrace=False)
    certs = files.folder / "podman-certs"
    certs.mkdir(exist_ok=True)
    (certs / "ca.crt").write_bytes(files.ca_file.read_bytes())
    auth = files.folder / "auth.json"
    token = base64.b64encode(f"{USERNAME}:{files.password}".encode()).decode()
    auth.touch(mode=0o600)
    auth.write_text(json.dumps({"auths": {REGISTRY_HOST: {"auth": token}}}), encoding="utf-8")
    digest_file = files.folder / "image.digest"
    podman.run(
        "push",
        "--cert-dir",
        str(certs),
        "--authfile",
        str(auth),
        "--digestfile",
        str(digest_file),
        reference,
        f"docker://{destination}",
        timeout=900,
    )
    return digest_file.read_text(encoding="utf-8").strip()


def endpoint_image() -> str:
    try:
        podman = setup_podman()
        return build_endpoint_image(podman, ensure_base_image(podman)).reference
    except TestbedError as exc:
        pytest.fail(f"the endpoint image: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def rehearsal() -> Iterator[Rehearsal]:
    try:
        apt_install(missing_programs())
    except ClusterError as exc:
        pytest.fail(f"the registry's packages: {exc}", pytrace=False)
    assets = WORK_DIR / "assets"
    for folder in (assets, WORK_DIR / "registry", WORK_DIR / "index"):
        shutil.rmtree(folder, ignore_errors=True)
    helm4 = os.environ.get("HELM4", str(REPO_ROOT / ".tools" / "bin" / "helm4"))
    publish("assets", "--helm", helm4, "--out", str(assets), "--repository", RELEASE_REPOSITORY)
    names = parse_names(publish("names", "--registry", REGISTRY_HOST))
    files = RegistryFiles.make(WORK_DIR / "registry")
    image = endpoint_image()
    index_files = sorted(assets.glob("gce_values-*"))
    deps = WORK_DIR / "index-deps"
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes"]
    subprocess.run([*download, "-d", str(deps), "-r", str(RUNTIME_LOCK)], check=True, timeout=600)
    simple = write_simple_index([*index_files, *sorted(deps.iterdir())], WORK_DIR / "index")
    try:
        with ControlPlane(registry_cas=((REGISTRY_HOST, files.ca_file),)) as cluster:
            start_registry(cluster, files)
            with cluster.network():
                digest = push_image(image, f"{names['image']}:{names['image-tag']}", files)
                with serve_folder(simple.parent) as base:
                    yield Rehearsal(cluster, files, names, assets, digest, f"{base}/simple/")
    except ClusterError as exc:
        pytest.fail(f"the test control plane: {exc}", pytrace=False)
