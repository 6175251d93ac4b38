"""`gce-values render`: the merged, validated conf, and what the real helm makes of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gce_values import resources
from gce_values.schema import load
from gce_values.sources import read_source
from gce_values.validator import validate_sources
from support.chartrender import HelmRenderer
from support.cli import run
from support.paths import SEED_FILE

RELEASE = "globus-compute-endpoint-ci"
PLANTED = "PlantedS3cret+/Value=="


@pytest.fixture
def extra(tmp_path: Path) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text("maxBlocks: 8\nworkerInit: export OMP_NUM_THREADS=1\n", encoding="utf-8")
    return path


def _docs(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_merges_confs_then_sets_in_order_and_keeps_the_comments(tmp_path: Path, extra: Path) -> None:
    out = tmp_path / "merged.yaml"
    ran = run(
        "render", str(SEED_FILE), "-f", str(extra), "--set", "maxBlocks=6",
        "--set-string", "endpoint.displayName=123", "-o", str(out),
    )  # fmt: skip
    assert ran.code == 0, ran.output
    values = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert values["Instance"] == "ci"  # from CONF
    assert values["workerInit"] == "export OMP_NUM_THREADS=1"  # from -f
    assert values["maxBlocks"] == 6  # --set wins over -f
    assert values["endpoint"]["displayName"] == "123"  # --set-string keeps it a string
    defaults = load().defaults()
    assert set(values) == set(defaults) - {"SLATE"}, "a complete conf, without the SLATE block"
    text = out.read_text(encoding="utf-8")
    for line in ("# The endpoint's UUID, which stays the same", "# The most worker pods that may run at once."):
        assert line in text
    result = validate_sources([read_source(str(out))])
    assert result.ok, [p.message for p in result.errors]


def test_invalid_merge_writes_nothing_and_points_at_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("# crossed limits\nminBlocks: 9\nmaxBlocks: 3\n", encoding="utf-8")
    out = tmp_path / "merged.yaml"
    ran = run("render", str(SEED_FILE), "-f", str(bad), "-o", str(out))
    assert ran.code == 1
    assert f"{bad}:" in ran.stderr
    assert "minBlocks" in ran.stderr
    assert ran.stdout == ""
    assert not out.exists()


def test_invalid_merge_leaves_an_existing_output_alone_even_with_force(tmp_path: Path) -> None:
    out = tmp_path / "merged.yaml"
    out.write_text("previous render\n")
    ran = run("render", str(SEED_FILE), "--set", "maxBlocks=-1", "-o", str(out), "--force")
    assert ran.code == 1
    assert out.read_text() == "previous render\n"


@pytest.mark.parametrize("output_format", ["text", "json", "github"])
def test_a_credential_in_the_conf_is_refused_and_never_printed(tmp_path: Path, output_format: str) -> None:
    conf = tmp_path / "leaky.yaml"
    conf.write_text(SEED_FILE.read_text() + f"workerInit: export GLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}\n")
    ran = run("render", str(conf), "--format", output_format)
    assert ran.code == 1
    assert ran.stdout == ""
    assert "credential" in ran.stderr
    assert PLANTED not in ran.stderr


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "merged.yaml"
    out.write_text("mine\n")
    ran = run("render", str(SEED_FILE), "-o", str(out))
    assert ran.code == 2
    assert "--force" in ran.stderr
    assert out.read_text() == "mine\n"
    assert run("render", str(SEED_FILE), "-o", str(out), "--force").code == 0
    assert yaml.safe_load(out.read_text())["Instance"] == "ci"


def test_needs_a_conf() -> None:
    ran = run("render")
    assert ran.code == 2
    assert "CONF" in ran.stderr


@pytest.mark.parametrize("helm", ["v3", "v4"])
def test_manifests_are_what_helm_renders_from_the_confs(
    helm: str, extra: Path, helm_bins: dict[str, Path], chart: HelmRenderer
) -> None:
    ran = run(
        "render", str(SEED_FILE), "-f", str(extra), "--manifests", "--namespace", "slate-group-demo",
        "--helm-bin", str(helm_bins[helm]),
    )  # fmt: skip
    assert ran.code == 0, ran.output
    direct = chart.template(helm, files=(SEED_FILE, extra), release=RELEASE, namespace="slate-group-demo")
    assert _docs(ran.stdout) == direct.docs
    deployment = next(doc for doc in _docs(ran.stdout) if doc["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"] == "slate-group-demo"
    assert deployment["metadata"]["labels"]["release"] == RELEASE


def test_endpoint_config_is_the_configmaps_files(
    tmp_path: Path, helm_bins: dict[str, Path], chart: HelmRenderer
) -> None:
    out = tmp_path / "endpoint.txt"
    ran = run(
        "render", str(SEED_FILE), "--endpoint-config", "--release", "my-ep", "--namespace", "science",
        "-o", str(out), env={"GCE_HELM": str(helm_bins["v4"])},
    )  # fmt: skip
    assert ran.code == 0, ran.output
    data = chart.template("v4", files=(SEED_FILE,), release="my-ep", namespace="science").configmap["data"]
    text = out.read_text(encoding="utf-8")
    config_part, template_part = text.split("---\n", 1)
    assert config_part == "# config.yaml\n" + data["config.yaml"].rstrip() + "\n"
    assert template_part == "# user_config_template.yaml.j2\n" + data["user_config_template.yaml.j2"].rstrip() + "\n"
    assert "engine:" in template_part and "KubernetesProvider" in template_part


def test_manifests_and_endpoint_config_are_exclusive(helm_bins: dict[str, Path]) -> None:
    ran = run("render", str(SEED_FILE), "--manifests", "--endpoint-config", "--helm-bin", str(helm_bins["v4"]))
    assert ran.code == 2


def test_an_invalid_release_name_is_exit_2(helm_bins: dict[str, Path]) -> None:
    ran = run(
        "render", str(SEED_FILE), "--manifests", "--namespace", "ns", "--release", "Not_A_Release",
        "--helm-bin", str(helm_bins["v4"]),
    )  # fmt: skip
    assert ran.code == 2
    assert ran.stdout == ""
    assert "Not_A_Release" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1


def test_helm_refusing_the_conf_is_exit_1_with_its_message(tmp_path: Path) -> None:
    """A helm that fails (a script standing in for a helm whose checks disagree) : its words reach the user."""
    failing_helm = tmp_path / "helm"
    failing_helm.write_text(
        '#!/bin/sh\necho "Error: values don\'t meet the specifications of the schema(s)" >&2\nexit 1\n'
    )
    failing_helm.chmod(0o755)
    out = tmp_path / "manifests.yaml"
    ran = run(
        "render", str(SEED_FILE), "--manifests", "--namespace", "ns", "--helm-bin", str(failing_helm), "-o", str(out)
    )
    assert ran.code == 1
    assert "helm: Error: values don't meet the specifications" in ran.stderr
    assert not out.exists()


def test_missing_helm_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setattr(resources, "repo_root", lambda: tmp_path)  # a checkout without .tools/bin
    ran = run("render", str(SEED_FILE), "--manifests", "--namespace", "ns", env={"PATH": str(empty), "GCE_HELM": None})
    assert ran.code == 2
    assert "helm not found" in ran.stderr and "make setup" in ran.stderr
    named = run("render", str(SEED_FILE), "--manifests", "--namespace", "ns", env={"GCE_HELM": str(tmp_path / "nope")})
    assert named.code == 2
    assert "$GCE_HELM" in named.stderr


@pytest.mark.parametrize("mode", ["--manifests", "--endpoint-config"])
def test_rendering_with_helm_needs_a_namespace(mode: str, helm_bins: dict[str, Path]) -> None:
    ran = run("render", str(SEED_FILE), mode, "--helm-bin", str(helm_bins["v4"]))
    assert ran.code == 2
    assert "--namespace is required" in ran.stderr and "slate-group-<group>" in ran.stderr


def test_help_says_it_needs_helm_and_how_to_get_it() -> None:
    text = " ".join(run("render", "--help").stdout.split())
    assert "need helm" in text and "make setup" in text and "https://helm.sh/docs/intro/install/" in text


def test_format_json_gives_a_json_report_even_for_a_valid_conf() -> None:
    """--format json is honoured: a program gets a report to parse, not silence; the conf stays YAML."""
    import json

    ran = run("render", str(SEED_FILE), "--format", "json")
    assert ran.code == 0, ran.output
    report = json.loads(ran.stderr)
    assert report["valid"] is True and report["problems"] == []
    assert yaml.safe_load(ran.stdout)["endpointUUID"]


def test_keeps_the_editor_schema_line_of_the_conf(tmp_path: Path) -> None:
    conf = tmp_path / "my-conf.yaml"
    made = run("init", "-o", str(conf), "--secret", "globus-compute-creds", "--schema-url", "conf.schema.json")
    assert made.code == 0, made.output
    ran = run("render", str(conf))
    assert ran.stdout.splitlines()[0] == "# yaml-language-server: $schema=conf.schema.json"
    plain = run("render", str(SEED_FILE))
    assert "yaml-language-server" not in plain.stdout, "no line the conf did not have"
