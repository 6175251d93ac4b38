"""The chart's worker provider on things a real cluster does: pods vanish, engines run side by side, owners
are recreated.

The provider is the real class with the settings the chart renders, and talks through the real kubernetes
client to the API double (tests/runtime/kube_api_double.py) on this machine's loopback: pods there are only
stored, never run (no podman, no root). Worker pods are "mounted" the way the kubelet lays out a Secret
volume, after all pods were created, as on a busy cluster; their command connects to the engine's own
CurveZMQ server as Parsl's worker does. All of it ran through the API double, not on a cluster.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
import zmq
from kubernetes import client
from kubernetes.client import V1Pod, V1PodStatus
from parsl import curvezmq
from parsl.jobs.states import JobState

from runtime.kube_api_double import KubeApiDouble, Object, TlsFiles
from support.chartrender import VALUE_SETS, HelmRenderer
from support.kubeconfig import DUMMY_KUBECONFIG
from support.paths import CHART_DIR
from test_worker_provider import (
    _answer_in_background,
    kubelet_secret_volume,
    launch_command,
    mounted_files,
    provider_settings,
    run_worker,
)

TOKEN = "provider-faults-token"
PROVIDER_FILE = CHART_DIR / "files" / "gce_release_provider.py"
SET = VALUE_SETS["full"]


@pytest.fixture(scope="module")
def provider_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gce_release_provider", PROVIDER_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RunningPods:
    """A pod runner for the double that reports every stored pod as Running (nothing runs)."""

    def start(self, pod: Object) -> None:
        return None

    def phase(self, pod: Object) -> str:
        return "Running"

    def stop(self, pod: Object) -> None:
        return None


@dataclass
class Cluster:
    """The API double with the release's worker namespace objects, and a client for the test's own calls."""

    double: KubeApiDouble
    kubeconfig: Path

    @property
    def namespace(self) -> str:
        return SET.worker_namespace

    def core(self) -> Any:
        configuration = client.Configuration()
        configuration.host = f"https://127.0.0.1:{self.double.port}"
        configuration.ssl_ca_cert = str(self.double.tls.certificate)
        configuration.api_key = {"authorization": f"bearer {TOKEN}"}
        return client.CoreV1Api(client.ApiClient(configuration))

    def put_owner(self) -> str:
        stored = self.double.store.put(
            "configmaps", {"metadata": {"name": f"{SET.release}-workers", "namespace": self.namespace}}
        )
        uid: str = stored["metadata"]["uid"]
        return uid

    def keys_secret(self) -> dict[str, str]:
        stored = self.double.store.get("secrets", self.namespace, f"{SET.release}-worker-keys")
        assert stored is not None
        data: dict[str, str] = stored.get("data") or {}
        return data


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    # Parsl's provider loads a kubeconfig when it is made; its client is then pointed at the double.
    kubeconfig = tmp_path / "home" / ".kube" / "config"
    kubeconfig.parent.mkdir(parents=True)
    kubeconfig.write_text(yaml.safe_dump(DUMMY_KUBECONFIG), encoding="utf-8")
    monkeypatch.setenv("HOME", str(kubeconfig.parent.parent))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    double = KubeApiDouble(
        listener, TlsFiles.create(tmp_path / "tls"), TOKEN, runner=RunningPods(), record_dir=tmp_path / "pods"
    ).start()
    made = Cluster(double, kubeconfig)
    made.put_owner()
    # The chart renders the keys Secret empty.
    double.store.put("secrets", {"metadata": {"name": f"{SET.release}-worker-keys", "namespace": made.namespace}})
    yield made
    double.stop()


@pytest.fixture
def make(chart: HelmRenderer, provider_module: ModuleType, cluster: Cluster) -> Iterator[Any]:
    settings = provider_settings(chart, SET)
    made: list[Any] = []

    def make() -> Any:
        provider = provider_module.ReleaseKubernetesProvider(**settings)
        provider.kube_client = cluster.core()
        made.append(provider)
        return provider

    yield make
    # As each engine does when it stops (atexit), while the double still answers.
    for provider in made:
        provider.kube_client = cluster.core()
        provider.withdraw_worker_keys()


def engine_cert_dir(tmp_path: Path, name: str) -> Path:
    """An interchange's certificate directory, made by Parsl as each engine makes its own."""
    return Path(curvezmq.create_certificates(tmp_path / name))


