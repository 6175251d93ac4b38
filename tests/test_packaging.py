"""Distribution: the Helm package, the SLATE catalog layout, the CLI's version and completion."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from support.paths import CHART_DIR, REPO_ROOT

CHART = CHART_DIR
EXPORT = REPO_ROOT / "tools" / "export_slate_catalog.py"
CATALOG_CI = REPO_ROOT / ".ci" / "slate-catalog"


def run_export(dest: Path, chart: Path = CHART) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXPORT), str(chart), str(dest)], capture_output=True, text=True, check=False
    )


def exported_version(dest: Path) -> str:
    return str(yaml.safe_load((dest / "charts/globus-compute/Chart.yaml").read_text())["version"])


def chart_version() -> str:
    return str(yaml.safe_load((CHART / "Chart.yaml").read_text())["version"])


def test_helm_package_contains_the_chart_and_its_schema(helm_bins: dict[str, Path], tmp_path: Path) -> None:
    subprocess.run([str(helm_bins["v4"]), "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True)
    (archive,) = tmp_path.glob("globus-compute-endpoint-*.tgz")
    assert archive.name == f"globus-compute-endpoint-{chart_version()}.tgz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    for member in (
        "values.yaml",
        "values.schema.json",
        "README.md",
        "files/entrypoint.sh",
        "templates/deployment.yaml",
    ):
        assert f"globus-compute-endpoint/{member}" in names


def test_catalog_export_passes_the_slate_catalog_ci(helm_bins: dict[str, Path], tmp_path: Path) -> None:
    result = run_export(tmp_path)
    assert result.returncode == 0, result.stderr
    exported = tmp_path / "charts" / "globus-compute"
    assert exported_version(tmp_path) == chart_version()
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "yamale"), "-s", str(CATALOG_CI / "chart-schema.yaml"), str(exported / "Chart.yaml")],
        check=True,
        capture_output=True,
    )
    lint = subprocess.run(
        [str(bin_dir / "yamllint"), "-s", "-c", str(CATALOG_CI / "yamllint.yaml"), "Chart.yaml", "values.yaml"],
        cwd=exported,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    for values in sorted((exported / "ci").glob("*-values.yaml")):
        for helm in helm_bins.values():
            subprocess.run([str(helm), "lint", str(exported), "-f", str(values)], check=True, capture_output=True)


def test_catalog_reexport_of_an_unchanged_chart_keeps_its_version(tmp_path: Path) -> None:
    assert run_export(tmp_path).returncode == 0
    again = run_export(tmp_path)
    assert again.returncode == 0
    assert "bumped" not in again.stdout
    assert exported_version(tmp_path) == chart_version()


def test_catalog_export_of_a_changed_chart_bumps_the_patch_version(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    assert run_export(catalog).returncode == 0
    changed = tmp_path / "chart"
    subprocess.run(["cp", "-r", str(CHART), str(changed)], check=True)
    notes = changed / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\nA changed line.\n")
    result = run_export(catalog, changed)
    assert result.returncode == 0, result.stderr
    major, minor, patch = (int(p) for p in chart_version().split("."))
    assert exported_version(catalog) == f"{major}.{minor}.{patch + 1}"
    assert "bumped" in result.stdout
    assert "A changed line." in (catalog / "charts/globus-compute/templates/NOTES.txt").read_text()


def test_catalog_export_refuses_a_version_slate_cannot_parse(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    subprocess.run(["cp", "-r", str(CHART), str(chart)], check=True)
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace(f"version: {chart_version()}", "version: 1.0.0-rc1"))
    result = run_export(tmp_path / "catalog", chart)
    assert result.returncode == 1
    assert "digits and dots" in result.stderr


def gce_values(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from gce_values.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_version_names_tool_chart_and_endpoint() -> None:
    result = gce_values("--version")
    assert result.returncode == 0
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert f"chart globus-compute-endpoint {chart['version']}" in result.stdout
    assert f"globus-compute-endpoint {chart['appVersion']}" in result.stdout
    assert result.stdout.startswith("gce-values ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_call_back_into_the_tool(shell: str) -> None:
    result = gce_values("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_GCE_VALUES_COMPLETE" in result.stdout


def test_completion_offers_the_users_commands_not_the_maintainers() -> None:
    """What bash completes after `gce-values `: every command of --help, and not the hidden `schema`."""
    import os

    env = {**os.environ, "_GCE_VALUES_COMPLETE": "bash_complete", "COMP_WORDS": "gce-values ", "COMP_CWORD": "1"}
    result = subprocess.run(
        [sys.executable, "-c", "from gce_values.cli import main; main()"],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    offered = {line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line}
    assert {"init", "validate", "render", "install", "migrate", "secret", "smoke", "completion"} <= offered
    assert "schema" not in offered
    assert "\n  schema " not in gce_values("--help").stdout


def test_completion_rejects_an_unknown_shell() -> None:
    result = gce_values("completion", "powershell")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


UPSTREAM_CI = CATALOG_CI / "upstream"


def make_slate_catalog(dest: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The one command a maintainer runs to prepare the catalog pull request (tools are already set up)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.done", "-o", ".tools/bin/helm38", "slate-catalog",
         f"DEST={dest}", *extra],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_make_slate_catalog_output_passes_the_catalogs_own_ci(tmp_path: Path) -> None:
    """With the catalog's own, unchanged CI files: yamale, yamllint and Helm 3.8.1's lint per ci values file."""
    made = make_slate_catalog(tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Passed." in made.stdout
    exported = tmp_path / "charts" / "globus-compute"
    assert sorted(exported.glob("ci/*-values.yaml")), "ct lint would lint only the defaults"
    assert f"{UPSTREAM_CI.relative_to(REPO_ROOT)}/lintconf.yaml" in made.stdout, "the catalog's own rules ran"
    ct_config = yaml.safe_load((UPSTREAM_CI / "ct.yaml").read_text(encoding="utf-8"))
    assert exported.parent.name in ct_config["chart-dirs"], "ct lint looks for charts where the export puts it"


def test_make_slate_catalog_fails_on_what_the_catalogs_ci_rejects(tmp_path: Path) -> None:
    """A Chart.yaml without a description, which the catalog's yamale schema requires, stops the command."""
    chart = tmp_path / "chart" / "globus-compute-endpoint"
    shutil.copytree(CHART, chart)
    metadata = (chart / "Chart.yaml").read_text(encoding="utf-8")
    (chart / "Chart.yaml").write_text(
        "\n".join(line for line in metadata.splitlines() if not line.startswith("description:")) + "\n"
    )
    made = make_slate_catalog(tmp_path / "dest", f"CHART_DIR={chart}")
    assert made.returncode != 0
    assert "description" in made.stdout + made.stderr
    assert "Passed." not in made.stdout
