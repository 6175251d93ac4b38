"""Where the schema and the chart live, in a source checkout and in an installed wheel.

A wheel carries them under ``gce_values/data`` (copied in at build time, see setup.py); a
checkout uses the repository's own ``schema/`` and ``chart/`` so there is never a second copy.
Paths are worked out with os.path and handed out as pathlib.Path, imported only then: the fast
path of `validate` (gce_values.cli.fastpath) needs just the schema file, and pathlib takes longer
to import than a valid conf takes to check.
"""

from __future__ import annotations

import os

from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CHART_NAME = "globus-compute-endpoint"

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
_DATA_DIR = os.path.join(_PACKAGE_DIR, "data")
_REPO_ROOT = os.path.dirname(os.path.dirname(_PACKAGE_DIR))


def _base() -> str:
    """The directory that holds ``schema/`` and ``chart/``."""
    if os.path.isdir(os.path.join(_DATA_DIR, "schema")):
        return _DATA_DIR
    return _REPO_ROOT


def _path(*parts: str) -> Path:
    from pathlib import Path

    return Path(*parts)


def schema_file() -> str:
    """The annotated source schema (``schema/values.schema.yaml``), as a string."""
    return os.path.join(_base(), "schema", "values.schema.yaml")


def schema_path() -> Path:
    """The annotated source schema (``schema/values.schema.yaml``)."""
    return _path(schema_file())


def chart_dir() -> Path:
    """The chart directory (``chart/globus-compute-endpoint``)."""
    return _path(_base(), "chart", CHART_NAME)


def repo_root() -> Path | None:
    """The source checkout, or None when running from an installed wheel."""
    return None if _base() == _DATA_DIR else _path(_REPO_ROOT)


def templates_dir() -> Path:
    """Jinja2 templates that ship inside the package."""
    return _path(_PACKAGE_DIR, "templates")
