"""The chart's worker provider: Parsl's KubernetesProvider, with worker pods that belong to their release.

Parsl's KubernetesProvider creates bare pods: no owner (so they outlive an endpoint that died), the
default restart policy (so an orphan restarts forever), a security context that fails the restricted
Pod Security profile, the namespace's default service account token, and no way for a worker to get
the interchange's CurveZMQ keys. ReleaseKubernetesProvider keeps Parsl's scheduling and bookkeeping
and replaces the pod it sends:

- every pod is owned by the release's ConfigMap in the worker namespace (``owner_config_map``), so
  Kubernetes' garbage collector deletes all workers when the release is uninstalled, whatever
  happened to the endpoint;
- ``restartPolicy: Never``, the restricted profile, no service account token (unless asked for), the
  release's labels, and what the conf says of the workers (``pod_extras``): node selector,
  tolerations, affinity, priority and runtime class, environment (plain values and references to
  Secret or ConfigMap keys, which Kubernetes resolves), volumes and their mounts, and Parsl's own
  ``persistent_volumes`` (claim name, mount path), which Parsl's provider would mount but this
  one's pod body used to drop;
- with encryption on, the client keys go into the release's Secret ``worker_keys_secret`` (the
  chart renders it empty; the provider patches in the keys of the running engine before each pod
  create) that each worker mounts and copies into a private directory, which the worker is then told
  to use as its ``--cert_dir``. The workers get the server's public key only: the server secret key
  they are given is a throwaway, since Parsl's client reads just the public half of that file.
  The endpoint runs one engine per user endpoint process, each with keys of its own, so each engine
  writes entries of its own (named after its server key) and its pods mount only those (``items``);
  an engine that stops removes its entries.

It also reports worker trouble (a refused pod create, an image that does not pull, a worker pod that
ended or vanished) at warning level, so it shows in the endpoint's log. A worker pod that is gone
(deleted, evicted, collected) is reported as MISSING, so the engine replaces its block. The chart
ships this file and sitecustomize.py, which makes it visible to the endpoint as
``parsl.providers.ReleaseKubernetesProvider``.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import zmq
from kubernetes.client.exceptions import ApiException
from parsl.jobs.states import JobState, JobStatus
from parsl.providers.kubernetes.kube import KubernetesProvider, translate_table

# A logger under "parsl", which the endpoint's logging configuration writes to its log.
logger = logging.getLogger("parsl.providers.release_kubernetes")

KEYS_VOLUME = "worker-keys"
KEYS_MOUNT = "/etc/gce-worker-keys"
CLIENT_KEY = "client.key_secret"
SERVER_KEY = "server.key_secret"
# The Secret patches' timeout: the one at exit must end well within the endpoint's 10 s grace.
PATCH_TIMEOUT_SECONDS = 5
_CERT_DIR = re.compile(r"--cert_dir (\S+)")
# Waiting reasons of a worker container that will not start without someone's help.
_STUCK_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


def key_file(public_key: bytes, secret_key: bytes) -> str:
    """A CurveZMQ certificate file in pyzmq's format (what zmq.auth.load_certificate reads)."""
    return (
        "#   ZeroMQ CURVE **Secret** Certificate, for one worker pod of this release\n"
        "metadata\n"
        "curve\n"
        f'    public-key = "{public_key.decode("ascii")}"\n'
        f'    secret-key = "{secret_key.decode("ascii")}"\n'
    )


def worker_key_files(cert_dir: Path) -> dict[str, str]:
    """The files a worker needs from the interchange's certificate directory.

    The client's own key pair, and the server's public key in a file that also holds a throwaway
    secret key (Parsl's client refuses a server file without one, and uses only the public key).
    """
    server_public, _ = zmq.auth.load_certificate(cert_dir / "server.key")
    _, throwaway_secret = zmq.curve_keypair()
    return {
        CLIENT_KEY: (cert_dir / CLIENT_KEY).read_text(encoding="ascii"),
        SERVER_KEY: key_file(server_public, throwaway_secret),
    }


def engine_key_id(cert_dir: Path) -> str:
    """A short name for an engine's keys, from its server public key (each interchange makes its own)."""
    server_public, _ = zmq.auth.load_certificate(cert_dir / "server.key")
    return "engine-" + hashlib.sha256(server_public).hexdigest()[:16]


def engine_entries(key_id: str) -> dict[str, str]:
    """The worker-keys Secret's entry for each file a worker mounts (file name -> Secret key)."""
    return {name: f"{key_id}.{name}" for name in (CLIENT_KEY, SERVER_KEY)}


