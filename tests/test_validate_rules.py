"""The schema's cross-field rules (x-rules): each one broken by a conf, reported where the user can fix it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gce_values.checks import xrules
from gce_values.checks.rulekind import go_string
from gce_values.checks.rulekinds.quantity_less_or_equal import quantity
from gce_values.schema import ValuesSchema, load, release_name
from gce_values.validator import validate_sources
from support.cli import run
from support.paths import SEED_TEXT

SEED = SEED_TEXT  # lines 1-5; cases below append from line 6
UUID = "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"


def _json_run(tmp_path: Path, text: str, *args: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    ran = run("validate", str(path), "--format", "json", *args)
    return ran.code, json.loads(ran.stdout)


def _only(report: dict[str, Any], rule: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in report["problems"] if p["rule"] == rule]
    assert len(found) == 1, report["problems"]
    return found[0]


# rule id -> (conf text, expected (line, column, key, severity), CLI arguments)
BROKEN: dict[str, tuple[str, tuple[int, int, str, str], tuple[str, ...]]] = {
    "endpoint-uuid-required": (SEED.replace(UUID, '""'), (2, 1, "endpointUUID", "error"), ()),
    "secrets-required": (
        SEED.replace("secrets: globus-compute-creds\n", "maxBlocks: 4\n"),
        (0, 0, "secrets", "error"),  # never written: no line of the conf is about it
        (),
    ),
    "one-credential-mode": (SEED + "useUserCredentials: true\n", (4, 1, "useClientCredentials", "error"), ()),
    "min-blocks-within-max": (SEED + "maxBlocks: 2\nminBlocks: 3\n", (7, 1, "minBlocks", "error"), ()),
    "init-blocks-within-max": (SEED + "initBlocks: 9\n", (6, 1, "initBlocks", "error"), ()),
    "cpu-request-within-limit": (SEED + "initCPU: 4\nmaxCPU: 2\n", (6, 1, "initCPU", "error"), ()),
    "admins-need-subscription": (
        SEED + "endpoint:\n  admins: [0b9d6a3e-2f1c-4e5d-9a8b-7c6d5e4f3a2b]\n",
        (7, 3, "endpoint.admins", "error"),
        (),
    ),
    "service-account-without-rbac": (SEED + "rbacEnabled: false\n", (6, 1, "rbacEnabled", "error"), ()),
    "release-name-length": (SEED, (0, 0, "Instance", "error"), ("--release", "r" * 54)),
    "memory-request-within-limit": (SEED + "maxMem: 2048Mi\ninitMem: 3Gi\n", (7, 1, "initMem", "error"), ()),
    "endpoint-cpu-request-within-limit": (
        SEED + "resources:\n  requests:\n    cpu: 1500m\n",
        (8, 5, "resources.requests.cpu", "error"),
        (),
    ),
    "endpoint-memory-request-within-limit": (
        SEED + "resources:\n  limits:\n    memory: 256Mi\n",
        (8, 5, "resources.limits.memory", "error"),
        (),
    ),
    "no-cpu-memory-in-extra-resources": (
        SEED + "workerExtraResources:\n  nvidia.com/gpu: '1'\n  memory: 4Gi\n",
        (8, 3, "workerExtraResources.memory", "error"),
        (),
    ),
    "pull-secret-in-worker-namespace": (
        SEED + "imagePullSecret: regcred\nworkerNamespace: gce-workers\n",
        (6, 1, "imagePullSecret", "warning"),
        (),
    ),
    "high-assurance-needs-subscription": (
        SEED + "endpoint:\n  highAssurance: true\n  authenticationPolicy: " + UUID + "\n",
        (7, 3, "endpoint.highAssurance", "error"),
        (),
    ),
    "high-assurance-needs-policy": (
        SEED + "endpoint:\n  subscriptionId: " + UUID + "\n  highAssurance: true\n",
        (8, 3, "endpoint.highAssurance", "error"),
        (),
    ),
    "high-assurance-is-for-good": (
        SEED
        + "endpoint:\n  highAssurance: true\n  subscriptionId: "
        + UUID
        + "\n  authenticationPolicy: "
        + UUID
        + "\n",
        (7, 3, "endpoint.highAssurance", "warning"),
        (),
    ),
    "worker-mounts-name-volumes": (
        SEED + "workerVolumes:\n  - {name: data, emptyDir: {sizeLimit: 1Gi}}\n"
        "workerVolumeMounts:\n  - {name: data, mountPath: /data}\n  - {name: dat, mountPath: /dat}\n",
        (10, 6, "workerVolumeMounts[1].name", "error"),
        (),
    ),
    "worker-volume-names-unique": (
        SEED + "workerVolumes:\n  - name: worker-keys\n    emptyDir: {sizeLimit: 1Gi}\n",
        (7, 5, "workerVolumes[0].name", "error"),
        (),
    ),
    "worker-mount-paths-unique": (
        SEED + "workerVolumes:\n  - {name: a, emptyDir: {sizeLimit: 1Gi}}\n"
        "workerVolumeMounts:\n  - {name: a, mountPath: /data}\n  - {name: a, mountPath: /data}\n",
        (10, 15, "workerVolumeMounts[1].mountPath", "error"),
        (),
    ),
    "worker-labels-keep-release-labels": (
        SEED + "workerLabels:\n  example.org/team: atlas\n  release: mine\n",
        (8, 3, "workerLabels.release", "error"),
        (),
    ),
    "worker-token-reaches-functions": (
        SEED + "workerAutomountServiceAccountToken: true\n",
        (6, 1, "workerAutomountServiceAccountToken", "warning"),
        (),
    ),
}


def test_every_schema_rule_has_a_case_here() -> None:
    assert {rule.id for rule in load().rules()} == set(BROKEN)


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_broken_rule_is_reported_at_the_key(rule_id: str, tmp_path: Path) -> None:
    text, (line, column, key, severity), args = BROKEN[rule_id]
    code, report = _json_run(tmp_path, text, *args)
    problem = _only(report, rule_id)
    rule = next(r for r in load().rules() if r.id == rule_id)
    assert (problem["line"], problem["column"], problem["key"], problem["severity"]) == (line, column, key, severity)
    assert problem["message"] == rule.message
    assert problem["file"] == ("--release" if args else str(tmp_path / "conf.yaml"))
    assert code == (1 if severity == "error" else 0)


def test_a_warning_fails_only_with_strict(tmp_path: Path) -> None:
    text = BROKEN["pull-secret-in-worker-namespace"][0]
    assert _json_run(tmp_path, text)[0] == 0
    code, report = _json_run(tmp_path, text, "--strict")
    assert code == 1
    assert _only(report, "pull-secret-in-worker-namespace")["severity"] == "error"


def test_hints_show_the_values_that_clash() -> None:
    result = validate_sources([("c.yaml", SEED + "maxBlocks: 2\nminBlocks: 3\nuseUserCredentials: true\n")])
    hints = {p.rule: p.hint for p in result.problems}
    assert hints["min-blocks-within-max"] == "now minBlocks is 3 and maxBlocks is 2"
    assert hints["one-credential-mode"] == "now useClientCredentials is true, useUserCredentials is true"


def test_rules_point_at_what_the_user_wrote_not_at_defaults() -> None:
    """maxBlocks defaults to 4: an initBlocks of 9 is the user's, so that is where the error goes."""
    result = validate_sources([("c.yaml", SEED + "initBlocks: 9\n")])
    [problem] = result.errors
    assert (problem.rule, problem.pointer, problem.line) == ("init-blocks-within-max", "/initBlocks", 6)


