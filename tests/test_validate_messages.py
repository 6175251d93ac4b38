"""What `gce-values validate` says about a bad conf: where, and what to do about it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gce_values.report import Problem
from gce_values.schema import ValuesSchema, load
from gce_values.validator import Result, validate_sources
from support.cli import run
from support.paths import SEED as SEED_VALUES
from support.paths import SEED_TEXT

SEED = SEED_TEXT  # lines 1-5; cases below append from line 6


def _check(text: str, **kwargs: Any) -> Result:
    return validate_sources([("conf.yaml", text)], **kwargs)


def _one(result: Result, rule: str) -> Problem:
    found = [p for p in result.problems if p.rule == rule]
    assert len(found) == 1, result.problems
    return found[0]


def _where(problem: Problem) -> tuple[str, int, int, str, str]:
    return problem.file, problem.line, problem.column, problem.key, problem.pointer


def test_the_seed_conf_is_valid() -> None:
    assert _check(SEED).problems == []


def test_unknown_key_suggests_the_closest() -> None:
    result = _check(SEED + "maxBlock: 3\nendpoint:\n  nmae: x\n  debugg: true\nimagee: {}\nzzz: 1\n")
    found = {p.key: (p.line, p.column, p.message, p.hint) for p in result.problems}
    assert found == {
        "maxBlock": (6, 1, "unknown key 'maxBlock'", "did you mean 'maxBlocks'?"),
        "endpoint.nmae": (8, 3, "unknown key 'nmae'", "did you mean 'name'?"),
        "endpoint.debugg": (9, 3, "unknown key 'debugg'", "did you mean 'debug'?"),
        "imagee": (10, 1, "unknown key 'imagee'", "did you mean 'image'?"),
        "zzz": (11, 1, "unknown key 'zzz'", None),
    }
    assert {p.rule for p in result.problems} == {"unknown-key"}


def test_unknown_key_ignores_case_when_suggesting() -> None:
    problem = _one(_check(SEED + "maxidletime: 5\n"), "unknown-key")
    assert problem.hint == "did you mean 'maxIdleTime'?"


MIGRATE_HINT = "`gce-values migrate OLD-CONF -o NEW-CONF` converts a conf of the old charts"


def test_removed_keys_say_what_replaced_them() -> None:
    result = _check(SEED + "workerImageSecret: regcred\nreplicaCount: 2\ninstance: x\n")
    found = {p.key: (p.line, p.rule, p.message, p.hint) for p in result.problems}
    assert found["workerImageSecret"] == (
        6,
        "removed-key",
        "'workerImageSecret' is no longer a setting of this chart: Renamed to imagePullSecret, which now also "
        "applies to the endpoint pod",
        MIGRATE_HINT,
    )
    assert found["replicaCount"][1:3] == (
        "removed-key",
        "'replicaCount' is no longer a setting of this chart: An endpoint UUID must never run twice, so the "
        "chart always runs exactly one replica",
    )
    assert found["replicaCount"][3] == MIGRATE_HINT, "an old conf is pointed at migrate"
    assert found["instance"][2].endswith("SLATE reads Instance with a capital I")


def test_a_moved_key_is_named_once_and_without_a_doubled_stop() -> None:
    """Not "Moved to endpoint.name.; use endpoint.name instead": the message names the new key, once."""
    result = _check(SEED + "endpointName: mine\n")
    (moved,) = [p for p in result.problems if p.key == "endpointName"]
    line = f"{moved.message}; {moved.hint}"
    assert line.count("endpoint.name") == 1, line
    assert ".;" not in line
    assert "gce-values migrate" in line


def test_slate_and_instance_are_always_allowed() -> None:
    assert _check(SEED + "SLATE:\n  Instance:\n    ID: abc\n  Cluster: {Name: uchicago}\n").ok


def test_enum_lists_the_allowed_values_and_the_closest() -> None:
    result = _check(SEED + "image:\n  pullPolicy: always\nendpoint:\n  amqpPort: 8443\n")
    pull = next(p for p in result.problems if p.key == "image.pullPolicy")
    assert (pull.line, pull.column) == (7, 15)
    assert pull.message == 'must be one of "IfNotPresent", "Always", "Never"; got "always"'
    assert pull.hint == 'did you mean "Always"?'
    port = next(p for p in result.problems if p.key == "endpoint.amqpPort")
    assert port.message == "must be one of 443, 5671, 5672; got 8443"


def test_type_errors_explain_quotes_and_set() -> None:
    result = _check(
        SEED + 'workerDebug: "true"\nmaxBlocks: "8"\n', set_values=["initCPU=0.5"], set_strings=["maxCPU=4"]
    )
    found = {p.key: (p.file, p.message, p.hint) for p in result.problems}
    assert found == {
        "workerDebug": ("conf.yaml", 'expected a boolean, got "true"', "remove the quotes"),
        "maxBlocks": ("conf.yaml", 'expected an integer, got "8"', "remove the quotes"),
        "initCPU": (
            "--set #1",
            'expected a number, got "0.5"',
            "--set reads only integers, true/false and null: put this value in a -f file",
        ),
        "maxCPU": ("--set-string #1", 'expected a number, got "4"', "--set-string always gives a string: use --set"),
    }


def test_bounds_and_lengths() -> None:
    result = _check(SEED + "maxBlocks: 1001\ninitCPU: 0\nendpoint: {displayName: " + "x" * 129 + "}\n")
    found = {p.key: p.message for p in result.problems}
    assert found == {
        "maxBlocks": "must be at most 1000; got 1001",
        "initCPU": "must be greater than 0; got 0",
        "endpoint.displayName": "is 129 characters long; at most 128 allowed",
    }


def test_pattern_errors_say_what_is_wrong_in_words() -> None:
    """Not the regex, not the key's whole description: what is wrong with the value, and an example."""
    problem = _one(_check(SEED.replace("Instance: ci", "Instance: Atlas_ML")), "pattern")
    assert (problem.line, problem.column, problem.key) == (1, 11, "Instance")
    assert problem.message == "\"Atlas_ML\" has uppercase letters and '_', which are not allowed here"
    assert problem.hint == 'for example "default" or "atlas-ml"'


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("Instance: MyEndpoint", "has uppercase letters; only lowercase ones are allowed"),
        ("Instance: my-endpoint-", "ends with '-'"),
        ("Instance: my endpoint", "has a space, which is not allowed here"),
        ("endpointUUID: 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a", "has 31 hex digits, one digit short of a UUID's 32"),
        ('endpointUUID: "{7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57}"', "has braces around the UUID"),
        ("endpointUUID: 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2ag", "has 'g', which a UUID does not"),
        ("initMem: 512MB", "has 'B', which is not allowed here"),
    ],
)
def test_pattern_words(line: str, words: str) -> None:
    key = line.split(":", maxsplit=1)[0]
    text = "\n".join(line if row.startswith(key + ":") else row for row in SEED.splitlines()) + "\n"
    if key not in SEED:
        text = SEED + line + "\n"
    problem = _one(_check(text), "pattern")
    assert words in problem.message
    assert "^" not in problem.message and "$" not in problem.message


