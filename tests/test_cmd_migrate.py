"""`gce-values migrate`: predecessor confs (the published defaults and users' edits) become valid confs here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gce_values.sources import read_source
from gce_values.validator import validate_sources
from support.cli import run
from support.paths import REPO_ROOT

# Confs shaped like the published defaults of the two predecessor charts (see the files' headers).
PREDECESSORS = REPO_ROOT / "tests" / "fixtures" / "predecessor-confs"
SLATE_CONF = PREDECESSORS / "slate-0.1.6.yaml"
UPSTREAM_CONF = PREDECESSORS / "upstream-0.7.1.yaml"
ENDPOINT_ID = "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"
PLANTED = "PlantedS3cret+/Value=="


def _edited(tmp_path: Path, anchor: Path, **changes: Any) -> Path:
    """The anchor file as a user would have it: the lines of the keys they changed replaced by their values."""
    path = tmp_path / f"edited-{anchor.name}"
    text = anchor.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not any(line.startswith(f"{key}:") for key in changes)]
    path.write_text("\n".join(kept) + "\n" + yaml.safe_dump(changes, sort_keys=False), encoding="utf-8")
    return path


def _migrate(tmp_path: Path, old: Path, *extra: str) -> tuple[int, dict[str, Any], str, Path]:
    out = tmp_path / "new-conf.yaml"
    ran = run("migrate", str(old), "-o", str(out), "--format", "json", *extra)
    assert out.exists(), ran.output
    return ran.code, json.loads(ran.stderr), ran.stdout + ran.stderr, out


def _actions(report: dict[str, Any]) -> dict[str, str]:
    return {change["key"]: change["action"] for change in report["changes"]}


def _validate(path: Path) -> list[str]:
    return sorted({p.key for p in validate_sources([read_source(str(path))]).errors})


@pytest.mark.parametrize("anchor", [SLATE_CONF, UPSTREAM_CONF], ids=["slate-0.1.6", "upstream-0.7.1"])
def test_published_defaults_migrate_to_a_conf_that_lacks_only_uuid_and_secret(tmp_path: Path, anchor: Path) -> None:
    code, report, _, out = _migrate(tmp_path, anchor)
    assert code == 1, "incomplete: the old defaults have no endpointUUID and no secret"
    assert [item["key"] for item in report["fillIn"]] == ["endpointUUID", "secrets"]
    assert _validate(out) == ["endpointUUID", "secrets"], "nothing else may be wrong"
    actions = _actions(report)
    for key in ("replicaCount", "funcXServiceAddress", "logDir", "nameOverride", "endpointCLIargs"):
        assert actions[key] == "dropped", key
    assert actions["workerImage"] == "dropped"  # python:3.10 has no endpoint
    assert actions["workerInit"] == "dropped"  # pip install globus-compute-endpoint in every pod
    assert actions["workerNamespace"] == "changed"
    assert actions["maxBlocks"] == "changed"
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert values["workerImage"] == "" and values["workerInit"] == "" and values["workerNamespace"] == ""
    assert values["maxBlocks"] == 4
    assert values["minBlocks"] == 0
    assert values["useClientCredentials"] is True
    assert "# The endpoint's UUID, which stays the same" in out.read_text(encoding="utf-8")


def test_upstream_specifics_are_explained(tmp_path: Path) -> None:
    _, report, _, out = _migrate(tmp_path, UPSTREAM_CONF)
    reasons = {change["key"]: change["reason"] for change in report["changes"]}
    assert "compute/kube-endpoint:main-3.10" in reasons["image"]
    assert "Both login modes were off" in reasons["useClientCredentials"]
    assert "1 was the old chart's default" in reasons["minBlocks"]
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert values["image"]["repository"] == "hub.opensciencegrid.org/slate/globus-compute-endpoint"
    assert values["maxIdleTime"] == 3600, "a value with the same meaning is kept"


def test_a_users_edited_slate_conf_migrates_to_a_valid_conf(tmp_path: Path) -> None:
    old = _edited(
        tmp_path,
        SLATE_CONF,
        Instance="atlas",
        endpointUUID=ENDPOINT_ID,
        secrets="atlas-creds",
        maxBlocks=10,
        minBlocks=1,
        maxMem="8Gi",
        workerImage="registry.example.org/atlas/worker:4.19.0",
        endpointCLIargs="--log-to-console --debug",
        endpointName="atlas-ep",
        workerImageSecret="regcred",
        favouriteColour="blue",
        FUNCX_SDK_CLIENT_SECRET=PLANTED,
    )
    code, report, printed, out = _migrate(tmp_path, old)
    assert code == 1, "valid, but the kept worker image and the keys not carried over need a look"
    assert report["valid"] is True and report["fillIn"] == []
    assert report["needsReview"] == ["workerImage", "favouriteColour", "FUNCX_SDK_CLIENT_SECRET"]
    assert _validate(out) == []
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert (values["Instance"], values["endpointUUID"], values["secrets"]) == ("atlas", ENDPOINT_ID, "atlas-creds")
    assert values["maxBlocks"] == 10 and values["minBlocks"] == 1, "the user's own choices are kept"
    assert values["maxMem"] == "8Gi"
    assert values["workerImage"] == "registry.example.org/atlas/worker:4.19.0"
    assert values["endpoint"]["debug"] is True
    assert values["endpoint"]["name"] == "atlas-ep"
    assert values["imagePullSecret"] == "regcred"
    actions = _actions(report)
    assert actions["workerImage"] == "review"
    assert actions["endpointName"] == actions["workerImageSecret"] == "renamed"
    assert actions["favouriteColour"] == "unmapped"
    assert actions["FUNCX_SDK_CLIENT_SECRET"] == "unmapped"
    assert "favouriteColour" not in values and "FUNCX_SDK_CLIENT_SECRET" not in values
    assert PLANTED not in printed
    assert PLANTED not in out.read_text(encoding="utf-8")


def test_a_credential_pasted_into_a_copied_value_stays_behind(tmp_path: Path) -> None:
    old = _edited(
        tmp_path,
        SLATE_CONF,
        endpointUUID=ENDPOINT_ID,
        secrets="creds",
        workerInit=f"export GLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}",
    )
    for report_format in ("json", "text"):
        ran = run("migrate", str(old), "--format", report_format)
        assert ran.code == 0, ran.stderr
        assert PLANTED not in ran.stdout + ran.stderr
        assert yaml.safe_load(ran.stdout)["workerInit"] == ""
        assert "looks like a credential" in ran.stderr


def test_an_upstream_conf_with_its_own_image_keeps_it_for_review(tmp_path: Path) -> None:
    old = tmp_path / "upstream-edited.yaml"
    text = UPSTREAM_CONF.read_text(encoding="utf-8")
    text = text.replace("repository: compute/kube-endpoint", "repository: registry.example.org/me/endpoint")
    text = text.replace("tag: main-3.10", "tag: 4.19.0").replace("endpointUUID:", f"endpointUUID: {ENDPOINT_ID}")
    text = text.replace("minBlocks: 1", "minBlocks: 2")
    old.write_text(text + "secrets: my-creds\n", encoding="utf-8")
    code, report, _, out = _migrate(tmp_path, old)
    assert code == 1, "the user's own image needs a look"
    assert report["valid"] is True and report["needsReview"] == ["image"]
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert values["image"] == {
        "repository": "registry.example.org/me/endpoint",
        "tag": "4.19.0",
        "digest": "",
        "pullPolicy": "Always",
    }
    assert values["minBlocks"] == 2, "only the old default 1 is replaced"
    assert _actions(report)["image"] == "review"
    assert _validate(out) == []


def test_old_default_max_blocks_never_drops_below_the_users_min_blocks(tmp_path: Path) -> None:
    old = _edited(tmp_path, SLATE_CONF, endpointUUID=ENDPOINT_ID, secrets="creds", minBlocks=10, initBlocks=6)
    code, report, printed, out = _migrate(tmp_path, old)
    assert code == 0, printed
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["maxBlocks"] == 10
    assert "now 10" in next(c["reason"] for c in report["changes"] if c["key"] == "maxBlocks")


def test_worker_init_with_more_than_the_endpoint_is_kept_for_review(tmp_path: Path) -> None:
    init = "pip install globus-compute-endpoint==2.0.0 numpy && export OMP_NUM_THREADS=1"
    old = _edited(tmp_path, SLATE_CONF, endpointUUID=ENDPOINT_ID, secrets="creds", workerInit=init)
    code, report, _, out = _migrate(tmp_path, old)
    assert code == 1, "a workerInit that installs the endpoint needs review"
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["workerInit"] == init
    assert _actions(report)["workerInit"] == "review"
    text = run("migrate", str(old))
    assert text.code == 1
    assert "review before installing: workerInit" in text.stderr


def test_text_report_goes_to_stderr_and_the_conf_to_stdout(tmp_path: Path) -> None:
    old = _edited(tmp_path, UPSTREAM_CONF, endpointUUID=ENDPOINT_ID, secrets="creds")
    ran = run("migrate", str(old))
    assert ran.code == 0, ran.stderr
    assert yaml.safe_load(ran.stdout)["endpointUUID"] == ENDPOINT_ID
    assert "dropped: image:" in ran.stderr
    assert "changed: maxBlocks:" in ran.stderr
    assert "  copied: maxMem\n" in ran.stderr, "one line per key, also for the keys copied as they were"


def test_incomplete_conf_report_says_what_to_fill_in(tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    ran = run("migrate", str(SLATE_CONF), "-o", str(out))
    assert ran.code == 1
    assert "fill in before installing:" in ran.stderr
    assert "endpointUUID:" in ran.stderr and "secrets:" in ran.stderr
    assert out.exists()


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    out.write_text("mine\n")
    ran = run("migrate", str(SLATE_CONF), "-o", str(out))
    assert ran.code == 2
    assert "--force" in ran.stderr
    assert out.read_text() == "mine\n"
    assert run("migrate", str(SLATE_CONF), "-o", str(out), "--force").code == 1
    assert yaml.safe_load(out.read_text())["maxBlocks"] == 4


@pytest.mark.parametrize(
    ("text", "message"), [("- a\n- b\n", "a conf must be a YAML mapping"), ("a: [\n", "not valid YAML")]
)
def test_unusable_old_conf_is_exit_2(tmp_path: Path, text: str, message: str) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(text)
    out = tmp_path / "new.yaml"
    ran = run("migrate", str(old), "-o", str(out))
    assert ran.code == 2
    assert message in ran.stderr
    assert not out.exists()
    assert run("migrate", str(tmp_path / "absent.yaml")).code == 2


def test_a_complete_conf_with_nothing_to_review_exits_0(tmp_path: Path) -> None:
    old = _edited(tmp_path, SLATE_CONF, Instance="atlas", endpointUUID=ENDPOINT_ID, secrets="atlas-creds")
    code, report, printed, _ = _migrate(tmp_path, old)
    assert code == 0, printed
    assert report["needsReview"] == [] and report["valid"] is True


@pytest.mark.parametrize("anchor", [SLATE_CONF, UPSTREAM_CONF], ids=["slate-0.1.6", "upstream-0.7.1"])
def test_one_report_line_per_old_key(tmp_path: Path, anchor: Path) -> None:
    old = _edited(
        tmp_path, anchor, endpointUUID=ENDPOINT_ID, secrets="creds", endpointCLIargs="--debug --log-to-console -v"
    )
    old_keys = list(yaml.safe_load(old.read_text(encoding="utf-8")))
    _, report, _, _ = _migrate(tmp_path, old)
    reported = [change["key"] for change in report["changes"]] + [item["key"] for item in report["fillIn"]]
    assert sorted(reported) == sorted(old_keys)
    (cli_args,) = [c for c in report["changes"] if c["key"] == "endpointCLIargs"]
    assert cli_args["action"] == "changed" and cli_args["newKey"] == "endpoint.debug"
    assert "Not carried over: -v." in cli_args["reason"]
    text = run("migrate", str(old))
    report_lines = [line for line in text.stderr.splitlines() if line.startswith("  ") and ": " in line]
    assert [line for line in report_lines if "endpointCLIargs" in line] == [
        f"  changed: endpointCLIargs -> endpoint.debug: {cli_args['reason']}"
    ]


def test_a_dropped_image_explains_the_tag_the_user_set(tmp_path: Path) -> None:
    old = tmp_path / "upstream-tagged.yaml"
    text = UPSTREAM_CONF.read_text(encoding="utf-8").replace("tag: main-3.10", "tag: 2.2.0-python3.9")
    old.write_text(text.replace("endpointUUID:", f"endpointUUID: {ENDPOINT_ID}") + "secrets: creds\n")
    _, report, _, _ = _migrate(tmp_path, old)
    (image,) = [c for c in report["changes"] if c["key"] == "image"]
    assert image["action"] == "dropped"
    assert "compute/kube-endpoint:2.2.0-python3.9" in image["reason"]
    assert "main-3.10" not in image["reason"]


def test_a_conf_already_for_this_chart_is_recognised_and_copied_as_it_is(tmp_path: Path) -> None:
    conf = tmp_path / "mine.yaml"
    assert run("init", "-o", str(conf), "--instance", "atlas", "--secret", "creds").code == 0
    out = tmp_path / "again.yaml"
    ran = run("migrate", str(conf), "-o", str(out))
    assert ran.code == 0, ran.output
    assert "is already a conf for this chart: nothing to convert" in ran.stderr
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == yaml.safe_load(conf.read_text(encoding="utf-8"))
    five_keys = tmp_path / "five.yaml"
    five_keys.write_text(
        f"Instance: atlas\nendpointUUID: {ENDPOINT_ID}\nsecrets: creds\nuseClientCredentials: true\nmaxBlocks: 100\n"
    )
    code, report, _, migrated = _migrate(tmp_path, five_keys)
    assert (code, report["predecessor"]) == (0, "this chart")
    assert yaml.safe_load(migrated.read_text(encoding="utf-8"))["maxBlocks"] == 100, "the user's choice here"


def test_a_conf_of_this_chart_with_a_key_it_no_longer_has_says_what_was_dropped(tmp_path: Path) -> None:
    # userConfigSchema left in 1.0.0: "nothing to convert" would hide that the key is gone.
    conf = tmp_path / "earlier.yaml"
    conf.write_text(f'endpointUUID: {ENDPOINT_ID}\nsecrets: creds\nuserConfigSchema: \'{{"type": "object"}}\'\n')
    ran = run("migrate", str(conf), "-o", str(tmp_path / "new.yaml"))
    assert "is already a conf for this chart: 1 key(s) it no longer has dropped;" in ran.stderr
    assert "nothing to convert" not in ran.stderr
    assert "  dropped: userConfigSchema: " in ran.stderr
    assert "userConfigSchema" not in yaml.safe_load((tmp_path / "new.yaml").read_text(encoding="utf-8"))


def test_values_written_as_the_predecessors_took_them_are_converted_to_the_schemas_types(tmp_path: Path) -> None:
    """The old charts took numbers and booleans as text and quantities either way; the schema says what is wanted."""
    old = _edited(
        tmp_path,
        SLATE_CONF,
        endpointUUID=ENDPOINT_ID,
        secrets="globus-compute-creds",
        maxBlocks="4",
        minBlocks=" 1 ",
        workerDebug="True",
        initCPU="500m",
        maxCPU="2",
        initMem=536870912,
        maxMem="2Gi",
    )
    _code, report, _output, out = _migrate(tmp_path, old)
    conf = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert {key: conf[key] for key in ("maxBlocks", "minBlocks", "workerDebug", "initCPU", "maxCPU")} == {
        "maxBlocks": 4,
        "minBlocks": 1,
        "workerDebug": True,
        "initCPU": 0.5,
        "maxCPU": 2.0,
    }
    assert (conf["initMem"], conf["maxMem"]) == ("536870912", "2Gi")
    reasons = {change["key"]: change["reason"] for change in report["changes"]}
    assert reasons["initMem"] == "A number without a unit means bytes; written as a quoted quantity."
    assert reasons["initCPU"] == "'500m' written as a number."
    assert _validate(out) == []


def test_an_empty_text_key_becomes_empty_text_not_a_null(tmp_path: Path) -> None:
    """`imagePullSecret:` (null) copied as is would delete the key and its default in Helm: an error."""
    old = _edited(tmp_path, SLATE_CONF, endpointUUID=ENDPOINT_ID, secrets="creds", imagePullSecret=None)
    _code, report, output, out = _migrate(tmp_path, old)
    assert yaml.safe_load(out.read_text())["imagePullSecret"] == ""
    assert _actions(report)["imagePullSecret"] == "changed"
    assert "imagePullSecret" not in _validate(out), output


@pytest.mark.parametrize(("seconds", "whole"), [(1.5, 2), (0.2, 1), (30.0, 30)])
def test_a_fractional_task_ttl_becomes_a_whole_task_timeout(tmp_path: Path, seconds: float, whole: int) -> None:
    """The old README's own example, `taskTTLSeconds: 1.5`: rounded up (0 would mean no limit), with a note."""
    old = _edited(tmp_path, SLATE_CONF, endpointUUID=ENDPOINT_ID, secrets="creds", taskTTLSeconds=seconds)
    _code, report, output, out = _migrate(tmp_path, old)
    assert yaml.safe_load(out.read_text())["taskTimeout"] == whole
    assert "taskTimeout" not in _validate(out), output
    reason = next(c["reason"] for c in report["changes"] if c["key"] == "taskTTLSeconds")
    assert ("rounded up" in reason) == (seconds != whole)


