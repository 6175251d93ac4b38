"""The release workflow (.github/workflows/): clean under actionlint, and it publishes what the chart needs."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.entrypoint_harness import linter_binary, venv_bin
from support.paths import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
RELEASE = REPO_ROOT / ".github" / "workflows" / "release.yml"
PINNED = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}")


def run_actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck (from the dev lock, beside actionlint) checks the run: scripts too.
    env = {**os.environ, "PATH": f"{venv_bin()}:{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [linter_binary("ACTIONLINT", "actionlint"), "-no-color", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
        cwd=REPO_ROOT,
    )


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS
    result = run_actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (lambda text: text.replace("${{ github.ref_name }}", "${{ github.ref_nam }}"), "ref_nam"),
        (lambda text: text.replace('>> "${GITHUB_OUTPUT}"', ">> ${GITHUB_OUTPUT}"), "SC2086"),
    ],
    ids=["bad-expression", "unquoted-shell"],
)
def test_actionlint_catches_a_broken_workflow(tmp_path: Path, change: Callable[[str], str], finding: str) -> None:
    # The same run must flag a broken copy; otherwise the clean result above means nothing.
    broken = tmp_path / ".github" / "workflows" / "release.yml"
    broken.parent.mkdir(parents=True)
    text = RELEASE.read_text(encoding="utf-8")
    broken.write_text(change(text), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    result = run_actionlint(broken)
    assert result.returncode != 0
    assert finding in result.stdout


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    assert workflow[True]["push"]["tags"] == ["v*.*.*"]
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_every_action_is_pinned_by_commit() -> None:
    uses = [str(step["uses"]) for step in _steps() if "uses" in step]
    assert uses
    unpinned = [ref for ref in uses if not PINNED.fullmatch(ref)]
    assert not unpinned, f"actions not pinned by a 40-hex commit: {unpinned}"


def test_release_builds_both_architectures_signed_with_sbom_and_provenance() -> None:
    steps = _steps()
    (build,) = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action@")]
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["context"] == "images/endpoint"
    assert build["with"]["push"] is True
    assert build["with"]["sbom"] is True
    assert build["with"]["provenance"] == "mode=max"
    assert any('cosign sign --yes "${IMAGE}@${DIGEST}"' in str(s.get("run", "")) for s in steps)


def test_release_runs_the_rehearsed_script_for_names_assets_and_the_chart_push() -> None:
    # What `make release-rehearsal` runs (tests/release) is what the tag runs: the same subcommands.
    runs = "\n".join(str(step.get("run", "")) for step in _steps())
    for subcommand in ("names", "assets", "push-chart"):
        assert f"tools/release/publish.py {subcommand}" in runs
    rehearsal = (REPO_ROOT / "tests" / "release" / "conftest.py").read_text(encoding="utf-8")
    rehearsal += (REPO_ROOT / "tests" / "release" / "test_rehearsal.py").read_text(encoding="utf-8")
    for subcommand in ("names", "assets", "push-chart"):
        assert f'"{subcommand}"' in rehearsal


def test_pypi_gets_the_release_files_by_trusted_publishing() -> None:
    workflow = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    pypi = workflow["jobs"]["pypi"]
    assert pypi["permissions"]["id-token"] == "write"
    assert any(str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@") for s in pypi["steps"])
    # No API token: trusted publishing needs none, and a token in the workflow would bypass it.
    assert "password" not in RELEASE.read_text(encoding="utf-8").split("pypa/gh-action-pypi-publish", 1)[1]