def test_rule_value_from_set_is_reported_against_the_set() -> None:
    result = validate_sources([("c.yaml", SEED)], set_values=["minBlocks=9", "maxBlocks=3"])
    [problem] = result.errors
    assert (problem.file, problem.line, problem.column) == ("--set #1", 1, 1)


def test_slate_release_name_counts_instance(tmp_path: Path) -> None:
    """SLATE names the release globus-compute-endpoint-<Instance>: 29 characters fit, 30 do not."""
    fits = validate_sources([("c.yaml", SEED.replace("Instance: ci", "Instance: " + "a" * 29))])
    assert fits.ok
    too_long = validate_sources([("c.yaml", SEED.replace("Instance: ci", "Instance: " + "a" * 30))])
    rules_hit = {p.rule: p for p in too_long.errors}
    assert set(rules_hit) == {"maxLength", "release-name-length"}
    assert rules_hit["release-name-length"].hint == (
        f"the release name 'globus-compute-endpoint-{'a' * 30}' is 54 characters long"
    )
    assert (rules_hit["release-name-length"].line, rules_hit["release-name-length"].column) == (1, 1)


def test_release_option_replaces_the_slate_name() -> None:
    assert validate_sources([("c.yaml", SEED.replace("Instance: ci", "Instance: " + "a" * 29))], release="gce").ok
    assert not validate_sources([("c.yaml", SEED)], release="g" * 54).ok


def test_invalid_release_name_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text(SEED, encoding="utf-8")
    ran = run("validate", str(path), "--release", "Bad_Name")
    assert ran.code == 2
    assert "--release: error: 'Bad_Name' is not a valid Helm release name" in ran.stderr