@pytest.mark.parametrize(
    "image",
    [
        {"repository": "funcx/kube-endpoint", "tag": "main-3.10"},
        {"repository": "docker.io/funcx/kube-endpoint", "tag": "main-3.9"},
        {"repository": "hub.opensciencegrid.org/slate/globus-compute", "tag": "0.0.1"},
        {"repository": "compute/kube-endpoint", "tag": "main-3.10"},
    ],
)
def test_every_old_endpoint_image_is_dropped_not_kept_as_the_users_own(tmp_path: Path, image: dict[str, str]) -> None:
    text = UPSTREAM_CONF.read_text(encoding="utf-8").replace("compute/kube-endpoint", image["repository"])
    old = tmp_path / "old.yaml"
    old.write_text(text.replace("tag: main-3.10", f"tag: {image['tag']}"), encoding="utf-8")
    _code, report, _output, out = _migrate(tmp_path, old)
    assert _actions(report)["image"] == "dropped"
    assert yaml.safe_load(out.read_text())["image"]["repository"] != image["repository"], "kept as the user's own"
    assert image["repository"] in next(c["reason"] for c in report["changes"] if c["key"] == "image")


def test_a_kept_endpoint_uuid_says_high_assurance_cannot_be_switched_on_later(tmp_path: Path) -> None:
    old = _edited(tmp_path, SLATE_CONF, Instance="atlas", endpointUUID=ENDPOINT_ID, secrets="atlas-creds")
    code, report, printed, _ = _migrate(tmp_path, old)
    [kept] = [c for c in report["changes"] if c["key"] == "endpointUUID"]

    assert code == 0, printed
    assert "without High Assurance" in kept["reason"]
    assert "cannot be switched on later for this UUID" in kept["reason"]


