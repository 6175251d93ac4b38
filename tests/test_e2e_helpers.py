"""The live-cluster tests' helpers, checked without a cluster, and the opt-in that keeps them off `make test`.

The live tests run rarely and only where a cluster is; a wrong helper would make them pass for the
wrong reason or fail confusingly there. Here the helpers run on what they will meet on a cluster: the
chart rendered by the real helm, pod statuses as the kubelet writes them, kubectl's can-i answers.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from e2e import access, manifests, pods
from e2e.release import INSTANCE, e2e_values
from e2e.settings import (
    HELM_VERSIONS,
    HOW_TO_RUN,
    E2eSettings,
    SettingsError,
    load_settings,
    skip_reason,
    smoke_endpoint_uuid,
    split_image,
)
from e2e.waits import WaitTimeout, wait_for
from support.chartrender import HelmRenderer
from support.paths import REPO_ROOT

RELEASE = "gce-e2e-1a2b3c"
NAMESPACE = "gce-e2e-4d5e6f"
WORKER_NAMESPACE = "gce-e2e-workers-7a8b9c"
ENDPOINT_UUID = "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"
CLIENT_ID = "6c1f0a52-8d4e-4b8e-9f3e-0d6a4f6f3b21"
CLIENT_SECRET = "s3cr3t-value-that-must-not-leak"


def settings(**env: str) -> E2eSettings:
    return load_settings(env)


def render(chart: HelmRenderer, helm: str, worker_namespace: str | None, **env: str) -> list[dict[str, Any]]:
    """The chart as the live tests install it: their values, their kind of release and namespace names."""
    values = e2e_values(settings(**env), ENDPOINT_UUID, f"{RELEASE}-credentials", worker_namespace)
    return chart.template(helm, values, release=RELEASE, namespace=NAMESPACE).docs


# --- settings and the opt-in -------------------------------------------------


def test_without_opt_in_the_skip_says_how_to_run(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    reason = skip_reason({"KUBECONFIG": str(kubeconfig)}, None)
    assert reason is not None
    assert HOW_TO_RUN in reason


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"E2E_RUN": "1", "KUBECONFIG": "/nonexistent/config"}, "/nonexistent/config is not a file"),
        ({"E2E_RUN": "1", "KUBECONFIG": "/etc/a:/etc/b"}, "one path, not a list"),
    ],
)
def test_opted_in_without_a_usable_kubeconfig_skips_with_the_reason(env: dict[str, str], expected: str) -> None:
    reason = skip_reason(env, None)
    assert reason is not None
    assert expected in reason
    assert HOW_TO_RUN in reason


def test_opted_in_without_kubeconfig_runs_on_the_control_plane_the_tests_build() -> None:
    assert skip_reason({"E2E_RUN": "1"}, None) is None


def test_opted_in_with_a_kubeconfig_file_runs(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    assert skip_reason({"E2E_RUN": "1", "KUBECONFIG": str(kubeconfig)}, None) is None
    # pytest-helm-charts' --kubeconfig option wins over the environment, as in its own fixture.
    assert skip_reason({"E2E_RUN": "1", "KUBECONFIG": "/nonexistent"}, str(kubeconfig)) is None


@pytest.mark.parametrize(
    ("ref", "repository", "tag"),
    [
        ("gce-endpoint:dev", "gce-endpoint", "dev"),
        (
            "hub.opensciencegrid.org/slate/globus-compute-endpoint:4.19.0",
            "hub.opensciencegrid.org/slate/globus-compute-endpoint",
            "4.19.0",
        ),
        ("localhost:5000/gce:dev", "localhost:5000/gce", "dev"),
    ],
)
def test_image_splits_into_the_charts_repository_and_tag(ref: str, repository: str, tag: str) -> None:
    image = split_image(ref)
    assert (image.repository, image.tag) == (repository, tag)


@pytest.mark.parametrize("ref", ["gce-endpoint", "localhost:5000/gce", ":dev", "gce@sha256:" + "0" * 64])
def test_image_without_a_tag_is_refused(ref: str) -> None:
    with pytest.raises(SettingsError, match="E2E_IMAGE"):
        split_image(ref)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"E2E_HELM": "v5"}, "E2E_HELM"),
        ({"E2E_NAMESPACE": "Slate_Group"}, "E2E_NAMESPACE"),
        ({"E2E_POD_TIMEOUT": "soon"}, "E2E_POD_TIMEOUT"),
        ({"E2E_POD_TIMEOUT": "0"}, "E2E_POD_TIMEOUT"),
        ({"E2E_ENDPOINT_UUID": "not-a-uuid"}, "E2E_ENDPOINT_UUID"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings(**env)


def test_every_helm_the_settings_accept_is_one_the_suite_provides(helm_bins: dict[str, Path]) -> None:
    assert set(HELM_VERSIONS) <= set(helm_bins)


def test_credentials_need_both_variables_and_never_show_the_secret() -> None:
    assert settings(GLOBUS_COMPUTE_CLIENT_ID=CLIENT_ID).credentials is None
    given = settings(GLOBUS_COMPUTE_CLIENT_ID=CLIENT_ID, GLOBUS_COMPUTE_CLIENT_SECRET=CLIENT_SECRET)
    assert given.credentials is not None
    assert given.credentials.client_secret == CLIENT_SECRET
    assert CLIENT_SECRET not in repr(given)
    with pytest.raises(SettingsError) as raised:
        settings(GLOBUS_COMPUTE_CLIENT_ID="not-a-uuid", GLOBUS_COMPUTE_CLIENT_SECRET=CLIENT_SECRET)
    assert CLIENT_SECRET not in str(raised.value)


def test_smoke_endpoint_uuid_is_stable_per_client_and_never_the_client_id() -> None:
    creds = {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_SECRET}
    first = smoke_endpoint_uuid(settings(**creds))
    assert first == smoke_endpoint_uuid(settings(**creds))
    assert first != CLIENT_ID
    other = smoke_endpoint_uuid(settings(**{**creds, "GLOBUS_COMPUTE_CLIENT_ID": ENDPOINT_UUID}))
    assert other != first
    assert smoke_endpoint_uuid(settings(**creds, E2E_ENDPOINT_UUID=ENDPOINT_UUID)) == ENDPOINT_UUID


# --- collection: skipped (not passed) without opt-in, run with it ------------


def _pytest_e2e(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("E2E_", "GLOBUS_COMPUTE_", "KUBECONFIG", "PYTEST_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/e2e", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=REPO_ROOT,
        env={**keep, **env_overrides},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_live_tests_are_reported_skipped_with_how_to_run_them() -> None:
    result = _pytest_e2e({})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "passed" not in output
    assert " skipped" in output
    assert HOW_TO_RUN in output


def test_opted_in_live_tests_run_and_fail_against_an_unreachable_cluster(tmp_path: Path) -> None:
    """With a kubeconfig the tests are not skipped: they reach for the cluster (here nothing listens)."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "nowhere", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "nobody", "user": {"token": "none"}}],
                "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
                "current-context": "nowhere",
            }
        ),
        encoding="utf-8",
    )
    started = time.monotonic()
    result = _pytest_e2e({"E2E_RUN": "1", "KUBECONFIG": str(kubeconfig)}, "-k", "carries_the_slate_labels", "-x")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 error" in output
    assert "skipped" not in output
    assert time.monotonic() - started < 100, "an unreachable cluster must fail fast, not hang"


