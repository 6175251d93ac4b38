"""`gce-values install`: validate first, run exactly the right slate/helm command, pass its exit code on.

`slate` here is a small script written by the test that records its arguments and exits with a
chosen code: it stands for the user's SLATE client (which needs a SLATE account), so the test can
see what gce-values runs and what it does with the outcome. helm is the real binary.
"""

from __future__ import annotations

import json
import shlex
import stat
from pathlib import Path

import pytest
import yaml

from support.cli import run
from support.paths import CHART_DIR, SEED_FILE

CHART_VERSION = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["version"])


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "my conf.yaml"  # a space, to see the dry-run output quoted
    values = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    values["Instance"] = "atlas"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


@pytest.fixture
def invalid_conf(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    values = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    values.update(minBlocks=5, maxBlocks=2)
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A directory that is the whole PATH: only what a test puts there can be found."""
    path = tmp_path / "bin"
    path.mkdir()
    return path


def _recording_slate(bin_dir: Path, exit_code: int) -> Path:
    """A `slate` that writes its arguments (one per line) to slate.argv and exits with ``exit_code``."""
    record = bin_dir / "slate.argv"
    script = bin_dir / "slate"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\necho "slate says hello"\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


def _env(bin_dir: Path, **extra: str) -> dict[str, str | None]:
    return {"PATH": str(bin_dir), "GCE_SLATE": None, "GCE_HELM": None, **extra}


def test_dry_run_prints_the_slate_command_pinned_to_the_carried_chart(conf: Path, bin_dir: Path) -> None:
    ran = run("install", str(conf), "--group", "atlas-group", "--cluster", "uchicago", "--dry-run", env=_env(bin_dir))
    assert ran.code == 0, ran.output
    expected = ["slate", "app", "install", "globus-compute-endpoint", "--version", CHART_VERSION]
    expected += ["--group", "atlas-group", "--cluster", "uchicago", "--conf", str(conf)]
    assert shlex.split(ran.stdout) == expected
    assert "'" in ran.stdout, "the path with a space is quoted"
    assert "not installed here" in ran.stderr


def test_dry_run_passes_dev_through(conf: Path, bin_dir: Path) -> None:
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", "--dev", "--dry-run", env=_env(bin_dir))
    assert ran.code == 0, ran.output
    argv = shlex.split(ran.stdout)
    assert argv[-1] == "--dev"
    assert argv[argv.index("--version") + 1] == CHART_VERSION, "the incubator's copy is pinned too"


def test_dry_run_local_uploads_the_carried_chart(conf: Path, bin_dir: Path) -> None:
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", "--local", "--dry-run", env=_env(bin_dir))
    assert ran.code == 0, ran.output
    assert shlex.split(ran.stdout) == [
        "slate", "app", "install", "--local", str(CHART_DIR), "--group", "g", "--cluster", "c", "--conf", str(conf),
    ]  # fmt: skip
    assert (Path(shlex.split(ran.stdout)[4]) / "Chart.yaml").is_file(), "the directory slate would upload"


def test_the_chart_the_dry_run_names_is_the_chart_validation_used(conf: Path, bin_dir: Path) -> None:
    """The pinned version is the version of the chart whose schema checked the conf."""
    from gce_values import resources, versions

    assert resources.chart_dir().resolve() == CHART_DIR.resolve()
    assert versions.chart_metadata()["version"] == CHART_VERSION


def test_dry_run_with_helm_names_the_release_the_chart_and_the_namespace(
    conf: Path, bin_dir: Path, helm_bins: dict[str, Path]
) -> None:
    helm = str(helm_bins["v4"])
    ran = run("install", str(conf), "--helm", "--namespace", "science", "--dry-run", env=_env(bin_dir, GCE_HELM=helm))
    assert ran.code == 0, ran.output
    assert shlex.split(ran.stdout) == [
        helm, "upgrade", "--install", "globus-compute-endpoint-atlas", str(CHART_DIR),
        "-f", str(conf), "--namespace", "science",
    ]  # fmt: skip
    named = run(
        "install", str(conf), "--helm", "--namespace", "x", "--release", "mine", "--dry-run", "--helm-bin", helm
    )
    assert shlex.split(named.stdout)[3] == "mine"


def test_helm_needs_a_namespace(conf: Path, bin_dir: Path, helm_bins: dict[str, Path]) -> None:
    ran = run("install", str(conf), "--helm", "--dry-run", "--helm-bin", str(helm_bins["v4"]), env=_env(bin_dir))
    assert ran.code == 2
    assert "--namespace is required with --helm" in ran.stderr


def test_runs_slate_with_the_conf_and_reports_success(conf: Path, bin_dir: Path) -> None:
    record = _recording_slate(bin_dir, 0)
    ran = run("install", str(conf), "--group", "atlas-group", "--cluster", "uchicago", env=_env(bin_dir))
    assert ran.code == 0, ran.output
    assert record.read_text().splitlines() == [
        "app", "install", "globus-compute-endpoint", "--version", CHART_VERSION,
        "--group", "atlas-group", "--cluster", "uchicago", "--conf", str(conf),
    ]  # fmt: skip
    assert f"gce-values smoke {shlex.quote(str(conf))}" in ran.stderr


@pytest.mark.parametrize("exit_code", [1, 7])
def test_a_failing_slate_passes_its_exit_code_on(conf: Path, bin_dir: Path, exit_code: int) -> None:
    _recording_slate(bin_dir, exit_code)
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", env=_env(bin_dir))
    assert ran.code == exit_code
    assert f"failed with exit code {exit_code}" in ran.stderr


def test_an_invalid_conf_runs_nothing(invalid_conf: Path, bin_dir: Path) -> None:
    record = _recording_slate(bin_dir, 0)
    ran = run("install", str(invalid_conf), "--group", "g", "--cluster", "c", env=_env(bin_dir))
    assert ran.code == 1
    assert "minBlocks" in ran.stderr
    assert not record.exists(), "slate ran although the conf is invalid"
    dry = run("install", str(invalid_conf), "--group", "g", "--cluster", "c", "--dry-run", "--format", "json")
    assert dry.code == 1
    assert dry.stdout == ""
    assert json.loads(dry.stderr)["valid"] is False


def test_a_conf_with_a_credential_is_not_installed_and_the_credential_not_printed(
    tmp_path: Path, bin_dir: Path
) -> None:
    planted = "PlantedS3cret+/Value=="
    conf = tmp_path / "leaky.yaml"
    conf.write_text(SEED_FILE.read_text() + f"workerInit: export FUNCX_SDK_CLIENT_SECRET={planted}\n")
    record = _recording_slate(bin_dir, 0)
    for output_format in ("text", "json"):
        ran = run("install", str(conf), "--group", "g", "--cluster", "c", "--format", output_format, env=_env(bin_dir))
        assert ran.code == 1
        assert planted not in ran.output
    assert not record.exists()


def test_missing_slate_is_exit_2_with_a_way_out(conf: Path, bin_dir: Path) -> None:
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", env=_env(bin_dir))
    assert ran.code == 2
    assert "slate not found" in ran.stderr and "--helm" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_missing_helm_is_exit_2(conf: Path, bin_dir: Path) -> None:
    ran = run("install", str(conf), "--helm", "--namespace", "n", env=_env(bin_dir, GCE_HELM=str(bin_dir / "helm")))
    assert ran.code == 2
    assert "not an executable" in ran.stderr


def test_helm_failure_passes_its_exit_code_on(
    conf: Path, bin_dir: Path, tmp_path: Path, helm_bins: dict[str, Path]
) -> None:
    """The real helm, pointed at a cluster that is not there: its failure and exit code reach the user."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
                "users": [{"name": "none", "user": {"token": "dummy"}}],
            }
        )
    )
    ran = run(
        "install", str(conf), "--helm", "--namespace", "n", "--helm-bin", str(helm_bins["v4"]),
        env=_env(bin_dir, KUBECONFIG=str(kubeconfig), HOME=str(tmp_path)),
    )  # fmt: skip
    assert ran.code == 1
    assert "failed with exit code 1" in ran.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--group", "g"],  # no --cluster
        ["--cluster", "c"],  # no --group
        ["--helm", "--namespace", "n", "--group", "g"],  # SLATE options with --helm
        ["--helm", "--namespace", "n", "--local"],
        ["--group", "g", "--cluster", "c", "--namespace", "n"],  # a namespace SLATE would not use
        ["--group", "g", "--cluster", "c", "--local", "--dev"],
    ],
)
def test_usage_errors_are_exit_2(conf: Path, bin_dir: Path, args: list[str]) -> None:
    record = _recording_slate(bin_dir, 0)
    ran = run("install", str(conf), *args, env=_env(bin_dir))
    assert ran.code == 2
    assert not record.exists()


