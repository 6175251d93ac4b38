"""The worker values of real work on a cluster: what a function sees inside the worker pods the provider makes.

One release carries almost every worker feature at once (volumes of each kind the restricted profile
admits, environment from a value and from a Secret, a service account with its token, labels,
annotations, a node affinity, a priority class, a runtime class, a proxy); its endpoint pod runs the
engine driver (``e2e/engine.py``), whose ``probe_worker`` tasks report from inside the function what
they read, wrote and saw, while the test records the worker pods as the API server admitted them. A
second release lets a submission choose the worker's image, CPU and memory (``workerChoices``), with
the token left unmounted; a third has a node affinity no node matches.

The PersistentVolume is a directory of this machine, the node's, and the second image name is a tag
added in the node's containerd: both need the control plane built by the tests, so these tests run
only there (with KUBECONFIG they are skipped, saying so).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cluster.images import add_image_name
from e2e import engine, manifests
from e2e.conftest import RESTRICTED, BuiltCluster, random_name, release_installer
from e2e.kube import E2eCluster
from e2e.release import InstallRelease, Release
from e2e.settings import Credentials
from e2e.waits import wait_for
from runtime.functions import driver_events

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])
RUN_TIMEOUT = 600.0
TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
# A proxy nobody listens on (port 9, discard, in the pod's own network namespace): what goes through
# it fails at once, what NO_PROXY exempts does not.
DEAD_PROXY = "http://127.0.0.1:9"
OUTSIDE_URL = "http://gce-e2e.example.org/"
SETTINGS_TEXT = "threads: 4\n"
PRIORITY = 1000
PROXY_NAMES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@dataclass
class Run:
    """One engine run: the driver's events and every worker pod of the release seen while it ran."""

    release: Release
    events: list[dict[str, Any]]
    log: str
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the first probe wrote to the claim, for the second to read.
    handoff: str = ""

    def probes(self) -> list[dict[str, Any]]:
        return engine.results(self.events, "probe_worker")

    def running_worker(self, name: str) -> dict[str, Any]:
        pod = self.workers.get(name)
        assert pod is not None, f"worker pod {name} was never seen; seen: {sorted(self.workers)}"
        return pod


def run_and_watch(
    cluster: E2eCluster,
    release: Release,
    driver_args: list[str],
    labels: dict[str, str],
    files: dict[str, str],
) -> Run:
    """Run the driver until it shuts its engine down, keeping each worker pod's last Running state.

    The engine deletes its worker pods when it scales in or stops, so the pods are read while it runs.
    """
    kubectl = cluster.kubectl
    identity = release.worker_identity()
    engine.run_driver(kubectl, release, driver_args, labels, files)
    run = Run(release, [], "")
    started = time.monotonic()

    def probe() -> tuple[bool | None, str]:
        for pod in kubectl.items(["pods"], identity.namespace, manifests.PARSL_JOB_LABEL):
            if manifests.is_release_worker(pod, identity) and pod["status"].get("phase") == "Running":
                run.workers[pod["metadata"]["name"]] = pod
        driver = engine.driver_pod(kubectl, release)
        if driver is None:
            return None, "no driver pod yet"
        run.log = engine.driver_log(kubectl, release, driver)
        run.events = driver_events(run.log)
        names = [event["event"] for event in run.events]
        if "shutdown" in names or "driver-exit" in names:
            return True, ""
        return None, f"{time.monotonic() - started:.0f} s; events so far: {names}; log ends: {run.log[-1500:]}"

    wait_for("the engine driver to shut its engine down", probe, RUN_TIMEOUT, interval=2.0)
    return run


