"""The endpoint container, started exactly as the rendered Deployment says, without a network.

For each way a user gives credentials the run must end as the chart README's troubleshooting section
says: the entrypoint's line naming what it found, then the endpoint failing to reach Globus (exit 1),
or the entrypoint's own error (exit 78) when the secret has nothing usable. No run may hang or print
a secret, and SIGTERM at any moment must stop the container within 10 seconds.
"""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runtime.conftest import ARTIFACTS, image_values, render
from runtime.pods import EndpointPod
from runtime.testbed import BUILD_DIR, RUN_ID, BuiltImage, Podman

CLIENT_ID = "5b7e3c1a-2f4d-4e6b-9a8c-0d1e2f3a4b5c"
CLIENT_SECRET = "gce-TEST-secret-Zq8+wV3/kP0="
# Tokens in the user-credentials storage.db: well-formed, never valid anywhere.
ACCESS_TOKEN = "gce-TEST-access-token-0f9e8d7c"
REFRESH_TOKEN = "gce-TEST-refresh-token-6b5a4938"
SECRETS = (CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)
FIELDS = {"status.podIP": "10.42.0.15", "metadata.namespace": "slate-group-runtime"}
RUN_TIMEOUT = 120  # far above the ~20 s a run takes: a run that reaches it has hung


def user_token_db(path: Path) -> bytes:
    """A storage.db as `globus-compute-endpoint` leaves it after a login, with tokens of our own."""
    from globus_sdk.scopes import AuthScopes, ComputeScopes
    from globus_sdk.token_storage import SQLiteTokenStorage, TokenStorageData

    path.unlink(missing_ok=True)
    storage = SQLiteTokenStorage(filepath=str(path), namespace="user/production")
    expires = int(time.time()) + 86400
    identity = "0b1e2d3c-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    scopes = {"auth.globus.org": f"{AuthScopes.openid} {AuthScopes.manage_projects}",
              ComputeScopes.resource_server: str(ComputeScopes.all)}  # fmt: skip
    storage.store_token_data_by_resource_server(
        {
            server: TokenStorageData(server, identity, scope, ACCESS_TOKEN, REFRESH_TOKEN, expires, "Bearer")
            for server, scope in scopes.items()
        }
    )
    storage.close()
    return path.read_bytes()


@dataclass(frozen=True)
class Mode:
    """A credentials mode: chart values, the secret's keys, the line the entrypoint must log."""

    values: Mapping[str, Any]
    secret: Mapping[str, bytes] | None
    found_line: str
    exit_code: int


MODE_NAMES = ("client-FUNCX_SDK", "client-GLOBUS_COMPUTE", "user", "none")


