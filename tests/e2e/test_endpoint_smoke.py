"""The whole path with real Globus credentials: the endpoint registers, runs hello-world, cleans up.

Needs, besides the cluster, GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET of a Globus app
(client credentials), the network to reach Globus from the cluster, and an endpoint image the cluster
can pull (E2E_IMAGE). Skipped, saying so, without the credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import pytest

from e2e.kube import E2eCluster, run_tool
from e2e.release import (
    REPO_ROOT,
    InstallRelease,
    wait_for_ready,
    wait_until_gone,
    wait_until_no_workers,
)
from e2e.settings import Credentials, E2eSettings, smoke_endpoint_uuid

pytestmark = pytest.mark.e2e

# How long `gce-values smoke` waits for the result (the first task also waits for a worker pod to start),
# and a margin on top for the process itself (start-up, Globus login).
SMOKE_RESULT_SECONDS = 480
SMOKE_PROCESS_SECONDS = SMOKE_RESULT_SECONDS + 120.0


def _with_tools_on_path(env: Mapping[str, str]) -> dict[str, str]:
    """The environment (with the credentials the SDK reads) plus tools/ on PYTHONPATH for gce_values."""
    paths = [str(REPO_ROOT / "tools"), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.fixture
def globus_credentials(e2e_settings: E2eSettings) -> Credentials:
    """Requested first by the test, so it is skipped before anything is installed."""
    if e2e_settings.credentials is None:
        pytest.skip(
            "needs Globus client credentials: set GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET "
            "(a Globus app's client ID and secret) to run hello-world through the endpoint"
        )
    return e2e_settings.credentials


def test_endpoint_with_client_credentials_runs_hello_world(
    globus_credentials: Credentials, install_release: InstallRelease, cluster: E2eCluster
) -> None:
    """What a user does after `slate app install`: the endpoint comes online and runs a function; on
    uninstall the worker pods it started are removed with it."""
    endpoint_uuid = smoke_endpoint_uuid(cluster.settings)
    release = install_release(endpoint_uuid=endpoint_uuid, credentials=globus_credentials)
    wait_for_ready(cluster.kubectl, release, cluster.settings.pod_timeout)

    smoke = run_tool(
        [
            *[sys.executable, "-c", "from gce_values.cli import main; main()"],
            *["smoke", "--endpoint-id", endpoint_uuid, "--timeout", str(SMOKE_RESULT_SECONDS)],
        ],
        timeout=SMOKE_PROCESS_SECONDS,
        check=False,
        env=_with_tools_on_path(os.environ),
    )
    report = f"gce-values smoke exited {smoke.returncode}:\n{smoke.stdout}\n{smoke.stderr}"
    assert smoke.returncode == 0, report
    assert "Hello World!" in smoke.stdout, report

    workers = release.worker_identity()
    cluster.helm.uninstall(release.name, release.namespace)
    wait_until_no_workers(cluster.kubectl, workers, timeout=60)
    wait_until_gone(cluster.kubectl, release, timeout=180)