def probe_files(*probes: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """The driver's input files for these probes, and its arguments that name them."""
    files = {f"probe-{index}.json": json.dumps(actions) for index, actions in enumerate(probes)}
    return files, [arg for name in files for arg in ("--probe", f"{engine.MOUNT}/{name}")]


def ok(outcome: dict[str, Any]) -> Any:
    assert "error" not in outcome, outcome["error"]
    return outcome["ok"]


@dataclass(frozen=True)
class Cast:
    """What the tests made for the releases: names and the values the function should see."""

    namespace: str
    labels: dict[str, str]
    node: str
    api_host: str
    service_account: str
    settings: str
    secret: str
    secret_value: str
    claim: str
    priority_class: str
    runtime_class: str
    image: str
    second_image: str


@pytest.fixture(scope="module")
def node_cluster(built_cluster: BuiltCluster | None) -> BuiltCluster:
    if built_cluster is None:
        pytest.skip(
            "needs the control plane built by the tests: the PersistentVolume is a directory on its node and"
            " the second worker image a tag added in its containerd"
        )
    return built_cluster


@pytest.fixture(scope="module")
def cast(
    node_cluster: BuiltCluster,
    cluster: E2eCluster,
    namespace_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cast]:
    """A restricted namespace holding what the confs name; the cluster-wide objects go afterwards."""
    kubectl = cluster.kubectl
    namespace = random_name("gce-e2e-features")
    namespace_factory(namespace, extra_metadata={"labels": RESTRICTED})
    labels = {"gce-e2e/test": random_name("features")}
    (node,) = [item["metadata"]["name"] for item in kubectl.get("nodes")["items"]]
    api_host = str(kubectl.get("service", "kubernetes", "--namespace=default")["spec"]["clusterIP"])
    suffix = secrets.token_hex(3)
    names = {kind: f"gce-e2e-{kind}-{suffix}" for kind in ("functions", "settings", "creds", "data", "batch", "plain")}
    image = node_cluster.endpoint_image
    second_image = f"{image.rsplit(':', 1)[0]}:science-{suffix}"
    assert node_cluster.control_plane.node is not None
    add_image_name(node_cluster.control_plane.node, image, second_image)
    # The volume's directory on the node, writable by the workers' user (hostPath keeps the mode).
    data = tmp_path_factory.mktemp("worker-data")
    (data / "task-data").mkdir()
    for path in (data, data / "task-data"):
        path.chmod(0o777)
    cast = Cast(
        namespace=namespace,
        labels=labels,
        node=node,
        api_host=api_host,
        service_account=names["functions"],
        settings=names["settings"],
        secret=names["creds"],
        secret_value=secrets.token_urlsafe(24),
        claim=names["data"],
        priority_class=names["batch"],
        runtime_class=names["plain"],
        image=image,
        second_image=second_image,
    )
    meta = {"namespace": namespace, "labels": labels}
    for manifest in (
        {"kind": "ServiceAccount", "metadata": {"name": cast.service_account, **meta}},
        {
            "kind": "ConfigMap",
            "metadata": {"name": cast.settings, **meta},
            "data": {"settings.yaml": SETTINGS_TEXT, "mode": "fast"},
        },
        {"kind": "Secret", "metadata": {"name": cast.secret, **meta}, "stringData": {"token": cast.secret_value}},
        {
            "kind": "PersistentVolume",
            "metadata": {"name": cast.claim, "labels": labels},
            "spec": {
                "capacity": {"storage": "64Mi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": cast.claim,
                "hostPath": {"path": str(data), "type": "Directory"},
                "claimRef": {"namespace": namespace, "name": cast.claim},
            },
        },
        {
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": cast.claim, **meta},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": cast.claim,
                "volumeName": cast.claim,
                "resources": {"requests": {"storage": "64Mi"}},
            },
        },
    ):
        kubectl.create({"apiVersion": "v1", **manifest})
    kubectl.create(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": cast.priority_class, "labels": labels},
            "value": PRIORITY,
        }
    )
    # The node's containerd has one runtime handler, runc (cluster/node.py's configuration).
    kubectl.create(
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": cast.runtime_class, "labels": labels},
            "handler": "runc",
        }
    )
    try:
        yield cast
    finally:
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        # The volume goes once its claim has gone with the namespace, after this.
        kubectl.delete("priorityclasses,runtimeclasses,persistentvolumes", namespace, selector, wait=False)


@pytest.fixture(scope="module")
def install_module_release(
    cluster: E2eCluster, cast: Cast, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InstallRelease]:
    with release_installer(cluster, cast.namespace, cast.labels, tmp_path_factory.mktemp("values")) as install:
        yield install