# --- access: the intended rights against the chart's RBAC and kubectl's answers


@pytest.mark.parametrize(
    ("returncode", "stdout", "stderr", "allowed"),
    [
        (0, "yes\n", "", True),
        (1, "no\n", "", False),
        (1, "no - RBAC: no rule matched\n", "", False),
        (0, "yes\n", "Warning: resource 'pods' is not namespace scoped\n", True),
    ],
)
def test_can_i_answers_are_read(returncode: int, stdout: str, stderr: str, allowed: bool) -> None:
    assert access.parse_can_i(returncode, stdout, stderr) is allowed


@pytest.mark.parametrize(
    ("returncode", "stdout", "stderr"),
    [
        # Impersonation refused: no answer at all, which must not count as the "no" a check expects.
        (1, "", 'Error from server (Forbidden): users "system:serviceaccount:ns:sa" is forbidden: cannot impersonate'),
        (1, "no\n", "Warning: the server doesn't have a resource type 'pod'\n"),
        (1, "yes\n", ""),
        (0, "no\n", ""),
    ],
)
def test_can_i_without_a_clear_answer_is_an_error(returncode: int, stdout: str, stderr: str) -> None:
    with pytest.raises(access.CanIError):
        access.parse_can_i(returncode, stdout, stderr)


def test_can_i_asks_as_the_service_account() -> None:
    check = access.AccessCheck("ns", "sa", "create", "pods", "workers", False, subresource="exec")
    args = check.kubectl_args()
    assert args[:4] == ["auth", "can-i", "create", "pods"]
    assert "--as=system:serviceaccount:ns:sa" in args
    assert "--subresource=exec" in args
    assert args[args.index("--namespace") + 1] == "workers"


