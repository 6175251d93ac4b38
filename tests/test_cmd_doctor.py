"""`gce-values doctor`, the parts that need no cluster: what a conf names, the pods and questions built from
the real helm render and the chart's real provider, the report lines and the exit codes.

What the cluster answers is shown on a control plane built by the tests: tests/e2e/test_doctor.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.report.reporters import text_line
from gce_values.workflow import helm
from gce_values.workflow.doctor import findings, podshapes, references, rights
from gce_values.workflow.kubectl import Answer
from support.cli import run
from support.paths import CHART_DIR
from support.worker_pod_checks import kubernetes_problems, restricted_profile_problems

REALWORK = yaml.safe_load((CHART_DIR / "ci" / "realwork-values.yaml").read_text(encoding="utf-8"))
FULL = yaml.safe_load((CHART_DIR / "ci" / "full-values.yaml").read_text(encoding="utf-8"))
NAMESPACE = "compute"


def names(refs: list[references.Reference]) -> list[tuple[str, str, str, str, tuple[str, ...], bool]]:
    return [(r.kind, r.name, r.namespace, r.pointer, r.keys, r.optional) for r in refs]


# --- what a conf names ---------------------------------------------------------------------------


def test_a_conf_names_the_credentials_and_every_worker_secret_configmap_claim_and_account() -> None:
    """The chart's real-work example: each object it names, in the namespace of the pod that uses it."""
    found = names(references.references({**REALWORK, "workerNamespace": "gce-workers"}, NAMESPACE))
    assert found == [
        ("Secret", "globus-compute-creds", NAMESPACE, "/secrets", (), False),
        ("ServiceAccount", "analysis-workers", "gce-workers", "/workerServiceAccountName", (), False),
        ("PersistentVolumeClaim", "shared-data", "gce-workers", "/workerVolumes/0", (), False),
        ("ConfigMap", "analysis-settings", "gce-workers", "/workerVolumes/2", (), False),
        ("Secret", "s3-creds", "gce-workers", "/workerEnv/AWS_SECRET_ACCESS_KEY", ("secret-access-key",), False),
        ("ConfigMap", "analysis-settings", "gce-workers", "/workerEnv/ANALYSIS_MODE", ("mode",), True),
    ]


def test_the_pull_secret_is_needed_in_both_namespaces_only_when_they_differ() -> None:
    conf = {"secrets": "creds", "imagePullSecret": "regcred"}
    same = names(references.references(conf, NAMESPACE))
    assert [(kind, name, ns) for kind, name, ns, *_ in same] == [
        ("Secret", "creds", NAMESPACE),
        ("Secret", "regcred", NAMESPACE),
    ]
    apart = names(references.references({**conf, "workerNamespace": "gce-workers"}, NAMESPACE))
    assert [(name, ns) for _, name, ns, *_ in apart] == [
        ("creds", NAMESPACE),
        ("regcred", NAMESPACE),
        ("regcred", "gce-workers"),
    ]


def test_volume_sources_name_the_keys_they_pick_and_whether_they_may_be_missing() -> None:
    conf = {
        "workerVolumes": [
            {"name": "a", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "c"}]}},
            {"name": "b", "configMap": {"name": "opt", "optional": True}},
            {
                "name": "c",
                "projected": {
                    "sources": [
                        {"secret": {"name": "p1", "items": [{"key": "k", "path": "k"}]}},
                        {"configMap": {"name": "p2"}},
                        {"downwardAPI": {"items": []}},
                    ]
                },
            },
            {"name": "d", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi-creds"}}},
            {"name": "e", "emptyDir": {"sizeLimit": "1Gi"}},
        ]
    }
    assert names(references.references(conf, NAMESPACE)) == [
        ("Secret", "tls", NAMESPACE, "/workerVolumes/0", ("tls.crt",), False),
        ("ConfigMap", "opt", NAMESPACE, "/workerVolumes/1", (), True),
        ("Secret", "p1", NAMESPACE, "/workerVolumes/2", ("k",), False),
        ("ConfigMap", "p2", NAMESPACE, "/workerVolumes/2", (), False),
        ("Secret", "csi-creds", NAMESPACE, "/workerVolumes/3", (), False),
    ]


def test_the_credential_keys_follow_the_kind_of_login() -> None:
    assert references.credential_keys({"useClientCredentials": True}) == references.CLIENT_KEYS
    assert references.credential_keys({"useUserCredentials": True}) == references.USER_KEYS