def worker_command(cmd_string: str) -> tuple[str, Path | None]:
    """The worker command with its ``--cert_dir`` moved to a private copy of the mounted keys.

    Returns the new command and the interchange's certificate directory (None when unencrypted).
    Parsl's worker accepts only a directory of mode 0700, which a Secret volume never is.
    """
    match = _CERT_DIR.search(cmd_string)
    if match is None or match.group(1) == "None":
        return cmd_string, None
    copy = f'cert_dir="$(mktemp -d)"\ncp {KEYS_MOUNT}/{CLIENT_KEY} {KEYS_MOUNT}/{SERVER_KEY} "$cert_dir"/\n'
    command = cmd_string[: match.start()] + '--cert_dir "$cert_dir"' + cmd_string[match.end() :]
    return copy + command, Path(match.group(1))


class ReleaseKubernetesProvider(KubernetesProvider):
    """KubernetesProvider whose worker pods belong to the release (see the module docstring)."""

    def __init__(
        self,
        *,
        owner_config_map: str,
        worker_keys_secret: str,
        labels: dict[str, str],
        node_selector: dict[str, str] | None = None,
        tolerations: list[dict[str, Any]] | None = None,
        image_pull_policy: str = "IfNotPresent",
        worker_env: list[dict[str, Any]] | None = None,
        worker_volumes: list[dict[str, Any]] | None = None,
        worker_volume_mounts: list[dict[str, Any]] | None = None,
        automount_service_account_token: bool = False,
        affinity: dict[str, Any] | None = None,
        priority_class_name: str | None = None,
        runtime_class_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.worker_env = [dict(entry) for entry in worker_env or []]
        self.worker_volumes = [dict(volume) for volume in worker_volumes or []]
        self.worker_volume_mounts = [dict(mount) for mount in worker_volume_mounts or []]
        self.automount_service_account_token = automount_service_account_token
        self.affinity = dict(affinity or {})
        self.priority_class_name = priority_class_name
        self.runtime_class_name = runtime_class_name
        self.owner_config_map = owner_config_map
        self.worker_keys_secret = worker_keys_secret
        self.labels = dict(labels)
        self.node_selector = dict(node_selector or {})
        self.tolerations = list(tolerations or [])
        self.image_pull_policy = image_pull_policy
        self._owner: dict[str, str] | None = None
        self._reported: dict[str, str] = {}
        # The last state Kubernetes gave each worker pod, for the warning when the pod is gone.
        self._last_seen: dict[str, str] = {}
        # The Secret entries of this engine's keys, once published (None before, or unencrypted).
        self._key_id: str | None = None

    @property
    def api(self) -> Any:
        """The CoreV1Api client, which takes plain dicts as bodies (its stubs say model objects)."""
        return self.kube_client

    # -- what the pods belong to ---------------------------------------------------------------

    def owner_reference(self) -> dict[str, str]:
        """The release's ConfigMap in the worker namespace, read anew for each pod.

        One read per block: a ConfigMap recreated since the last pod (by kubectl, a restore, Helm
        recreating a missing object) has a new uid, and a pod naming the old one would be deleted by
        the garbage collector as soon as it is made.
        """
        try:
            owner = self.api.read_namespaced_config_map(self.owner_config_map, self.namespace)
        except ApiException as exc:
            logger.error(
                "cannot read ConfigMap %s/%s, the owner of this release's worker pods (%s %s);"
                " no worker pod is created without it",
                self.namespace,
                self.owner_config_map,
                exc.status,
                exc.reason,
            )
            raise
        current = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid}
        if self._owner is not None and self._owner["uid"] != current["uid"]:
            logger.warning(
                "ConfigMap %s/%s, the owner of this release's worker pods, was recreated (uid %s, was %s);"
                " new worker pods name the new one",
                self.namespace,
                self.owner_config_map,
                current["uid"],
                self._owner["uid"],
            )
        self._owner = current
        return current

    def publish_worker_keys(self, cert_dir: Path) -> None:
        """Put this engine's worker keys into its own entries of the release's Secret (a merge patch).

        Before every pod create, so that whatever reset the Secret (an upgrade), a new worker finds the
        keys of the engine that created it. Other engines' entries are left alone: the endpoint runs
        one engine per user endpoint process, each with its own keys, and may run several at once.
        """
        key_id = engine_key_id(cert_dir)
        entries = engine_entries(key_id)
        data: dict[str, str | None] = {
            entries[name]: base64.b64encode(text.encode("ascii")).decode("ascii")
            for name, text in worker_key_files(cert_dir).items()
        }
        self._patch_worker_keys(data)
        if self._key_id is None:
            # Parsl gives providers no stop hook; the user endpoint process exits when its engine stops.
            atexit.register(self.withdraw_worker_keys)
        self._key_id = key_id

    def withdraw_worker_keys(self) -> None:
        """Remove this engine's entries from the release's Secret (when the engine stops).

        Its keys open no interchange once it has stopped; other engines' entries stay. A failure is
        only logged, as this runs while the process ends: the entries of an engine that could not
        remove them are harmless, and the release's uninstall removes the Secret.
        """
        if self._key_id is None:
            return
        key_id, self._key_id = self._key_id, None
        try:
            self._patch_worker_keys(dict.fromkeys(engine_entries(key_id).values()))
        except Exception as exc:  # noqa: BLE001 - nothing may keep the ending process from ending
            logger.warning(
                "cannot remove this engine's keys (%s) from Secret %s/%s: %s",
                key_id,
                self.namespace,
                self.worker_keys_secret,
                exc,
            )

    def _patch_worker_keys(self, data: dict[str, str | None]) -> None:
        """A JSON merge patch of the Secret's data: set these entries, remove those given as None.

        With a timeout: the endpoint gives an ending engine 10 s before it kills it.
        """
        self.api.patch_namespaced_secret(
            self.worker_keys_secret,
            self.namespace,
            {"data": data},
            _content_type="application/merge-patch+json",
            _request_timeout=PATCH_TIMEOUT_SECONDS,
        )

    # -- Parsl's provider interface ------------------------------------------------------------

    def submit(self, cmd_string: str, tasks_per_node: int, job_name: str = "parsl.kube") -> Any:
        command, cert_dir = worker_command(cmd_string)
        try:
            if cert_dir is not None:
                self.publish_worker_keys(cert_dir)
            return super().submit(command, tasks_per_node, job_name)
        except ApiException as exc:
            logger.warning(
                "worker pod not created in namespace %s: the Kubernetes API answered %s %s: %s",
                self.namespace,
                exc.status,
                exc.reason,
                (exc.body or "").strip()[:500],
            )
            raise

    def _create_pod(
        self,
        image: str,
        pod_name: str,
        job_id: str,
        port: int = 80,
        cmd_string: str | None = None,
        volumes: list[tuple[str, str]] | None = None,
        service_account_name: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> None:
        body = self.pod_body(image, pod_name, job_id, cmd_string or "", annotations)
        self.api.create_namespaced_pod(namespace=self.namespace, body=body)
        logger.info("worker pod %s/%s created", self.namespace, pod_name)

    def pod_body(
        self, image: str, pod_name: str, job_id: str, command: str, annotations: dict[str, str] | None
    ) -> dict[str, Any]:
        """The worker pod as sent to the Kubernetes API."""
        user, group = int(self.user_id or 1000), int(self.group_id or 1000)
        metadata: dict[str, Any] = {
            "name": pod_name,
            "namespace": self.namespace,
            "labels": {**self.labels, "parsl-job-id": job_id},
            "ownerReferences": [self.owner_reference()],
        }
        if annotations:
            metadata["annotations"] = dict(annotations)
        container: dict[str, Any] = {
            "name": "worker",
            "image": image,
            "imagePullPolicy": self.image_pull_policy,
            "command": ["/bin/bash"],
            "args": ["-c", command],
            "resources": {
                "requests": {**self.extra_requests, "cpu": str(self.init_cpu), "memory": self.init_mem},
                "limits": {**self.extra_limits, "cpu": str(self.max_cpu), "memory": self.max_mem},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "runAsNonRoot": True,
                "runAsUser": user,
                "runAsGroup": group,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
        spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": user,
                "runAsGroup": group,
                "fsGroup": group,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
        }
        if KEYS_MOUNT in command:
            container["volumeMounts"] = [{"name": KEYS_VOLUME, "mountPath": KEYS_MOUNT, "readOnly": True}]
            spec["volumes"] = [{"name": KEYS_VOLUME, "secret": self.keys_volume_source()}]
        if self.service_account_name:
            spec["serviceAccountName"] = self.service_account_name
        if self.secret:
            spec["imagePullSecrets"] = [{"name": self.secret}]
        if self.node_selector:
            spec["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            spec["tolerations"] = [dict(toleration) for toleration in self.tolerations]
        self.pod_extras(spec, container)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    def keys_volume_source(self) -> dict[str, Any]:
        """The worker-keys Secret as a worker pod mounts it: this engine's entries only, as plain files."""
        source: dict[str, Any] = {"secretName": self.worker_keys_secret, "defaultMode": 0o440}
        if self._key_id is not None:
            source["items"] = [
                {"key": entry, "path": name} for name, entry in sorted(engine_entries(self._key_id).items())
            ]
        return source

    def pod_extras(self, spec: dict[str, Any], container: dict[str, Any]) -> None:
        """What the conf adds to a worker pod: placement, identity, environment, volumes and mounts.

        Parsl's ``persistent_volumes`` (claim name, mount path) are mounted too, as Parsl's own
        provider mounts them. Volumes and mounts come after the pod's own (the worker keys), whose
        names and paths the chart keeps the conf from taking.
        """
        spec["automountServiceAccountToken"] = bool(self.automount_service_account_token)
        if self.affinity:
            spec["affinity"] = dict(self.affinity)
        if self.priority_class_name:
            spec["priorityClassName"] = self.priority_class_name
        if self.runtime_class_name:
            spec["runtimeClassName"] = self.runtime_class_name
        if self.worker_env:
            container["env"] = [*container.get("env", []), *(dict(entry) for entry in self.worker_env)]
        volumes = [dict(volume) for volume in self.worker_volumes]
        mounts = [dict(mount) for mount in self.worker_volume_mounts]
        for claim, path in self.persistent_volumes or []:
            volumes.append({"name": claim, "persistentVolumeClaim": {"claimName": claim}})
            mounts.append({"name": claim, "mountPath": path})
        if volumes:
            spec["volumes"] = [*spec.get("volumes", []), *volumes]
        if mounts:
            container["volumeMounts"] = [*container.get("volumeMounts", []), *mounts]

    def _status(self) -> None:
        """Parsl's poll of each live worker pod, which also reports pods that cannot start, ended or are gone."""
        for key, resource in self.resources.items():
            job_id = str(key)
            if resource["status"].terminal:
                continue
            pod_name = resource["pod_name"]
            try:
                pod = self.api.read_namespaced_pod(name=pod_name, namespace=self.namespace)
            except ApiException as exc:
                if exc.status == 404:
                    resource["status"] = self._lost(job_id, pod_name)
                    continue
                self._report_once(
                    job_id,
                    f"unreadable {exc.status}",
                    "worker pod %s/%s cannot be read: %s %s",
                    self.namespace,
                    pod_name,
                    exc.status,
                    exc.reason,
                )
                continue
            phase = pod.status.phase if pod.status else None
            state = translate_table.get(phase or "Unknown", JobState.UNKNOWN)
            why = _why(pod)
            self._last_seen[job_id] = f"phase {phase}" + (f", {why}" if why else "")
            resource["status"] = JobStatus(state, message=why or None)
            if resource["status"].terminal:
                logger.warning(
                    "worker pod %s/%s ended (%s); its tasks are lost and the engine may start another",
                    self.namespace,
                    pod_name,
                    self._last_seen[job_id],
                )
            self._report_waiting(job_id, pod_name, pod)

    def _lost(self, job_id: str, pod_name: str) -> JobStatus:
        """The state of a worker pod the API server no longer has: MISSING, so the engine replaces it.

        Parsl's own provider keeps the last state (RUNNING) of such a pod, and the engine then waits
        for a block that will never come back (globus/globus-compute#705).
        """
        last = self._last_seen.pop(job_id, "not read before")
        message = f"worker pod {self.namespace}/{pod_name} is gone from the Kubernetes API (last seen: {last})"
        logger.warning(
            "%s: deleted, evicted or garbage-collected; its block is lost and the engine may start another",
            message,
        )
        return JobStatus(JobState.MISSING, message=message)

    def _report_waiting(self, job_id: str, pod_name: str, pod: Any) -> None:
        """Warn when a worker container waits for something that will not come (an image, say)."""
        for status in (pod.status and pod.status.container_statuses) or []:
            waiting = status.state and status.state.waiting
            if waiting and waiting.reason in _STUCK_REASONS:
                self._report_once(
                    job_id,
                    waiting.reason,
                    "worker pod %s/%s cannot start: %s: %s",
                    self.namespace,
                    pod_name,
                    waiting.reason,
                    waiting.message or "",
                )

    def _report_once(self, job_id: str, what: str, message: str, *args: Any) -> None:
        """A warning for the endpoint's log, not repeated at every poll while nothing changes."""
        if self._reported.get(job_id) != what:
            self._reported[job_id] = what
            logger.warning(message, *args)


def _why(pod: Any) -> str:
    """The reason Kubernetes gives for a pod's state (Evicted, DeadlineExceeded, ...), or ''."""
    status = pod.status
    if status is None or not (status.reason or status.message):
        return ""
    return ": ".join(part for part in (status.reason, status.message) if part)
