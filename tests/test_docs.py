"""What the docs tell a user to run: the chart version they validated, a tool they can find, a true picture."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART_DIR = REPO_ROOT / "chart" / "globus-compute-endpoint"
VERSION = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["version"])
DOCS = [
    REPO_ROOT / "README.md",
    CHART_DIR / "README.md",
    CHART_DIR / "docs" / "how-it-works.md",
    CHART_DIR / "values.yaml",
    CHART_DIR / "templates" / "NOTES.txt",
    REPO_ROOT / "images" / "endpoint" / "README.md",
    REPO_ROOT / "tools" / "gce_values" / "templates" / "values.yaml.j2",
]
# `slate app get-conf|install globus-compute-endpoint ...` up to the end of the command (line, or backquote).
SLATE_APP_COMMAND = re.compile(r"slate app (get-conf|install) globus-compute-endpoint[^`\n]*")


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_slate_commands_in_the_docs_name_the_carried_chart_version(doc: Path) -> None:
    """Without --version SLATE hands out its newest catalog chart (0.1.6 today), not the chart validated here."""
    for match in SLATE_APP_COMMAND.finditer(doc.read_text(encoding="utf-8")):
        command = match.group(0)
        assert f"--version {VERSION}" in command, f"{doc.name}: {command}"


def test_the_readme_puts_gce_values_on_path_before_using_it_bare() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_bare_use = readme.index("\n    gce-values ")
    assert readme.index("source .venv/bin/activate") < first_bare_use
    assert readme.index("source .venv/bin/activate") < readme.index("## The SLATE path")


def test_the_chart_docs_draw_what_runs_where_and_which_way_it_connects() -> None:
    readme = (CHART_DIR / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    (diagram,) = re.findall(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    edges = {(a, b) for a, b in re.findall(r"^\s*(\w+) (?:-->|-\.->)(?:\|[^|]*\|)? (\w+)\s*$", diagram, re.MULTILINE)}
    assert edges >= {
        ("sdk", "compute"),  # the user's SDK calls Globus Compute
        ("endpoint", "compute"),  # the endpoint reaches out to Globus; nothing reaches in
        ("endpoint", "api"),  # it asks the Kubernetes API for worker pods
        ("workers", "endpoint"),  # workers connect to the endpoint's interchange
    }
    assert not {edge for edge in edges if edge[1] == "endpoint" and edge[0] != "workers"}, "only workers connect in"


# --- what `helm show readme` / `slate app info` and `helm show values` show an installer ------------


def test_the_chart_readme_is_what_an_installer_needs(helm_bins: dict[str, Path]) -> None:
    """`helm show readme` (SLATE: `slate app info`) shows the whole README: the installation, what is not
    published yet and the values table (generated, one row per value); the prose around the table stays
    within 60 lines, and how the chart works is a link away."""
    shown = subprocess.run(
        [str(helm_bins["v4"]), "show", "readme", str(CHART_DIR)], capture_output=True, text=True, check=True
    ).stdout
    prose = re.sub(r"<!-- values-table:start.*?<!-- values-table:end -->", "", shown, flags=re.DOTALL)
    assert len(prose.strip().splitlines()) <= 60, len(prose.strip().splitlines())
    for heading in ("## Installation on SLATE", "## Installation with Helm", "## Values"):
        assert heading in shown
    assert "Application not found" in shown, "says that the chart is not in SLATE's catalog yet"
    assert "docs/how-it-works.md" in shown
    details = (CHART_DIR / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    for heading in ("## What it runs", "## Worker pods", "## Troubleshooting", "## Security checks"):
        assert heading in details and heading not in shown


def test_helm_show_values_explains_the_slate_block_to_plain_helm_users(helm_bins: dict[str, Path]) -> None:
    shown = subprocess.run(
        [str(helm_bins["v4"]), "show", "values", str(CHART_DIR)], capture_output=True, text=True, check=True
    ).stdout
    block = shown[shown.index("### SLATE-START ###") : shown.index("### SLATE-END ###")]
    assert "SLATE server" in block and "plain Helm" in block


def test_the_values_table_calls_text_values_text() -> None:
    """image.tag and Instance take a number only so that SLATE's unquoting does no harm: users write text."""
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8")
    for key in ("image.tag", "Instance"):
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| `{key}` |")]
        assert row.split(" | ")[1] == "string", row


def test_chart_sources_name_this_charts_own_source() -> None:
    """Not the endpoint software's repository: the catalog directory this chart is published from."""
    from gce_values.schema import editor

    sources = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["sources"]
    assert sources and all(editor.CATALOG_REPOSITORY in url and editor.CATALOG_CHART_DIR in url for url in sources)


def test_the_readme_cites_no_server_source_files() -> None:
    for doc in (REPO_ROOT / "README.md", CHART_DIR / "README.md"):
        text = doc.read_text(encoding="utf-8")
        assert not re.search(r"\bsrc/\w+\.cpp\b|\.cpp\b", text), doc


def test_the_readme_heading_counts_its_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    heading = re.search(r"^## Try it: (\w+) commands\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert heading, "no 'Try it' section"
    commands = re.findall(r"^    make [\w-]+", heading.group(2), re.MULTILINE)
    assert {"two": 2, "three": 3, "four": 4, "five": 5}[heading.group(1)] == len(commands)