@functools.cache
def modes() -> dict[str, Mode]:
    """The modes by name; made on first use (the storage.db is written then), not at collection."""
    client_found = "gce-entrypoint: using client credentials for client {id} (secret keys {key}_ID and {key}_SECRET)"
    user_db = user_token_db(BUILD_DIR / "work" / "storage.db")
    return {
        "client-FUNCX_SDK": Mode(
            {},
            {"FUNCX_SDK_CLIENT_ID": CLIENT_ID.encode(), "FUNCX_SDK_CLIENT_SECRET": CLIENT_SECRET.encode()},
            client_found.format(id=CLIENT_ID, key="FUNCX_SDK_CLIENT"),
            1,
        ),
        "client-GLOBUS_COMPUTE": Mode(
            {},
            {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID.encode(), "GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_SECRET.encode()},
            client_found.format(id=CLIENT_ID, key="GLOBUS_COMPUTE_CLIENT"),
            1,
        ),
        "user": Mode(
            {"useClientCredentials": False, "useUserCredentials": True},
            {"storage.db": user_db},
            "gce-entrypoint: using saved user tokens (storage.db)",
            1,
        ),
        "none": Mode(
            {},
            None,
            "gce-entrypoint: error: no client ID in the credentials secret (looked for GLOBUS_COMPUTE_CLIENT_ID or "
            "FUNCX_SDK_CLIENT_ID in /etc/globus-compute/credentials; found keys: none)",
            78,
        ),
    }


@dataclass(frozen=True)
class Ended:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def endpoint_pod(helm4: Path, image: BuiltImage, mode: Mode, work: Path) -> EndpointPod:
    docs = render(helm4, {**dict(mode.values), **image_values(image)}, work)
    return EndpointPod(docs, FIELDS, mode.secret, work / "volumes")


def run_to_end(podman: Podman, pod: EndpointPod, image: BuiltImage, name: str) -> Ended:
    options = pod.podman_args(image.reference, name, "none")
    started = time.monotonic()
    try:
        result = podman.run("run", *options, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the endpoint container did not end within {RUN_TIMEOUT} s", pytrace=False)
    return Ended(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


@pytest.mark.parametrize("mode_name", MODE_NAMES)
def test_endpoint_run_ends_as_the_readme_says(
    mode_name: str,
    podman: Podman,
    endpoint_image: BuiltImage,
    helm4: Path,
    tmp_path: Path,
    remove_containers: list[str],
) -> None:
    mode = modes()[mode_name]
    name = f"gce-rt-{RUN_ID}-endpoint-{mode_name}"
    remove_containers.append(name)
    ended = run_to_end(podman, endpoint_pod(helm4, endpoint_image, mode, tmp_path), endpoint_image, name)
    output = ended.stdout + ended.stderr
    (ARTIFACTS / "logs" / "endpoint").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "logs" / "endpoint" / f"{mode_name}.log").write_text(
        f"exit {ended.returncode} after {ended.seconds:.1f} s\n{output}", encoding="utf-8"
    )
    for secret in SECRETS:
        assert secret not in output, f"a secret was printed ({mode_name})"
    assert ended.returncode == mode.exit_code, output[-3000:]
    lines = output.splitlines()
    # The line names what was found (or what was missing, and where it looked), then the fix.
    assert any(line.startswith(mode.found_line) for line in lines), output[:3000]
    if mode.exit_code == 1:
        # The endpoint itself ran (the entrypoint exec'd it) and stopped at its first call to Globus.
        assert any(line.startswith("gce-entrypoint: starting endpoint kubernetes (") for line in lines)
        assert "Temporary failure in name resolution" in output
        assert lines[-1] == "globus_sdk.exc.convert.GlobusConnectionError: ConnectionError on request", lines[-5:]
    else:
        assert lines[-1].startswith(mode.found_line)
        assert "starting endpoint" not in output


@pytest.mark.parametrize("after_seconds", [0.3, 2.0, 5.0, 8.0])
def test_sigterm_at_any_moment_stops_the_endpoint_within_10_seconds(
    after_seconds: float,
    podman: Podman,
    endpoint_image: BuiltImage,
    helm4: Path,
    tmp_path: Path,
    remove_containers: list[str],
) -> None:
    # Client credentials: the run that lasts longest (the endpoint retries Globus for ~15 s; the last
    # moment stays well inside that: at 12 s a run once had already ended under load).
    mode = modes()["client-GLOBUS_COMPUTE"]
    name = f"gce-rt-{RUN_ID}-sigterm-{after_seconds}".replace(".", "-")
    remove_containers.append(name)
    options = endpoint_pod(helm4, endpoint_image, mode, tmp_path).podman_args(endpoint_image.reference, name, "none")
    podman.run("run", "--detach", *options, timeout=60)
    time.sleep(after_seconds)
    state = podman.run("container", "inspect", "--format", "{{.State.Status}}", name).stdout.strip()
    assert state == "running", f"the endpoint ended before SIGTERM at {after_seconds} s"
    sent = time.monotonic()
    podman.run("kill", "--signal", "TERM", name, timeout=30)
    podman.run("wait", name, timeout=30)
    stopped_after = time.monotonic() - sent
    logs = podman.run("logs", name, check=False)
    assert stopped_after < 10, f"still running {stopped_after:.1f} s after SIGTERM"
    for secret in SECRETS:
        assert secret not in logs.stdout + logs.stderr
