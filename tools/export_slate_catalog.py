"""Lay the chart out as a pull request to a SLATE catalog expects: ``DEST/charts/globus-compute/``.

The SLATE catalogs (slate-catalog-incubator, slate-catalog-stable) keep this chart under
``charts/globus-compute`` and their CI (`ct lint`) rejects a changed chart whose version was not
bumped. When DEST already holds the chart and its content differs, the exported Chart.yaml gets the
next patch version above both versions, and the bump is reported.

usage: python3 tools/export_slate_catalog.py CHART_DIR DEST
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

CATALOG_DIR = Path("charts") / "globus-compute"
VERSION_LINE = re.compile(r"^version:\s*['\"]?([0-9]+)\.([0-9]+)\.([0-9]+)['\"]?\s*$", re.MULTILINE)


def chart_version(chart_yaml: str) -> tuple[int, int, int]:
    """The X.Y.Z version of a Chart.yaml (the SLATE catalog allows digits and dots only)."""
    match = VERSION_LINE.search(chart_yaml)
    if not match:
        raise ValueError("Chart.yaml has no plain X.Y.Z version line (SLATE allows digits and dots only)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def content_digest(chart: Path) -> str:
    """A digest of every file of the chart, ignoring the version line of Chart.yaml."""
    digest = hashlib.sha256()
    for path in sorted(p for p in chart.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.relative_to(chart) == Path("Chart.yaml"):
            data = VERSION_LINE.sub("version:", data.decode("utf-8")).encode("utf-8")
        digest.update(str(path.relative_to(chart)).encode("utf-8") + b"\0" + data + b"\0")
    return digest.hexdigest()


def export(chart: Path, dest: Path) -> str:
    """Copy the chart into the catalog layout; returns a one-line account of what happened."""
    target = dest / CATALOG_DIR
    new_version = chart_version((chart / "Chart.yaml").read_text(encoding="utf-8"))
    message = f"exported {chart.name} {'.'.join(map(str, new_version))} to {target}"
    bumped: tuple[int, int, int] | None = None
    if (target / "Chart.yaml").exists() and content_digest(target) != content_digest(chart):
        old_version = chart_version((target / "Chart.yaml").read_text(encoding="utf-8"))
        if old_version >= new_version:
            major, minor, patch = max(old_version, new_version)
            bumped = (major, minor, patch + 1)
    with tempfile.TemporaryDirectory(dir=dest) as scratch:
        staged = Path(scratch) / "chart"
        shutil.copytree(chart, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if bumped:
            chart_yaml = staged / "Chart.yaml"
            text = chart_yaml.read_text(encoding="utf-8")
            chart_yaml.write_text(VERSION_LINE.sub(f"version: {'.'.join(map(str, bumped))}", text), encoding="utf-8")
            message = (
                f"exported {chart.name} to {target}; its content changed, so its version was bumped to "
                f"{'.'.join(map(str, bumped))} (bump chart/{chart.name}/Chart.yaml to match)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return message


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    chart, dest = Path(argv[0]), Path(argv[1])
    if not (chart / "Chart.yaml").is_file():
        print(f"export_slate_catalog: {chart} is not a chart directory (no Chart.yaml)", file=sys.stderr)
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    try:
        print(export(chart, dest))
    except ValueError as exc:
        print(f"export_slate_catalog: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
