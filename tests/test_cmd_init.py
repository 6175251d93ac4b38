"""`gce-values init`: a new conf that is valid, commented like values.yaml, and never clobbers a file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gce_values.schema import load
from gce_values.sources import read_source
from gce_values.validator import validate_sources
from support.cli import run, run_on_terminal
from support.paths import CHART_DIR

VALUES_YAML = CHART_DIR / "values.yaml"
SCHEMA_JSON = CHART_DIR / "values.schema.json"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _assert_valid(path: Path) -> None:
    result = validate_sources([read_source(str(path))])
    assert result.ok, [f"{p.key}: {p.message}" for p in result.errors]


def _comments_outside_slate_block(text: str) -> list[str]:
    kept, inside = [], False
    for line in text.splitlines():
        if line.strip() == "### SLATE-START ###":
            inside = True
        elif line.strip() == "### SLATE-END ###":
            inside = False
        elif not inside and line.lstrip().startswith("#"):
            kept.append(line)
    return kept


def test_writes_a_valid_conf_with_the_answers(tmp_path: Path) -> None:
    conf = tmp_path / "my-conf.yaml"
    ran = run("init", "-o", str(conf), "--instance", "atlas-ml", "--secret", "atlas-creds")
    assert ran.code == 0, ran.output
    values = _load(conf)
    assert values["Instance"] == "atlas-ml"
    assert values["secrets"] == "atlas-creds"
    assert values["useClientCredentials"] is True
    assert values["useUserCredentials"] is False
    assert values["minBlocks"] == 0
    assert uuid.UUID(values["endpointUUID"]).version == 4
    assert "SLATE" not in values, "get-conf leaves the SLATE block out, and so does init"
    _assert_valid(conf)


@pytest.mark.parametrize("word", ["y", "n", "on", "off", "yes", "no", "null"])
def test_answers_yaml_1_1_would_misread_are_quoted(tmp_path: Path, word: str) -> None:
    """`--instance y` must mean the word y, as Helm (YAML 1.1) reads the file, not the boolean true."""
    from gce_values.helmyaml import reader

    conf = tmp_path / "my-conf.yaml"
    ran = run("init", "-o", str(conf), "--instance", word, "--secret", word)
    assert ran.code == 0, ran.output
    as_helm_reads_it = reader.load(conf.read_text(encoding="utf-8"), str(conf)).data
    assert (as_helm_reads_it["Instance"], as_helm_reads_it["secrets"]) == (word, word)
    _assert_valid(conf)


def test_every_init_gets_its_own_endpoint_uuid(tmp_path: Path) -> None:
    ids = set()
    for name in ("a.yaml", "b.yaml"):
        assert run("init", "-o", str(tmp_path / name), "--secret", "creds").code == 0
        ids.add(_load(tmp_path / name)["endpointUUID"])
    assert len(ids) == 2


def test_keeps_every_comment_and_default_of_the_charts_values_yaml(tmp_path: Path) -> None:
    conf = tmp_path / "my-conf.yaml"
    assert run("init", "-o", str(conf), "--secret", "creds").code == 0
    text = conf.read_text(encoding="utf-8")
    expected_comments = _comments_outside_slate_block(VALUES_YAML.read_text(encoding="utf-8"))
    assert _comments_outside_slate_block(text)[1:] == expected_comments  # [0] is the schema line
    defaults = load().defaults()
    del defaults["SLATE"]
    answered = {"Instance", "endpointUUID", "secrets"}
    assert {k: v for k, v in _load(conf).items() if k not in answered} == {
        k: v for k, v in defaults.items() if k not in answered
    }


def test_schema_line_points_at_the_released_conf_schema_of_this_chart_version(tmp_path: Path) -> None:
    """Not at a file of the virtual environment, which is gone when the conf is committed elsewhere."""
    conf = tmp_path / "my-conf.yaml"
    assert run("init", "-o", str(conf), "--secret", "creds").code == 0
    first = conf.read_text(encoding="utf-8").splitlines()[0]
    version = yaml.safe_load((SCHEMA_JSON.parent / "Chart.yaml").read_text(encoding="utf-8"))["version"]
    assert first.startswith("# yaml-language-server: $schema=https://")
    assert first.endswith(f"/globus-compute-endpoint-{version}/charts/globus-compute/conf.schema.json")
    other = tmp_path / "other.yaml"
    url = "https://example.org/values.schema.json"
    assert run("init", "-o", str(other), "--secret", "creds", "--schema-url", url).code == 0
    assert other.read_text(encoding="utf-8").splitlines()[0] == f"# yaml-language-server: $schema={url}"


def test_keeps_a_given_endpoint_uuid(tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    given = "2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3"
    assert run("init", "-o", str(conf), "--secret", "creds", "--endpoint-uuid", given).code == 0
    assert _load(conf)["endpointUUID"] == given.lower()


def test_dash_writes_to_stdout_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ran = run("init", "-o", "-", "--secret", "creds")
    assert ran.code == 0, ran.output
    assert yaml.safe_load(ran.stdout)["secrets"] == "creds"
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    conf = tmp_path / "my-conf.yaml"
    conf.write_text("Instance: mine\n")
    ran = run("init", "-o", str(conf), "--secret", "creds")
    assert ran.code == 2
    assert "--force" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    assert conf.read_text() == "Instance: mine\n"
    forced = run("init", "-o", str(conf), "--secret", "creds", "--force")
    assert forced.code == 0, forced.output
    _assert_valid(conf)


def test_an_interrupted_write_leaves_the_old_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "my-conf.yaml"
    conf.write_text("Instance: mine\n")

    def rename_fails(*_args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", rename_fails)
    ran = run("init", "-o", str(conf), "--secret", "creds", "--force")
    assert ran.code == 2
    assert "Input/output error" in ran.stderr
    assert conf.read_text() == "Instance: mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-conf.yaml"], "the temporary file is gone"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--instance", "Atlas_ML"),
        ("--instance", "ends-with-dash-"),
        ("--instance", "x" * 30),
        ("--secret", "Not A Name"),
        ("--endpoint-uuid", "not-a-uuid"),
    ],
)
def test_rejects_bad_answers_before_writing(tmp_path: Path, option: str, value: str) -> None:
    conf = tmp_path / "my-conf.yaml"
    args = ["init", "-o", str(conf), option, value]
    if option != "--secret":
        args += ["--secret", "creds"]
    ran = run(*args)
    assert ran.code == 2
    assert option in ran.stderr
    assert "Traceback" not in ran.output
    assert not conf.exists()


def test_asks_on_a_terminal_and_asks_again_after_a_bad_answer(tmp_path: Path) -> None:
    code, shown = run_on_terminal(
        ["init"],
        [("Instance tag", "Bad_Tag"), ("Instance tag", "atlas"), ("client credentials", "")],
        cwd=tmp_path,
    )
    assert code == 0, shown
    assert shown.count("Instance tag") == 2, shown
    assert "lowercase letters" in shown, "the bad answer is explained"
    values = _load(tmp_path / "my-conf.yaml")
    assert values["Instance"] == "atlas"
    assert values["secrets"] == "globus-compute-creds"
    _assert_valid(tmp_path / "my-conf.yaml")


# --- secret names SLATE's server would read as something else -------------------------------------

# Kubernetes names are lowercase, so only these spellings can reach a conf as a secret name.
YAML11_BOOLEANS = ["yes", "no", "on", "off", "y", "n", "true", "false"]


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(
        st.sampled_from(YAML11_BOOLEANS).map(lambda word: (word, "boolean")),
        st.integers(min_value=0, max_value=10**9).map(lambda n: (str(n), "number")),
        st.sampled_from(["010", "0x1f", "1e3", "0o17", "1.5"]).map(lambda word: (word, "number")),
        st.just(("null", "null")),
    )
)
def test_init_warns_about_a_secret_name_slate_would_unquote(case: tuple[str, str]) -> None:
    """`yes`, `010`, `1e3`, `null`...: valid Kubernetes names, but unquoted by SLATE's server they are no text."""
    name, read_as = case
    ran = run("init", "-o", "-", "--secret", name)
    assert ran.code == 0, ran.output
    assert yaml.safe_load(ran.stdout)["secrets"] == name, "written quoted, as the user asked"
    warnings = [line for line in ran.stderr.splitlines() if "warning:" in line and "slate-quotes" in line]
    assert len(warnings) == 1, ran.stderr
    assert f"does not read as a {read_as}" in warnings[0] or (read_as == "null" and "as null" in warnings[0])
    if read_as != "number":
        assert "not a number" not in warnings[0], "the hint fits the value"


def test_init_says_nothing_about_an_ordinary_secret_name() -> None:
    ran = run("init", "-o", "-", "--secret", "globus-compute-creds")
    assert ran.code == 0
    assert "warning" not in ran.stderr


def test_init_without_a_terminal_takes_the_prompts_default_secret(tmp_path: Path) -> None:
    ran = run("init", "-o", str(tmp_path / "c.yaml"))
    assert ran.code == 0, ran.output
    assert _load(tmp_path / "c.yaml")["secrets"] == "globus-compute-creds"
    assert "no --secret given" in ran.stderr
