"""What a conf names that must already exist in the cluster, read from the values alone (no cluster).

The chart creates its own objects; these are the ones the user brings: the credentials Secret, the
image pull Secret, the service accounts the conf names, and every Secret, ConfigMap and
PersistentVolumeClaim the worker pods mount or read (workerVolumes, workerEnv). Each is looked for
in the namespace where the pod that uses it runs: the endpoint's (the release's namespace) or the
workers' (workerNamespace, when set).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SECRET, CONFIG_MAP, CLAIM, ACCOUNT = "Secret", "ConfigMap", "PersistentVolumeClaim", "ServiceAccount"
# kubectl's name for each kind.
RESOURCE = {SECRET: "secret", CONFIG_MAP: "configmap", CLAIM: "persistentvolumeclaim", ACCOUNT: "serviceaccount"}

# The keys the endpoint's entrypoint reads from the credentials Secret (files/entrypoint.sh): for
# client credentials each of the ID and the secret under either spelling, for user credentials storage.db.
CLIENT_KEYS = (
    ("the client ID", ("GLOBUS_COMPUTE_CLIENT_ID", "FUNCX_SDK_CLIENT_ID")),
    ("the client secret", ("GLOBUS_COMPUTE_CLIENT_SECRET", "FUNCX_SDK_CLIENT_SECRET")),
)
USER_KEYS = (("the saved user tokens", ("storage.db",)),)


@dataclass(frozen=True)
class Reference:
    """One object the conf names: its kind, name and namespace, the keys read from it, and where it is named."""

    kind: str
    name: str
    namespace: str
    pointer: str
    used_by: str
    keys: tuple[str, ...] = ()
    optional: bool = False


def namespaces(values: Mapping[str, Any], namespace: str) -> tuple[str, str]:
    """The endpoint's namespace and the workers' (the same unless workerNamespace is set)."""
    return namespace, str(values.get("workerNamespace") or "") or namespace


def credential_keys(values: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """What the credentials Secret must hold for the conf's kind of login: (what, any one of these keys)."""
    return USER_KEYS if values.get("useUserCredentials") is True else CLIENT_KEYS


def references(values: Mapping[str, Any], namespace: str) -> list[Reference]:
    """Every object the conf names, in the order of the conf's keys (the credentials Secret first)."""
    endpoint_ns, worker_ns = namespaces(values, namespace)
    found: list[Reference] = []
    if values.get("secrets"):
        found.append(Reference(SECRET, str(values["secrets"]), endpoint_ns, "/secrets", "the endpoint pod"))
    if values.get("imagePullSecret"):
        name = str(values["imagePullSecret"])
        found.append(Reference(SECRET, name, endpoint_ns, "/imagePullSecret", "the endpoint pod"))
        if worker_ns != endpoint_ns:
            found.append(Reference(SECRET, name, worker_ns, "/imagePullSecret", "the worker pods"))
    if values.get("rbacEnabled") is False and values.get("serviceAccountName"):
        found.append(
            Reference(
                ACCOUNT, str(values["serviceAccountName"]), endpoint_ns, "/serviceAccountName", "the endpoint pod"
            )
        )
    if values.get("workerServiceAccountName"):
        name = str(values["workerServiceAccountName"])
        found.append(Reference(ACCOUNT, name, worker_ns, "/workerServiceAccountName", "the worker pods"))
    for index, volume in enumerate(values.get("workerVolumes") or []):
        if isinstance(volume, Mapping):
            found.extend(_volume_references(volume, f"/workerVolumes/{index}", worker_ns))
    for name, entry in (values.get("workerEnv") or {}).items():
        if isinstance(entry, Mapping):
            found.extend(_env_references(entry, f"/workerEnv/{name}", worker_ns))
    return found


def _items_keys(source: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys a configMap or secret volume (source) picks with ``items``; none means all of them."""
    items = source.get("items") or []
    return tuple(str(item["key"]) for item in items if isinstance(item, Mapping) and item.get("key"))


def _volume_references(volume: Mapping[str, Any], pointer: str, namespace: str) -> Iterator[Reference]:
    used_by = f"worker volume {volume.get('name')}"
    claim = volume.get("persistentVolumeClaim")
    if isinstance(claim, Mapping) and claim.get("claimName"):
        yield Reference(CLAIM, str(claim["claimName"]), namespace, pointer, used_by)
    config_map = volume.get("configMap")
    if isinstance(config_map, Mapping) and config_map.get("name"):
        yield _source_reference(CONFIG_MAP, str(config_map["name"]), config_map, namespace, pointer, used_by)
    secret = volume.get("secret")
    if isinstance(secret, Mapping) and secret.get("secretName"):
        yield _source_reference(SECRET, str(secret["secretName"]), secret, namespace, pointer, used_by)
    csi = volume.get("csi")
    publish = csi.get("nodePublishSecretRef") if isinstance(csi, Mapping) else None
    if isinstance(publish, Mapping) and publish.get("name"):
        yield Reference(SECRET, str(publish["name"]), namespace, pointer, used_by)
    projected = volume.get("projected")
    for source in (projected.get("sources") or []) if isinstance(projected, Mapping) else []:
        for kind, key in ((SECRET, "secret"), (CONFIG_MAP, "configMap")):
            part = source.get(key) if isinstance(source, Mapping) else None
            if isinstance(part, Mapping) and part.get("name"):
                yield _source_reference(kind, str(part["name"]), part, namespace, pointer, used_by)


def _source_reference(
    kind: str, name: str, source: Mapping[str, Any], namespace: str, pointer: str, used_by: str
) -> Reference:
    return Reference(kind, name, namespace, pointer, used_by, _items_keys(source), source.get("optional") is True)


def _env_references(entry: Mapping[str, Any], pointer: str, namespace: str) -> Iterator[Reference]:
    used_by = f"worker variable {pointer.rsplit('/', 1)[-1]}"
    for kind, key in ((SECRET, "secretKeyRef"), (CONFIG_MAP, "configMapKeyRef")):
        ref = entry.get(key)
        if isinstance(ref, Mapping) and ref.get("name"):
            keys = (str(ref["key"]),) if ref.get("key") else ()
            yield Reference(kind, str(ref["name"]), namespace, pointer, used_by, keys, ref.get("optional") is True)
