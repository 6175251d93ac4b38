"""The release workflow (.github/workflows/): clean under actionlint, and it publishes what the chart needs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from entrypoint_harness import REPO_ROOT, linter_binary, venv_bin

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
RELEASE = REPO_ROOT / ".github" / "workflows" / "release.yml"


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
        (lambda text: text.replace('echo "registry=${repository%%/*}"', "echo registry=$repository%%/*"), "SC2086"),
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


def test_release_builds_both_architectures_from_the_recipe_and_packages_the_chart() -> None:
    workflow = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    assert workflow[True]["push"]["tags"] == ["v*.*.*"]
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (build,) = [s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action@")]
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["context"] == "images/endpoint"
    assert build["with"]["push"] is True
    assert any(s.get("run") == "make package" for s in steps)