_name = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}[a-z0-9]\Z")


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=st.lists(_name, max_size=3, unique=True),
    env=st.dictionaries(st.from_regex(r"\A[A-Z][A-Z0-9_]{0,8}\Z"), _name, max_size=3),
    workers=st.sampled_from(["", "gce-workers"]),
)
def test_every_claim_and_env_secret_is_looked_for_where_the_workers_run(
    claims: list[str], env: dict[str, str], workers: str
) -> None:
    conf = {
        "workerNamespace": workers,
        "workerVolumes": [
            {"name": f"v{i}", "persistentVolumeClaim": {"claimName": claim}} for i, claim in enumerate(claims)
        ],
        "workerEnv": {var: {"secretKeyRef": {"name": name, "key": "k"}} for var, name in env.items()},
    }
    found = references.references(conf, NAMESPACE)
    where = workers or NAMESPACE
    assert {(r.name, r.namespace) for r in found if r.kind == "PersistentVolumeClaim"} == {(c, where) for c in claims}
    assert {(r.pointer, r.name, r.namespace, r.keys) for r in found if r.kind == "Secret"} == {
        (f"/workerEnv/{var}", name, where, ("k",)) for var, name in env.items()
    }


# --- the pods and the questions, from the real render ---------------------------------------------


@pytest.fixture(scope="module")
def realwork_objects(helm_bins: dict[str, Path]) -> list[dict[str, Any]]:
    values = {**REALWORK, "workerNamespace": "gce-workers", "workerAdmissionPolicy": {"enabled": True}}
    return podshapes.documents(helm.template(str(helm_bins["v4"]), "gce-realwork", NAMESPACE, values))


def test_the_worker_pod_is_the_provider_s_with_the_conf_s_volumes_and_meets_restricted(
    realwork_objects: list[dict[str, Any]],
) -> None:
    pod = podshapes.worker_pod(realwork_objects)
    assert pod["metadata"]["namespace"] == "gce-workers"
    assert pod["metadata"]["ownerReferences"][0]["name"] == "gce-realwork-workers"
    volumes = {volume["name"]: volume for volume in pod["spec"]["volumes"]}
    assert volumes["data"] == REALWORK["workerVolumes"][0]
    assert volumes["worker-keys"]["secret"]["secretName"] == "gce-realwork-worker-keys"
    env = {entry["name"]: entry for entry in pod["spec"]["containers"][0]["env"]}
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"] == {
        "secretKeyRef": REALWORK["workerEnv"]["AWS_SECRET_ACCESS_KEY"]["secretKeyRef"]
    }
    assert pod["spec"]["serviceAccountName"] == "analysis-workers"
    assert restricted_profile_problems(pod) == []
    assert kubernetes_problems(pod) == []


def test_the_endpoint_pod_is_the_deployment_s_template_in_the_release_s_namespace(
    realwork_objects: list[dict[str, Any]],
) -> None:
    pod = podshapes.endpoint_pod(realwork_objects)
    [deployment] = [obj for obj in realwork_objects if obj["kind"] == "Deployment"]
    assert pod["spec"] == deployment["spec"]["template"]["spec"]
    assert pod["metadata"]["namespace"] == NAMESPACE
    assert pod["metadata"]["labels"] == deployment["spec"]["template"]["metadata"]["labels"]
    assert restricted_profile_problems(pod) == []
    assert kubernetes_problems(pod) == []


def test_every_rendered_kind_is_asked_for_and_every_right_the_role_grants(
    realwork_objects: list[dict[str, Any]],
) -> None:
    asked = {(q.verb, q.resource, q.namespace, q.name) for q in rights.questions(realwork_objects, NAMESPACE)}
    for obj in realwork_objects:
        resource = rights.resource_of(obj["kind"], obj["apiVersion"])
        scope = "" if obj["kind"] in rights.CLUSTER_KINDS else obj["metadata"].get("namespace", NAMESPACE)
        assert {("get", resource, scope, ""), ("create", resource, scope, "")} <= asked, obj["kind"]
    assert ("create", "validatingadmissionpolicies.admissionregistration.k8s.io", "", "") in asked
    role = next(obj for obj in realwork_objects if obj["kind"] == "Role")
    for rule in role["rules"]:
        for resource in rule["resources"]:
            for verb in rule["verbs"]:
                for name in rule.get("resourceNames", [""]):
                    assert (verb, resource, role["metadata"]["namespace"], name) in asked