def _checks(docs: list[dict[str, Any]]) -> list[access.AccessCheck]:
    workers = manifests.worker_identity(manifests.endpoint_configmap(docs))
    assert workers.service_account is not None
    endpoint_sa = manifests.service_account_of(manifests.find_one(docs, "Deployment"))
    return access.service_account_checks(
        NAMESPACE,
        endpoint_sa,
        workers.namespace,
        workers.service_account,
        workers.owner_config_map,
        workers.keys_secret,
    )


@pytest.mark.parametrize("worker_namespace", [None, WORKER_NAMESPACE])
def test_intended_rights_match_the_charts_rbac(chart: HelmRenderer, worker_namespace: str | None) -> None:
    docs = render(chart, "v4", worker_namespace)
    checks = _checks(docs)
    assert any(check.expected for check in checks) and any(not check.expected for check in checks)
    contrary = [str(check) for check in checks if access.rendered_rbac_allows(docs, check) != check.expected]
    assert contrary == []


def test_a_broader_role_is_caught_by_the_intended_rights(chart: HelmRenderer) -> None:
    docs = copy.deepcopy(render(chart, "v4", None))
    role = next(doc for doc in docs if doc["kind"] == "Role")
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    contrary = [str(check) for check in _checks(docs) if access.rendered_rbac_allows(docs, check) != check.expected]
    assert contrary == [
        f"{NAMESPACE}/{RELEASE} may not get secrets '{RELEASE}-worker-keys' in namespace {NAMESPACE}",
        f"{NAMESPACE}/{RELEASE} may not get secrets in namespace {NAMESPACE}",
    ]


