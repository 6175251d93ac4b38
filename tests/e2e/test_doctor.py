"""`gce-values doctor` against a real API server: what it finds before a plain-Helm install, and its exit codes.

Each test prepares namespaces (Pod Security "restricted", as the suite makes them) with what a conf
names, runs the real command with the cluster's kubectl and the project's helm, and reads its
report: one line per problem, naming the object and the fix. The Secrets hold planted values that
must never appear in the command's output.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.conftest import RESTRICTED, random_name
from e2e.identity import account_kubectl, token_kubeconfig
from e2e.kube import E2eCluster, Kubectl
from e2e.release import INSTANCE, REPO_ROOT
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

# Values planted in the Secrets: the report may name keys, never these.
PLANTED_SECRET = f"planted-client-secret-{secrets.token_hex(8)}"
PLANTED_TOKEN = f"planted-s3-token-{secrets.token_hex(8)}"
CLIENT_ID = str(uuid.uuid4())
DOCTOR_SECONDS = 180
NO_CLAIMS = "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.persistentVolumeClaim))"


@dataclass(frozen=True)
class Doctored:
    code: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if ": error: " in line]

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass(frozen=True)
class Setup:
    """The two namespaces of a release (the endpoint's and workerNamespace) and a conf naming objects in them."""

    namespace: str
    workers: str
    conf: dict[str, Any]


def secret(name: str, namespace: str, data: dict[str, str], kind: str = "Opaque") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": kind,
        "metadata": {"name": name, "namespace": namespace},
        "stringData": data,
    }


def config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def claim(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def pull_secret(namespace: str) -> dict[str, Any]:
    return secret("registry-pull", namespace, {".dockerconfigjson": '{"auths": {}}'}, "kubernetes.io/dockerconfigjson")


def everything(namespace: str, workers: str) -> dict[str, dict[str, Any]]:
    """What the conf of ``conf_for`` names, present and complete, by a short name per object."""
    return {
        "credentials": secret(
            "globus-creds",
            namespace,
            {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": PLANTED_SECRET},
        ),
        "pull": pull_secret(namespace),
        "worker-pull": pull_secret(workers),
        "claim": claim("shared-data", workers),
        "settings": config_map("worker-settings", workers, {"site.cfg": "mode = test\n"}),
        "s3": secret("s3-creds", workers, {"token": PLANTED_TOKEN}),
    }


def conf_for(cluster: E2eCluster, workers: str) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "Instance": INSTANCE,
        "endpointUUID": str(uuid.uuid4()),
        "secrets": "globus-creds",
        "useClientCredentials": True,
        "imagePullSecret": "registry-pull",
        "workerNamespace": workers,
        "workerVolumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "shared-data"}},
            {"name": "settings", "configMap": {"name": "worker-settings"}},
        ],
        "workerVolumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "settings", "mountPath": "/etc/site"}],
        "workerEnv": {"S3_TOKEN": {"secretKeyRef": {"name": "s3-creds", "key": "token"}}},
    }
    if cluster.settings.image is not None:
        conf["image"] = {"repository": cluster.settings.image.repository, "tag": cluster.settings.image.tag}
    return conf


@pytest.fixture
def setup(cluster: E2eCluster, namespace: str, namespace_factory_function_scope: Any) -> Setup:
    if cluster.settings.namespace:
        pytest.skip("doctor's tests need a second namespace for workerNamespace; E2E_NAMESPACE (SLATE) gives one")
    workers = random_name("gce-e2e-workers")
    namespace_factory_function_scope(workers, extra_metadata={"labels": RESTRICTED})
    return Setup(namespace, workers, conf_for(cluster, workers))


@pytest.fixture
def doctor(
    cluster: E2eCluster, kubectl_bin: Path, helm_bins: dict[str, Path], tmp_path: Path
) -> Callable[..., Doctored]:
    """Run `gce-values doctor` as a user does (its own process), with this cluster's kubectl and kubeconfig."""

    def run(setup: Setup, kubeconfig: Path | None = None, *extra: str) -> Doctored:
        conf = tmp_path / f"conf-{secrets.token_hex(3)}.yaml"
        conf.write_text(yaml.safe_dump(setup.conf), encoding="utf-8")
        argv = [
            *[sys.executable, "-c", "from gce_values.cli import main; main()", "doctor", str(conf)],
            *[f"--namespace={setup.namespace}", f"--kubeconfig={kubeconfig or cluster.kubectl.kubeconfig}"],
            *[f"--kubectl={kubectl_bin}", f"--helm-bin={helm_bins['v4']}", *extra],
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT / "tools"), os.environ.get("PYTHONPATH")])),
        }
        done = subprocess.run(argv, capture_output=True, text=True, timeout=DOCTOR_SECONDS, check=False, env=env)
        result = Doctored(done.returncode, done.stdout, done.stderr)
        output = done.stdout + done.stderr
        assert PLANTED_SECRET not in output and PLANTED_TOKEN not in output, f"a secret value was printed:\n{result}"
        assert "Traceback" not in output, str(result)
        return result

    return run


