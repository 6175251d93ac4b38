"""The rendered objects follow the SLATE catalog's rules and the chart's own safety rules.

Each test names one rule (research-slate.md section 8, and the chart README) and fails when a
template breaks it, for every value set and both Helm versions.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.schema import load, release_name
from support.chartrender import (
    HELM_VERSIONS,
    NAMESPACE,
    VALUE_SETS,
    HelmRenderer,
    Rendered,
    ValueSet,
    containers,
    env_of,
    pod_spec,
)
from support.paths import SEED_FILE

CASES = [(helm, name) for helm in HELM_VERSIONS for name in sorted(VALUE_SETS)]

# Namespaced kinds a SLATE group may create (the federation role), and their API versions.
ALLOWED_API_VERSIONS = {
    "ConfigMap": "v1",
    "Secret": "v1",
    "ServiceAccount": "v1",
    "Deployment": "apps/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
}
WORKER_NAMESPACE_KINDS = {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret", "NetworkPolicy"}
HOOK = "helm.sh/hook"


def render(chart: HelmRenderer, helm: str, set_name: str) -> Rendered:
    return chart.render_set(helm, VALUE_SETS[set_name])


def seed_with(overrides: Mapping[str, Any], name: str = "variant") -> ValueSet:
    return ValueSet(name, (SEED_FILE,), overrides)


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = obj["metadata"].get("labels") or {}
    return labels


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = obj["metadata"].get("annotations") or {}
    return annotations


def endpoint_container(rendered: Rendered) -> dict[str, Any]:
    return next(c for c in containers(rendered.deployment) if c["name"] == "endpoint")


def checksum(rendered: Rendered) -> str:
    value: str = rendered.deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    return value


# --- SLATE: labels, names, namespaces, kinds --------------------------------------------------


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_every_object_carries_the_release_label(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)
    unlabelled = [
        f"{doc['kind']}/{doc['metadata']['name']}"
        for doc in rendered.docs
        if labels_of(doc).get("release") != rendered.release
    ]
    assert not unlabelled, f"without release={rendered.release}: {unlabelled}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_workloads_and_their_pods_carry_slate_labels(chart: HelmRenderer, helm: str) -> None:
    # `slate instance info/logs/scale` select pods by release; instance and instanceID tell instances apart.
    value_set = VALUE_SETS["slate-installed"]
    expected = {
        "release": value_set.release,
        "instance": value_set.values["Instance"],
        "instanceID": value_set.values["SLATE"]["Instance"]["ID"],
    }
    rendered = chart.render_set(helm, value_set)
    workloads = rendered.workloads()

    assert {doc["kind"] for doc in workloads} == {"Deployment"}
    for doc in workloads:
        for where, labels in (("metadata", labels_of(doc)), ("pod template", labels_of(doc["spec"]["template"]))):
            found = {key: labels.get(key) for key in expected}
            assert found == expected, f"{doc['kind']} {where}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_numeric_instance_is_labelled_as_written(chart: HelmRenderer, helm: str) -> None:
    # The SLATE server may drop the quotes of Instance: "1000000"; Helm then reads a float.
    rendered = chart.render_set(helm, seed_with({"Instance": 1000000}), release=release_name(1000000))

    assert {labels_of(doc)["instance"] for doc in rendered.docs} == {"1000000"}


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_every_name_derives_from_the_release_name(chart: HelmRenderer, helm: str) -> None:
    # Two instances in one namespace must not collide (SLATE: globus-compute-endpoint-<Instance>).
    first = chart.render_set(helm, seed_with({"Instance": "alpha"}))
    second = chart.render_set(helm, seed_with({"Instance": "beta"}))

    assert not first.kind_names() & second.kind_names()
    for rendered in (first, second):
        foreign = [name for _, name in rendered.kind_names() if not name.startswith(rendered.release)]
        assert not foreign, f"names not derived from {rendered.release}: {foreign}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_instance_id_is_never_part_of_a_name(chart: HelmRenderer, helm: str) -> None:
    value_set = VALUE_SETS["slate-installed"]
    instance_id = value_set.values["SLATE"]["Instance"]["ID"]

    names = [name for _, name in chart.render_set(helm, value_set).kind_names()]

    assert not [name for name in names if instance_id in name]


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_only_namespaced_kinds_a_slate_group_may_create(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)
    wrong = [
        f"{doc['apiVersion']} {doc['kind']}"
        for doc in rendered.docs
        if ALLOWED_API_VERSIONS.get(doc["kind"]) != doc["apiVersion"]
    ]
    assert not wrong, f"kinds outside the SLATE federation role (or cluster-scoped): {wrong}"


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_objects_live_in_the_release_namespace(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)
    worker_namespace = VALUE_SETS[set_name].worker_namespace
    misplaced = []
    for doc in rendered.docs:
        namespace = doc["metadata"].get("namespace")
        if namespace == NAMESPACE:
            continue
        # Only the RBAC that lets the endpoint run workers elsewhere, the workers' owner and their key
        # Secret may live in the worker namespace.
        if worker_namespace != NAMESPACE and namespace == worker_namespace and doc["kind"] in WORKER_NAMESPACE_KINDS:
            continue
        misplaced.append(f"{doc['kind']}/{doc['metadata']['name']} in {namespace!r}")
    assert not misplaced


# --- pods: privileges, terminal, resources, replicas ------------------------------------------


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_pods_run_as_non_root_with_no_privileges(chart: HelmRenderer, helm: str, set_name: str) -> None:
    for workload in render(chart, helm, set_name).workloads():
        where = workload["kind"]
        pod_context = pod_spec(workload)["securityContext"]
        assert pod_context["runAsNonRoot"] is True, where
        assert pod_context["runAsUser"] > 0, where
        assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert not pod_spec(workload).get("hostNetwork") and not pod_spec(workload).get("hostPID"), where
        for container in containers(workload):
            where = f"{workload['kind']} container {container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["runAsNonRoot"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context.get("seccompProfile", {"type": "RuntimeDefault"}) == {"type": "RuntimeDefault"}, where


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_endpoint_writes_only_to_empty_dirs(chart: HelmRenderer, helm: str, set_name: str) -> None:
    # The root filesystem is read-only: every place the endpoint writes must be an emptyDir mount,
    # and the mounted configuration and credentials must be read-only.
    rendered = render(chart, helm, set_name)
    container = endpoint_container(rendered)
    volumes = {volume["name"]: volume for volume in pod_spec(rendered.deployment)["volumes"]}
    writable = []
    for mount in container["volumeMounts"]:
        if "emptyDir" in volumes[mount["name"]]:
            assert not mount.get("readOnly"), mount
            writable.append(mount["mountPath"])
        else:
            assert mount.get("readOnly") is True, f"{mount['mountPath']} is writable but not an emptyDir"
    env = env_of(container)
    written = [env["HOME"]["value"], env["GLOBUS_COMPUTE_USER_DIR"]["value"], "/tmp"]

    for path in written:
        assert any(posixpath.commonpath([path, root]) == root for root in writable), f"{path} is not writable"


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_no_container_waits_on_a_terminal(chart: HelmRenderer, helm: str, set_name: str) -> None:
    # With stdin/tty the endpoint would sit at its login prompt forever instead of failing visibly.
    for workload in render(chart, helm, set_name).workloads():
        for container in containers(workload):
            assert not container.get("stdin") and not container.get("tty"), container["name"]
            assert not container.get("stdinOnce"), container["name"]


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_every_container_has_requests_and_limits(chart: HelmRenderer, helm: str, set_name: str) -> None:
    for workload in render(chart, helm, set_name).workloads():
        for container in containers(workload):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert set(resources.get(bound, {})) >= {"cpu", "memory"}, f"{container['name']} {bound}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_endpoint_resources_come_from_the_conf(chart: HelmRenderer, helm: str) -> None:
    resources = {"requests": {"cpu": "250m", "memory": "768Mi"}, "limits": {"cpu": "2", "memory": "3Gi"}}

    rendered = chart.render_set(helm, seed_with({"resources": resources}))

    assert endpoint_container(rendered)["resources"] == resources


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_exactly_one_endpoint_pod_even_during_upgrades(chart: HelmRenderer, helm: str, set_name: str) -> None:
    # Two pods with one endpoint UUID would fight over its tasks.
    spec = render(chart, helm, set_name).deployment["spec"]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


# --- credentials, pod IP, config checksum ----------------------------------------------------


@pytest.mark.parametrize(
    ("set_name", "mode"), [("default", "client"), ("full", "client"), ("user-credentials", "user")]
)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_credentials_secret_is_mounted_as_files(chart: HelmRenderer, helm: str, set_name: str, mode: str) -> None:
    rendered = render(chart, helm, set_name)
    container = endpoint_container(rendered)
    env = env_of(container)
    volumes = {volume["name"]: volume for volume in pod_spec(rendered.deployment)["volumes"]}
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}

    assert env["GCE_CREDENTIALS_MODE"]["value"] == mode
    mount = mounts[env["GCE_CREDENTIALS_DIR"]["value"]]
    assert mount["readOnly"] is True
    # optional: a missing secret lets the entrypoint start and say which keys it expected.
    assert volumes[mount["name"]]["secret"] == {
        "secretName": VALUE_SETS[set_name].values["secrets"],
        "defaultMode": 0o440,
        "optional": True,
    }
    # The credentials reach the endpoint only through those files.
    from_secrets = [name for name, entry in env.items() if "secretKeyRef" in entry.get("valueFrom", {})]
    assert not from_secrets
    assert not [name for name in env if name.startswith("FUNCX_")]


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_pod_ip_comes_from_the_downward_api(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)
    env = env_of(endpoint_container(rendered))

    assert env["POD_IP"] == {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    assert "{{ _GC.env.POD_IP | tojson }}" in rendered.configmap["data"]["user_config_template.yaml.j2"]


CONFIG_CHANGES: dict[str, dict[str, Any]] = {
    "workerInit": {"workerInit": "export OMP_NUM_THREADS=2"},
    "maxBlocks": {"maxBlocks": 9},
    "displayName": {"endpoint": {"displayName": "Another name"}},
    "workerImage": {"workerImage": "registry.example.org/other:4.19.0"},
    "userEnvironment": {"userEnvironment": {"HTTPS_PROXY": "http://proxy:3128"}},
    "taskTimeout": {"taskTimeout": 60},
    "workerNodeSelector": {"workerNodeSelector": {"nvidia.com/gpu.present": "true"}},
    # The worker pods use the same pull policy.
    "pullPolicy": {"image": {"pullPolicy": "Always"}},
}
OTHER_CHANGES: dict[str, dict[str, Any]] = {
    "resources": {"resources": {"limits": {"memory": "2Gi"}}},
    "podAnnotations": {"podAnnotations": {"example.org/team": "atlas"}},
    "nodeSelector": {"nodeSelector": {"kubernetes.io/arch": "arm64"}},
    "networkPolicy": {"networkPolicy": {"enabled": False}},
    "restrictEgress": {"networkPolicy": {"restrictEgress": True}},
    "slateInstanceID": {"SLATE": {"Instance": {"ID": "instance_other"}}},
}


@pytest.mark.parametrize("change", sorted(CONFIG_CHANGES))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_config_change_rolls_the_endpoint_pod(chart: HelmRenderer, helm: str, change: str) -> None:
    base = chart.render_set(helm, seed_with({}))
    changed = chart.render_set(helm, seed_with(CONFIG_CHANGES[change]))

    assert changed.configmap["data"] != base.configmap["data"], "the change does not reach the ConfigMap"
    assert re.fullmatch("[0-9a-f]{64}", checksum(base)), "not a sha256"
    assert checksum(changed) != checksum(base)


@pytest.mark.parametrize("change", sorted(OTHER_CHANGES))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_other_changes_keep_the_config_checksum(chart: HelmRenderer, helm: str, change: str) -> None:
    base = chart.render_set(helm, seed_with({}))
    changed = chart.render_set(helm, seed_with(OTHER_CHANGES[change]))

    assert checksum(changed) == checksum(base)


# --- uninstall, worker owner, network policy ---------------------------------------------------


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_uninstall_runs_nothing_that_could_block_it(chart: HelmRenderer, helm: str, set_name: str) -> None:
    # Helm aborts an uninstall whose hook fails; with no hook (and no Job) there is nothing to fail.
    rendered = render(chart, helm, set_name)

    assert not [doc["kind"] for doc in rendered.docs if HOOK in annotations_of(doc)]
    assert not rendered.of_kind("Job")
    assert not [doc for doc in rendered.docs if "helm.sh/resource-policy" in annotations_of(doc)], (
        "a kept resource would outlive the release"
    )


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_worker_owner_lives_in_the_worker_namespace(chart: HelmRenderer, helm: str, set_name: str) -> None:
    # ownerReferences must point into the same namespace, so the owner is rendered where workers run.
    value_set = VALUE_SETS[set_name]
    rendered = render(chart, helm, set_name)
    owner = rendered.one("ConfigMap", f"{rendered.release}-workers")
    keys = rendered.one("Secret", f"{rendered.release}-worker-keys")

    assert owner["metadata"]["namespace"] == keys["metadata"]["namespace"] == value_set.worker_namespace
    assert labels_of(owner)["release"] == labels_of(keys)["release"] == rendered.release
    # Rendered empty: the endpoint patches in its engine's keys; Helm must not own (and reset) them.
    assert "data" not in keys and "stringData" not in keys


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_network_policy_on_unless_turned_off(chart: HelmRenderer, helm: str) -> None:
    assert VALUE_SETS["default"].values["networkPolicy"]["enabled"] is True
    assert VALUE_SETS["user-credentials"].values["networkPolicy"]["enabled"] is False

    assert render(chart, helm, "default").of_kind("NetworkPolicy")
    assert not render(chart, helm, "user-credentials").of_kind("NetworkPolicy")


def endpoint_policy(rendered: Any) -> dict[str, Any]:
    endpoint_labels = labels_of(rendered.deployment["spec"]["template"])
    [policy] = [
        p
        for p in rendered.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].items() <= endpoint_labels.items()
    ]
    return dict(policy["spec"])


@pytest.mark.parametrize("set_name", ["default", "full", "hardened"])
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_nothing_may_connect_to_a_worker(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)
    policy = rendered.one("NetworkPolicy", f"{rendered.release}-workers")

    assert policy["metadata"]["namespace"] == VALUE_SETS[set_name].worker_namespace
    assert policy["spec"] == {
        "podSelector": {
            "matchLabels": {"app.kubernetes.io/instance": rendered.release, "app.kubernetes.io/component": "worker"}
        },
        # Ingress with no rule: no connection in. Egress is not restricted (functions need the network).
        "policyTypes": ["Ingress"],
    }


PROXY_URL = st.from_regex(load().properties["proxy"]["properties"]["httpsProxy"]["pattern"], fullmatch=True)


def proxy_port(url: str) -> int | None:
    """The TCP port a proxy URL names, else its scheme's; None for no proxy."""
    if not url:
        return None
    authority = url.split("://", 1)[1].rstrip("/").rsplit("@", 1)[-1]
    port = re.search(r":([0-9]+)$", authority)
    return int(port.group(1)) if port else (443 if url.startswith("https:") else 80)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(https_proxy=PROXY_URL, http_proxy=PROXY_URL)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_a_restricted_endpoint_still_reaches_its_proxy(
    chart: HelmRenderer, helm: str, https_proxy: str, http_proxy: str
) -> None:
    # Any proxy URL the schema accepts renders, and its port is opened, and nothing else is.
    proxy = {"httpsProxy": https_proxy, "httpProxy": http_proxy, "noProxy": ""}
    rendered = chart.render_set(helm, seed_with({"proxy": proxy, "networkPolicy": {"restrictEgress": True}}))
    policy = endpoint_policy(rendered)
    ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
    wanted = {port for port in (proxy_port(https_proxy), proxy_port(http_proxy)) if port is not None}
    assert ports == {53, 443, 5671, 5672, 6443} | wanted


