"""The tool as users get it: a wheel installed into a fresh environment, and the pre-commit hook.

Both install from PyPI the way a user's pip does (runtime dependencies pinned to the versions of
requirements/dev.txt), so they take some seconds; they share one wheel built per session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GOOD_CONF = """\
Instance: precommit
endpointUUID: 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3
secrets: globus-compute-creds
useClientCredentials: true
minBlocks: 0
"""
BAD_CONF = GOOD_CONF.replace("minBlocks: 0", "minBlocks: 9\nmaxBlocks: 2")


def _quiet_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_ROOT_USER_ACTION="ignore", **extra)
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _run(argv: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env or _quiet_env(), capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="session")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev lock's versions without hashes, so a user-style install resolves to the tested versions."""
    pins = [
        line.split()[0].rstrip("\\")
        for line in (REPO_ROOT / "requirements" / "dev.txt").read_text().splitlines()
        if re.match(r"^[A-Za-z0-9_.-]+==", line)
    ]
    path = tmp_path_factory.mktemp("constraints") / "constraints.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("wheel-build")
    result = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, REPO_ROOT],
        cwd=build,
        env=_quiet_env(TMPDIR=str(build)),
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stdout + result.stderr, "setuptools warns (e.g. a package folder left out)"
    (built,) = out.glob("gce_values-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path, constraints: Path) -> Path:
    """A fresh virtual environment with only the wheel and its runtime dependencies."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    assert _run([sys.executable, "-m", "venv", venv], cwd=venv.parent).returncode == 0
    result = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", constraints, wheel], cwd=venv.parent)
    assert result.returncode == 0, result.stderr
    return venv


def test_installed_wheel_inits_and_validates_from_any_directory(installed: Path, tmp_path: Path) -> None:
    gce = installed / "bin" / "gce-values"
    init = _run([gce, "init", "-o", "conf.yaml", "--instance", "wheel", "--secret", "globus-compute-creds"], tmp_path)
    assert init.returncode == 0, init.stderr
    conf = (tmp_path / "conf.yaml").read_text()
    assert "Instance: wheel" in conf
    assert "$schema=https://" in conf.splitlines()[0], "a URL that outlives this environment"
    assert str(installed) not in conf
    valid = _run([gce, "validate", "conf.yaml"], tmp_path)
    assert (valid.returncode, valid.stdout.strip()) == (0, "conf.yaml: valid")
    (tmp_path / "bad.yaml").write_text(BAD_CONF)
    invalid = _run([gce, "validate", "bad.yaml"], tmp_path)
    assert invalid.returncode == 1
    assert "bad.yaml:5:1: error: minBlocks:" in invalid.stdout + invalid.stderr


def test_installed_wheel_carries_the_same_schema_and_chart(installed: Path, tmp_path: Path) -> None:
    (data,) = installed.glob("lib/python*/site-packages/gce_values/data")
    assert (data / "schema" / "values.schema.yaml").read_bytes() == (
        REPO_ROOT / "schema" / "values.schema.yaml"
    ).read_bytes()
    chart = REPO_ROOT / "chart" / "globus-compute-endpoint"
    for source in (p for p in chart.rglob("*") if p.is_file()):
        packaged = data / "chart" / "globus-compute-endpoint" / source.relative_to(chart)
        assert packaged.read_bytes() == source.read_bytes(), source
    check = _run([installed / "bin" / "gce-values", "schema", "build", "--check"], tmp_path)
    assert check.returncode == 0, check.stderr
    version = _run([installed / "bin" / "gce-values", "--version"], tmp_path)
    assert "chart globus-compute-endpoint" in version.stdout


def test_pre_commit_hook_passes_good_confs_and_stops_bad_ones(tmp_path: Path, constraints: Path) -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "pre-commit is not installed in the test environment (requirements/dev.in)"
    repo = tmp_path / "confs"
    repo.mkdir()
    (repo / "good.yaml").write_text(GOOD_CONF)
    (repo / "bad.yaml").write_text(BAD_CONF)
    env = _quiet_env(PRE_COMMIT_HOME=str(tmp_path / "cache"), PIP_CONSTRAINT=str(constraints))
    for argv in (["git", "init", "-q"], ["git", "add", "good.yaml", "bad.yaml"]):
        assert _run(argv, repo, env).returncode == 0
    good = _run([pre_commit, "try-repo", REPO_ROOT, "gce-values-validate", "--files", "good.yaml"], repo, env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    bad = _run([pre_commit, "try-repo", REPO_ROOT, "gce-values-validate", "--files", "bad.yaml"], repo, env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "bad.yaml:5:1: error: minBlocks:" in bad.stdout
