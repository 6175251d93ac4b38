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

from support.entrypoint_harness import PodSpec, linter_binary, render_chart
from support.paths import CHART_DIR, REPO_ROOT, SEED_FILE

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
        (lambda text: text.replace('"kubernetes==${KUBERNETES_VERSION}"', "kubernetes"), "DL3013"),  # unpinned
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


def test_image_carries_the_versions_the_chart_was_tested_with(parsed: list[Instruction]) -> None:
    app_version = str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["appVersion"])
    # The tests run the endpoint from the dev lock; the image must install that same version ...
    assert locked_version("globus-compute-endpoint") == app_version
    # ... in every stage that names it, and the Kubernetes client the tests used.
    assert set(arg_defaults(parsed, "GCE_VERSION")) == {app_version}
    assert arg_defaults(parsed, "KUBERNETES_VERSION") == [locked_version("kubernetes")]
    final = stages(parsed)[-1]
    assert 'org.opencontainers.image.version="${GCE_VERSION}"' in " ".join(a for k, a in final if k == "LABEL")


def test_image_user_is_the_one_the_chart_runs_as(parsed: list[Instruction], helm_bins: dict[str, Path]) -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    spec = PodSpec.from_manifests(render_chart(helm_bins["v3"], SEED_FILE))
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
    assert len(bases) == 1
    (base,) = bases
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