@pytest.mark.parametrize("set_name", ["default", "full", "hardened"])
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_egress_is_limited_only_when_asked(chart: HelmRenderer, helm: str, set_name: str) -> None:
    policy = endpoint_policy(render(chart, helm, set_name))

    if VALUE_SETS[set_name].values["networkPolicy"]["restrictEgress"]:
        assert policy["policyTypes"] == ["Ingress", "Egress"]
        ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
        assert ports <= {53, 443, 5671, 5672, 6443}, ports
        assert all("ports" in rule for rule in policy["egress"]), "an egress rule allows every port"
    else:
        # Some clusters serve their API on another port; a default egress wall could cut it off.
        assert policy["policyTypes"] == ["Ingress"]
        assert "egress" not in policy


@pytest.mark.parametrize("set_name", ["default", "full", "hardened"])
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_only_this_releases_workers_may_connect_to_the_endpoint(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = render(chart, helm, set_name)

    [rule] = endpoint_policy(rendered)["ingress"]
    assert rule["from"] == [
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": VALUE_SETS[set_name].worker_namespace}
            },
            # A pod of another release (or any pod with a parsl-job-id label) is not admitted.
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/instance": rendered.release,
                    "app.kubernetes.io/component": "worker",
                }
            },
        }
    ]
    # Only to the engines' worker ports (test_chart_endpoint_config: the ones the engine binds).
    [ports] = rule["ports"]
    assert ports["protocol"] == "TCP" and ports["port"] <= ports["endPort"]


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_endpoint_pod_affinity_comes_from_the_conf(chart: HelmRenderer, helm: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS["realwork"])

    assert pod_spec(rendered.deployment)["affinity"] == VALUE_SETS["realwork"].values["affinity"]
    assert "affinity" not in pod_spec(chart.render_set(helm, VALUE_SETS["default"]).deployment)