def create_all(kubectl: Kubectl, objects: dict[str, dict[str, Any]]) -> None:
    for manifest in objects.values():
        kubectl.create(manifest)


def test_a_namespace_with_everything_the_conf_names_is_ready(
    cluster: E2eCluster, setup: Setup, doctor: Callable[..., Doctored]
) -> None:
    """Both namespaces enforce "restricted": the endpoint pod and a worker pod built by the chart's provider
    (with the conf's volumes and Secret-backed variable) pass the API server's admission, and an admin may
    create everything the chart renders."""
    create_all(cluster.kubectl, everything(setup.namespace, setup.workers))
    result = doctor(setup)
    assert result.code == 0, str(result)
    assert result.stdout.strip() == "", str(result)
    assert f"ready to install into namespace {setup.namespace}" in result.stderr, str(result)

    as_json = doctor(setup, None, "--format=json")
    assert as_json.code == 0, str(as_json)
    assert yaml.safe_load(as_json.stdout)["problems"] == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no-credentials", "Secret {ns}/globus-creds (the endpoint pod) does not exist; kubectl create secret generic"),
        ("credentials-without-secret-key", "credentials Secret {ns}/globus-creds has no key for the client secret"),
        ("no-claim", "PersistentVolumeClaim {workers}/shared-data (worker volume data) does not exist"),
        ("no-configmap", "ConfigMap {workers}/worker-settings (worker volume settings) does not exist"),
        ("no-pull-secret-for-workers", "Secret {workers}/registry-pull (the worker pods) does not exist"),
        ("env-secret-without-key", "Secret {workers}/s3-creds (worker variable S3_TOKEN) has no key token"),
    ],
    ids=lambda value: value if " " not in value else "",
)
def test_each_missing_object_or_key_is_one_line_with_its_fix(
    cluster: E2eCluster, setup: Setup, doctor: Callable[..., Doctored], case: str, expected: str
) -> None:
    objects = everything(setup.namespace, setup.workers)
    if case == "no-credentials":
        del objects["credentials"]
    elif case == "credentials-without-secret-key":
        objects["credentials"]["stringData"] = {"FUNCX_SDK_CLIENT_ID": CLIENT_ID, "OTHER": PLANTED_SECRET}
    elif case == "no-claim":
        del objects["claim"]
    elif case == "no-configmap":
        del objects["settings"]
    elif case == "no-pull-secret-for-workers":
        del objects["worker-pull"]  # the one in the endpoint's namespace does not count for the workers
    else:
        objects["s3"]["stringData"] = {"other": PLANTED_TOKEN}
    create_all(cluster.kubectl, objects)

    result = doctor(setup)
    assert result.code == 1, str(result)
    assert len(result.errors) == 1, str(result)
    assert expected.format(ns=setup.namespace, workers=setup.workers) in result.errors[0], str(result)
    assert "1 problem to fix before installing" in result.stderr, str(result)


@pytest.fixture
def refuse_claims(cluster: E2eCluster, setup: Setup) -> Iterator[str]:
    """A stricter policy than "restricted" on the workers' namespace: a ValidatingAdmissionPolicy that
    refuses pods mounting a PersistentVolumeClaim (removed afterwards: it is cluster-scoped)."""
    name = random_name("gce-e2e-doctor")
    cluster.kubectl.run("label", "namespace", setup.workers, f"gce-e2e/doctor-policy={name}")
    match = {"matchLabels": {"gce-e2e/doctor-policy": name}}
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "namespaceSelector": match,
                "resourceRules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
                ],
            },
            "validations": [
                {
                    "expression": NO_CLAIMS,
                    "message": "this namespace admits no PersistentVolumeClaim volumes",
                }
            ],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"], "matchResources": {"namespaceSelector": match}},
    }
    cluster.kubectl.create(policy)
    cluster.kubectl.create(binding)
    yield name
    cluster.kubectl.run(
        "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, "--ignore-not-found"
    )


