"""The schema editors apply to a conf as users write it (``conf.schema.json``), and where it lives.

The chart's values.schema.json is for Helm, which checks the conf merged over the chart's defaults,
so it requires every key. A conf as written holds only what its author changed (five keys for
most), so an editor applying that schema would flag every key left out. This schema, generated from
the same source, requires only what the user must set (the x-rules of kind ``required``, and those
must not be empty), keeps every description, default and example for hover text and completion, and
still rejects unknown keys, so a typo is marked where it is.

Conf files point at it with a ``# yaml-language-server: $schema=URL`` line. The URL is versioned, so
a conf keeps the schema of the chart it was written for, and it still resolves after the conf is
committed elsewhere and the virtual environment that wrote it is gone (a path into the installed
package would not). A released build names the asset its own GitHub release carries,
``https://github.com/<repository>/releases/download/v<version>/conf.schema.json``: the release
workflow writes the repository it runs in into the chart's Chart.yaml (annotation
``gce-values/release-repository``, see tools/release/publish.py), so the line resolves from the day
of the release. A build from a checkout names the copy the SLATE catalog export ships, in the
catalog repository at the tag its chart-releaser gives this version (``globus-compute-endpoint-<version>``).
"""

from __future__ import annotations

import copy
from typing import Any

from gce_values import resources, versions
from gce_values.schema import ValuesSchema

FILE_NAME = "conf.schema.json"
CATALOG_REPOSITORY = "slateci/slate-catalog-stable"
CATALOG_CHART_DIR = "charts/globus-compute"
URL_TEMPLATE = "https://raw.githubusercontent.com/{repository}/{chart}-{version}/{chart_dir}/" + FILE_NAME
RELEASE_URL_TEMPLATE = "https://github.com/{repository}/releases/download/v{version}/" + FILE_NAME
# Only true after Helm's merge, which fills in the defaults of keys a conf leaves out.
_DROPPED = frozenset({"required"})


def url(version: str | None = None) -> str:
    """The released conf schema of chart ``version`` (default: the chart this tool carries)."""
    if version is None:
        version = versions.chart_metadata()["version"]
    repository = versions.release_repository()
    if repository is not None:
        return RELEASE_URL_TEMPLATE.format(repository=repository, version=version)
    return URL_TEMPLATE.format(
        repository=CATALOG_REPOSITORY, chart=resources.CHART_NAME, version=version, chart_dir=CATALOG_CHART_DIR
    )


def conf_schema(schema: ValuesSchema, version: str) -> dict[str, Any]:
    """The schema of a conf as written: nothing required but what the user must set."""
    document: dict[str, Any] = _without_helm_only(copy.deepcopy(schema.document))
    document["$id"] = url(version)
    document["title"] = f"A conf (values file) for the {resources.CHART_NAME} chart {version}"
    document["description"] = (
        "A conf as you write it: keys you leave out keep the chart's defaults. Generated from "
        "schema/values.schema.yaml by `gce-values schema build`."
    )
    must_set = [rule.key for rule in schema.rules() if rule.kind == "required" and rule.severity == "error"]
    document["required"] = must_set
    for key in must_set:
        node = document["properties"][key]
        node["minLength"] = 1
        node["pattern"] = str(node.get("pattern", "")).removeprefix("^$|") or ".+"
    return document


def _without_helm_only(node: Any) -> Any:
    """``node`` without ``required`` lists (Helm's merge fills defaults in) and x- extensions."""
    if isinstance(node, dict):
        return {
            key: (
                {name: _without_helm_only(sub) for name, sub in value.items()}
                if key in {"properties", "patternProperties", "definitions"}
                else _without_helm_only(value)
            )
            for key, value in node.items()
            if key not in _DROPPED and not key.startswith("x-")
        }
    if isinstance(node, list):
        return [_without_helm_only(item) for item in node]
    return node


def url_in(text: str) -> str | None:
    """The schema URL of a conf's ``# yaml-language-server: $schema=URL`` line, among its leading comments."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            return None
        _, found, rest = stripped.partition("yaml-language-server: $schema=")
        if found and rest.strip():
            return rest.strip()
    return None