def test_a_high_assurance_conf_of_this_chart_is_warned_in_migrate(tmp_path: Path) -> None:
    conf = tmp_path / "ha.yaml"
    subscription, policy = "5b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"
    conf.write_text(
        f"Instance: atlas\nendpointUUID: {ENDPOINT_ID}\nsecrets: creds\nendpoint:\n  highAssurance: true\n"
        f"  subscriptionId: {subscription}\n  authenticationPolicy: {policy}\n",
        encoding="utf-8",
    )
    code, report, printed, _ = _migrate(tmp_path, conf)
    [kept] = [c for c in report["changes"] if c["key"] == "endpointUUID"]

    assert code == 0, printed
    assert "with High Assurance" in kept["reason"] and "cannot be switched off later" in kept["reason"]
    assert [p["rule"] for p in report["problems"]] == ["high-assurance-is-for-good"]


def test_user_config_schema_of_an_earlier_version_is_dropped_with_the_reason(tmp_path: Path) -> None:
    conf = tmp_path / "earlier.yaml"
    conf.write_text(
        f"Instance: atlas\nendpointUUID: {ENDPOINT_ID}\nsecrets: creds\nuserConfigSchema:\n  type: object\n",
        encoding="utf-8",
    )
    code, report, printed, migrated = _migrate(tmp_path, conf)
    [dropped] = [c for c in report["changes"] if c["key"] == "userConfigSchema"]

    assert code == 0, printed
    assert report["predecessor"] == "this chart"
    assert dropped["action"] == "dropped" and "workerChoices" in dropped["reason"]
    assert "userConfigSchema" not in yaml.safe_load(migrated.read_text(encoding="utf-8"))
    assert report["valid"] is True, printed