def test_uppercase_uuid_in_admins_names_both_helm_versions() -> None:
    uuid = "2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3"
    text = SEED + f"endpoint:\n  subscriptionId: {uuid.lower()}\n  admins: [{uuid}]\n"
    problem = _one(_check(text), "pattern")
    assert problem.key == "endpoint.admins[0]"
    assert "Helm 3" in problem.message and "Helm 4" in problem.message and "lowercase" in problem.message


def test_pattern_is_matched_like_go_not_python() -> None:
    """Python's $ also matches before a final newline; Helm's RE2 does not. A block scalar adds one."""
    text = SEED.replace(
        "endpointUUID: 7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57", "endpointUUID: |\n  7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"
    )
    problem = _one(_check(text), "pattern")
    assert problem.key == "endpointUUID"


def test_bad_key_names_point_at_the_key() -> None:
    result = _check(SEED + "podAnnotations:\n  ok.example/x: y\n  'Bad Key': z\n")
    problem = _one(result, "propertyNames")
    assert _where(problem)[1:4] == (8, 3, 'podAnnotations["Bad Key"]')
    assert problem.message == "key 'Bad Key' has a space, which is not allowed here"


def test_yaml_1_1_words_warn_where_text_is_expected() -> None:
    result = _check(
        SEED + "workerDebug: yes\nuserEnvironment:\n  PROXY: off\nendpoint: {displayName: on}\nmaxIdleTime: 0600\n"
    )
    found = {p.key: (p.severity, p.rule, p.message) for p in result.problems}
    assert found == {
        "userEnvironment.PROXY": (
            "warning",
            "yaml11-boolean",
            "off is read as the boolean false (YAML 1.1, as Helm reads it)",
        ),
        "endpoint.displayName": ("error", "type", "expected a string, got true"),
        "maxIdleTime": ("warning", "yaml11-octal", "0600 is read as the octal number 384 (YAML 1.1, as Helm reads it)"),
    }
    display = next(p for p in result.problems if p.key == "endpoint.displayName")
    assert (
        display.hint
        == 'on is read as the boolean true (YAML 1.1, as Helm reads it): quote it ("on") if you mean the word'
    )


