"""The chart's worker provider (files/gce_release_provider.py): the objects it sends, against a recording client.

The provider is the real class, made with the settings the chart renders for it; only its Kubernetes
client is replaced, by one that records each call and answers like the API server. That the endpoint
finds and builds the provider from the rendered files is shown by test_chart_endpoint_config.py (the
real loader) and by the runtime tests (the real engine).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml
import zmq
from kubernetes.client import (
    V1ConfigMap,
    V1ContainerState,
    V1ContainerStateWaiting,
    V1ContainerStatus,
    V1ObjectMeta,
    V1Pod,
    V1PodStatus,
)
from kubernetes.client.exceptions import ApiException
from parsl import curvezmq

from support.chartrender import VALUE_SETS, HelmRenderer, ValueSet
from support.checkov import checkov_executable
from support.kubeconfig import DUMMY_KUBECONFIG
from support.paths import CHART_DIR
from support.worker_pod_checks import (
    WORKER_CHECKOV_SKIPS,
    checkov_report,
    failed_check_ids,
    kubernetes_problems,
    namespaced,
    restricted_profile_problems,
    unexplained_failures,
)

OWNER_UID = "0b0e6c6e-1c51-4c1e-9d3c-5b2f0d8e7a11"
POD_IP = "10.42.0.15"


@pytest.fixture(scope="module")
def provider_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gce_release_provider", CHART_DIR / "files" / "gce_release_provider.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class RecordingClient:
    """Stands in for kubernetes.client.CoreV1Api: records what the provider sends, answers like the API."""

    calls: list[tuple[str, str, str, Any]] = field(default_factory=list)
    pods: dict[str, V1Pod] = field(default_factory=dict)
    refuse_create: ApiException | None = None
    owner_missing: bool = False

    def read_namespaced_config_map(self, name: str, namespace: str) -> V1ConfigMap:
        self.calls.append(("get", "configmaps", name, None))
        if self.owner_missing:
            raise ApiException(status=404, reason="Not Found")
        return V1ConfigMap(metadata=V1ObjectMeta(name=name, namespace=namespace, uid=OWNER_UID))

    def patch_namespaced_secret(
        self, name: str, namespace: str, body: Any, _content_type: str = "", _request_timeout: float = 0
    ) -> None:
        self.calls.append(("patch", "secrets", name, (body, _content_type)))

    def create_namespaced_pod(self, namespace: str, body: dict[str, Any]) -> V1Pod:
        self.calls.append(("create", "pods", body["metadata"]["name"], body))
        if self.refuse_create is not None:
            raise self.refuse_create
        pod = V1Pod(metadata=V1ObjectMeta(name=body["metadata"]["name"]), status=V1PodStatus(phase="Pending"))
        self.pods[body["metadata"]["name"]] = pod
        return pod

    def read_namespaced_pod(self, name: str, namespace: str) -> V1Pod:
        self.calls.append(("get", "pods", name, None))
        return self.pods[name]

    def delete_namespaced_pod(self, name: str, namespace: str, body: Any) -> V1Pod:
        self.calls.append(("delete", "pods", name, None))
        return self.pods.pop(name)

    def sent(self, verb: str, resource: str) -> list[Any]:
        return [payload for v, r, _, payload in self.calls if (v, r) == (verb, resource)]


def provider_settings(
    chart: HelmRenderer, value_set: ValueSet, submission: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The provider block of the rendered user config template, as the endpoint's Jinja2 renders it.

    ``submission``: variables passed with the tasks, strings JSON-quoted as the endpoint quotes them.
    """
    template = chart.render_set("v4", value_set).configmap["data"]["user_config_template.yaml.j2"]
    variables = {k: json.dumps(v) if isinstance(v, str) else v for k, v in (submission or {}).items()}
    text = (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string(template)
        .render(_GC={"env": {"POD_IP": POD_IP}}, **variables)
    )
    settings: dict[str, Any] = yaml.safe_load(text)["engine"]["provider"]
    assert settings.pop("type") == "ReleaseKubernetesProvider"
    return settings


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The provider loads a kubeconfig when it is made (Parsl's KubernetesProvider); nothing connects to it.
    path = tmp_path / "home" / ".kube" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(DUMMY_KUBECONFIG), encoding="utf-8")
    monkeypatch.setenv("HOME", str(path.parent.parent))
    monkeypatch.setenv("KUBECONFIG", str(path))


