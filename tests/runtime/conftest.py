"""Fixtures of the runtime tests (image built, endpoint started in a container, functions run).

They run under ``make test-runtime`` (which sets GCE_RUNTIME_TESTS=1): there a missing or unusable
podman FAILS them, and they install and configure what they need themselves (testbed.py). Under
``make test`` (or a bare pytest) they are skipped at collection time, with the reason and whether
podman is usable here, so that ``make test`` stays fast and never needs root or a container engine.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.testbed import (
    BUILD_DIR,
    REPO_ROOT,
    BuiltImage,
    Podman,
    TestbedError,
    build_endpoint_image,
    ensure_base_image,
    setup_podman,
    usable_podman,
)

CHART_DIR = REPO_ROOT / "chart" / "globus-compute-endpoint"
SEED_VALUES = CHART_DIR / "ci" / "default-values.yaml"
RUNTIME_DIR = Path(__file__).resolve().parent
NAMESPACE = "slate-group-runtime"
ENABLED = os.environ.get("GCE_RUNTIME_TESTS") == "1"
# Objects and logs the runtime tests keep for people (and the worker-pod tests) to read afterwards.
ARTIFACTS = BUILD_DIR / "artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    runtime_items = [item for item in items if RUNTIME_DIR in Path(str(item.fspath)).parents]
    if ENABLED or not runtime_items:
        return
    podman, reason = usable_podman()
    state = f"podman is usable here ({reason})" if podman else f"podman is not usable here: {reason}"
    skip = pytest.mark.skip(reason=f"runtime tests run with `make test-runtime` as root; {state}")
    for item in runtime_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def podman() -> Podman:
    try:
        return setup_podman()
    except TestbedError as error:
        pytest.fail(f"the runtime tests need podman and cannot set it up: {error}", pytrace=False)


@pytest.fixture(scope="session")
def base_image(podman: Podman) -> str:
    try:
        return ensure_base_image(podman)
    except TestbedError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def endpoint_image(podman: Podman, base_image: str) -> BuiltImage:
    """The image built from images/endpoint/Dockerfile (reused when recipe and base are unchanged)."""
    try:
        built = build_endpoint_image(podman, base_image)
    except TestbedError as error:
        pytest.fail(str(error), pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "image.json").write_text(
        json.dumps({"reference": built.reference, "build_seconds": round(built.seconds, 1), "reused": built.reused})
        + "\n",
        encoding="utf-8",
    )
    return built


@pytest.fixture(scope="session")
def helm4() -> Path:
    path = Path(os.environ.get("HELM4") or REPO_ROOT / ".tools" / "bin" / "helm4")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"helm 4 not found at {path}; run `make setup`", pytrace=False)
    return path


def render(helm: Path, values: Mapping[str, Any], workdir: Path, release: str = "gce-rt") -> list[dict[str, Any]]:
    """The chart rendered by the real helm from the seed conf with ``values`` over it."""
    workdir.mkdir(parents=True, exist_ok=True)
    values_file = workdir / f"values-{release}.json"
    values_file.write_text(json.dumps(values), encoding="utf-8")
    result = subprocess.run(
        [str(helm), "template", release, str(CHART_DIR), "--namespace", NAMESPACE, "-f", str(SEED_VALUES),
         "-f", str(values_file)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"helm template failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def worker_values(instance: str) -> dict[str, Any]:
    """Small, quickly idle workers (one at most) for a function run, under the release ``instance``."""
    return {
        "Instance": instance,
        "maxIdleTime": 5,
        "initCPU": 0.5,
        "maxCPU": 1,
        "initMem": "256Mi",
        "maxMem": "1Gi",
        "maxBlocks": 1,
    }


def image_values(image: BuiltImage) -> dict[str, Any]:
    repository, tag = image.reference.rsplit(":", 1)
    return {"image": {"repository": repository, "tag": tag, "pullPolicy": "Never"}}


@pytest.fixture
def remove_containers(podman: Podman) -> Iterator[list[str]]:
    """Names of containers a test started; removed afterwards whatever happened."""
    names: list[str] = []
    yield names
    for name in names:
        podman.run("rm", "--force", "--time", "0", name, check=False, timeout=60)
