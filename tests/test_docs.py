"""What the docs tell a user to run: the chart version they validated, a tool they can find, a true picture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART_DIR = REPO_ROOT / "chart" / "globus-compute-endpoint"
VERSION = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["version"])
DOCS = [
    REPO_ROOT / "README.md",
    CHART_DIR / "README.md",
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


def test_the_chart_readme_draws_what_runs_where_and_which_way_it_connects() -> None:
    readme = (CHART_DIR / "README.md").read_text(encoding="utf-8")
    (diagram,) = re.findall(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    edges = {(a, b) for a, b in re.findall(r"^\s*(\w+) (?:-->|-\.->)(?:\|[^|]*\|)? (\w+)\s*$", diagram, re.MULTILINE)}
    assert edges >= {
        ("sdk", "compute"),  # the user's SDK calls Globus Compute
        ("endpoint", "compute"),  # the endpoint reaches out to Globus; nothing reaches in
        ("endpoint", "api"),  # it asks the Kubernetes API for worker pods
        ("workers", "endpoint"),  # workers connect to the endpoint's interchange
    }
    assert not {edge for edge in edges if edge[1] == "endpoint" and edge[0] != "workers"}, "only workers connect in"