def test_instance_no_becomes_false() -> None:
    problem = _one(_check(SEED.replace("Instance: ci", "Instance: no")), "type")
    assert (problem.line, problem.column, problem.message) == (1, 11, "expected a string or an integer, got false")
    assert problem.hint is not None and problem.hint.startswith("no is read as the boolean false")


def test_a_yaml_1_1_key() -> None:
    result = _check(SEED + "userEnvironment:\n  on: 1\n")
    problem = _one(result, "yaml11-boolean")
    assert (problem.line, problem.column, problem.key) == (7, 3, "userEnvironment.true")
    assert problem.message == "the key on is read as the boolean true, so the key is 'true'"


def test_quotes_slate_may_drop() -> None:
    result = _check(
        SEED + 'resources:\n  limits:\n    memory: "1073741824"\nimage:\n  tag: "1.10"\nworkerInit: "010"\n'
        'endpoint:\n  displayName: "true"\nuserEnvironment:\n  OMP_NUM_THREADS: "010"\nInstance2: "x"\n'
    )
    found = {p.key: (p.line, p.column, p.hint) for p in result.problems if p.rule == "slate-quotes"}
    assert set(found) == {
        "resources.limits.memory",
        "image.tag",
        "workerInit",
        "endpoint.displayName",
        "userEnvironment.OMP_NUM_THREADS",
    }
    assert found["resources.limits.memory"] == (
        8,
        13,
        "this key does not accept that, so the install would fail there; "
        "use a text that does not read as a number (add a letter, e.g. a prefix)",
    )
    # userEnvironment takes numbers too, but 010 then becomes 8 (octal).
    assert found["userEnvironment.OMP_NUM_THREADS"][2] == "check that this key means the same thing either way"
    memory = next(p for p in result.problems if p.key == "resources.limits.memory")
    assert memory.message == (
        '"1073741824" may lose its quotes on SLATE (its server rewrites the conf); Helm would then read 1073741824,'
        " an integer"
    )
    assert all(p.severity == "warning" for p in result.problems if p.rule == "slate-quotes")


def test_x_slate_coerce_keys_that_accept_both_types_do_not_warn() -> None:
    """image.tag and Instance are marked x-slate-coerce and accept a number too: the chart copes."""
    result = _check(SEED.replace("Instance: ci", 'Instance: "123"') + 'image: {tag: "4.19"}\n')
    for path in (("Instance",), ("image", "tag")):
        assert (load().node(path) or {}).get("x-slate-coerce") is True
    assert result.problems == []