def feature_values(cast: Cast) -> dict[str, Any]:
    """Every worker feature but the per-submission shape, in one conf."""
    return {
        "maxIdleTime": 5,
        "workerVolumes": [
            {"name": "settings", "configMap": {"name": cast.settings}},
            {"name": "creds", "secret": {"secretName": cast.secret}},
            {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}},
            {
                "name": "podinfo",
                "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
            },
            {
                "name": "bundle",
                "projected": {
                    "sources": [
                        {"configMap": {"name": cast.settings, "items": [{"key": "mode", "path": "mode"}]}},
                        {
                            "downwardAPI": {
                                "items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]
                            }
                        },
                    ]
                },
            },
            {"name": "shared", "persistentVolumeClaim": {"claimName": cast.claim}},
        ],
        "workerVolumeMounts": [
            {
                "name": "settings",
                "mountPath": "/etc/analysis/settings.yaml",
                "subPath": "settings.yaml",
                "readOnly": True,
            },
            {"name": "creds", "mountPath": "/var/run/creds", "readOnly": True},
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "podinfo", "mountPath": "/etc/podinfo", "readOnly": True},
            {"name": "bundle", "mountPath": "/etc/bundle", "readOnly": True},
            {"name": "shared", "mountPath": "/shared", "subPath": "task-data"},
            {"name": "shared", "mountPath": "/shared-ro", "readOnly": True},
        ],
        "workerEnv": {
            "GCE_E2E_PLAIN": "a plain value",
            "GCE_E2E_TOKEN": {"secretKeyRef": {"name": cast.secret, "key": "token"}},
        },
        "workerServiceAccountName": cast.service_account,
        "workerAutomountServiceAccountToken": True,
        "workerLabels": {"example.org/project": "e2e"},
        "workerAnnotations": {"example.org/purpose": "worker features"},
        "workerAffinity": node_affinity(cast.node),
        "workerPriorityClassName": cast.priority_class,
        "workerRuntimeClassName": cast.runtime_class,
        "proxy": {"httpsProxy": DEAD_PROXY, "httpProxy": DEAD_PROXY, "noProxy": f"{cast.api_host},.svc,.cluster.local"},
    }


def node_affinity(node: str) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


@pytest.fixture(scope="module")
def features_run(cluster: E2eCluster, cast: Cast, install_module_release: InstallRelease) -> Run:
    """Two probes, each in a worker pod of its own: the first writes to the claim, the second reads it."""
    handoff = secrets.token_hex(8)
    first = {
        "settings": ["read", "/etc/analysis/settings.yaml"],
        "settings_write": ["write", "/etc/analysis/settings.yaml", "changed"],
        "creds": ["read", "/var/run/creds/token"],
        "scratch_write": ["write", "/scratch/probe", "scratch"],
        "scratch_read": ["read", "/scratch/probe"],
        "labels": ["read", "/etc/podinfo/labels"],
        "bundle_mode": ["read", "/etc/bundle/mode"],
        "bundle_namespace": ["read", "/etc/bundle/namespace"],
        "shared_write": ["write", "/shared/handoff", handoff],
        "shared_ro_write": ["write", "/shared-ro/task-data/other", "refused"],
        "env": ["env", "GCE_E2E_PLAIN", "GCE_E2E_TOKEN", *PROXY_NAMES],
        "token_subject": ["jwt_subject", TOKEN],
        "hostname": ["hostname"],
        "api_bypasses_proxy": ["bypass", f"https://{cast.api_host}/version"],
        "outside_bypasses_proxy": ["bypass", OUTSIDE_URL],
        "api": ["get", f"https://{cast.api_host}/version"],
        "outside": ["get", OUTSIDE_URL],
    }
    second = {"handoff": ["read", "/shared-ro/task-data/handoff"], "hostname": ["hostname"]}
    release = install_module_release(credentials=DUMMY, extra_values=feature_values(cast))
    files, args = probe_files(first, second)
    run = run_and_watch(
        cluster,
        release,
        ["--tasks", "0", "--no-error-task", *args, "--probe-in-new-worker", "--idle-wait", "120"],
        cast.labels,
        files,
    )
    assert len(run.probes()) == 2, run.log[-4000:]
    run.handoff = handoff
    return run