def test_a_worker_pod_the_namespace_refuses_is_named_with_the_server_s_reason(
    cluster: E2eCluster, setup: Setup, doctor: Callable[..., Doctored], refuse_claims: str
) -> None:
    """The chart's shapes meet "restricted", so Pod Security admission admits them: a stricter policy of the
    cluster refuses the worker pod (it mounts the conf's claim), and doctor says so; the endpoint pod passes."""
    create_all(cluster.kubectl, everything(setup.namespace, setup.workers))
    probe_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": setup.workers},
        "spec": {  # "restricted"-clean, so only the policy can refuse it
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "c",
                    "image": "pause",
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "probe"}}],
        },
    }

    def policy_active() -> tuple[bool | None, str]:
        answer = cluster.kubectl.run("create", "--dry-run=server", "-f", "-", stdin=json.dumps(probe_pod), check=False)
        return (True if "admits no PersistentVolumeClaim" in answer.stderr else None), answer.stderr.strip()

    wait_for("the admission policy to take effect", policy_active, timeout=60)

    result = doctor(setup)
    assert result.code == 1, str(result)
    assert len(result.errors) == 1, str(result)
    assert f"a worker pod would be refused in namespace {setup.workers}" in result.errors[0], str(result)
    assert "this namespace admits no PersistentVolumeClaim volumes" in result.errors[0], str(result)
    assert "[doctor-pod-refused /workerNamespace]" in result.errors[0], str(result)


def installer_role(namespace: str) -> dict[str, Any]:
    """Rights to read what the conf names and create the chart's objects, but no Role or RoleBinding."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "installer", "namespace": namespace},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["secrets", "configmaps", "serviceaccounts", "persistentvolumeclaims", "pods"],
                "verbs": ["get", "list", "create", "delete", "patch"],
            },
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "create"]},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "create"]},
        ],
    }


def test_a_user_who_may_not_create_the_chart_s_role_is_told_so(
    cluster: E2eCluster, namespace: str, doctor: Callable[..., Doctored], tmp_path: Path
) -> None:
    """As a ServiceAccount with a token (no admin certificate) whose Role allows all but RBAC objects."""
    conf = conf_for(cluster, "")
    conf.pop("workerNamespace")
    setup = Setup(namespace, namespace, conf)
    objects = everything(namespace, namespace)
    del objects["worker-pull"]  # one namespace: the endpoint's pull secret serves the workers too
    create_all(cluster.kubectl, objects)
    cluster.kubectl.run("create", "serviceaccount", "installer", f"--namespace={namespace}")
    cluster.kubectl.create(installer_role(namespace))
    cluster.kubectl.run(
        "create", "rolebinding", "installer", "--role=installer", f"--serviceaccount={namespace}:installer",
        f"--namespace={namespace}",
    )  # fmt: skip
    installer = account_kubectl(cluster, namespace, "installer", tmp_path)

    result = doctor(setup, installer.kubeconfig)
    assert result.code == 1, str(result)
    for verb in ("get", "create"):
        for resource in ("roles", "rolebindings"):
            line = f"you may not {verb} {resource}.rbac.authorization.k8s.io in namespace {namespace}"
            assert any(line in error for error in result.errors), f"{line}\n{result}"
    assert all("[doctor-not-allowed /rbacEnabled]" in error for error in result.errors), str(result)
    assert not any("does not exist" in error for error in result.errors), str(result)


def test_a_cluster_that_does_not_answer_is_exit_code_4(
    cluster: E2eCluster, namespace: str, doctor: Callable[..., Doctored], tmp_path: Path
) -> None:
    nowhere = token_kubeconfig(cluster.kubectl, "not-a-token", tmp_path / "nowhere.kubeconfig")
    config = yaml.safe_load(nowhere.kubeconfig.read_text(encoding="utf-8"))
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    nowhere.kubeconfig.write_text(yaml.safe_dump(config), encoding="utf-8")
    setup = Setup(namespace, namespace, {**conf_for(cluster, ""), "workerNamespace": ""})

    result = doctor(setup, nowhere.kubeconfig)
    assert result.code == 4, str(result)
    assert result.stdout == "", str(result)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("gce-values doctor: kubectl cannot ask the cluster: The connection to the server"), line

    no_context = doctor(setup, None, "--context=no-such-context")
    assert no_context.code == 4, str(no_context)
    [line] = no_context.stderr.strip().splitlines()
    assert "context was not found for specified context: no-such-context" in line, line