def test_x_slate_coerce_still_warns_when_the_number_reads_back_differently() -> None:
    """The chart turns the number back into text, but 1.10 comes back as 1.1 and 1e3 as 1000."""
    for tag, read_as in (("1.10", "1.1, a number"), ("1e3", "1000, an integer")):
        result = _check(SEED + f'image: {{tag: "{tag}"}}\n')
        problem = _one(result, "slate-quotes")
        assert problem.key == "image.tag"
        assert problem.message.endswith(f"Helm would then read {read_as}")


def test_quote_warning_only_for_what_a_user_writes_in_a_file() -> None:
    assert _check(SEED, set_strings=["workerInit=010"]).problems == []


def test_null_deletes_a_default_and_that_breaks_required() -> None:
    result = _check(SEED + "maxBlocks: null\nendpoint:\nimage: ~\nnetworkPolicy: {enabled: null}\n")
    found = {p.key: (p.line, p.column, p.rule, p.message) for p in result.problems}
    assert found == {
        "maxBlocks": (6, 1, "required", "'maxBlocks' is required, but null deletes it"),
        "endpoint": (7, 1, "required", "'endpoint' is required, but null deletes it"),
        "image": (8, 1, "required", "'image' is required, but null deletes it"),
        "networkPolicy.enabled": (9, 17, "required", "'enabled' is required, but null deletes it"),
    }


def test_null_for_a_key_without_default_stays_and_is_reported() -> None:
    result = _check(SEED + "userEnvironment: {X: null}\nnoSuchKey: null\n")
    found = {p.key: (p.rule, p.hint) for p in result.problems}
    assert found == {
        "userEnvironment.X": ("type", "a null deletes only keys that have a default; remove the line or give a value"),
        "noSuchKey": ("unknown-key", None),
    }


def test_merged_files_name_the_file_that_supplied_the_bad_value() -> None:
    base = ("base.yaml", SEED + "maxBlocks: 8\nendpoint:\n  amqpPort: 5671\n")
    override = ("override.yaml", "endpoint:\n  amqpPort: 1\nmaxBlocks: 2\nminBlocks: 3\n")
    result = validate_sources([base, override], set_values=["endpoint.heartbeatPeriod=1"])
    assert [(*_where(p), p.rule) for p in result.problems] == [
        ("override.yaml", 2, 13, "endpoint.amqpPort", "/endpoint/amqpPort", "enum"),
        ("override.yaml", 4, 1, "minBlocks", "/minBlocks", "min-blocks-within-max"),
        ("--set #1", 1, 1, "endpoint.heartbeatPeriod", "/endpoint/heartbeatPeriod", "minimum"),
    ]


def test_problems_are_sorted_by_file_then_line() -> None:
    result = _check(SEED + "zz: 1\nmaxBlocks: -1\naa: 2\n")
    assert [(p.line, p.column) for p in result.problems] == sorted((p.line, p.column) for p in result.problems)


def test_oneof_reports_the_branch_that_was_meant() -> None:
    schema = ValuesSchema(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {
                "storage": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"size": {"type": "string", "pattern": "^[0-9]+Gi$"}},
                        },
                    ]
                },
                "port": {"anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "integer", "minimum": 1}]},
            },
        }
    )
    result = validate_sources([("s.yaml", "storage:\n  size: 10GB\nport: 0\n")], schema=schema)
    found = {p.pointer: (p.line, p.column, p.rule, p.message, p.hint) for p in result.problems}
    assert found == {
        "/storage/size": (2, 9, "pattern", "\"10GB\" has 'B', which is not allowed here", "closest of 2 alternatives"),
        "/port": (3, 7, "minimum", "must be at least 1; got 0", "closest of 2 alternatives"),
    }


