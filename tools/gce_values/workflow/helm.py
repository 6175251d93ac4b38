"""Helm as gce-values uses it: render the chart it carries, or install it, with a validated conf."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from gce_values import resources
from gce_values.workflow import programs

ENV_VAR = "GCE_HELM"
HOW_TO_GET = (
    "run `make setup` in a checkout of this project (it puts helm in .tools/bin), install helm "
    "(https://helm.sh/docs/intro/install/), or name one with --helm-bin or $GCE_HELM"
)
ENDPOINT_FILES = ("config.yaml", "user_config_template.yaml.j2")


class HelmFailed(Exception):
    """Helm ran and refused; ``lines`` is what it said."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def find(explicit: str | None = None) -> str:
    """The helm binary: --helm-bin, $GCE_HELM, `helm` on PATH, then this checkout's .tools/bin/helm4 or helm3."""
    root = resources.repo_root()
    fallbacks = [root / ".tools" / "bin" / name for name in ("helm4", "helm3")] if root else []
    return programs.find("helm", ENV_VAR, explicit, fallbacks, HOW_TO_GET)


def upgrade_argv(helm: str, release: str, conf: str, namespace: str) -> list[str]:
    """The command that installs or upgrades the release from the chart this tool carries."""
    return [helm, "upgrade", "--install", release, str(resources.chart_dir()), "-f", conf, "--namespace", namespace]


def template(helm: str, release: str, namespace: str, values: dict[str, Any]) -> str:
    """The chart's manifests for ``values``, rendered by ``helm template``."""
    with tempfile.TemporaryDirectory(prefix="gce-values-") as scratch:
        values_file = Path(scratch) / "values.yaml"
        values_file.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
        argv = [helm, "template", release, str(resources.chart_dir()), "-f", str(values_file), "--namespace", namespace]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        except OSError as exc:
            raise programs.ProgramMissing(f"{helm}: cannot run: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        raise HelmFailed([line.replace(str(values_file), "<conf>") for line in lines] or ["helm template failed"])
    return done.stdout


def endpoint_config(manifests: str) -> dict[str, str]:
    """The endpoint's own files (config.yaml and its user config template) from the rendered ConfigMap."""
    for document in yaml.safe_load_all(manifests):
        if not isinstance(document, dict) or document.get("kind") != "ConfigMap":
            continue
        data = document.get("data") or {}
        if all(name in data for name in ENDPOINT_FILES):
            return {name: str(data[name]) for name in ENDPOINT_FILES}
    raise RuntimeError("helm rendered no ConfigMap with the endpoint's config.yaml")
