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
    NAMESPACE,
    VALUE_SETS,
    HelmRenderer,
    ValueSet,
    containers,
    load_yaml_file,
)
from support.paths import CHART_DIR, TESTS_DIR

LOADER = TESTS_DIR / "support" / "endpoint_config_loader.py"
POD_IP = "10.42.0.15"
OWNER_ANNOTATION = "globus-compute.slateci.io/owner"

# Only lets the provider's load_kube_config() succeed offline; nothing connects to it.
DUMMY_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline", "namespace": "default"}}],
    "current-context": "offline",
    "users": [{"name": "offline", "user": {"token": "dummy-token"}}],
}

CASES = [(helm, name) for helm in HELM_VERSIONS for name in sorted(VALUE_SETS)]


def case_id(helm: str, set_name: str) -> str:
    return f"{helm}-{set_name}"


@pytest.fixture(scope="module")
def loaded(chart: HelmRenderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case loaded by the real endpoint package, in one subprocess (its imports take seconds)."""
    cases = []
    for helm, name in CASES:
        data = chart.render_set(helm, VALUE_SETS[name]).configmap["data"]
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
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text(yaml.safe_dump(DUMMY_KUBECONFIG), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(LOADER)],
        input=json.dumps(cases),
        env={**os.environ, "KUBECONFIG": str(kubeconfig), "POD_IP": POD_IP},
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


def expected_core(value_set: ValueSet) -> dict[str, Any]:
    endpoint = value_set.values["endpoint"]
    return {
        "type": "CoreEndpointConfig",
        "display_name": endpoint["displayName"] or value_set.release,
        "public": endpoint["public"],
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
        "engine": "GlobusComputeEngine",
        "executor": "HighThroughputExecutor",
        "provider": "KubernetesProvider",
        "heartbeat_period": values["endpoint"]["heartbeatPeriod"],
        "idle_heartbeats_soft": values["endpoint"]["idleHeartbeatsSoft"],
        "idle_heartbeats_hard": values["endpoint"]["idleHeartbeatsHard"],
        # Worker pods cannot see the endpoint's certificates; they reach it on the pod IP.
        "encrypted": False,
        "addresses": [POD_IP],
        "max_workers_per_node": values["maxWorkersPerPod"],
        "worker_debug": values["workerDebug"],
        "namespace": value_set.worker_namespace,
        "image": expected_image(values),
        # The cleanup hook finds this release's workers by this prefix and annotation.
        "pod_name": f"{release}-worker",
        "annotations": {OWNER_ANNOTATION: f"{NAMESPACE}/{release}"},
        "service_account_name": f"{release}-worker" if values["rbacEnabled"] else None,
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


@pytest.mark.parametrize(
    ("helm", "set_name"), [case for case in CASES if VALUE_SETS[case[1]].values["cleanup"]["enabled"]]
)
def test_cleanup_job_looks_where_the_endpoint_puts_workers(
    chart: HelmRenderer, loaded: dict[str, dict[str, Any]], helm: str, set_name: str
) -> None:
    provider = result_of(loaded, helm, set_name)["user"]
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    env = {entry["name"]: entry.get("value") for entry in containers(rendered.one("Job"))[0]["env"]}

    assert env["GCE_WORKER_NAMESPACE"] == provider["namespace"]
    assert env["GCE_WORKER_PREFIX"] == provider["pod_name"]
    assert provider["annotations"] == {env["GCE_OWNER_ANNOTATION"]: env["GCE_OWNER_VALUE"]}
    assert env["GCE_DEPLOYMENT"] == rendered.deployment["metadata"]["name"]