# --- every rule kind works on any keys: a made-up schema ----------------------------------------------

KIND_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": ""},
        "up": {"type": "boolean", "default": False},
        "down": {"type": "boolean", "default": True},
        "low": {"type": "number", "default": 1},
        "high": {"type": "number", "default": 2},
        "grp": {"type": "object", "default": {}, "properties": {"list": {"type": "array", "default": []}}},
        "owner": {"type": "string", "default": ""},
        "Tag": {"type": ["string", "integer"], "default": "t"},
    },
    "x-rules": [
        {"id": "k-required", "kind": "required", "key": "name", "message": "name needed"},
        {"id": "k-one", "kind": "exactlyOne", "keys": ["up", "down"], "message": "one of up/down"},
        {"id": "k-le", "kind": "lessOrEqual", "keys": ["low", "high"], "message": "low <= high"},
        {"id": "k-when-list", "kind": "requiredWhen", "key": "owner", "whenNonEmpty": "grp.list", "message": "o1"},
        {"id": "k-when-false", "kind": "requiredWhen", "key": "owner", "whenFalse": "down", "message": "o2"},
        {"id": "k-release", "kind": "releaseNameLength", "key": "Tag", "max": 30, "message": "too long"},
        {
            "id": "k-warn",
            "kind": "warnWhen",
            "severity": "warning",
            "key": "low",
            "when": [{"key": "low", "greaterThan": 5}, {"key": "up", "equals": False}],
            "message": "w",
        },
    ],
}
KIND_CASES = {
    "": set(),  # only `name` is set: every rule holds
    "name: ''\n": {"k-required"},
    "name: null\n": {"k-required"},
    "up: true\n": {"k-one"},
    "up: true\ndown: false\n": {"k-when-false"},
    "low: 3\n": {"k-le"},
    "low: 3\nhigh: 3.0\n": set(),
    "grp: {list: [1]}\n": {"k-when-list"},
    "grp: {list: [1]}\nowner: me\n": set(),
    "Tag: 123456\n": set(),
    "Tag: abcdefg\n": {"k-release"},
    "low: 6\nhigh: 9\n": {"k-warn"},
    "low: 6\nhigh: 9\ndown: false\nup: true\nowner: me\n": set(),
}


@pytest.mark.parametrize("text", sorted(KIND_CASES))
def test_rule_kinds_are_generic(text: str) -> None:
    schema = ValuesSchema(KIND_SCHEMA)
    conf = text if text.startswith("name:") else "name: nm\n" + text
    result = validate_sources([("k.yaml", conf)], schema=schema)
    assert {p.rule for p in result.problems} == KIND_CASES[text]


