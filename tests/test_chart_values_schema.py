"""The generated values.schema.json is what Helm enforces, and the generated files never drift.

Helm 3 and Helm 4 use different JSON Schema libraries; `gce-values validate` uses Python's
jsonschema.  A conf must get the same answer from all three, so the table below runs each conf
through the real helm binaries and through ``jsonschema.Draft7Validator`` on the same schema.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gce_values.schema import load
from gce_values.workflow.build import stale_files
from support.chartrender import HELM_VERSIONS, HelmRenderer, chart_defaults, deep_merge, load_yaml_file
from support.paths import CHART_DIR, SCHEMA_FILE, SEED_FILE

HELM_SCHEMA_ERROR = "values don't meet the specifications of the schema"
RELEASE = "gce-schema"

# name -> (overrides of the seed conf, whether the schema should accept the result)
CONFS: dict[str, tuple[dict[str, Any], bool]] = {
    "seed": ({}, True),
    "uppercase-uuid": ({"endpointUUID": "2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3"}, True),
    "instance-coerced-to-number": ({"Instance": 2024}, True),
    "instance-empty": ({"Instance": ""}, True),
    "image-tag-coerced-to-number": ({"image": {"tag": 4.19}}, True),
    "integral-float-blocks": ({"maxBlocks": 4.0}, True),
    "gpu-workers": ({"workerExtraResources": {"nvidia.com/gpu": "1"}}, True),
    "slate-block": ({"SLATE": {"Instance": {"ID": "instance_1"}, "Cluster": {"Name": "c"}}}, True),
    "pod-annotation": ({"podAnnotations": {"example.org/team": "atlas"}}, True),
    "bad-uuid": ({"endpointUUID": "not-a-uuid"}, False),
    "uuid-in-braces": ({"endpointUUID": "{7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57}"}, False),
    "instance-uppercase": ({"Instance": "Atlas"}, False),
    "instance-trailing-dash": ({"Instance": "atlas-"}, False),
    "instance-underscore": ({"Instance": "atlas_ml"}, False),
    "instance-too-long": ({"Instance": "a" * 30}, False),
    "instance-negative-number": ({"Instance": -1}, False),
    "unknown-key": ({"maxblocks": 4}, False),
    "unknown-nested-key": ({"endpoint": {"nmae": "x"}}, False),
    "removed-funcXServiceAddress": ({"funcXServiceAddress": "https://compute.api.globus.org"}, False),
    "removed-replicaCount": ({"replicaCount": 2}, False),
    "negative-max-blocks": ({"maxBlocks": -1}, False),
    "negative-min-blocks": ({"minBlocks": -1}, False),
    "fractional-blocks": ({"maxBlocks": 2.5}, False),
    "too-many-blocks": ({"maxBlocks": 1001}, False),
    "blocks-as-string": ({"maxBlocks": "4"}, False),
    "boolean-as-string": ({"useClientCredentials": "true"}, False),
    "zero-cpu": ({"initCPU": 0}, False),
    "bad-memory-quantity": ({"initMem": "1GB"}, False),
    "bad-cpu-quantity": ({"resources": {"requests": {"cpu": "1 core"}}}, False),
    # The SLATE server may drop the quotes of "1", so a number is accepted (the templates quote it).
    "gpu-count-unquoted": ({"workerExtraResources": {"nvidia.com/gpu": 1}}, True),
    "gpu-count-zero": ({"workerExtraResources": {"nvidia.com/gpu": 0}}, False),
    "amqp-port-not-in-enum": ({"endpoint": {"amqpPort": 8080}}, False),
    "pull-policy-not-in-enum": ({"image": {"pullPolicy": "Sometimes"}}, False),
    "heartbeat-too-fast": ({"endpoint": {"heartbeatPeriod": 1}}, False),
    "run-as-root": ({"podSecurity": {"runAsUser": 0}}, False),
    "secret-name-invalid": ({"secrets": "My_Secret"}, False),
    "worker-namespace-invalid": ({"workerNamespace": "Workers"}, False),
    "admin-not-uuid": ({"endpoint": {"admins": ["alice"]}}, False),
    "environment-name-invalid": ({"userEnvironment": {"1BAD": "x"}}, False),
    "pod-annotation-key-invalid": ({"podAnnotations": {"a: b": "x"}}, False),
    "tolerations-not-a-list": ({"tolerations": {"key": "gpu"}}, False),
    # The cleanup hook is gone: its key is refused (gce-values explains why).
    "removed-cleanup": ({"cleanup": {"enabled": True}}, False),
    # No worker could ever start.
    "zero-max-blocks": ({"maxBlocks": 0}, False),
    "gpu-worker-tolerations": (
        {"workerTolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        True,
    ),
    "worker-toleration-unknown-field": ({"workerTolerations": [{"key": "gpu", "operatr": "Exists"}]}, False),
    "worker-node-selector-number": ({"workerNodeSelector": {"gpu": 1}}, False),
    "image-tag-invalid": ({"image": {"tag": "latest!"}}, False),
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_table_has_both_outcomes() -> None:
    assert {expected for _, expected in CONFS.values()} == {True, False}


@pytest.mark.parametrize("name", sorted(CONFS))
def test_python_validator_judges_as_intended(validator: jsonschema.Draft7Validator, name: str) -> None:
    overrides, expected = CONFS[name]
    values = deep_merge(deep_merge(chart_defaults(), load_yaml_file(SEED_FILE)), overrides)

    errors = [error.message for error in validator.iter_errors(values)]

    assert (not errors) == expected, errors or "accepted"


@pytest.mark.parametrize("name", sorted(CONFS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_helm_enforces_the_same_schema(
    chart: HelmRenderer, validator: jsonschema.Draft7Validator, helm: str, name: str
) -> None:
    overrides, _ = CONFS[name]
    values = deep_merge(deep_merge(chart_defaults(), load_yaml_file(SEED_FILE)), overrides)
    python_accepts = validator.is_valid(values)

    rendered = chart.template(helm, overrides, files=(SEED_FILE,), release=RELEASE)

    if python_accepts:
        assert rendered.ok, f"helm {helm} refused what jsonschema accepts:\n{rendered.stderr}"
    else:
        assert HELM_SCHEMA_ERROR in rendered.stderr, f"helm {helm} did not refuse it by schema:\n{rendered.stderr}"


# --- drift between the schema and the files generated from it -------------------------------------


def copy_tree(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of schema/ and the chart, to edit one file at a time."""
    schema = tmp_path / "schema" / "values.schema.yaml"
    schema.parent.mkdir()
    shutil.copy2(SCHEMA_FILE, schema)
    chart = tmp_path / "chart" / CHART_DIR.name
    shutil.copytree(CHART_DIR, chart)
    return schema, chart


