"""Checks of the worker pods the chart's provider sends to the Kubernetes API.

Used on pod bodies built by the provider against a recording client (test_worker_provider.py) and on
those recorded from the real engine through the Kubernetes API double (the runtime tests). The pods
are made at run time, so no template annotation can carry checkov skips: the skips are here, each with
its reason, and the chart's docs/how-it-works.md points here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from support.checkov import run_checkov

OLDEST_KUBERNETES = "1.25"
NEWEST_KUBERNETES = ".".join(kubernetes_validate.latest_version().split(".")[:2])

# checkov checks a worker pod fails by design, and why.
WORKER_CHECKOV_SKIPS = {
    "CKV_K8S_8": "a worker pod has no liveness probe: the engine watches its workers by their heartbeats and "
    "replaces a lost one, which a probe restart (restartPolicy Never) could not do",
    "CKV_K8S_9": "a worker pod has no readiness probe: it serves no traffic; it connects out to the interchange",
    "CKV_K8S_22": "the worker's root filesystem stays writable: users' functions write where they run, and the "
    "worker copies its keys to a private temporary directory",
    "CKV_K8S_43": "the worker image is the endpoint's, by its tag unless image.digest is set, or workerImage as the "
    "user wrote it",
    "CKV_K8S_40": "the worker runs as podSecurity.runAsUser, a user that must exist in the image; the chart's image "
    "runs as 1000",
    "CKV_K8S_15": "the pull policy is image.pullPolicy, the user's choice; IfNotPresent fits a tag naming a fixed "
    "endpoint version",
    "CKV_K8S_35": "workerEnv may take a variable from a Secret key, the way most libraries read their tokens (S3, "
    "model hubs); who wants files mounts the Secret with workerVolumes instead",
}


def namespaced(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("namespace"))


def kubernetes_problems(body: Mapping[str, Any]) -> list[str]:
    """What kubernetes-validate --strict finds in a body, on the oldest and the newest Kubernetes."""
    problems = []
    for version in sorted({OLDEST_KUBERNETES, NEWEST_KUBERNETES}):
        try:
            kubernetes_validate.validate(dict(body), version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            problems.append(f"{version}: {path}: {exc.message}")
    return problems


def restricted_profile_problems(pod: Mapping[str, Any]) -> list[str]:
    """Pod Security Standards, "restricted" (and "baseline", which it includes), field by field."""
    problems = []
    spec = pod["spec"]
    pod_context = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(f"spec.{field} is set")
    for volume in spec.get("volumes") or []:
        allowed = {
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "persistentVolumeClaim",
            "projected",
            "secret",
        }
        kinds = set(volume) - {"name"}
        if not kinds <= allowed:
            problems.append(f"volume {volume['name']}: {sorted(kinds - allowed)} not allowed")
    if (pod_context.get("seccompProfile") or {}).get("type") not in {"RuntimeDefault", "Localhost"}:
        problems.append("spec.securityContext.seccompProfile.type is not RuntimeDefault or Localhost")
    if pod_context.get("runAsUser") == 0:
        problems.append("spec.securityContext.runAsUser is 0")
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        where = f"container {container['name']}"
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{where}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            problems.append(f"{where}: runAsNonRoot is not true")
        if context.get("runAsUser") == 0:
            problems.append(f"{where}: runAsUser is 0")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{where}: capabilities.drop lacks ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds capabilities {capabilities['add']}")
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            problems.append(f"{where}: seccompProfile is not RuntimeDefault or Localhost")
        if container.get("ports") and any(port.get("hostPort") for port in container["ports"]):
            problems.append(f"{where}: hostPort")
    return problems


def checkov_report(checkov: Path, bodies: Sequence[Mapping[str, Any]], workdir: Path) -> dict[str, Any]:
    """checkov's Kubernetes checks over the bodies (one file); nothing skipped (see unexplained_failures)."""
    manifest = workdir / "worker-pods.yaml"
    manifest.write_text(yaml.safe_dump_all([dict(body) for body in bodies]), encoding="utf-8")
    return run_checkov(checkov, manifest)


def failed_check_ids(report: Mapping[str, Any]) -> set[str]:
    return {check["check_id"] for check in report["results"]["failed_checks"]}


def unexplained_failures(report: Mapping[str, Any]) -> list[str]:
    """Failed checks that WORKER_CHECKOV_SKIPS does not explain: with the skips applied, what fails."""
    return [
        f"{c['check_id']} {c['check_name']} ({c['resource']})"
        for c in report["results"]["failed_checks"]
        if c["check_id"] not in WORKER_CHECKOV_SKIPS
    ]
