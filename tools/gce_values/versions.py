"""Versions of the tool, of the chart it carries, and of the endpoint that chart runs."""

from __future__ import annotations

from gce_values import __version__, resources
from gce_values.pyyaml import yaml


def chart_metadata() -> dict[str, str]:
    """Chart.yaml's name, version and appVersion (the globus-compute-endpoint version)."""
    with open(resources.chart_dir() / "Chart.yaml", encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {key: str(data[key]) for key in ("name", "version", "appVersion")}


def describe() -> str:
    meta = chart_metadata()
    return (
        f"gce-values {__version__}\n"
        f"chart {meta['name']} {meta['version']}\n"
        f"globus-compute-endpoint {meta['appVersion']}"
    )
