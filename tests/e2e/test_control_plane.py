"""The control plane the tests build: configured as the suite claims, and gone without a trace when stopped.

These run only on the control plane built here (without KUBECONFIG): they check its own settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cluster.controlplane import ControlPlane
from e2e.conftest import BuiltCluster
from e2e.kube import CommandFailed, E2eCluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def built(built_cluster: BuiltCluster | None) -> BuiltCluster:
    if built_cluster is None:
        pytest.fail("this test checks the control plane built here; it runs without KUBECONFIG", pytrace=False)
    return built_cluster


def test_pod_security_admission_refuses_a_pod_below_restricted(
    built: BuiltCluster, cluster: E2eCluster, namespace: str
) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "below-restricted", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": cluster.settings.worker_image}]},
    }
    with pytest.raises(CommandFailed, match=r"violates PodSecurity \"restricted:latest\""):
        cluster.kubectl.run("create", "--filename=-", stdin=json.dumps(pod))


def test_authorization_is_node_and_rbac_and_the_node_is_a_real_kubelet(
    built: BuiltCluster, cluster: E2eCluster
) -> None:
    node = cluster.kubectl.get("nodes")["items"][0]
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.37.2"
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    # The kubelet's own identity may read its node but not list Secrets (Node authorizer, not admin).
    assert cluster.kubectl.run("auth", "can-i", "list", "secrets", "--all-namespaces", "--as=system:node:gce-test-node",
                               "--as-group=system:nodes", check=False).stdout.startswith("no - node:")  # fmt: skip


def test_a_stopped_control_plane_leaves_no_process_mount_cgroup_or_namespace(built: BuiltCluster) -> None:
    second = ControlPlane(name=f"{built.control_plane.name}-td")
    with second:
        assert second.kubectl("get", "--raw", "/readyz").strip() == "ok"
    name = second.name
    processes = [
        path.parent.name
        for path in Path("/proc").glob("[0-9]*/cmdline")
        if name.encode() in _read(path) and int(path.parent.name) != os.getpid()
    ]
    mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if name in line]
    cgroups = sorted(str(p) for p in Path("/sys/fs/cgroup").glob(f"*/{name}"))
    assert (processes, mounts, cgroups, (Path("/var/run/netns") / name).exists()) == ([], [], [], False)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
