"""The endpoint image recipe (images/endpoint/Dockerfile), checked without building it.

No container engine runs here, so the recipe is checked two ways: by the real hadolint (with the
image's own settings: every finding down to style, exactly the OCI labels listed there), and by the
project's own rules, which tie the image to the chart: the versions the chart was tested with, the
user the chart runs as, no build tools and no entrypoint copy in the image.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from entrypoint_harness import CHART_DIR, REPO_ROOT, PodSpec, linter_binary, render_chart

IMAGE_DIR = REPO_ROOT / "images" / "endpoint"
DOCKERFILE = IMAGE_DIR / "Dockerfile"
HADOLINT_CONFIG = IMAGE_DIR / ".hadolint.yaml"

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    result: list[Instruction] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        current = ""
    return result


def stages(parsed: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM (the global ARGs before the first belong to none)."""
    result: list[list[Instruction]] = []
    for keyword, arguments in parsed:
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def arg_defaults(parsed: list[Instruction], name: str) -> list[str]:
    return [args.split("=", 1)[1] for kw, args in parsed if kw == "ARG" and args.startswith(f"{name}=")]


def locked_version(package: str) -> str:
    lock = (REPO_ROOT / "requirements" / "dev.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==(\S+)", lock, re.MULTILINE)
    assert match, f"{package} is not pinned in requirements/dev.txt"
    return match.group(1)


@pytest.fixture(scope="module")
def parsed() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


def run_hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [linter_binary("HADOLINT", "hadolint"), "--no-color", "--config", str(HADOLINT_CONFIG), str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_dockerfile_passes_hadolint() -> None:
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda text: text + "USER root\n", "DL3002"),  # the image would run as root
        (  # unpinned
            lambda text: text.replace("/opt/venv/bin/pip install ", "pip install kubernetes ").replace(
                " -r /tmp/requirements.txt", ""
            ),
            "DL3013",
        ),
        (lambda text: text.replace('      org.opencontainers.image.licenses="Apache-2.0" \\\n', ""), "DL3049"),
    ],
    ids=["root-user", "unpinned-package", "missing-label"],
)
def test_hadolint_settings_catch_regressions(tmp_path: Path, change: Callable[[str], str], rule: str) -> None:
    # The same settings must flag a broken recipe; otherwise the clean result above means nothing.
    original = DOCKERFILE.read_text(encoding="utf-8")
    broken = change(original)
    assert broken != original
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(broken, encoding="utf-8")
    result = run_hadolint(dockerfile)
    assert result.returncode != 0
    assert rule in result.stdout


def image_lock() -> dict[str, str]:
    text = (IMAGE_DIR / "requirements.txt").read_text(encoding="utf-8")
    return dict(re.findall(r"^([a-z0-9._-]+)==(\S+) \\$", text, re.MULTILINE))


def test_image_carries_the_versions_the_chart_was_tested_with(parsed: list[Instruction]) -> None:
    app_version = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["appVersion"])
    lock = image_lock()
    # The tests run the endpoint from the dev lock; the image's lock must hold the same endpoint, Parsl
    # and Kubernetes client, so what was tested is what runs.
    assert locked_version("globus-compute-endpoint") == app_version == lock["globus-compute-endpoint"]
    for package in ("parsl", "kubernetes", "globus-compute-sdk"):
        assert lock[package] == locked_version(package), package
    assert "dumb-init" in lock
    assert set(arg_defaults(parsed, "GCE_VERSION")) == {app_version}
    final = stages(parsed)[-1]
    assert 'org.opencontainers.image.version="${GCE_VERSION}"' in " ".join(a for k, a in final if k == "LABEL")


def test_image_installs_only_from_the_hash_pinned_lock(parsed: list[Instruction]) -> None:
    installs = [
        args for _, stage in enumerate(stages(parsed)) for kw, args in stage if kw == "RUN" and "pip install" in args
    ]
    assert len(installs) == 1
    for option in ("--require-hashes", "--no-deps", "--only-binary=:all:", "-r /tmp/requirements.txt"):
        assert option in installs[0]
    text = (IMAGE_DIR / "requirements.txt").read_text(encoding="utf-8")
    # Every pinned package carries its hashes (pip refuses the whole lock otherwise, but say which).
    blocks = [block for block in re.split(r"\n(?=[a-z])", text) if re.match(r"[a-z0-9._-]+==", block)]
    assert len(blocks) == len(image_lock())
    assert [block.split()[0] for block in blocks if "--hash=sha256:" not in block] == []
    # The lock was made for the Python of the default base image.
    (base,) = arg_defaults(parsed, "BASE")
    python = re.search(r"autogenerated by pip-compile with Python (\d+\.\d+)", text)
    assert python and f":{python.group(1)}-slim" in base


