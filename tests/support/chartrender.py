"""Render the chart with the real helm binaries, each distinct render once per test session.

The chart tests look at the same few renders from many angles (labels, schemas, security checks, the
endpoint's own loader); helm runs once per (helm version, release, namespace, values) and the parsed
manifests are shared.  The named value sets below are the confs those tests agree on.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from gce_values.schema import release_name
from support.paths import CHART_DIR, CI_DIR, SEED_FILE

NAMESPACE = "slate-group-demo"
HELM_VERSIONS = ("v3.8", "v3", "v4")  # the SLATE server's Helm, the last Helm 3, Helm 4
HELM_TIMEOUT_SECONDS = 120

CI_FILES = tuple(sorted(CI_DIR.glob("*-values.yaml")))


def load_yaml_file(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base`` the way Helm merges values files (maps recursively)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def proxy_env(values: Mapping[str, Any]) -> dict[str, str]:
    """The proxy settings of a conf as environment variables, in both spellings (empty ones left out)."""
    names = {"httpsProxy": "HTTPS_PROXY", "httpProxy": "HTTP_PROXY", "noProxy": "NO_PROXY"}
    env = {}
    for key, name in names.items():
        if values["proxy"][key]:
            env[name] = env[name.lower()] = str(values["proxy"][key])
    return env


def chart_defaults() -> dict[str, Any]:
    return load_yaml_file(CHART_DIR / "values.yaml")


@dataclass(frozen=True)
class ValueSet:
    """A named conf: chart ci files, then overrides, as a user would pass them with -f."""

    name: str
    files: tuple[Path, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def user_values(self) -> dict[str, Any]:
        """What the user wrote (files merged, then overrides)."""
        values: dict[str, Any] = {}
        for path in self.files:
            values = deep_merge(values, load_yaml_file(path))
        return deep_merge(values, self.overrides)

    @cached_property
    def values(self) -> dict[str, Any]:
        """What the templates see: the chart's defaults with the user's values merged in."""
        return deep_merge(chart_defaults(), self.user_values)

    @property
    def release(self) -> str:
        return release_name(self.values["Instance"])

    @property
    def worker_namespace(self) -> str:
        return str(self.values["workerNamespace"] or NAMESPACE)


# Strings that would break out of a YAML scalar or open a Jinja2 expression if a template inserted
# them unescaped; the chart must pass them through verbatim.
HOSTILE_TEXT = (
    "{{ 7 * 7 }} {% if true %}jinja{% endif %} {# comment #} ${HOME} $(id) `id`\n"
    "key: value\n"
    "- list item\n"
    "'single' \"double\" \\backslash\\ # not a comment\n"
    "  indented: {a: [1, 2]}\n"
    "--- ... & *alias !!python/object:os.system %}"
)

# The same for endpoint.displayName, within its 128 characters.
HOSTILE_NAME = "ML {{ 7 * 7 }} {% raw %}x: \"y\"\n- z\n'q' # c {# n #} %} \\"

VALUE_SETS: dict[str, ValueSet] = {
    **{
        path.name.removesuffix("-values.yaml"): ValueSet(path.name.removesuffix("-values.yaml"), (path,))
        for path in CI_FILES
    },
    "hostile-strings": ValueSet(
        "hostile-strings",
        (SEED_FILE,),
        {
            "Instance": "hostile",
            "workerInit": HOSTILE_TEXT,
            "endpoint": {"displayName": HOSTILE_NAME},
            "podAnnotations": {"example.org/note": HOSTILE_TEXT},
            "userEnvironment": {"NOTE": HOSTILE_TEXT},
        },
    ),
    "no-rbac": ValueSet(
        "no-rbac",
        (SEED_FILE,),
        {"Instance": "norbac", "rbacEnabled": False, "serviceAccountName": "site-endpoint-sa", "taskTimeout": 600},
    ),
    # What the SLATE server adds at install time.
    "slate-installed": ValueSet(
        "slate-installed",
        (SEED_FILE,),
        {
            "Instance": "atlas",
            "SLATE": {"Instance": {"ID": "instance_0f3a9c1b2d"}, "Cluster": {"Name": "uchicago-prod"}},
        },
    ),
    # Every security-relevant choice the other way round from the defaults (images with a
    # high-UID user): the conditional checkov skips must disappear, and their checks pass on their own.
    "hardened": ValueSet(
        "hardened",
        (SEED_FILE,),
        {
            "Instance": "hardened",
            "image": {"pullPolicy": "Always"},
            "podSecurity": {"runAsUser": 20000, "runAsGroup": 20000},
            "networkPolicy": {"enabled": True, "restrictEgress": True},
            "workerImage": "registry.example.org/science/worker:4.19.0",
            "initCPU": 0.25,
            "maxCPU": 0.5,
            "initMem": "256Mi",
            "maxMem": "1Gi",
            "maxBlocks": 2,
        },
    ),
}


@dataclass(frozen=True)
class Rendered:
    """The outcome of one ``helm template`` run, with the manifests parsed on demand."""

    helm: str
    release: str
    namespace: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @cached_property
    def docs(self) -> list[dict[str, Any]]:
        assert self.ok, f"helm {self.helm} template failed:\n{self.stderr}"
        return [doc for doc in yaml.safe_load_all(self.stdout) if doc]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The single object of ``kind`` (named ``name``, if given)."""
        found = [doc for doc in self.of_kind(kind) if name is None or doc["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
        return found[0]

    def kind_names(self) -> set[tuple[str, str]]:
        return {(doc["kind"], doc["metadata"]["name"]) for doc in self.docs}

    @property
    def deployment(self) -> dict[str, Any]:
        return self.one("Deployment")

    @property
    def configmap(self) -> dict[str, Any]:
        """The endpoint's ConfigMap (the other one, in the worker namespace, owns the worker pods)."""
        return self.one("ConfigMap", self.release)

    def workloads(self) -> list[dict[str, Any]]:
        """Objects with a pod template."""
        return [doc for doc in self.docs if "template" in doc.get("spec", {})]


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A container's env entries by name."""
    return {entry["name"]: entry for entry in container.get("env", [])}


class HelmRenderer:
    """Runs the real helm binaries on the chart, remembering every result for the session."""

    def __init__(self, helm_bins: Mapping[str, Path], workdir: Path, chart: Path = CHART_DIR) -> None:
        self.helm_bins = dict(helm_bins)
        self.workdir = workdir
        self.chart = chart
        self._cache: dict[tuple[Any, ...], Rendered] = {}

    def values_file(self, values: Mapping[str, Any]) -> Path:
        """Write ``values`` as a values file (JSON, a subset of YAML that Helm reads the same way)."""
        text = json.dumps(values, sort_keys=True)
        path = self.workdir / f"values-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        return path

    def _run(self, helm: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm_bins[helm]), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=HELM_TIMEOUT_SECONDS,
        )

    def template(
        self,
        helm: str,
        values: Mapping[str, Any] | None = None,
        *,
        files: Sequence[Path] = (),
        release: str = release_name("test"),
        namespace: str = NAMESPACE,
    ) -> Rendered:
        """``helm template RELEASE CHART -n NAMESPACE -f FILE... -f <values>``, cached."""
        key = (helm, release, namespace, tuple(map(str, files)), json.dumps(values or {}, sort_keys=True))
        if key not in self._cache:
            args = ["template", release, str(self.chart), "--namespace", namespace]
            for path in [*files, *([self.values_file(values)] if values else [])]:
                args += ["--values", str(path)]
            result = self._run(helm, args)
            self._cache[key] = Rendered(helm, release, namespace, result.returncode, result.stdout, result.stderr)
        return self._cache[key]

    def render_set(self, helm: str, value_set: ValueSet, *, release: str | None = None) -> Rendered:
        return self.template(
            helm,
            value_set.overrides or None,
            files=value_set.files,
            release=release or value_set.release,
        )

    def lint(self, helm: str, values_file: Path) -> subprocess.CompletedProcess[str]:
        return self._run(helm, ["lint", "--strict", str(self.chart), "--values", str(values_file)])