def test_an_unknown_rule_kind_is_an_internal_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A schema rule this version cannot check is a bug (exit 3), never a silently skipped rule."""
    monkeypatch.delitem(xrules.kinds(), "lessOrEqual")
    path = tmp_path / "conf.yaml"
    path.write_text(SEED, encoding="utf-8")
    ran = run("validate", str(path))
    assert ran.code == 3
    assert "internal error" in ran.stderr and "lessOrEqual" in ran.stderr
    assert "Traceback" not in ran.output


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "true"), (False, "false"), (None, "<nil>"), (8.0, "8"), (0.5, "0.5"), (3, "3"), ("x", "x")],
)
def test_go_string(value: object, expected: str) -> None:
    assert go_string(value) == expected


def test_endpoint_uuid_equal_to_client_id_warns_without_showing_the_secret(tmp_path: Path) -> None:
    secret = "S3cr3tValueThatMustNeverBePrinted0123456789aB="
    creds = tmp_path / "client_creds.env"
    creds.write_text(f"GLOBUS_COMPUTE_CLIENT_ID={UUID.upper()}\nGLOBUS_COMPUTE_CLIENT_SECRET={secret}\n")
    conf = tmp_path / "conf.yaml"
    conf.write_text(SEED, encoding="utf-8")
    ran = run("validate", str(conf), "--creds", str(creds))
    assert ran.code == 0
    assert f"{conf}:2:15: warning: endpointUUID: endpointUUID is the client ID from {creds}" in ran.stdout
    assert secret not in ran.output
    legacy = tmp_path / "legacy.env"
    legacy.write_text(f"FUNCX_SDK_CLIENT_ID={UUID}\nFUNCX_SDK_CLIENT_SECRET={secret}\n")
    result = validate_sources([("c.yaml", SEED)], creds_file=str(legacy))
    assert [p.rule for p in result.warnings] == ["endpoint-uuid-is-client-id"]
    other = tmp_path / "other.env"
    other.write_text(
        f"GLOBUS_COMPUTE_CLIENT_ID=0f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c\nGLOBUS_COMPUTE_CLIENT_SECRET={secret}\n"
    )
    assert validate_sources([("c.yaml", SEED)], creds_file=str(other)).problems == []


def test_creds_file_without_client_id_is_said(tmp_path: Path) -> None:
    creds = tmp_path / "empty.env"
    creds.write_text("# nothing yet\n")
    [problem] = validate_sources([("c.yaml", SEED)], creds_file=str(creds)).problems
    assert (problem.file, problem.severity, problem.rule) == (str(creds), "warning", "creds-client-id")


def test_unreadable_creds_file_is_exit_2(tmp_path: Path) -> None:
    conf = tmp_path / "conf.yaml"
    conf.write_text(SEED, encoding="utf-8")
    ran = run("validate", str(conf), "--creds", str(tmp_path / "missing.env"))
    assert ran.code == 2
    assert "missing.env" in ran.stderr and "Traceback" not in ran.output


RELEASE_NAMES = [
    ("atlas", "globus-compute-endpoint-atlas"),
    # SLATE adds no dash for an empty tag (installApplicationImpl: appName + ("-" + tag if tag non-empty)).
    ("", "globus-compute-endpoint"),
    # Helm reads every number as a float64 and writes 12.0 as 12.
    (12, "globus-compute-endpoint-12"),
    (12.0, "globus-compute-endpoint-12"),
]


@pytest.mark.parametrize(("instance", "name"), [*RELEASE_NAMES, (None, "globus-compute-endpoint")])
def test_the_release_name_is_the_one_slate_gives(instance: Any, name: str) -> None:
    assert release_name(instance) == name


@pytest.mark.parametrize(("instance", "name"), [case for case in RELEASE_NAMES if not isinstance(case[0], float)])
def test_install_uses_that_release_name(instance: Any, name: str, tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text(SEED_TEXT.replace("Instance: ci\n", f"Instance: {json.dumps(instance)}\n"), encoding="utf-8")
    ran = run("install", str(conf), "--helm", "--namespace", "ns", "--dry-run", "--helm-bin", "helm")
    assert ran.code == 0, ran.output
    assert ran.stdout.split()[3] == name


def test_install_refuses_an_instance_whose_number_changes_the_release_name(tmp_path: Path) -> None:
    """Instance: 12.0 would install as globus-compute-endpoint-12: the text the user wrote is lost."""
    conf = tmp_path / "c.yaml"
    conf.write_text(SEED_TEXT.replace("Instance: ci\n", "Instance: 12.0\n"), encoding="utf-8")
    ran = run("install", str(conf), "--helm", "--namespace", "ci", "--dry-run", "--helm-bin", "helm")
    assert ran.code == 1
    assert "[number-text-changed /Instance]" in ran.output and '"12"' in ran.output


def test_the_release_name_length_rule_counts_slates_name_for_an_empty_instance() -> None:
    schema = ValuesSchema(
        {
            "type": "object",
            "x-rules": [{"id": "k", "kind": "releaseNameLength", "key": "Tag", "max": 23, "message": "m"}],
        }
    )
    assert validate_sources([("c.yaml", 'Tag: ""\n')], include_defaults=False, schema=schema).problems == []
    [problem] = validate_sources([("c.yaml", "Tag: a\n")], include_defaults=False, schema=schema).problems
    assert problem.hint == "the release name 'globus-compute-endpoint-a' is 25 characters long"


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("500m", 500000000),
        ("2", 2000000000),
        (2, 2000000000),
        (0.5, 500000000),
        ("1.5Gi", 1610612736000000000),
        ("3000000Ki", 3072000000000000000),
        ("3k", 3000000000000),
        ("1Ei", 1152921504606846976000000000),
        ("1.", 1000000000),
        (".5", 500000000),
        ("1e3", 1000000000000),
        ("1E-3", 1000000),
        ("+2", 2000000000),
        ("-1Gi", -1073741824000000000),
        ("1n", 1),
        ("0.1n", 1),
        ("1.0000000001", 1000000001),
        ("10E", 9223372036854775807000000000),
        (1000000.5, 1000000500000000),
        ("", None),
        ("Mi", None),
        ("1e", None),
        ("1K", None),
        ("1iM", None),
        ("1 Gi", None),
        ("1e1000", None),
        ("1\u00b2", None),
        (True, None),
        (None, None),
    ],
)
def test_quantities_are_read_as_kubernetes_reads_them(value: object, amount: int | None) -> None:
    """Sign, digits, one dot, a suffix or exponent, in nano-units: rounded up and capped as Kubernetes does."""
    assert quantity(value) == amount
