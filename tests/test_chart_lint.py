"""The chart passes Helm's own linter and the SLATE catalog's CI checks, as a catalog PR would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.chartrender import CI_FILES, HELM_VERSIONS, HelmRenderer
from support.paths import CHART_DIR, REPO_ROOT

# The SLATE catalog's CI rules for Chart.yaml and values.yaml, as this project's own config files.
SLATE_CATALOG_CI = REPO_ROOT / ".ci" / "slate-catalog"


def python_tool(name: str) -> Path:
    """A console script installed beside the interpreter running the tests."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        pytest.fail(f"{name} is not installed in {path.parent}; run `make setup`", pytrace=False)
    return path


def run(args: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=CHART_DIR, capture_output=True, text=True, check=False, timeout=120
    )


def test_chart_ships_ci_values() -> None:
    # The catalog's CI lints each ci/*-values.yaml; the templates fail on empty defaults without one.
    assert CI_FILES, f"no ci/*-values.yaml in {CHART_DIR}"


@pytest.mark.parametrize("values_file", CI_FILES, ids=lambda path: path.name)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_helm_lint_strict_passes(chart: HelmRenderer, helm: str, values_file: Path) -> None:
    result = chart.lint(helm, values_file)

    assert result.returncode == 0, f"helm {helm} lint --strict -f {values_file.name}:\n{result.stdout}{result.stderr}"


def test_chart_yaml_matches_slate_catalog_schema() -> None:
    result = run([python_tool("yamale"), "-s", SLATE_CATALOG_CI / "chart-schema.yaml", "Chart.yaml"])

    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_and_values_pass_slate_yamllint_strictly() -> None:
    # -s: the catalog's warnings (line length, indentation, ...) fail here as errors would.
    result = run(
        [
            python_tool("yamllint"),
            "-s",
            "-f",
            "parsable",
            "-c",
            SLATE_CATALOG_CI / "yamllint.yaml",
            "Chart.yaml",
            "values.yaml",
        ]
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "", "no warning either"


def test_yamllint_config_catches_what_the_catalog_warns_about(tmp_path: Path) -> None:
    # The config is live: a long line and a bad indentation each fail the strict run.
    bad = tmp_path / "values.yaml"
    bad.write_text("key: " + "x " * 50 + "\nlist:\n    - a\n    - b\nother:\n   - c\n")
    result = run([python_tool("yamllint"), "-s", "-f", "parsable", "-c", SLATE_CATALOG_CI / "yamllint.yaml", bad])

    assert result.returncode != 0
    assert "(line-length)" in result.stdout
    assert "(indentation)" in result.stdout


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_helm_lint_has_nothing_to_say(helm_bins: dict[str, Path], helm: str) -> None:
    # No [INFO] (e.g. "icon is recommended") or [WARNING] lines: the catalog reviewers read this output.
    values = CHART_DIR / "ci" / "default-values.yaml"
    result = run([helm_bins[helm], "lint", CHART_DIR, "-f", values])

    assert result.returncode == 0, result.stdout + result.stderr
    remarks = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert remarks == [], "\n".join(remarks)