def test_unreadable_conf_is_exit_2(tmp_path: Path, bin_dir: Path) -> None:
    ran = run("install", str(tmp_path / "absent.yaml"), "--group", "g", "--cluster", "c", env=_env(bin_dir))
    assert ran.code == 2
    assert "absent.yaml" in ran.stderr


# --- what the user is told before and after slate runs -------------------------------------------


def _failing_slate(bin_dir: Path, message: str) -> None:
    """A `slate` that fails as the SLATE client does when the API server refuses an install.

    The client prints "Failed to install application APP: MESSAGE" on stderr and exits 1, where
    MESSAGE is the server's error (slateci/slate-client-server, src/client/Client.cpp, showError).
    """
    script = bin_dir / "slate"
    line = f"Failed to install application globus-compute-endpoint: {message}"
    script.write_text(f"#!/bin/sh\necho {shlex.quote(line)} >&2\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


# The server's messages (src/ApplicationCommands.cpp and src/slate_service.cpp), the options given,
# what the hint must offer, and what it must not (an option already used, or one that cannot help).
SLATE_FAILURES = {
    "version not in the stable catalog": ("Application not found", [], ["--dev", "--local", "--helm"], []),
    "version not in the incubator": ("Application not found", ["--dev"], ["--local", "--helm"], ["--dev"]),
    "ad-hoc refused": ("Ad-hoc application installation is not permitted", ["--local"], ["operator", "--helm"], []),
    "instance name taken": (
        "Instance name is already in use, consider using a different tag",
        [],
        ["another Instance", "slate instance delete"],
        ["--dev", "--local"],
    ),
    "not allowed on the cluster": ("Not authorized", [], ["slate whoami", "list-allowed-groups c"], ["--dev"]),
    "unknown cluster": ("Invalid Cluster", [], ["slate cluster list"], ["--dev"]),
}


@pytest.mark.parametrize("case", sorted(SLATE_FAILURES))
def test_a_failing_slate_gets_the_hint_that_fits_its_cause(conf: Path, bin_dir: Path, case: str) -> None:
    message, options, offered, not_offered = SLATE_FAILURES[case]
    _failing_slate(bin_dir, message)
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", *options, env=_env(bin_dir))
    assert ran.code == 1
    assert message in ran.stderr, "slate's own message reaches the user"
    hints = [line for line in ran.stderr.splitlines() if line.startswith("hint: ")]
    assert len(hints) == 1, ran.stderr
    for words in offered:
        assert words in hints[0]
    for words in not_offered:
        assert words not in hints[0]


def test_an_unknown_slate_failure_gets_no_made_up_hint(conf: Path, bin_dir: Path) -> None:
    _failing_slate(bin_dir, "something new went wrong")
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", env=_env(bin_dir))
    assert ran.code == 1
    assert "failed with exit code 1" in ran.stderr
    assert "hint:" not in ran.stderr


def test_install_says_what_may_not_be_published_yet(conf: Path, bin_dir: Path) -> None:
    """Before slate runs: the chart version must be in SLATE's catalog, and the default image pushed."""
    ran = run("install", str(conf), "--group", "g", "--cluster", "c", "--dry-run", env=_env(bin_dir))
    assert ran.code == 0, ran.output
    notes = [line for line in ran.stderr.splitlines() if line.startswith("note: ")]
    assert any(f"{CHART_VERSION} only once its stable catalog" in note and "--helm" in note for note in notes)
    assert any("default image" in note for note in notes)
    own_image = conf.parent / "own-image.yaml"
    values = yaml.safe_load(conf.read_text())
    values["image"] = {"repository": "registry.example.org/me/gce-endpoint"}
    own_image.write_text(yaml.safe_dump(values))
    helm = run("install", str(own_image), "--helm", "--namespace", "n", "--dry-run", env=_env(bin_dir))
    assert "note: " not in helm.stderr.replace("note: helm is not installed here", ""), helm.stderr


def test_dry_run_honours_format_json(conf: Path, bin_dir: Path) -> None:
    options = ["--group", "g", "--cluster", "c", "--dry-run", "--format", "json"]
    ran = run("install", str(conf), *options, env=_env(bin_dir))
    assert ran.code == 0, ran.output
    document = json.loads(ran.stdout)
    assert document["valid"] is True
    assert document["command"][:6] == ["slate", "app", "install", "globus-compute-endpoint", "--version", CHART_VERSION]
    assert any("catalog" in note for note in document["notes"])