@dataclass
class Made:
    provider: Any
    client: RecordingClient
    settings: dict[str, Any]


@pytest.fixture
def make(chart: HelmRenderer, provider_module: ModuleType, kubeconfig: None) -> Iterator[Any]:
    def make(set_name: str = "full", client: RecordingClient | None = None) -> Made:
        settings = provider_settings(chart, VALUE_SETS[set_name])
        provider = provider_module.ReleaseKubernetesProvider(**settings)
        provider.kube_client = client or RecordingClient()
        return Made(provider, provider.kube_client, settings)

    yield make


@pytest.fixture
def cert_dir(tmp_path: Path) -> Path:
    """The interchange's certificate directory, made by Parsl as the engine makes it."""
    return Path(curvezmq.create_certificates(tmp_path / "engine"))


def launch_command(cert_dir: Path | str) -> str:
    """The worker command the engine hands to the provider (the parts that matter here)."""
    return (
        "globus-compute-endpoint python-exec parsl.executors.high_throughput.process_worker_pool -a 10.42.0.15"
        f" -p 0 --port=54123 --cert_dir {cert_dir} --logdir=/tmp/gce-worker-logs --block_id={{block_id}}"
    )


# --- the pod body ------------------------------------------------------------------------------


def test_worker_pod_belongs_to_the_release(make: Any, cert_dir: Path) -> None:
    made = make("full")
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    release = VALUE_SETS["full"].release

    assert pod["metadata"]["namespace"] == VALUE_SETS["full"].worker_namespace
    assert pod["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": f"{release}-workers", "uid": OWNER_UID}
    ]
    labels = pod["metadata"]["labels"]
    assert {key: labels[key] for key in ("release", "instance", "app.kubernetes.io/instance")} == {
        "release": release,
        "instance": "full",
        "app.kubernetes.io/instance": release,
    }
    assert labels["app.kubernetes.io/component"] == "worker"
    assert "parsl-job-id" in labels
    assert pod["metadata"]["name"].startswith(f"{release}-worker.")


def test_worker_pod_never_restarts_and_has_no_token(make: Any, cert_dir: Path) -> None:
    for set_name in ("full", "no-rbac"):
        made = make(set_name)
        made.provider.submit(launch_command(cert_dir), 1)
        [pod] = made.client.sent("create", "pods")
        spec = pod["spec"]

        assert spec["restartPolicy"] == "Never"
        # Also without the chart's RBAC: then there is no worker account, and still no token.
        assert spec["automountServiceAccountToken"] is False
        if VALUE_SETS[set_name].values["rbacEnabled"]:
            assert spec["serviceAccountName"] == f"{VALUE_SETS[set_name].release}-worker"
        else:
            assert "serviceAccountName" not in spec


@pytest.mark.parametrize("set_name", ["full", "realwork"])
def test_worker_pod_meets_the_restricted_profile_field_by_field(make: Any, cert_dir: Path, set_name: str) -> None:
    made = make(set_name)
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    [container] = pod["spec"]["containers"]
    context = container["securityContext"]

    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 1000 and context["runAsGroup"] == 1000
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert restricted_profile_problems(pod) == []


def test_worker_pod_placement_and_resources_come_from_the_conf(make: Any, cert_dir: Path) -> None:
    values = VALUE_SETS["full"].values
    made = make("full")
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    [container] = pod["spec"]["containers"]

    assert pod["spec"]["nodeSelector"] == values["workerNodeSelector"]
    assert pod["spec"]["tolerations"] == values["workerTolerations"]
    assert pod["spec"]["imagePullSecrets"] == [{"name": values["imagePullSecret"]}]
    assert container["image"] == values["workerImage"]
    assert container["imagePullPolicy"] == values["image"]["pullPolicy"]
    assert container["resources"] == {
        "requests": {"nvidia.com/gpu": "1", "cpu": "0.5", "memory": values["initMem"]},
        "limits": {"nvidia.com/gpu": "1", "cpu": "4", "memory": values["maxMem"]},
    }


