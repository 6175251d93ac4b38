"""Load rendered endpoint files with the real globus-compute-endpoint, as the endpoint itself does.

Run as a script (by test_chart_endpoint_config.py): it reads a JSON list of cases on stdin, each with
the ConfigMap's ``config.yaml``, ``user_config_template.yaml.j2`` and optional
``user_config_schema.json``, and prints one JSON result per case.  It runs in a process of its own
because the kubernetes package reads KUBECONFIG when it is first imported, and the endpoint's
KubernetesProvider needs a (dummy) kubeconfig; POD_IP and PYTHONPATH must be set as the chart sets
them in the pod (PYTHONPATH: a directory holding the ConfigMap's sitecustomize.py and
gce_release_provider.py, which make the chart's provider visible to the endpoint).
"""

from __future__ import annotations

import json
import os
import pwd
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any


def describe_core(config: Any) -> dict[str, Any]:
    return {
        "type": type(config).__name__,
        "display_name": config.display_name,
        "public": config.public,
        "high_assurance": config.high_assurance,
        "debug": config.debug,
        "heartbeat_period": config.heartbeat_period,
        "amqp_port": config.amqp_port,
        "subscription_id": config.subscription_id,
        "admins": sorted(str(admin) for admin in config.admins or []),
        "allowed_functions": sorted(str(function) for function in config.allowed_functions or []),
    }


def describe_user(config: Any) -> dict[str, Any]:
    engine = config.engine
    executor = engine.executor
    provider = executor.provider
    return {
        "type": type(config).__name__,
        "high_assurance": config.high_assurance,
        "engine": type(engine).__name__,
        "max_retries_on_system_failure": engine.max_retries_on_system_failure,
        "executor": type(executor).__name__,
        "provider": type(provider).__name__,
        "heartbeat_period": config.heartbeat_period,
        "idle_heartbeats_soft": config.idle_heartbeats_soft,
        "idle_heartbeats_hard": config.idle_heartbeats_hard,
        "heartbeat_threshold": config.heartbeat_threshold,
        "encrypted": executor.encrypted,
        "addresses": sorted(executor.all_addresses),
        "max_workers_per_node": executor.max_workers_per_node,
        "worker_debug": executor.worker_debug,
        **{
            name: getattr(provider, name)
            for name in (
                "namespace",
                "owner_config_map",
                "worker_keys_secret",
                "labels",
                "node_selector",
                "tolerations",
                "image",
                "image_pull_policy",
                "pod_name",
                "service_account_name",
                "secret",
                "user_id",
                "group_id",
                "run_as_non_root",
                "nodes_per_block",
                "init_blocks",
                "min_blocks",
                "max_blocks",
                "init_cpu",
                "max_cpu",
                "init_mem",
                "max_mem",
                "extra_requests",
                "extra_limits",
                "worker_init",
                "parallelism",
                "annotations",
                "worker_env",
                "worker_volumes",
                "worker_volume_mounts",
                "automount_service_account_token",
                "affinity",
                "priority_class_name",
                "runtime_class_name",
            )
        },
    }


def block_error_verdicts(executor: Any) -> dict[str, bool]:
    """Whether the executor's block error handler ends the engine: after one lost block (the only one
    so far), then after three failed blocks in a row."""
    from parsl.jobs.states import JobState, JobStatus

    executor.handle_errors({"0": JobStatus(JobState.MISSING, message="pod gone")})
    one_lost = bool(executor.bad_state_is_set)
    executor.handle_errors({str(block): JobStatus(JobState.FAILED, message="no image") for block in range(3)})
    return {"one_lost_ends_engine": one_lost, "three_failed_end_engine": bool(executor.bad_state_is_set)}


def load_case(case: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from globus_compute_endpoint.endpoint.config.utils import load_config_yaml, render_config_user_template
    from globus_compute_endpoint.endpoint.identity_mapper import MappedPosixIdentity

    core = load_config_yaml(case["config_yaml"])
    result: dict[str, Any] = {"core": describe_core(core)}
    template_path = workdir / case["id"] / "user_config_template.yaml.j2"
    template_path.parent.mkdir(parents=True)
    template_path.write_text(case["template"], encoding="utf-8")
    identity = MappedPosixIdentity(
        local_user_record=pwd.getpwuid(os.getuid()),
        matched_identity=uuid.UUID(int=0),
        globus_identity_candidates=[],
    )
    rendered = render_config_user_template(
        core, case["template"], template_path, identity, case["schema"], case["user_opts"], {}
    )
    if core.high_assurance:
        # What the endpoint does before it starts a user endpoint of a High Assurance endpoint.
        rendered = f"high_assurance: true\n{rendered}"
    user = load_config_yaml(rendered)
    try:
        if user.high_assurance:
            user.engine.assert_ha_compliant()  # what the user endpoint checks before it starts
        result["user"] = describe_user(user)
        executor = user.engine.executor
        result["ports"] = {"worker_port": executor.worker_port, "worker_port_range": list(executor.worker_port_range)}
        result["block_errors"] = block_error_verdicts(executor)
    finally:
        user.engine.shutdown()
    return result


def main() -> int:
    cases = json.load(sys.stdin)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            try:
                results[case["id"]] = load_case(case, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - reported per case, the test shows it
                cause = f" (cause: {exc.__cause__!r})" if exc.__cause__ else ""
                results[case["id"]] = {"error": f"{type(exc).__name__}: {exc}{cause}"}
    json.dump(results, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