def first_probe(run: Run) -> dict[str, Any]:
    probe: dict[str, Any] = run.probes()[0]
    return probe


def test_worker_volumes_are_mounted_as_the_mounts_say(features_run: Run, cast: Cast) -> None:
    seen = first_probe(features_run)

    # configMap, through a subPath, read-only; secret; downwardAPI; projected (a ConfigMap key and the namespace)
    assert ok(seen["settings"]) == SETTINGS_TEXT
    assert "Read-only file system" in seen["settings_write"]["error"]
    assert ok(seen["creds"]) == cast.secret_value
    assert 'example.org/project="e2e"' in ok(seen["labels"]).splitlines()
    assert ok(seen["bundle_mode"]) == "fast"
    assert ok(seen["bundle_namespace"]) == cast.namespace
    # emptyDir with its size limit: writable scratch
    assert ok(seen["scratch_write"]) == len("scratch") and ok(seen["scratch_read"]) == "scratch"
    pod = features_run.running_worker(ok(seen["hostname"]))
    (scratch,) = [volume for volume in pod["spec"]["volumes"] if volume["name"] == "scratch"]
    assert scratch["emptyDir"] == {"sizeLimit": "64Mi"}


def test_a_claim_keeps_data_from_one_worker_pod_for_the_next_and_read_only_holds(features_run: Run) -> None:
    seen, later = features_run.probes()
    handoff = features_run.handoff

    assert ok(seen["shared_write"]) == len(handoff)
    assert "Read-only file system" in seen["shared_ro_write"]["error"]
    # Written through the read-write subPath mount by one pod, read through the read-only mount by another.
    assert ok(later["handoff"]) == handoff
    assert ok(later["hostname"]) != ok(seen["hostname"])


def test_worker_env_reaches_the_function_and_no_config_map_holds_the_secret(
    features_run: Run, cast: Cast, cluster: E2eCluster
) -> None:
    env = ok(first_probe(features_run)["env"])
    assert env["GCE_E2E_PLAIN"] == "a plain value"
    assert env["GCE_E2E_TOKEN"] == cast.secret_value

    # Every ConfigMap of the namespace: the release's (the endpoint's files, the workers' owner) and the driver's.
    config_maps = cluster.kubectl.get("configmaps", f"--namespace={cast.namespace}")["items"]
    endpoint_files = manifests.endpoint_configmap(features_run.release.objects)["metadata"]["name"]
    assert endpoint_files in {item["metadata"]["name"] for item in config_maps}
    assert cast.secret_value not in json.dumps(config_maps)
    # The conf's Secret is named only as a reference, which Kubernetes resolves in the worker pod.
    pod = features_run.running_worker(ok(first_probe(features_run)["hostname"]))
    (container,) = pod["spec"]["containers"]
    entries = {entry["name"]: entry for entry in container["env"]}
    reference = {"secretKeyRef": {"name": cast.secret, "key": "token"}}
    assert entries["GCE_E2E_TOKEN"] == {"name": "GCE_E2E_TOKEN", "valueFrom": reference}


def test_worker_identity_and_placement_are_admitted_and_the_pod_runs(features_run: Run, cast: Cast) -> None:
    seen = first_probe(features_run)
    pod = features_run.running_worker(ok(seen["hostname"]))
    spec, metadata = pod["spec"], pod["metadata"]

    assert spec["serviceAccountName"] == cast.service_account and spec["automountServiceAccountToken"] is True
    assert ok(seen["token_subject"]) == f"system:serviceaccount:{cast.namespace}:{cast.service_account}"
    assert metadata["labels"]["example.org/project"] == "e2e"
    assert metadata["annotations"]["example.org/purpose"] == "worker features"
    # Admission resolved the priority class to its value; the runtime class's handler ran the pod.
    assert spec["priorityClassName"] == cast.priority_class and spec["priority"] == PRIORITY
    assert spec["runtimeClassName"] == cast.runtime_class
    assert spec["affinity"] == node_affinity(cast.node) and spec["nodeName"] == cast.node