def test_worker_pod_is_valid_kubernetes_and_namespaced(make: Any, cert_dir: Path) -> None:
    for set_name in sorted(VALUE_SETS):
        made = make(set_name)
        made.provider.submit(launch_command(cert_dir), 1)
        for verb, resource, name, payload in made.client.calls:
            if verb == "create":
                assert namespaced(payload), f"{resource}/{name}"
                assert kubernetes_problems(payload) == [], set_name


def test_checkov_fails_only_the_explained_checks(
    chart: HelmRenderer, make: Any, cert_dir: Path, tmp_path: Path
) -> None:
    checkov = checkov_executable()
    bodies = []
    for set_name in ("default", "full", "hardened", "no-rbac", "realwork"):
        made = make(set_name)
        made.provider.submit(launch_command(cert_dir), 1)
        bodies.extend(made.client.sent("create", "pods"))
        # Checked beside the release's NetworkPolicies, as on a cluster.
        bodies.extend(chart.render_set("v4", VALUE_SETS[set_name]).of_kind("NetworkPolicy"))

    report = checkov_report(checkov, bodies, tmp_path)

    assert report["summary"]["parsing_errors"] == 0 and report["summary"]["passed"] > 0
    assert unexplained_failures(report) == []
    # Every skip is needed: its check does fail on some worker pod.
    assert failed_check_ids(report) == set(WORKER_CHECKOV_SKIPS)


def test_worker_pod_mounts_the_conf_volumes_beside_the_keys(make: Any, cert_dir: Path) -> None:
    values = VALUE_SETS["realwork"].values
    made = make("realwork")
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    [container] = pod["spec"]["containers"]

    assert pod["spec"]["volumes"][0]["name"] == "worker-keys"
    assert pod["spec"]["volumes"][1:] == values["workerVolumes"]
    assert container["volumeMounts"][0]["mountPath"] == "/etc/gce-worker-keys"
    assert container["volumeMounts"][1:] == values["workerVolumeMounts"]
    assert restricted_profile_problems(pod) == []
    assert kubernetes_problems(pod) == []


def test_parsl_persistent_volumes_are_mounted(provider_module: ModuleType, make: Any, cert_dir: Path) -> None:
    # What Parsl's own KubernetesProvider takes (claim name, mount path); the chart's pod body kept none.
    settings = make("default").settings
    provider = provider_module.ReleaseKubernetesProvider(**settings, persistent_volumes=[("shared-data", "/data")])
    provider.kube_client = RecordingClient()
    provider.submit(launch_command("None"), 1)
    [pod] = provider.kube_client.sent("create", "pods")

    assert pod["spec"]["volumes"] == [{"name": "shared-data", "persistentVolumeClaim": {"claimName": "shared-data"}}]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [{"name": "shared-data", "mountPath": "/data"}]
    assert kubernetes_problems(pod) == []


def test_worker_env_holds_references_and_the_proxy(chart: HelmRenderer, make: Any, cert_dir: Path) -> None:
    values = VALUE_SETS["realwork"].values
    made = make("realwork")
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    env = {entry["name"]: entry for entry in pod["spec"]["containers"][0]["env"]}

    # Kubernetes reads the Secret's value into the pod; the chart only names the Secret and key.
    assert env["AWS_SECRET_ACCESS_KEY"] == {
        "name": "AWS_SECRET_ACCESS_KEY",
        "valueFrom": {"secretKeyRef": values["workerEnv"]["AWS_SECRET_ACCESS_KEY"]["secretKeyRef"]},
    }
    assert env["ANALYSIS_MODE"]["valueFrom"] == {
        "configMapKeyRef": values["workerEnv"]["ANALYSIS_MODE"]["configMapKeyRef"]
    }
    assert env["OMP_NUM_THREADS"] == {"name": "OMP_NUM_THREADS", "value": "1"}
    for name in ("HTTPS_PROXY", "https_proxy"):
        assert env[name]["value"] == values["proxy"]["httpsProxy"]
    for name in ("NO_PROXY", "no_proxy"):
        assert env[name]["value"] == values["proxy"]["noProxy"]
    # No ConfigMap of the release holds a plain value for a variable that refers to a Secret.
    for config_map in chart.render_set("v4", VALUE_SETS["realwork"]).of_kind("ConfigMap"):
        assert '"name": "AWS_SECRET_ACCESS_KEY", "value"' not in json.dumps(config_map)


