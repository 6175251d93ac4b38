"""Build hook: put the schema and the chart inside the wheel.

An installed `gce-values` must work from any directory, so the wheel carries
``schema/values.schema.yaml`` and ``chart/globus-compute-endpoint/`` under ``gce_values/data``.
They are copied at build time from the repository's only copy; editable installs read the
checkout directly (see gce_values.resources). Beside the schema goes its parsed form
(``values.schema.yaml.marshal``, see gce_values.schema.parsed_form), which the tool reads instead of
parsing the YAML on every run; that is why building needs PyYAML.
"""

from __future__ import annotations

import shutil
import sys
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
        _write_parsed_schema(target / "schema" / "values.schema.yaml")


def _write_parsed_schema(schema_file: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from gce_values.schema import PARSED_SUFFIX, parsed_form
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = schema_file.read_text(encoding="utf-8")
    schema_file.with_name(schema_file.name + PARSED_SUFFIX).write_bytes(parsed_form(text))


setup(cmdclass={"build_py": BuildPyWithData})