def test_rbac_rules_limited_to_names_and_wildcards_are_read_as_kubernetes_does() -> None:
    def role(rule: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "Role", "metadata": {"name": "r", "namespace": "ns"}, "rules": [rule]}

    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "ns"},
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}],  # namespace defaults to the binding's
    }
    check = access.AccessCheck("ns", "sa", "delete", "pods", "ns", True)
    wildcard = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    named = {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"], "resourceNames": ["one"]}
    assert access.rendered_rbac_allows([role(wildcard), binding], check)
    assert not access.rendered_rbac_allows([role(named), binding], check)
    assert access.rendered_rbac_allows([role(named), binding], dataclasses.replace(check, name="one"))
    assert not access.rendered_rbac_allows([role(named), binding], dataclasses.replace(check, name="two"))
    other_sa = access.AccessCheck("other-ns", "sa", "delete", "pods", "ns", False)
    assert not access.rendered_rbac_allows([role(wildcard), binding], other_sa)


# --- manifests: labels, listing, the endpoint's workers ------------------------


def test_conf_of_the_live_tests_installs_the_image_asked_for(chart: HelmRenderer) -> None:
    docs = render(chart, "v4", None, E2E_IMAGE="localhost:5000/gce:dev")
    deployment = manifests.find_one(docs, "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "localhost:5000/gce:dev"
    assert manifests.first_container_of(deployment) == "endpoint"


@pytest.mark.parametrize("worker_namespace", [None, WORKER_NAMESPACE])
def test_every_rendered_object_including_hooks_carries_the_slate_labels(
    chart: HelmRenderer, worker_namespace: str | None
) -> None:
    docs = render(chart, "v4", worker_namespace)
    assert manifests.label_problems(docs, RELEASE, INSTANCE) == []


def test_label_problems_name_the_object_and_the_label(chart: HelmRenderer) -> None:
    docs = copy.deepcopy(render(chart, "v4", None))
    deployment = manifests.find_one(docs, "Deployment")
    del deployment["metadata"]["labels"]["instanceID"]
    manifests.endpoint_configmap(docs)["metadata"]["labels"]["release"] = "someone-else"
    problems = manifests.label_problems(docs, RELEASE, INSTANCE)
    assert sorted(problems) == [
        f"configmap {NAMESPACE}/{RELEASE}: release label is 'someone-else', not {RELEASE!r}",
        f"deployment.apps {NAMESPACE}/{RELEASE}: no 'instanceID' label on a workload",
    ]


def test_objects_not_found_by_label_are_reported_missing(chart: HelmRenderer) -> None:
    docs = render(chart, "v4", WORKER_NAMESPACE)
    found = [doc for doc in docs if doc["kind"] != "RoleBinding"]
    missing = manifests.missing_refs(docs, found, NAMESPACE)
    assert missing
    assert all(ref.resource == "rolebinding.rbac.authorization.k8s.io" for ref in missing)
    assert {ref.namespace for ref in missing} == {WORKER_NAMESPACE}
    assert manifests.missing_refs(docs, docs, NAMESPACE) == []


def test_leftover_sweep_covers_every_kind_and_namespace_of_the_release(chart: HelmRenderer) -> None:
    docs = render(chart, "v4", WORKER_NAMESPACE)
    resources = manifests.sweep_resources(docs)
    assert {"pod", "replicaset.apps", "deployment.apps", "configmap", "secret", "serviceaccount"} <= set(resources)
    assert "role.rbac.authorization.k8s.io" in resources
    assert manifests.namespaces_of(docs, NAMESPACE) == sorted([NAMESPACE, WORKER_NAMESPACE])


@pytest.mark.parametrize("worker_namespace", [None, WORKER_NAMESPACE])
def test_worker_identity_names_what_the_chart_renders(chart: HelmRenderer, worker_namespace: str | None) -> None:
    """The live uninstall test fakes a worker from the ConfigMap; its owner must be rendered where it runs."""
    docs = render(chart, "v4", worker_namespace)
    workers = manifests.worker_identity(manifests.endpoint_configmap(docs))
    in_worker_namespace = {
        (doc["kind"], doc["metadata"]["name"]) for doc in docs if doc["metadata"]["namespace"] == workers.namespace
    }
    assert workers.namespace == (worker_namespace or NAMESPACE)
    assert ("ConfigMap", workers.owner_config_map) in in_worker_namespace
    assert ("Secret", workers.keys_secret) in in_worker_namespace
    assert workers.labels["release"] == RELEASE


def test_only_this_endpoints_workers_count_as_its_own(chart: HelmRenderer) -> None:
    workers = manifests.worker_identity(manifests.endpoint_configmap(render(chart, "v4", None)))
    others = {key: f"{value}-other" for key, value in workers.labels.items()}
    ours = manifests.worker_pod_manifest(workers, "abcd1234", "registry.k8s.io/pause:3.9", workers.labels, "uid-1")
    decoy = manifests.worker_pod_manifest(workers, "decoy5678", "registry.k8s.io/pause:3.9", others)
    unlabelled = copy.deepcopy(ours)
    del unlabelled["metadata"]["labels"][manifests.PARSL_JOB_LABEL]
    lookalike = copy.deepcopy(ours)
    lookalike["metadata"]["name"] = f"{workers.pod_prefix}x.abcd1234"
    assert ours["metadata"]["name"] == f"{RELEASE}-worker.abcd1234"
    assert ours["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": f"{RELEASE}-workers", "uid": "uid-1"}
    ]
    assert "ownerReferences" not in decoy["metadata"]
    assert manifests.is_release_worker(ours, workers)
    assert not any(manifests.is_release_worker(pod, workers) for pod in (decoy, unlabelled, lookalike))


def test_objects_the_live_tests_create_are_valid_kubernetes(chart: HelmRenderer) -> None:
    workers = manifests.worker_identity(manifests.endpoint_configmap(render(chart, "v4", None)))
    pod = manifests.worker_pod_manifest(workers, "abcd1234", "registry.k8s.io/pause:3.9", workers.labels, "uid-1")
    credentials = settings(GLOBUS_COMPUTE_CLIENT_ID=CLIENT_ID, GLOBUS_COMPUTE_CLIENT_SECRET=CLIENT_SECRET).credentials
    assert credentials is not None
    secret = manifests.credentials_secret("creds", NAMESPACE, credentials, {"gce-e2e/test": "run-1"})
    version = kubernetes_validate.latest_version()
    for obj in (pod, secret):
        kubernetes_validate.validate(obj, version, strict=True)
    assert secret["stringData"] == {
        "GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID,
        "GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_SECRET,
    }


def test_multi_document_yaml_is_parsed_without_empty_documents() -> None:
    text = "---\n# Source: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n"
    assert [doc["metadata"]["name"] for doc in manifests.parse_objects(text)] == ["a"]


# --- pods: statuses as the kubelet reports them -------------------------------


def _pod(state: dict[str, Any], last_state: dict[str, Any] | None = None, ready: bool = False) -> dict[str, Any]:
    return {
        "metadata": {"name": "gce-e2e-1a2b3c-5d4f-x"},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "endpoint", "state": state, "lastState": last_state or {}}],
        },
    }


