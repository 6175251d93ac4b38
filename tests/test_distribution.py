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

from support.paths import REPO_ROOT

GOOD_CONF = """\
Instance: precommit
endpointUUID: 7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57
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


WORKFLOW = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
"""
MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  minBlocks: "3"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
"""
OTHER_CHART_VALUES = "replicaCount: 3\nimage:\n  repository: nginx\nresources: {}\nInstance: web\n"


def _readme_pre_commit_snippet() -> str:
    """The .pre-commit-config.yaml the README tells users to write (its only YAML block naming the hook)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    (snippet,) = [block for block in blocks if "gce-values-validate" in block]
    return str(snippet)


def _snapshot_of_this_repository(dest: Path) -> str:
    """A git repository holding this checkout's files as they are now (committed or not); its commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], [*git, "commit", "-q", "-m", "snapshot"]):
        subprocess.run(argv, cwd=dest, check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True, capture_output=True, text=True)
    return head.stdout.strip()


def test_pre_commit_hook_as_the_readme_says_checks_only_the_confs(tmp_path: Path, constraints: Path) -> None:
    """Real pre-commit, the README's snippet unchanged but for the repository and revision, in a
    repository that also holds a CI workflow, Kubernetes manifests, another chart's values and the
    pre-commit config itself."""
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "pre-commit is not installed in the test environment (requirements/dev.in)"
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    rev = _snapshot_of_this_repository(hook_repo)
    snippet = _readme_pre_commit_snippet()
    assert "files:" not in snippet and "args:" not in snippet and "exclude:" not in snippet, "no extra settings"
    config = re.sub(r"repo: \S+", f"repo: {hook_repo}", snippet)
    config = re.sub(r"rev: \S+", f"rev: {rev}", config)

    repo = tmp_path / "confs"
    files = {
        ".pre-commit-config.yaml": config,
        ".github/workflows/ci.yaml": WORKFLOW,
        "k8s/app.yaml": MANIFEST,
        "other-chart/values.yaml": OTHER_CHART_VALUES,
        "endpoints/atlas.yaml": GOOD_CONF,
        "my-conf": GOOD_CONF,  # the SLATE blog post's name for it, without an extension
        "Makefile": "all:\n\techo minBlocks\n",
        "notes.md": "minBlocks: not a conf, and not handed to the hook\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    env = _quiet_env(PRE_COMMIT_HOME=str(tmp_path / "cache"), PIP_CONSTRAINT=str(constraints))
    for argv in (["git", "init", "-q"], ["git", "add", "-A"]):
        assert _run(argv, repo, env).returncode == 0
    good = _run([pre_commit, "run", "--all-files", "--verbose"], repo, env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Passed" in good.stdout
    assert "endpoints/atlas.yaml: valid" in good.stdout
    assert "my-conf: valid" in good.stdout, "a conf without an extension is checked"
    # The other YAML files and the Makefile: one line counts them, none is named.
    assert "skipped 5 files that are not a conf for this chart" in good.stdout
    for other in (".pre-commit-config.yaml", "ci.yaml", "app.yaml", "other-chart", "Makefile", "notes.md"):
        assert other not in good.stdout

    (repo / "endpoints" / "broken.yaml").write_text(BAD_CONF)
    assert _run(["git", "add", "-A"], repo, env).returncode == 0
    bad = _run([pre_commit, "run", "--all-files"], repo, env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "endpoints/broken.yaml:5:1: error: minBlocks:" in bad.stdout
    assert "error" not in "".join(line for line in bad.stdout.splitlines(True) if "broken.yaml" not in line)

    # The blog's conf, broken, without an extension: the commit is stopped, not "(no files to check)".
    (repo / "endpoints" / "broken.yaml").unlink()
    (repo / "my-conf").write_text(BAD_CONF)
    assert _run(["git", "add", "-A"], repo, env).returncode == 0
    blog = _run([pre_commit, "run", "--files", "my-conf"], repo, env)
    assert blog.returncode == 1, blog.stdout + blog.stderr
    assert "no files to check" not in blog.stdout
    assert "my-conf:5:1: error: minBlocks:" in blog.stdout