SECRET = "k3TcU1hZ2Q0bWJ4V3Z0YzZ1N3l5N2l4b3M5Z3k3c2M9="  # 44 characters, like a Globus client secret
RANDOM = "a 44-character random-looking string, like a Globus client secret or token"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("extra", "key", "what"),
    [
        (
            f"workerInit: export GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}\n",
            "workerInit",
            "a GLOBUS_COMPUTE_CLIENT_SECRET= assignment",
        ),
        (f"workerInit: FUNCX_SDK_CLIENT_SECRET='{SECRET}'\n", "workerInit", "a FUNCX_SDK_CLIENT_SECRET= assignment"),
        (
            f"userEnvironment:\n  GLOBUS_COMPUTE_CLIENT_SECRET: {SECRET}\n",
            "userEnvironment.GLOBUS_COMPUTE_CLIENT_SECRET",
            RANDOM,
        ),
        (
            "userEnvironment:\n  DB_PASSWORD: hunter2hunter2\n",
            "userEnvironment.DB_PASSWORD",
            "a literal value for a key named 'DB_PASSWORD'",
        ),
        (f"endpoint:\n  displayName: {SECRET}\n", "endpoint.displayName", RANDOM),
        (
            "workerInit: |\n" + "".join("  " + line + "\n" for line in PEM.splitlines()),
            "workerInit",
            "a PEM block (BEGIN RSA PRIVATE KEY)",
        ),
        (f"podAnnotations:\n  example.org/token: Bearer {SECRET}\n", 'podAnnotations["example.org/token"]', RANDOM),
    ],
    ids=["env-line", "legacy-env-line", "env-var", "password-key", "entropy", "pem", "annotation"],
)
def test_credentials_are_errors_and_never_shown(extra: str, key: str, what: str, tmp_path: Path) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text(SEED + extra, encoding="utf-8")
    for output_format in ("text", "json", "github"):
        ran = run("validate", str(path), "--format", output_format)
        assert ran.code == 1
        for secret in (SECRET, "hunter2hunter2", "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn"):
            assert secret not in ran.output
    report = json.loads(run("validate", str(path), "--format", "json").stdout)
    [problem] = [p for p in report["problems"] if p["rule"] == "secret"]
    assert problem["key"] == key
    assert problem["message"] == f"this value looks like a credential: {what}"
    assert problem["hint"].startswith("credentials belong in the SLATE secret named by `secrets`")


def test_a_credential_in_a_key_or_in_set_is_never_shown_either() -> None:
    result = _check(
        SEED + f"userEnvironment:\n  {SECRET}: x\n", set_values=[f"userEnvironment.API_TOKEN={SECRET[::-1]}"]
    )
    secrets = [p for p in result.problems if p.rule == "secret"]
    assert [(p.file, p.line) for p in secrets] == [("conf.yaml", 7), ("--set #1", 1)]
    everything = json.dumps([p._asdict() for p in result.problems])
    assert SECRET not in everything and SECRET[::-1] not in everything


def test_secret_names_are_not_secrets() -> None:
    """``secrets`` and ``imagePullSecret`` hold the *names* of Kubernetes secrets."""
    assert _check(SEED + "imagePullSecret: my-registry-credentials\n").problems == []


def test_ordinary_long_values_are_not_taken_for_secrets() -> None:
    text = SEED + (
        "workerImage: registry.example.org/science/gce-worker@sha256:"
        "9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e\n"
        "workerInit: export PATH=/opt/conda/envs/analysis-environment-2024/bin:$PATH\n"
        "userEnvironment:\n  SOME_TOKEN_FILE: ${TOKEN_PATH}\n"
    )
    assert _check(text).problems == []


def test_tab_indentation_is_called_tabs() -> None:
    from gce_values.errors import InputError

    with pytest.raises(InputError) as caught:
        _check(SEED + "endpoint:\n\tdebug: true\n")
    assert "a tab where YAML needs spaces" in caught.value.detail
    assert caught.value.line == 7