def test_without_the_endpoint_package_the_worker_pod_cannot_be_built_and_says_what_to_install(
    realwork_objects: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain `pip install gce-values` has no Parsl: the worker pod is then not built, with the reason."""
    # None in sys.modules makes Python refuse the import, as for a package that is not installed.
    for name in [name for name in sys.modules if name == "parsl" or name.startswith("parsl.")] or ["parsl"]:
        monkeypatch.setitem(sys.modules, name, None)
    missing = r"needs parsl, not installed here \(pip install globus-compute-endpoint\)"
    with pytest.raises(podshapes.ShapeUnavailable, match=missing):
        podshapes.worker_pod(realwork_objects)


def test_kind_to_kubectl_resource() -> None:
    assert rights.resource_of("NetworkPolicy", "networking.k8s.io/v1") == "networkpolicies.networking.k8s.io"
    assert rights.resource_of("ConfigMap", "v1") == "configmaps"
    assert rights.resource_of("Deployment", "apps/v1") == "deployments.apps"


# --- report lines and kubectl's answers ---------------------------------------------------------


def test_a_finding_is_one_report_line_with_its_fix_and_rule() -> None:
    problem = findings.finding(
        "my-conf.yaml", "/workerVolumes/0", "PersistentVolumeClaim compute/data (worker volume data) does not exist",
        "create it", findings.MISSING_OBJECT,
    )  # fmt: skip
    assert text_line(problem) == (
        "my-conf.yaml: error: workerVolumes.0: PersistentVolumeClaim compute/data (worker volume data) does not "
        "exist; create it [doctor-missing-object /workerVolumes/0]"
    )
    hostile = findings.finding("c.yaml", "", "kubectl said:\nforged: error: line", None, findings.POD_REFUSED)
    assert "\n" not in text_line(hostile)


def test_kubectl_s_error_and_warnings_are_read_apart() -> None:
    answer = Answer(
        1, "", 'Warning: would violate PodSecurity "restricted:latest": x\nError from server (Forbidden): no\n'
    )
    assert answer.first_error == "Error from server (Forbidden): no"
    assert answer.warnings == ['would violate PodSecurity "restricted:latest": x']
    assert Answer(1, "", "").first_error == "kubectl exited with code 1"


# --- the command: exit codes ------------------------------------------------------------------------


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "my-conf.yaml"
    values = {"Instance": "demo", "endpointUUID": "9b2d9f0e-6a53-4c1e-8d7c-0f6e5a4b3c21", "secrets": "creds"}
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_a_kubectl_that_is_not_there_is_exit_2_in_one_line(conf: Path, tmp_path: Path) -> None:
    ran = run("doctor", str(conf), "--namespace", NAMESPACE, "--kubectl", str(tmp_path / "no-kubectl"))
    assert ran.code == 2, ran.output
    assert ran.stderr.strip().splitlines() == [
        f"gce-values: kubectl: {tmp_path / 'no-kubectl'} (from the option) is not an executable file"
    ]


def test_no_kubectl_on_path_says_how_to_get_one(conf: Path, tmp_path: Path) -> None:
    ran = run("doctor", str(conf), "--namespace", NAMESPACE, env={"PATH": str(tmp_path), "GCE_KUBECTL": None})
    assert ran.code == 2, ran.output
    [line] = ran.stderr.strip().splitlines()
    assert line.startswith("gce-values: kubectl not found on PATH: install kubectl"), line
    assert "--kubectl" in line


def test_an_invalid_conf_is_exit_1_before_the_cluster_is_asked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("Instance: demo\nmaxBlocks: -1\n", encoding="utf-8")
    ran = run("doctor", str(bad), "--namespace", NAMESPACE, "--kubectl", str(tmp_path / "no-kubectl"))
    assert ran.code == 1, ran.output
    assert "maxBlocks" in ran.stderr


def test_a_kubeconfig_that_is_not_there_is_a_usage_error(conf: Path, tmp_path: Path) -> None:
    ran = run("doctor", str(conf), "--namespace", NAMESPACE, "--kubeconfig", str(tmp_path / "nowhere.yaml"))
    assert ran.code == 2, ran.output
    assert "--kubeconfig" in ran.stderr and "does not exist" in ran.stderr


def test_the_namespace_is_required(conf: Path) -> None:
    ran = run("doctor", str(conf))
    assert ran.code == 2
    assert "--namespace" in ran.stderr


def test_the_help_documents_the_exit_codes() -> None:
    ran = run("doctor", "--help")
    assert ran.code == 0
    text = " ".join(ran.stdout.split())
    for code in ("0 nothing stands in the way", "1 a problem was found", "2 usage error", "4 kubectl could not ask"):
        assert code in text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_no_input_gives_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any.yaml"
    path.write_text(text, encoding="utf-8")
    ran = run(
        "doctor", str(path), "--namespace", NAMESPACE, "--kubectl", str(tmp_path / "no-kubectl"), "--format", "json"
    )
    assert ran.code in (1, 2), ran.output
    assert "Traceback" not in ran.output and "internal error" not in ran.output
    if ran.stdout.strip():
        assert json.loads(ran.stdout)["valid"] is False or ran.code == 2