def test_worker_identity_and_placement_come_from_the_conf(make: Any, cert_dir: Path) -> None:
    values = VALUE_SETS["realwork"].values
    made = make("realwork")
    made.provider.submit(launch_command(cert_dir), 1)
    [pod] = made.client.sent("create", "pods")
    spec, metadata = pod["spec"], pod["metadata"]

    assert spec["serviceAccountName"] == values["workerServiceAccountName"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["affinity"] == values["workerAffinity"]
    assert spec["priorityClassName"] == values["workerPriorityClassName"]
    assert spec["runtimeClassName"] == values["workerRuntimeClassName"]
    assert metadata["annotations"] == values["workerAnnotations"]
    assert metadata["labels"]["example.org/project"] == "atlas"
    assert metadata["labels"]["release"] == VALUE_SETS["realwork"].release
    assert made.provider.parallelism == values["parallelism"]


def test_worker_token_only_when_asked_for(chart: HelmRenderer, provider_module: ModuleType, kubeconfig: None) -> None:
    asked = ValueSet("token", VALUE_SETS["realwork"].files, {"workerAutomountServiceAccountToken": True})
    settings = provider_settings(chart, asked)
    provider = provider_module.ReleaseKubernetesProvider(**settings)
    provider.kube_client = RecordingClient()
    provider.submit(launch_command("None"), 1)
    [pod] = provider.kube_client.sent("create", "pods")

    assert pod["spec"]["automountServiceAccountToken"] is True
    assert pod["spec"]["serviceAccountName"] == "analysis-workers"


def test_a_submission_shape_gives_a_valid_restricted_pod(
    chart: HelmRenderer, provider_module: ModuleType, kubeconfig: None
) -> None:
    image = VALUE_SETS["realwork"].values["workerChoices"]["images"][0]
    submission = {"worker_image": image, "cpu": 2.5, "memory_gib": 0.5, "gpus": 0}
    provider = provider_module.ReleaseKubernetesProvider(**provider_settings(chart, VALUE_SETS["realwork"], submission))
    provider.kube_client = RecordingClient()
    provider.submit(launch_command("None"), 1)
    [pod] = provider.kube_client.sent("create", "pods")
    [container] = pod["spec"]["containers"]

    assert container["image"] == image
    assert container["resources"] == {
        "requests": {"nvidia.com/gpu": "0", "cpu": "2.5", "memory": "512Mi"},
        "limits": {"nvidia.com/gpu": "0", "cpu": "2.5", "memory": "512Mi"},
    }
    assert kubernetes_problems(pod) == []
    assert restricted_profile_problems(pod) == []


# --- the keys ------------------------------------------------------------------------------------


def mounted_files(pod: dict[str, Any], data: dict[str, str]) -> dict[str, str]:
    """The files of the pod's keys volume as the kubelet makes them from the Secret's data (``items``)."""
    [volume] = pod["spec"]["volumes"]
    items = volume["secret"].get("items") or [{"key": key, "path": key} for key in data]
    return {item["path"]: base64.b64decode(data[item["key"]]).decode("ascii") for item in items}


def test_encrypted_worker_gets_the_keys_through_the_secret(make: Any, cert_dir: Path, tmp_path: Path) -> None:
    made = make("full")
    made.provider.submit(launch_command(cert_dir), 1)
    [(patch, content_type)] = made.client.sent("patch", "secrets")
    [pod] = made.client.sent("create", "pods")
    [container] = pod["spec"]["containers"]
    files = mounted_files(pod, patch["data"])

    assert content_type == "application/merge-patch+json"
    assert set(patch) == {"data"}, "only the keys: Helm's metadata on the Secret stays"
    assert files["client.key_secret"] == (cert_dir / "client.key_secret").read_text()
    server_public, server_secret = zmq.auth.load_certificate(cert_dir / "server.key_secret")
    given = tmp_path / "given-server.key_secret"
    given.write_text(files["server.key_secret"], encoding="ascii")
    given_public, given_secret = zmq.auth.load_certificate(given)
    assert given_public == server_public
    assert given_secret != server_secret, "the server's secret key must not leave the endpoint"
    secret_name = f"{VALUE_SETS['full'].release}-worker-keys"
    [volume] = pod["spec"]["volumes"]
    assert volume["name"] == "worker-keys"
    assert volume["secret"]["secretName"] == secret_name and volume["secret"]["defaultMode"] == 0o440
    assert {item["key"] for item in volume["secret"]["items"]} == set(patch["data"]), "this engine's entries only"
    assert container["volumeMounts"] == [{"name": "worker-keys", "mountPath": "/etc/gce-worker-keys", "readOnly": True}]
    command = container["args"][1]
    assert str(cert_dir) not in command, "the endpoint's certificate directory does not exist in the worker"
    assert '--cert_dir "$cert_dir"' in command


def test_unencrypted_engine_gets_no_keys(make: Any) -> None:
    made = make("default")
    made.provider.submit(launch_command("None"), 1)
    [pod] = made.client.sent("create", "pods")

    assert made.client.sent("patch", "secrets") == []
    assert "volumes" not in pod["spec"]
    assert pod["spec"]["containers"][0]["args"][1].strip().endswith(launch_command("None"))


# Stands in for the worker: connects to the interchange the way Parsl's worker does (CurveZMQ client
# context on the directory given as --cert_dir), asks once, and exits 0 on an answer, 3 on none.
WORKER_STANDIN = """
import sys, zmq
from parsl import curvezmq
cert_dir = sys.argv[sys.argv.index("--cert_dir") + 1]
context = curvezmq.ClientContext(cert_dir)
sock = context.socket(zmq.REQ)
sock.setsockopt(zmq.LINGER, 0)
sock.connect(sys.argv[1])
sock.send(b"register")
sys.exit(0 if sock.poll(4000) else 3)
"""


def kubelet_secret_volume(target: Path, files: dict[str, str]) -> None:
    """A Secret volume as the kubelet lays it out: a world-searchable directory, files 0440."""
    target.mkdir(mode=0o1777)
    target.chmod(0o1777)
    for name, text in files.items():
        (target / name).write_text(text, encoding="ascii")
        (target / name).chmod(0o440)


def run_worker(provider_module: ModuleType, keys: Path, address: str, cert_dir: Path) -> int:
    """The worker pod's command as the provider builds it, with the Secret volume at ``keys``."""
    launch = f"{sys.executable} -c '{WORKER_STANDIN}' {address} --cert_dir {cert_dir}"
    command, _ = provider_module.worker_command(launch)
    command = command.replace(provider_module.KEYS_MOUNT, str(keys))
    bash = shutil.which("bash")
    assert bash, "bash is needed: worker pods run their command with /bin/bash"
    result = subprocess.run([bash, "-c", command], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode in (0, 3), result.stderr
    return result.returncode


def _answer_in_background(sock: zmq.Socket[bytes]) -> Callable[[], int]:
    """Answer every request on ``sock`` in a thread; the returned function stops it and says how many."""
    stop = threading.Event()
    answered = [0]

    def serve() -> None:
        while not stop.is_set():
            if sock.poll(100):
                sock.recv()
                sock.send(b"ok")
                answered[0] += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def finish() -> int:
        stop.set()
        thread.join(timeout=5)
        return answered[0]

    return finish


def test_only_a_worker_with_the_keys_is_answered(
    make: Any, provider_module: ModuleType, cert_dir: Path, tmp_path: Path
) -> None:
    made = make("full")
    made.provider.submit(launch_command(cert_dir), 1)
    [(patch, _)] = made.client.sent("patch", "secrets")
    [pod] = made.client.sent("create", "pods")
    ours = mounted_files(pod, patch["data"])
    # A rogue pod knows the server's public key (it is no secret) but has only a key pair of its own.
    rogue_dir = tmp_path / "rogue-keys"
    rogue_dir.mkdir()
    zmq.auth.create_certificates(rogue_dir, "client")
    rogue = {
        "client.key_secret": (rogue_dir / "client.key_secret").read_text(),
        "server.key_secret": ours["server.key_secret"],
    }
    kubelet_secret_volume(tmp_path / "ours", ours)
    kubelet_secret_volume(tmp_path / "rogue", rogue)
    # The interchange's side, as Parsl makes it: only client keys found in its certificate directory.
    server = curvezmq.ServerContext(cert_dir)
    try:
        sock = server.socket(zmq.REP)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        address = f"tcp://127.0.0.1:{port}"
        poller_thread_answers = _answer_in_background(sock)
        assert run_worker(provider_module, tmp_path / "ours", address, cert_dir) == 0
        assert run_worker(provider_module, tmp_path / "rogue", address, cert_dir) == 3
        assert poller_thread_answers() == 1, "the interchange saw exactly one worker: ours"
    finally:
        server.destroy(linger=0)


# --- failures, and what the endpoint's log shows ------------------------------------------------


def test_no_worker_without_its_owner(make: Any, cert_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Without the owner a pod would outlive the release: better no worker, and a line that says why.
    made = make("full", RecordingClient(owner_missing=True))

    with caplog.at_level(logging.WARNING, logger="parsl"), pytest.raises(ApiException):
        made.provider.submit(launch_command(cert_dir), 1)

    assert made.client.sent("create", "pods") == []
    assert f"cannot read ConfigMap gce-workers/{VALUE_SETS['full'].release}-workers" in caplog.text


def test_refused_pod_create_is_logged_with_the_answer(
    make: Any, cert_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = ApiException(status=403, reason="Forbidden")
    refusal.body = '{"message": "pods is forbidden: exceeded quota: compute-resources"}'
    made = make("default", RecordingClient(refuse_create=refusal))

    with caplog.at_level(logging.WARNING, logger="parsl"), pytest.raises(ApiException):
        made.provider.submit(launch_command(cert_dir), 1)

    [record] = [r for r in caplog.records if "worker pod not created" in r.getMessage()]
    assert record.name.startswith("parsl."), "the endpoint's logging configuration covers the parsl loggers"
    assert "403 Forbidden" in record.getMessage()
    assert "exceeded quota" in record.getMessage()


def _waiting(reason: str, message: str) -> V1Pod:
    state = V1ContainerState(waiting=V1ContainerStateWaiting(reason=reason, message=message))
    status = V1ContainerStatus(name="worker", image="x", image_id="", ready=False, restart_count=0, state=state)
    return V1Pod(status=V1PodStatus(phase="Pending", container_statuses=[status]))


def test_stuck_and_ended_workers_are_logged_once(make: Any, cert_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    made = make("default")
    job_id = made.provider.submit(launch_command(cert_dir), 1)
    name = made.provider.resources[job_id]["pod_name"]

    with caplog.at_level(logging.WARNING, logger="parsl"):
        made.client.pods[name] = _waiting("ErrImagePull", "pull access denied for registry.example.org/nope")
        made.provider.status([job_id])
        made.provider.status([job_id])
        made.client.pods[name] = V1Pod(status=V1PodStatus(phase="Failed"))
        [status] = made.provider.status([job_id])
        made.provider.status([job_id])

    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "cannot start" in m] == [
        f"worker pod slate-group-demo/{name} cannot start: ErrImagePull:"
        " pull access denied for registry.example.org/nope"
    ]
    assert len([m for m in messages if "ended (phase Failed)" in m]) == 1
    assert status.terminal


def test_the_role_grants_exactly_the_calls_the_provider_makes(chart: HelmRenderer, make: Any, cert_dir: Path) -> None:
    made = make("full")
    job_id = made.provider.submit(launch_command(cert_dir), 1)
    made.provider.status([job_id])
    made.provider.cancel([job_id])
    calls = {(verb, resource, name if resource != "pods" else "") for verb, resource, name, _ in made.client.calls}
    rendered = chart.render_set("v4", VALUE_SETS["full"])
    role = rendered.one("Role", f"{rendered.release}-workers")
    granted = {
        (verb, resource, name)
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", [""])
    }

    assert role["metadata"]["namespace"] == made.settings["namespace"]
    assert calls == granted


def test_chart_readme_lists_every_worker_pod_skip() -> None:
    text = (CHART_DIR / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    match = re.search(r"^## Worker pod security checks\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "the chart's docs/how-it-works.md has no '## Worker pod security checks' section"

    assert set(re.findall(r"\bCKV2?_K8S_\d+\b", match.group(1))) == set(WORKER_CHECKOV_SKIPS)
