"""Reading Kubernetes objects: the release's manifests, SLATE's labels, the endpoint's worker pods.

Pure functions over parsed objects (dicts), so the same checks run on `helm template` output in the
unit tests and on what the cluster returns in the live tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
import yaml

from e2e.settings import Credentials

Obj = Mapping[str, Any]

# SLATE's recommended labels on every object of an app; `release` is the one the SLATE server selects on.
SLATE_LABELS = ("app", "chart", "release", "instance")
# Workloads and pods also carry the instance's ID (SLATE's chart rules).
WORKLOAD_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"})
WORKLOAD_LABEL = "instanceID"
# Parsl's KubernetesProvider labels each worker pod with this key.
PARSL_JOB_LABEL = "parsl-job-id"
USER_CONFIG_TEMPLATE = "user_config_template.yaml.j2"


@dataclass(frozen=True, order=True)
class ObjectRef:
    """An object's identity on the cluster; ``resource`` is what `kubectl get` takes (kind.group)."""

    resource: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class WorkerIdentity:
    """How the endpoint names, places, labels and owns the worker pods it starts."""

    namespace: str
    pod_prefix: str
    labels: Mapping[str, str]
    owner_config_map: str
    keys_secret: str
    service_account: str | None

    def pod_name(self, job_id: str) -> str:
        """The name Parsl gives the worker pod of a job: ``<pod_name>.<job id>``."""
        return f"{self.pod_prefix}.{job_id}"


def parse_objects(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream, such as `helm get manifest`, without empty documents."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def resource_of(obj: Obj) -> str:
    """The `kubectl get` resource of an object: its kind, lowercased, qualified by its API group."""
    group = obj["apiVersion"].rpartition("/")[0]
    kind = obj["kind"].lower()
    return f"{kind}.{group}" if group else kind


def ref_of(obj: Obj, default_namespace: str = "") -> ObjectRef:
    meta = obj["metadata"]
    return ObjectRef(resource_of(obj), meta.get("namespace") or default_namespace, meta["name"])


def labels_of(obj: Obj) -> Mapping[str, str]:
    labels: Mapping[str, str] = obj.get("metadata", {}).get("labels") or {}
    return labels


def slate_label_problems(obj: Obj, release: str, instance: str) -> list[str]:
    """What is wrong with one object's SLATE labels, one line per problem (empty when all is right)."""
    labels = labels_of(obj)
    where = str(ref_of(obj))
    problems = [f"{where}: no {key!r} label" for key in SLATE_LABELS if key not in labels]
    if "release" in labels and labels["release"] != release:
        problems.append(f"{where}: release label is {labels['release']!r}, not {release!r}")
    if "instance" in labels and labels["instance"] != instance:
        problems.append(f"{where}: instance label is {labels['instance']!r}, not {instance!r}")
    if obj["kind"] in WORKLOAD_KINDS and WORKLOAD_LABEL not in labels:
        problems.append(f"{where}: no {WORKLOAD_LABEL!r} label on a workload")
    return problems


def label_problems(objects: Iterable[Obj], release: str, instance: str) -> list[str]:
    """SLATE label problems of all objects, in order."""
    return [problem for obj in objects for problem in slate_label_problems(obj, release, instance)]


def missing_refs(expected: Iterable[Obj], found: Iterable[Obj], default_namespace: str) -> list[ObjectRef]:
    """Expected objects (e.g. the release's manifest) that are not among those found (e.g. by label)."""
    found_refs = {ref_of(obj, default_namespace) for obj in found}
    return sorted(ref for ref in (ref_of(obj, default_namespace) for obj in expected) if ref not in found_refs)


def sweep_resources(objects: Iterable[Obj]) -> list[str]:
    """Resources to list when looking for a release's leftovers: its own kinds and what they create."""
    return sorted({resource_of(obj) for obj in objects} | {"pod", "replicaset.apps"})


def namespaces_of(objects: Iterable[Obj], default_namespace: str) -> list[str]:
    return sorted({ref_of(obj, default_namespace).namespace for obj in objects})


def find_one(objects: Iterable[Obj], kind: str) -> Obj:
    """The single object of a kind; fails loudly when the chart renders none or several."""
    matches = [obj for obj in objects if obj["kind"] == kind]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind} in the release, found {len(matches)}")
    return matches[0]