def test_image_user_is_the_one_the_chart_runs_as(parsed: list[Instruction], helm_bins: dict[str, Path]) -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    spec = PodSpec.from_manifests(render_chart(helm_bins["v3"], CHART_DIR / "ci" / "default-values.yaml"))
    uid, gid = values["podSecurity"]["runAsUser"], values["podSecurity"]["runAsGroup"]
    home = spec.env["HOME"]
    final = stages(parsed)[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    # Numeric, so that Kubernetes can check runAsNonRoot; the last USER is what the image runs as.
    assert users[-1] == f"{uid}:{gid}"
    account = " ".join(args for keyword, args in final if keyword == "RUN" and "useradd" in args)
    assert f"--uid {uid}" in account
    assert f"--gid {gid}" in account
    assert f"--home-dir {home}" in account
    assert [args for keyword, args in final if keyword == "WORKDIR"][-1] == home
    # The chart mounts writable emptyDirs over HOME and /tmp; the image must use those, not its root.
    assert {mount.path for mount in spec.mounts} >= {home, "/tmp"}


def test_final_image_has_no_build_tools_and_no_entrypoint_copy(parsed: list[Instruction]) -> None:
    build_stages = stages(parsed)
    final = build_stages[-1]
    bases = {args.split()[0] for stage in build_stages for keyword, args in stage if keyword == "FROM"}
    # One base for every stage: the venv built in the first runs on the same Python at the same path.
    assert bases == {"${BASE}"}
    (base,) = arg_defaults(parsed, "BASE")
    assert ":" in base and not base.endswith(":latest"), base
    commands = " ".join(args for keyword, args in final if keyword == "RUN")
    for tool in ("apt-get", "apk", "gcc", "build-essential", "make ", "pip install"):
        assert tool not in commands, f"{tool} in the final stage"
    build_commands = " ".join(args for stage in build_stages[:-1] for keyword, args in stage if keyword == "RUN")
    assert "--only-binary=:all:" in build_commands, "a source build would need a compiler"
    assert ("COPY", "--from=build /opt/venv /opt/venv") in final
    # The entrypoint comes from the chart's ConfigMap (mounted at /opt/gce), never from the image.
    copied = " ".join(args for keyword, args in parsed if keyword in {"COPY", "ADD"})
    assert "entrypoint" not in copied
    assert "/opt/gce" not in " ".join(args for _, args in parsed)


def test_no_credentials_in_image_layers(parsed: list[Instruction]) -> None:
    settable = [args.split("=", 1)[0] for keyword, args in parsed if keyword == "ARG"]
    settable += [
        part.split("=", 1)[0] for keyword, args in parsed if keyword == "ENV" for part in args.split() if "=" in part
    ]
    for name in settable:
        assert not re.search(r"SECRET|TOKEN|PASSWORD|CLIENT_ID|CREDENTIAL", name), name
    copied = " ".join(args for keyword, args in parsed if keyword in {"COPY", "ADD"})
    for credential_file in ("storage.db", ".env", "credentials"):
        assert credential_file not in copied


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"CONTAINER_ENGINE": "docker"},
            ["docker build", "--tag hub.opensciencegrid.org/slate/globus-compute-endpoint:"],
        ),
        (
            {"CONTAINER_ENGINE": "podman", "IMAGE_BASE": "python:3.11-slim-bookworm@sha256:" + "0" * 64},
            ["podman build", "--build-arg BASE=python:3.11-slim-bookworm@sha256:"],
        ),
    ],
    ids=["docker", "podman-with-base"],
)
def test_make_image_builds_the_recipe_with_the_engine_given(variables: dict[str, str], expected: list[str]) -> None:
    # `make -n` prints the commands without running them: no container engine is needed here.
    result = subprocess.run(
        ["make", "-n", "image", *(f"{key}={value}" for key, value in variables.items())],
        capture_output=True, text=True, check=True, timeout=60, cwd=REPO_ROOT,
    )  # fmt: skip
    command = " ".join(result.stdout.replace("\\\n", " ").split())
    for part in [*expected, f"--build-arg GCE_VERSION={image_lock()['globus-compute-endpoint']}", "images/endpoint"]:
        assert part in command
