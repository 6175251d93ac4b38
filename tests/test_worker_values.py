"""The worker values of real work (volumes, environment, identity): what validate and Helm accept and refuse.

The volume types are read from the Kubernetes schema itself (kubernetes-validate, the newest version it
has): every type but the eight the restricted Pod Security profile admits must be refused, with a
message that says why, by validate and by both Helm versions the chart supports.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gce_values.schema import load
from gce_values.validator import validate_sources
from support.chartrender import HelmRenderer
from support.paths import SEED_FILE, SEED_TEXT
from support.worker_pod_checks import NEWEST_KUBERNETES

SCHEMA = load()
ALLOWED = set(SCHEMA.node(("workerVolumes",))["items"]["propertyNames"]["enum"]) - {"name"}  # type: ignore[index]


def kubernetes_volume_types() -> set[str]:
    """The volume types of a pod's Volume in the newest Kubernetes schema kubernetes-validate carries."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{NEWEST_KUBERNETES}.0-local-strict"
    document = json.loads((folder / "volume-v1.json").read_text(encoding="utf-8"))
    return set(document["properties"]) - {"name"}


REFUSED = sorted(kubernetes_volume_types() - ALLOWED)


def problems(values: dict[str, Any]) -> list[Any]:
    conf = yaml.safe_dump({**yaml.safe_load(SEED_TEXT), **values})
    return list(validate_sources([("conf.yaml", conf)]).problems)


def errors_at(values: dict[str, Any]) -> dict[str, str]:
    """The errors of a conf: pointer -> message and hint."""
    return {p.pointer: f"{p.message}; {p.hint}" for p in problems(values) if p.is_error}


def test_the_allowed_volume_types_are_kubernetes_volume_types() -> None:
    assert kubernetes_volume_types() >= ALLOWED
    assert {
        "persistentVolumeClaim",
        "configMap",
        "secret",
        "emptyDir",
        "csi",
        "ephemeral",
        "projected",
        "downwardAPI",
    } == ALLOWED
    assert "hostPath" in REFUSED and "nfs" in REFUSED


@pytest.mark.parametrize("kind", REFUSED)
def test_validate_refuses_each_volume_type_the_restricted_profile_refuses(kind: str) -> None:
    found = errors_at({"workerVolumes": [{"name": "v", kind: {}}]})

    assert "restricted Pod Security profile" in found[f"/workerVolumes/0/{kind}"]


@pytest.mark.parametrize("helm", ["v3.8", "v4"])
def test_helm_refuses_a_host_path_volume(chart: HelmRenderer, helm: str) -> None:
    host = chart.template(helm, {"workerVolumes": [{"name": "v", "hostPath": {"path": "/run"}}]}, files=(SEED_FILE,))
    scratch = chart.template(
        helm, {"workerVolumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}]}, files=(SEED_FILE,)
    )

    assert not host.ok
    assert "'hostPath'" in host.stderr or '"hostPath"' in host.stderr
    assert scratch.ok, scratch.stderr


def test_an_empty_dir_needs_a_size_limit() -> None:
    assert "/workerVolumes/0/emptyDir/sizeLimit" in errors_at({"workerVolumes": [{"name": "v", "emptyDir": {}}]})
    assert errors_at({"workerVolumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}]}) == {}


def test_a_volume_has_exactly_one_type() -> None:
    two = {"name": "v", "emptyDir": {"sizeLimit": "1Gi"}, "configMap": {"name": "c"}}
    assert "one volume type" in errors_at({"workerVolumes": [two]})["/workerVolumes/0"]
    assert "/workerVolumes/0" in errors_at({"workerVolumes": [{"name": "v"}]})


# A path component: ordinary names, and the dot forms that matter (".", "..", "..." and hidden names).
_COMPONENT = st.one_of(st.sampled_from([".", "..", "...", ".a", "..a", "a..", "a"]), st.text("ab-_", min_size=1))


@settings(max_examples=80, deadline=None)
@given(st.lists(_COMPONENT, min_size=1, max_size=4), st.booleans())
def test_sub_path_is_relative_and_never_climbs(components: list[str], absolute: bool) -> None:
    sub_path = ("/" if absolute else "") + "/".join(components)
    values = {
        "workerVolumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}],
        "workerVolumeMounts": [{"name": "v", "mountPath": "/m", "subPath": sub_path}],
    }
    refused = "/workerVolumeMounts/0/subPath" in errors_at(values)

    assert refused == (absolute or ".." in components)


_NAMES = st.sampled_from(["a", "b", "c", "worker-keys"])
_PATHS = st.sampled_from(["/a", "/b", "/etc/gce-worker-keys"])


@settings(max_examples=60, deadline=None)
@given(st.lists(_NAMES, max_size=3), st.lists(st.tuples(_NAMES, _PATHS), max_size=3))
def test_mounts_name_defined_volumes_and_nothing_collides(volumes: list[str], mounts: list[tuple[str, str]]) -> None:
    values = {
        "workerVolumes": [{"name": name, "emptyDir": {"sizeLimit": "1Gi"}} for name in volumes],
        "workerVolumeMounts": [{"name": name, "mountPath": path} for name, path in mounts],
    }
    rules = {p.rule for p in problems(values) if p.is_error}
    paths = [path for _, path in mounts]

    assert ("worker-mounts-name-volumes" in rules) == any(name not in volumes for name, _ in mounts)
    assert ("worker-volume-names-unique" in rules) == (len(set(volumes)) < len(volumes) or "worker-keys" in volumes)
    assert ("worker-mount-paths-unique" in rules) == (len(set(paths)) < len(paths) or "/etc/gce-worker-keys" in paths)


def test_worker_env_takes_values_and_references_but_no_credential() -> None:
    reference = {"secretKeyRef": {"name": "s3-creds", "key": "secret-access-key"}}
    config = {"configMapKeyRef": {"name": "settings", "key": "mode", "optional": True}}
    assert errors_at({"workerEnv": {"OMP_NUM_THREADS": "1", "AWS_SECRET_ACCESS_KEY": reference, "MODE": config}}) == {}

    found = problems({"workerEnv": {"HF_TOKEN": "hf_aZ3kQ9pLm2Xv7Tn4Rb8Wc1Yd6Fg0Hj5Ks"}})
    [secret] = [p for p in found if p.rule == "secret"]
    assert secret.pointer == "/workerEnv/HF_TOKEN"
    assert "secretKeyRef" in (secret.hint or "")
    assert "hf_aZ3k" not in json.dumps([p.message + (p.hint or "") for p in found]), "never printed"

    both = {"secretKeyRef": reference["secretKeyRef"], "configMapKeyRef": config["configMapKeyRef"]}
    assert "/workerEnv/X" in errors_at({"workerEnv": {"X": both}})
    assert "/workerEnv/X/fieldRef" in errors_at({"workerEnv": {"X": {"fieldRef": {"fieldPath": "status.podIP"}}}})


def test_the_token_warning_names_the_risk() -> None:
    [warning] = [p for p in problems({"workerAutomountServiceAccountToken": True}) if not p.is_error]
    assert warning.rule == "worker-token-reaches-functions"
    assert "every function can read" in warning.message


@pytest.mark.parametrize("label", ["release", "instance", "app.kubernetes.io/instance", "parsl-job-id"])
def test_worker_labels_cannot_take_the_release_labels(label: str) -> None:
    assert f"/workerLabels/{label.replace('/', '~1')}" in errors_at({"workerLabels": {label: "mine"}})