def endpoint_configmap(objects: Iterable[Obj]) -> Obj:
    """The ConfigMap the endpoint mounts (the release's other one, in the worker namespace, owns the workers)."""
    matches = [obj for obj in objects if obj["kind"] == "ConfigMap" and USER_CONFIG_TEMPLATE in (obj.get("data") or {})]
    if len(matches) != 1:
        raise LookupError(f"expected one ConfigMap with {USER_CONFIG_TEMPLATE} in the release, found {len(matches)}")
    return matches[0]


def service_account_of(deployment: Obj) -> str:
    """The service account the endpoint pod runs as."""
    name: str = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    return name


def pod_selector_of(deployment: Obj) -> str:
    """The label selector of the Deployment's pods, as `kubectl --selector` takes it."""
    match_labels: Mapping[str, str] = deployment["spec"]["selector"]["matchLabels"]
    return ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))


def first_container_of(deployment: Obj) -> str:
    """The name of the Deployment's (first) container, whose logs and status the tests read."""
    name: str = deployment["spec"]["template"]["spec"]["containers"][0]["name"]
    return name


def worker_identity(configmap: Obj) -> WorkerIdentity:
    """Where and how the endpoint will start worker pods, read from the ConfigMap it actually mounts.

    The user config template is Jinja2 the endpoint renders itself; rendering it the same way (with a
    placeholder pod IP) gives the KubernetesProvider settings exactly as the endpoint sees them.
    """
    template = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    text = template.from_string(configmap["data"][USER_CONFIG_TEMPLATE]).render(_GC={"env": {"POD_IP": "192.0.2.1"}})
    provider = yaml.safe_load(text)["engine"]["provider"]
    return WorkerIdentity(
        namespace=provider["namespace"],
        pod_prefix=provider["pod_name"],
        labels=dict(provider["labels"]),
        owner_config_map=provider["owner_config_map"],
        keys_secret=provider["worker_keys_secret"],
        service_account=provider.get("service_account_name"),
    )


def is_release_worker(pod: Obj, identity: WorkerIdentity) -> bool:
    """True for a worker pod of this endpoint: Parsl's label, the release's name prefix and labels."""
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    return (
        PARSL_JOB_LABEL in labels
        and meta["name"].startswith(identity.pod_prefix + ".")
        and all(labels.get(key) == value for key, value in identity.labels.items())
    )


def worker_pod_manifest(
    identity: WorkerIdentity,
    job_id: str,
    image: str,
    labels: Mapping[str, str],
    owner_uid: str | None = None,
) -> dict[str, Any]:
    """A pod shaped like a worker of the release: its name, Parsl's job label, the given labels, and
    (with ``owner_uid``) an ownerReference to the release's owner ConfigMap, as the provider makes it.

    It satisfies the "restricted" Pod Security Standard, so it is admitted in locked-down namespaces.
    """
    owners = (
        [{"apiVersion": "v1", "kind": "ConfigMap", "name": identity.owner_config_map, "uid": owner_uid}]
        if owner_uid
        else []
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": identity.pod_name(job_id),
            "namespace": identity.namespace,
            "labels": {**labels, PARSL_JOB_LABEL: job_id},
            **({"ownerReferences": owners} if owners else {}),
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 5,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65535,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "worker",
                    "image": image,
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "16Mi"},
                        "limits": {"cpu": "50m", "memory": "32Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def credentials_secret(
    name: str, namespace: str, credentials: Credentials, labels: Mapping[str, str]
) -> dict[str, Any]:
    """The Secret `slate secret create --from-env-file client_creds.env` would make for the endpoint."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "stringData": {
            "GLOBUS_COMPUTE_CLIENT_ID": credentials.client_id,
            "GLOBUS_COMPUTE_CLIENT_SECRET": credentials.client_secret,
        },
    }
