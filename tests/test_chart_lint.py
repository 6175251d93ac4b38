"""The chart passes Helm's own linter and the SLATE catalog's CI checks, as a catalog PR would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.chartrender import CI_FILES, HELM_VERSIONS, HelmRenderer
from support.paths import CHART_DIR, REPO_ROOT

# The catalog's CI rules (chart_schema.yaml, lintconf.yaml); CI puts shared/ beside the clone.
SLATE_CATALOG_CI = REPO_ROOT.parent / "shared" / "anchors" / "slate-catalog-ci"


@pytest.fixture(scope="module")
def slate_catalog_ci() -> Path:
    missing = [name for name in ("chart_schema.yaml", "lintconf.yaml") if not (SLATE_CATALOG_CI / name).is_file()]
    if missing:
        pytest.fail(
            f"SLATE catalog CI rules missing: {', '.join(missing)} not in {SLATE_CATALOG_CI} "
            "(the tests expect a copy of shared/ beside the repository clone)",
            pytrace=False,
        )
    return SLATE_CATALOG_CI


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


def test_chart_yaml_matches_slate_catalog_schema(slate_catalog_ci: Path) -> None:
    result = run([python_tool("yamale"), "-s", slate_catalog_ci / "chart_schema.yaml", "Chart.yaml"])

    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_and_values_pass_slate_yamllint(slate_catalog_ci: Path) -> None:
    result = run(
        [
            python_tool("yamllint"),
            "-f",
            "parsable",
            "-c",
            slate_catalog_ci / "lintconf.yaml",
            "Chart.yaml",
            "values.yaml",
        ]
    )

    errors = [line for line in result.stdout.splitlines() if "[error]" in line]
    assert not errors, "\n".join(errors)
    assert result.returncode == 0, result.stdout + result.stderr