def test_key_glued_to_its_value_is_reported_at_its_line() -> None:
    """`minBlocks:0` is one word to YAML; the parser notices only lines later."""
    from gce_values.errors import InputError

    text = SEED.replace("minBlocks: 0\n", "minBlocks:0\n") + "maxBlocks: 3\nendpoint:\n  debug: true\n"
    with pytest.raises(InputError) as caught:
        _check(text)
    assert (caught.value.line, caught.value.detail) == (
        5,
        "not valid YAML: no space after the ':' of minBlocks; write 'minBlocks: value'",
    )


def test_missing_key_is_not_pinned_to_an_unrelated_line() -> None:
    problem = _one(_check("# a comment\nInstance: ci\nsecrets: creds\n"), "endpoint-uuid-required")
    assert (problem.line, problem.column, problem.key) == (0, 0, "endpointUUID")


def test_uuid_in_secrets_is_a_warning() -> None:
    uuid = "7a3c1e52-9b4d-4f0e-8c21-5d6e7f809a1b"
    problem = _one(_check(SEED.replace("secrets: globus-compute-creds", f"secrets: {uuid}")), "secrets-is-uuid")
    assert (problem.severity, problem.line, problem.key) == ("warning", 3, "secrets")
    assert "SLATE secret" in problem.message


def test_usage_errors_with_format_json_print_the_json_report() -> None:
    ran = run("validate", "--format", "json", "--no-such-option")
    assert ran.code == 2
    report = json.loads(ran.stdout)
    assert report["valid"] is False
    assert [(p["rule"], p["severity"]) for p in report["problems"]] == [("usage-error", "error")]
    ran = run("validate", "--format=json")
    assert ran.code == 2 and json.loads(ran.stdout)["problems"][0]["rule"] == "usage-error"


# --- wording a new user tripped over ----------------------------------------------------------------


def test_every_bad_character_of_a_placeholder_uuid_is_named() -> None:
    result = _check(SEED.replace(str(SEED_VALUES["endpointUUID"]), "<your-uuid>"))
    (problem,) = [p for p in result.errors if p.key == "endpointUUID"]
    for char in "<>iory":
        assert f"'{char}'" in problem.message, problem.message


def test_a_misshapen_uuid_shows_the_example_once() -> None:
    result = _check(SEED.replace(str(SEED_VALUES["endpointUUID"]), "2f0bd7f33a94-4e38-9a0c-4a50f29fd2a3-"))
    (problem,) = [p for p in result.errors if p.key == "endpointUUID"]
    line = f"{problem.message}; {problem.hint}"
    assert line.count("2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3") == 1, line


def test_a_length_error_does_not_paste_the_description() -> None:
    result = _check(SEED.replace("Instance: ci", "Instance: " + "a" * 40))
    (problem,) = [p for p in result.errors if p.rule == "maxLength"]
    assert problem.message == "is 40 characters long; at most 29 allowed"
    assert problem.hint is None


def test_a_set_expression_is_located_by_its_number_alone(tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text(SEED)
    ran = run("validate", str(conf), "--set", "maxBlocks=2", "--set", "minBlocks=-1")
    assert "--set #2: error: minBlocks:" in ran.stdout, ran.stdout
    assert "--set #2:1:1" not in ran.stdout


def test_a_rule_shows_a_large_number_as_it_was_written() -> None:
    """The comparison follows Helm's float64 text (toString: 2e+06); the message shows what the user wrote."""
    conf = "".join(line for line in SEED_TEXT.splitlines(keepends=True) if not line.startswith("maxBlocks:"))
    result = _check(conf + "initBlocks: 2000000\nmaxBlocks: 3\n")
    (hint,) = [p.hint for p in result.problems if p.rule == "init-blocks-within-max"]
    assert hint == "now initBlocks is 2000000 and maxBlocks is 3"