def stale_names(schema: Path, chart: Path) -> set[str]:
    """The generated files the build check reports, without its explanations."""
    return {entry.split(" ")[0] for entry in stale_files(load(schema), chart)}


def edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def max_blocks_node(schema: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = schema["properties"]["maxBlocks"]
    return node


def test_generated_files_are_current() -> None:
    assert stale_files(load(SCHEMA_FILE), CHART_DIR) == []


def test_untouched_copy_is_current(tmp_path: Path) -> None:
    # The control for the edits below: re-serialising the schema changes nothing generated.
    schema, chart = copy_tree(tmp_path)
    edit_yaml(schema, lambda data: None)

    assert stale_names(schema, chart) == set()


def test_schema_constraint_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_yaml(schema, lambda data: max_blocks_node(data).update(maximum=999))

    assert stale_names(schema, chart) == {"values.schema.json", "conf.schema.json"}


def test_schema_description_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_yaml(schema, lambda data: max_blocks_node(data).update(description="Another description."))

    assert stale_names(schema, chart) == {"values.yaml", "README.md", "conf.schema.json"}


def test_schema_default_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_yaml(schema, lambda data: max_blocks_node(data).update(default=5))

    assert stale_names(schema, chart) == {"values.yaml", "README.md", "conf.schema.json"}


def test_schema_rule_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_yaml(schema, lambda data: data["x-rules"][0].update(message="Another message."))

    assert stale_names(schema, chart) == {"templates/_rules.tpl"}


def test_helm_schema_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    target = chart / "values.schema.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    max_blocks_node(data)["maximum"] = 999
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    assert stale_names(schema, chart) == {"values.schema.json"}


def test_conf_schema_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    target = chart / "conf.schema.json"
    data = json.loads(target.read_text(encoding="utf-8"))
    data["required"] = ["endpointUUID"]
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    assert stale_names(schema, chart) == {"conf.schema.json"}


def test_readme_values_table_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_text(chart / "README.md", "| `maxBlocks` | integer | `4` |", "| `maxBlocks` | integer | `8` |")

    assert stale_names(schema, chart) == {"README.md"}


def test_readme_prose_outside_the_table_is_free(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_text(chart / "README.md", "# Globus Compute endpoint", "# Globus Compute endpoint (edited)")

    assert stale_names(schema, chart) == set()


def test_values_yaml_default_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_text(chart / "values.yaml", "\nmaxBlocks: 4\n", "\nmaxBlocks: 5\n")

    stale = stale_files(load(schema), chart)

    assert {entry.split(" ")[0] for entry in stale} == {"values.yaml"}
    assert any("differ from the schema defaults" in entry for entry in stale), stale


def test_values_yaml_comment_edited_alone(tmp_path: Path) -> None:
    schema, chart = copy_tree(tmp_path)
    edit_text(chart / "values.yaml", "# The most worker pods", "# At most this many worker pods")

    assert stale_names(schema, chart) == {"values.yaml"}