# --- a worker pod that is gone -------------------------------------------------------------------


def test_a_deleted_worker_pod_is_reported_missing_with_a_warning(
    make: Any, cluster: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    provider = make()
    job_id = provider.submit(launch_command(engine_cert_dir(tmp_path, "engine")), 1)
    pod_name = provider.resources[job_id]["pod_name"]
    [running] = provider.status([job_id])
    assert running.state == JobState.RUNNING

    # kubectl delete pod (or an eviction, a drained node, the garbage collector).
    cluster.core().delete_namespaced_pod(pod_name, cluster.namespace)
    with caplog.at_level(logging.WARNING, logger="parsl"):
        [lost] = provider.status([job_id])
        [again] = provider.status([job_id])

    # Terminal and not SCALED_IN: Parsl's htex executor counts the block as gone (MISSING) and its
    # scaling strategy no longer counts it as active, so it starts another when tasks wait.
    assert lost.state == JobState.MISSING and lost.terminal
    assert pod_name in (lost.message or "")
    assert again is lost, "polled no more once lost"
    [warning] = [r.getMessage() for r in caplog.records if "is gone" in r.getMessage()]
    assert f"worker pod {cluster.namespace}/{pod_name} is gone" in warning
    assert "last seen: phase Running" in warning
    reads = [r.status for r in cluster.double.requests_for("get", "pods")]
    assert reads == [200, 404], "one read found it gone; the lost pod is not read again"


def test_a_pod_that_ended_says_why_kubernetes_ended_it(
    make: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    provider = make()
    job_id = provider.submit(launch_command(engine_cert_dir(tmp_path, "engine")), 1)
    pod_name = provider.resources[job_id]["pod_name"]
    evicted = V1Pod(
        status=V1PodStatus(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    )

    class Evicting:
        """The client, answering the pod read as the API server does for an evicted pod."""

        def __init__(self, real: Any) -> None:
            self.real = real

        def read_namespaced_pod(self, name: str, namespace: str) -> V1Pod:
            assert name == pod_name
            return evicted

    provider.kube_client = Evicting(provider.kube_client)
    with caplog.at_level(logging.WARNING, logger="parsl"):
        [status] = provider.status([job_id])

    assert status.state == JobState.FAILED
    assert status.message == "Evicted: The node was low on resource: memory."
    assert any(
        f"{pod_name} ended (phase Failed, Evicted: The node was low on resource: memory.)" in r.getMessage()
        for r in caplog.records
    )


# --- a recreated owner ---------------------------------------------------------------------------


def test_a_recreated_owner_config_map_is_named_by_the_next_pod(
    make: Any, cluster: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    provider = make()
    command = launch_command(engine_cert_dir(tmp_path, "engine"))
    provider.submit(command, 1)
    owner = f"{SET.release}-workers"
    # kubectl delete + create, a restore, or Helm recreating an object it found missing: a new uid.
    cluster.core().delete_namespaced_config_map(owner, cluster.namespace)
    new_uid = cluster.put_owner()
    with caplog.at_level(logging.WARNING, logger="parsl"):
        provider.submit(command, 1)

    first, second = (
        cluster.double.store.get("pods", cluster.namespace, r["pod_name"]) for r in provider.resources.values()
    )
    assert first and second
    assert second["metadata"]["ownerReferences"][0]["uid"] == new_uid
    assert first["metadata"]["ownerReferences"][0]["uid"] != new_uid
    assert len(cluster.double.requests_for("get", "configmaps")) == 2, "one read per block"
    recreated = f"{owner}, the owner of this release's worker pods, was recreated"
    assert any(recreated in r.getMessage() for r in caplog.records)


# --- engines side by side ------------------------------------------------------------------------


def mounted_keys(pod: Object, secret_data: dict[str, str], target: Path) -> Path:
    """The pod's keys volume as the kubelet lays it out when the pod starts."""
    kubelet_secret_volume(target, mounted_files(pod, secret_data))
    return target


def test_two_engines_of_one_release_each_get_their_own_workers(
    make: Any, cluster: Cluster, provider_module: ModuleType, tmp_path: Path
) -> None:
    engines = {name: (make(), engine_cert_dir(tmp_path, name)) for name in ("engine-a", "engine-b")}
    created: list[tuple[str, str]] = []
    # Interleaved: each engine's pods are created while the other engine publishes its keys.
    for _ in range(2):
        for name, (provider, cert_dir) in engines.items():
            job_id = provider.submit(launch_command(cert_dir), 1)
            created.append((name, provider.resources[job_id]["pod_name"]))

    # The kubelet mounts the Secret when it starts each pod: after all of them were created.
    secret_data = cluster.keys_secret()
    servers = {name: curvezmq.ServerContext(cert_dir) for name, (_, cert_dir) in engines.items()}
    try:
        addresses, finishers = {}, {}
        for name, server in servers.items():
            sock = server.socket(zmq.REP)
            addresses[name] = f"tcp://127.0.0.1:{sock.bind_to_random_port('tcp://127.0.0.1')}"
            finishers[name] = _answer_in_background(sock)
        outcomes = {}
        for number, (name, pod_name) in enumerate(created):
            pod = cluster.double.store.get("pods", cluster.namespace, pod_name)
            assert pod is not None
            keys = mounted_keys(pod, secret_data, tmp_path / f"volume-{number}")
            outcomes[pod_name] = run_worker(provider_module, keys, addresses[name], engines[name][1])
        answered = {name: finish() for name, finish in finishers.items()}
    finally:
        for server in servers.values():
            server.destroy(linger=0)

    assert outcomes == dict.fromkeys(outcomes, 0), "every worker registers with the engine that created it"
    assert answered == {"engine-a": 2, "engine-b": 2}


def test_a_stopped_engine_removes_only_its_own_keys(make: Any, cluster: Cluster, tmp_path: Path) -> None:
    first, second = make(), make()
    first.submit(launch_command(engine_cert_dir(tmp_path, "first")), 1)
    second.submit(launch_command(engine_cert_dir(tmp_path, "second")), 1)
    both = set(cluster.keys_secret())

    first.withdraw_worker_keys()

    left = set(cluster.keys_secret())
    assert len(both) == 4 and len(left) == 2 and left < both
    [pod] = [cluster.double.store.get("pods", cluster.namespace, r["pod_name"]) for r in second.resources.values()]
    assert pod is not None
    assert {item["key"] for item in pod["spec"]["volumes"][0]["secret"]["items"]} == left


# The user endpoint process, cut to what matters: its engine's provider publishes keys, then the
# process ends normally (as it does when the endpoint stops the engine).
ENGINE_PROCESS = """
import importlib.util, json, sys
from kubernetes import client
spec = importlib.util.spec_from_file_location("gce_release_provider", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
settings, host, ca, token, command = json.loads(sys.argv[2])
provider = module.ReleaseKubernetesProvider(**settings)
configuration = client.Configuration()
configuration.host, configuration.ssl_ca_cert = host, ca
configuration.api_key = {"authorization": "bearer " + token}
provider.kube_client = client.CoreV1Api(client.ApiClient(configuration))
provider.submit(command, 1)
print(json.dumps(sorted(provider.keys_volume_source()["items"], key=str)))
"""


def test_an_engine_process_that_ends_takes_its_keys_out_of_the_secret(
    chart: HelmRenderer, cluster: Cluster, tmp_path: Path
) -> None:
    settings = provider_settings(chart, SET)
    command = launch_command(engine_cert_dir(tmp_path, "engine"))
    arguments = [
        settings,
        f"https://127.0.0.1:{cluster.double.port}",
        str(cluster.double.tls.certificate),
        TOKEN,
        command,
    ]
    result = subprocess.run(
        [sys.executable, "-c", ENGINE_PROCESS, str(PROVIDER_FILE), json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    mounted = {item["key"] for item in json.loads(result.stdout)}
    patches = cluster.double.requests_for("patch", "secrets")
    assert [set(p.body["data"]) for p in patches] == [mounted, mounted]
    assert [{v is None for v in p.body["data"].values()} for p in patches] == [{False}, {True}]
    assert cluster.keys_secret() == {}
