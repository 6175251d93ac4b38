"""Where the schema and the chart live, in a source checkout and in an installed wheel.

A wheel carries them under ``gce_values/data`` (copied in at build time, see setup.py); a
checkout uses the repository's own ``schema/`` and ``chart/`` so there is never a second copy.
"""

from __future__ import annotations

from pathlib import Path

CHART_NAME = "globus-compute-endpoint"

_PACKAGE_DIR = Path(__file__).resolve().parent
_DATA_DIR = _PACKAGE_DIR / "data"
_REPO_ROOT = _PACKAGE_DIR.parent.parent


def _base() -> Path:
    """The directory that holds ``schema/`` and ``chart/``."""
    if (_DATA_DIR / "schema").is_dir():
        return _DATA_DIR
    return _REPO_ROOT


def schema_path() -> Path:
    """The annotated source schema (``schema/values.schema.yaml``)."""
    return _base() / "schema" / "values.schema.yaml"


def chart_dir() -> Path:
    """The chart directory (``chart/globus-compute-endpoint``)."""
    return _base() / "chart" / CHART_NAME


def repo_root() -> Path | None:
    """The source checkout, or None when running from an installed wheel."""
    return None if _base() == _DATA_DIR else _REPO_ROOT


def templates_dir() -> Path:
    """Jinja2 templates that ship inside the package."""
    return _PACKAGE_DIR / "templates"
