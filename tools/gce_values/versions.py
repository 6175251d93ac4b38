"""Versions of the tool, of the chart it carries, and of the endpoint that chart runs."""

from __future__ import annotations

from typing import Any

from gce_values import __version__, resources
from gce_values.pyyaml import yaml

RELEASE_REPOSITORY_ANNOTATION = "gce-values/release-repository"


def _chart_yaml() -> dict[str, Any]:
    with open(resources.chart_dir() / "Chart.yaml", encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def chart_metadata() -> dict[str, str]:
    """Chart.yaml's name, version and appVersion (the globus-compute-endpoint version)."""
    data = _chart_yaml()
    return {key: str(data[key]) for key in ("name", "version", "appVersion")}


def release_repository() -> str | None:
    """The GitHub ``owner/name`` whose release workflow built this chart, or None for a checkout.

    Only tools/release/publish.py writes it, into the chart it packages, so a released chart and the
    wheel carrying it name the release that holds their conf.schema.json.
    """
    annotations = _chart_yaml().get("annotations") or {}
    value = annotations.get(RELEASE_REPOSITORY_ANNOTATION)
    return str(value) if value else None


def describe() -> str:
    meta = chart_metadata()
    return (
        f"gce-values {__version__}\n"
        f"chart {meta['name']} {meta['version']}\n"
        f"globus-compute-endpoint {meta['appVersion']}"
    )