def test_the_proxy_reaches_the_endpoint_and_the_function_and_spares_the_cluster(
    features_run: Run, cast: Cast, cluster: E2eCluster
) -> None:
    expected = {name: DEAD_PROXY for name in PROXY_NAMES if "NO_" not in name.upper()}
    expected |= dict.fromkeys(("NO_PROXY", "no_proxy"), f"{cast.api_host},.svc,.cluster.local")
    seen = first_probe(features_run)

    assert {name: ok(seen["env"])[name] for name in PROXY_NAMES} == expected
    # The function's HTTP goes through the proxy (here: refused by the dead one), except to the API server.
    assert ok(seen["outside_bypasses_proxy"]) is False and "ProxyError" in seen["outside"]["error"]
    assert ok(seen["api_bypasses_proxy"]) is True and isinstance(ok(seen["api"]), int)

    release = features_run.release
    pod = engine.driver_pod(cluster.kubectl, release)
    assert pod is not None
    printed = engine.exec_in(cluster.kubectl, release, pod, "env")
    endpoint_env = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    assert {name: endpoint_env.get(name) for name in expected} == expected


def test_a_submission_chooses_the_worker_image_and_shape_and_the_token_stays_out(
    cluster: E2eCluster, cast: Cast, install_module_release: InstallRelease
) -> None:
    """Rendered by the endpoint's own renderer for a submission, checked against the chart's schema.

    That a submission outside the limits is refused with the endpoint's message is shown, without a
    cluster, by tests/test_chart_endpoint_config.py::test_the_endpoint_refuses_a_submission_outside_the_limits.
    """
    values = {
        "workerServiceAccountName": cast.service_account,
        "workerChoices": {"images": [cast.second_image], "maxCPU": 1, "maxMemGiB": 1},
    }
    release = install_module_release(credentials=DUMMY, extra_values=values)
    files, args = probe_files({"token": ["exists", TOKEN], "hostname": ["hostname"]})
    files["submission.json"] = json.dumps({"worker_image": cast.second_image, "cpu": 0.25, "memory_gib": 0.375})
    run = run_and_watch(
        cluster,
        release,
        [
            "--tasks",
            "0",
            "--no-error-task",
            *args,
            "--user-opts",
            f"{engine.MOUNT}/submission.json",
            "--idle-wait",
            "0",
        ],
        cast.labels,
        files,
    )
    (seen,) = run.probes()
    pod = run.running_worker(ok(seen["hostname"]))
    (container,) = pod["spec"]["containers"]

    assert container["image"] == cast.second_image != cast.image
    shape = {"cpu": "250m", "memory": "384Mi"}
    assert container["resources"] == {"requests": shape, "limits": shape}
    assert pod["spec"]["serviceAccountName"] == cast.service_account
    assert ok(seen["token"]) is False


def test_a_worker_whose_affinity_matches_no_node_stays_pending(
    cluster: E2eCluster, cast: Cast, install_module_release: InstallRelease
) -> None:
    release = install_module_release(credentials=DUMMY, extra_values={"workerAffinity": node_affinity("no-such-node")})
    identity = release.worker_identity()
    engine.run_driver(cluster.kubectl, release, ["--result-timeout", "300", "--no-error-task"], cast.labels)

    def unschedulable() -> tuple[dict[str, Any] | None, str]:
        found = [
            pod
            for pod in cluster.kubectl.items(["pods"], identity.namespace, manifests.PARSL_JOB_LABEL)
            if manifests.is_release_worker(pod, identity)
        ]
        for pod in found:
            conditions = {condition["type"]: condition for condition in pod["status"].get("conditions", [])}
            scheduled = conditions.get("PodScheduled", {})
            if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
                return pod, ""
        return None, f"worker pods: {[pod['status'] for pod in found]}"

    pod = wait_for("a worker pod the scheduler cannot place", unschedulable, RUN_TIMEOUT)
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
    assert "didn't match Pod's node affinity" in next(
        c["message"] for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"
    )