CRASHED = {"terminated": {"exitCode": 78, "reason": "Error", "message": ""}}


def test_exit_of_a_restarted_container_is_its_previous_run() -> None:
    pod = _pod({"waiting": {"reason": "CrashLoopBackOff"}}, CRASHED)
    ended = pods.container_exit(pod, "endpoint")
    assert ended == pods.ContainerExit(78, "Error", "", previous=True)


def test_exit_of_a_container_not_yet_restarted_is_its_current_run() -> None:
    ended = pods.container_exit(_pod(CRASHED), "endpoint")
    assert ended is not None
    assert not ended.previous


def test_running_container_has_no_exit() -> None:
    assert pods.container_exit(_pod({"running": {"startedAt": "2025-01-01T00:00:00Z"}}), "endpoint") is None
    assert pods.container_exit({"metadata": {"name": "p"}, "status": {"phase": "Pending"}}, "endpoint") is None


def test_unpullable_image_is_stuck_but_a_crash_loop_is_not() -> None:
    pulling = _pod({"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x:1"'}})
    reason = pods.stuck_reason(pulling)
    assert reason is not None
    assert "ImagePullBackOff" in reason and "x:1" in reason
    assert pods.stuck_reason(_pod({"waiting": {"reason": "CrashLoopBackOff"}}, CRASHED)) is None


def test_readiness_and_summary() -> None:
    assert pods.is_ready(_pod({"running": {}}, ready=True))
    assert not pods.is_ready(_pod({"running": {}}))
    summary = pods.summary(_pod({"waiting": {"reason": "CrashLoopBackOff"}}, CRASHED))
    assert "phase Running" in summary and "endpoint waiting (CrashLoopBackOff)" in summary


# --- waits: bounded, and saying what they waited for -------------------------


def test_wait_returns_the_first_value_the_probe_finds() -> None:
    answers = iter([None, None, "ready"])
    assert wait_for("a thing", lambda: (next(answers), "not yet"), timeout=5, interval=0.01) == "ready"


def test_wait_gives_up_in_time_with_what_it_saw() -> None:
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"waiting for the pod; last seen: phase Pending"):
        wait_for("the pod", lambda: (None, "phase Pending"), timeout=0.3, interval=0.05)
    assert time.monotonic() - started < 2


def test_wait_stops_at_once_on_a_hopeless_state() -> None:
    def probe() -> tuple[str | None, str]:
        raise RuntimeError("image cannot be pulled")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="cannot be pulled"):
        wait_for("the pod", probe, timeout=60)
    assert time.monotonic() - started < 1
