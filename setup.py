"""Build hook: put the schema and the chart inside the wheel.

An installed `gce-values` must work from any directory, so the wheel carries
``schema/values.schema.yaml`` and ``chart/globus-compute-endpoint/`` under ``gce_values/data``.
They are copied at build time from the repository's only copy; editable installs read the
checkout directly (see gce_values.resources).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {
    ROOT / "schema": Path("schema"),
    ROOT / "chart" / "globus-compute-endpoint": Path("chart") / "globus-compute-endpoint",
}


class BuildPyWithData(build_py):
    """build_py that also copies the schema and the chart into gce_values/data."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "gce_values" / "data"
        for source, relative in DATA.items():
            destination = target / relative
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
