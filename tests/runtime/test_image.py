"""The endpoint image built from images/endpoint/Dockerfile, checked as a container runs it."""

from __future__ import annotations

import re

from runtime.testbed import IMAGE_CONTEXT, RUN_ID, BuiltImage, Podman, app_version


def run_in_image(podman: Podman, image: BuiltImage, *argv: str, name: str | None = None) -> str:
    options = ["--rm"] if name is None else ["--name", name]
    result = podman.run("run", *options, "--network", "none", image.reference, *argv, timeout=120)
    return result.stdout


def test_image_runs_as_uid_1000(podman: Podman, endpoint_image: BuiltImage) -> None:
    user = podman.run("image", "inspect", "--format", "{{.Config.User}}", endpoint_image.reference).stdout.strip()
    assert user == "1000:1000"
    assert run_in_image(podman, endpoint_image, "id", "-u").strip() == "1000"


def test_endpoint_version_is_the_charts_app_version(podman: Podman, endpoint_image: BuiltImage) -> None:
    output = run_in_image(podman, endpoint_image, "globus-compute-endpoint", "version")
    assert output.strip() == f"Globus Compute endpoint version: {app_version()}"


def test_pid_1_is_dumb_init(podman: Podman, endpoint_image: BuiltImage) -> None:
    # Whatever the chart runs (it sets only args), the image's init stays PID 1 and forwards signals.
    cmdline = run_in_image(podman, endpoint_image, "cat", "/proc/1/cmdline").split("\0")
    assert cmdline[:2] == ["/opt/venv/bin/dumb-init", "--"]


def test_installed_packages_are_exactly_the_lock(podman: Podman, endpoint_image: BuiltImage) -> None:
    frozen = run_in_image(
        podman, endpoint_image, "python3", "-m", "pip", "freeze", "--all", "--disable-pip-version-check"
    )
    installed = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in frozen.split()}
    lock_text = (IMAGE_CONTEXT / "requirements.txt").read_text(encoding="utf-8")
    locked = dict(re.findall(r"^([a-z0-9._-]+)==(\S+) \\$", lock_text, re.MULTILINE))
    assert installed.pop("pip", None) is not None  # the venv's own installer, not from the lock
    assert installed == locked


def test_nothing_is_pip_installed_at_start(
    podman: Podman, endpoint_image: BuiltImage, remove_containers: list[str]
) -> None:
    # Offline, the endpoint and the worker pool start from what is in the image ...
    name = f"gce-rt-{RUN_ID}-image-start"
    remove_containers.append(name)
    script = (
        "globus-compute-endpoint --help >/dev/null"
        " && python3 -c 'import kubernetes, parsl.executors.high_throughput.process_worker_pool'"
    )
    run_in_image(podman, endpoint_image, "sh", "-c", script, name=name)
    # ... and leave the installed packages as they were.
    changed = podman.run("diff", name).stdout.split()
    assert not [path for path in changed if path.startswith(("/opt/venv", "/usr/lib/python3", "/usr/local/lib"))]
