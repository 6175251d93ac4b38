"""CONTRIBUTING.md stays true: its picture of the packages is the declared layer order, every path
and `make` target it names exists, and the README points to it."""

from __future__ import annotations

import re

from gce_values import LAYERS
from support.paths import REPO_ROOT

GUIDE = (REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
MAKEFILE = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
CHART = REPO_ROOT / "chart" / "globus-compute-endpoint"


def _picture() -> list[str]:
    """The layer lines of the packages picture (each starts at the margin; its continuation lines are indented)."""
    block = GUIDE.split("### The packages of `gce_values`", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines() if line[:1].isalpha()]


def test_the_packages_picture_is_the_declared_layer_order() -> None:
    """One line per layer, lowest first, naming each of its parts (the base line lists them all)."""
    base, *rest = LAYERS
    lines = _picture()
    assert lines[0].split()[1:] == [name for name in base if name != "__init__"]
    assert [line.split()[0] for line in lines[1:]] == [layer[0] for layer in rest]
    for line, layer in zip(lines[1:], rest, strict=True):
        assert all(re.search(rf"\b{name}\b", line) for name in layer), line


def _reference_sections() -> str:
    """The sections that describe what is there (the how-to sections also name files one creates)."""
    parts = re.split(r"^## ", GUIDE, flags=re.MULTILINE)
    kept = ("How the project is laid out", "Where each generated file comes from", "Running the tests")
    return "\n".join(part for part in parts if part.startswith(kept))


def test_every_path_named_exists() -> None:
    named = set(
        re.findall(r"`((?:schema|chart|tools|tests|images|bench|requirements|files|templates)/[^`* ]+)`", GUIDE)
    )
    missing = []
    for path in sorted(named):
        where = CHART / path if path.startswith(("files/", "templates/")) else REPO_ROOT / path
        if not where.exists() and "*" not in path and "..." not in path and "/." not in path:
            missing.append(path)
    assert named and missing == []


def test_every_make_target_named_exists() -> None:
    targets = set(re.findall(r"`make ([a-z][-a-z0-9]*)", GUIDE))
    defined = set(re.findall(r"^([a-z][-a-z0-9]*):", MAKEFILE, re.MULTILINE))
    assert {"test", "generate", "fuzz", "test-runtime", "e2e", "release-rehearsal", "bench"} <= targets
    assert targets - defined == set()


def test_the_readme_links_the_guide() -> None:
    assert "](CONTRIBUTING.md)" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")
