"""Pods as podman containers: what the kubelet would run, made from the pod specs the tests are given.

Two sources of pod specs:

- the chart's rendered Deployment (``EndpointPod``): its container's command and args, env (downward-API
  fields filled in by the caller), the ConfigMap and Secret volumes written as files with the same items,
  modes and group (fsGroup), emptyDirs as empty 0777 directories, the securityContext (user, read-only root, no
  capabilities, no privilege escalation), and the service account token directory;
- the pod bodies the KubernetesProvider sends to the API double (``PodmanPodRunner``): image, command,
  args, env, user, fsGroup, dropped capabilities, no privilege escalation, cpu/memory limits, and
  Secret, ConfigMap and emptyDir volumes (Secrets and ConfigMaps read from the double's store through
  ``lookup``).

Podman is not a kubelet (no probes, no restarts, no scheduling): the tests check what they start.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from runtime.testbed import Podman
from support.entrypoint_harness import select_items, write_kubelet_volume

Object = dict[str, Any]

_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
                     "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
                     "P": Decimal(10**15), "E": Decimal(10**18)}  # fmt: skip
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)$")


def quantity(value: str | float) -> Decimal:
    """A Kubernetes quantity ("512Mi", "2", "500m", "1e3") as a number."""
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix in _BINARY_SUFFIXES:
        return number * _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return number * _DECIMAL_SUFFIXES[suffix]
    raise ValueError(f"unknown quantity suffix in {value!r}")


def resource_flags(resources: Mapping[str, Any] | None) -> list[str]:
    """podman flags for a container's limits: cpu -> --cpus, memory -> --memory (bytes)."""
    limits = (resources or {}).get("limits") or {}
    flags: list[str] = []
    if "cpu" in limits:
        cpus = f"{quantity(limits['cpu']):f}"
        flags += ["--cpus", cpus.rstrip("0").rstrip(".") if "." in cpus else cpus]
    if "memory" in limits:
        flags += ["--memory", f"{int(quantity(limits['memory']))}b"]
    return flags


def container_name(*parts: str) -> str:
    """A podman container name (``[a-zA-Z0-9][a-zA-Z0-9_.-]*``) made from pod and container names."""
    name = re.sub(r"[^a-zA-Z0-9_.-]", "-", "-".join(parts))
    return name if name[:1].isalnum() else f"p{name}"


@dataclass
class PodmanPodRunner:
    """Starts the pods the API double is sent as podman containers in one network.

    ``extra_args`` go to every ``podman run`` (the benchmark uses them to give one kind of worker what
    it needs to reach PyPI); ``logs_dir`` keeps each container's output when its pod is deleted.
    """

    podman: Podman
    network: str
    label: str
    logs_dir: Path | None = None
    extra_args: Sequence[str] = ()
    # (plural, namespace, name) -> the stored object: where Secret and ConfigMap volumes come from.
    lookup: Callable[[str, str, str], Object | None] | None = None
    volumes_dir: Path | None = None
    started: dict[str, float] = field(default_factory=dict)
    removed: dict[str, float] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)

    def names(self, pod: Object) -> list[str]:
        """The containers of a pod: the runner's label (unique per run), the pod's and the container's names."""
        return [container_name(self.label, pod["metadata"]["name"], c["name"]) for c in pod["spec"]["containers"]]

    def start(self, pod: Object) -> None:
        spec = pod["spec"]
        pod_security = spec.get("securityContext") or {}
        for container, name in zip(spec["containers"], self.names(pod), strict=True):
            security = {**pod_security, **(container.get("securityContext") or {})}
            args = ["run", "--detach", "--pull=never", "--name", name, "--network", self.network]
            args += ["--label", f"{self.label}=1", "--hostname", pod["metadata"]["name"][:63]]
            if "runAsUser" in security:
                args += ["--user", f"{security['runAsUser']}:{security.get('runAsGroup', security['runAsUser'])}"]
            if "fsGroup" in pod_security:
                args += ["--group-add", str(pod_security["fsGroup"])]
            if "ALL" in ((security.get("capabilities") or {}).get("drop") or []):
                args += ["--cap-drop", "ALL"]
            if security.get("allowPrivilegeEscalation") is False:
                args += ["--security-opt", "no-new-privileges"]
            args += resource_flags(container.get("resources"))
            args += self._volume_args(pod, container, name)
            for item in container.get("env") or []:
                args += ["--env", f"{item['name']}={item.get('value', '')}"]
            if container.get("command"):
                args += ["--entrypoint", json.dumps(container["command"])]
            args += [*self.extra_args, container["image"], *(container.get("args") or [])]
            self.commands[name] = args
            self.podman.run(*args, timeout=120)
            self.started[name] = time.time()

    def _volume_args(self, pod: Object, container: Object, name: str) -> list[str]:
        """The pod's volumes as the kubelet would lay them out, mounted where the container asks."""
        mounts = container.get("volumeMounts") or []
        if not mounts:
            return []
        if self.lookup is None or self.volumes_dir is None:
            raise AssertionError("a pod with volumes needs the runner's lookup and volumes_dir")
        namespace = pod["metadata"]["namespace"]
        volumes = {volume["name"]: volume for volume in pod["spec"].get("volumes") or []}
        group = int((pod["spec"].get("securityContext") or {}).get("fsGroup", 0))
        args: list[str] = []
        for mount in mounts:
            volume = volumes[mount["name"]]
            source = self.volumes_dir / name / mount["name"]
            shutil.rmtree(source, ignore_errors=True)
            if "emptyDir" in volume:
                source.mkdir(parents=True)
                source.chmod(0o777)
            elif "secret" in volume or "configMap" in volume:
                plural, spec = (
                    ("secrets", volume["secret"]) if "secret" in volume else ("configmaps", volume["configMap"])
                )
                stored = self.lookup(plural, namespace, spec.get("secretName") or spec.get("name"))
                if stored is None:
                    # The kubelet would leave the pod in ContainerCreating; here the test stops.
                    raise AssertionError(f"pod {pod['metadata']['name']}: no {plural} for volume {mount['name']}")
                data = stored.get("data") or {}
                files = {k: base64.b64decode(v) if plural == "secrets" else v.encode() for k, v in data.items()}
                write_kubelet_volume(
                    source, select_items(files, spec.get("items")), spec.get("defaultMode", 0o644), group
                )
            else:
                raise AssertionError(f"volume kind not handled by the tests: {sorted(volume)}")
            args += ["--volume", f"{source}:{mount['mountPath']}{':ro' if mount.get('readOnly') else ''}"]
        return args

    def phase(self, pod: Object) -> str:
        states = []
        for name in self.names(pod):
            result = self.podman.run(
                "container", "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name, check=False
            )
            states.append(result.stdout.split() if result.returncode == 0 else ["missing", "0"])
        if any(state == "running" for state, _ in states):
            return "Running"
        if all(state == "exited" for state, _ in states):
            return "Succeeded" if all(code == "0" for _, code in states) else "Failed"
        if any(state in {"exited", "missing"} for state, _ in states):
            return "Failed"
        return "Pending"

    def stop(self, pod: Object) -> None:
        for name in self.names(pod):
            if self.logs_dir is not None:
                self.logs_dir.mkdir(parents=True, exist_ok=True)
                logs = self.podman.run("logs", name, check=False, timeout=60)
                (self.logs_dir / f"{name}.log").write_text(logs.stdout + logs.stderr, encoding="utf-8")
            # The kubelet's SIGTERM, then a kill after a short grace period.
            self.podman.run("rm", "--force", "--time", "5", name, check=False, timeout=60)
            self.removed[name] = time.time()

    def exists(self, name: str) -> bool:
        return self.podman.run("container", "exists", name, check=False).returncode == 0


# -- the endpoint pod of the rendered chart ---------------------------------------------------------


def only(docs: Sequence[Object], kind: str) -> Object:
    found = [doc for doc in docs if doc.get("kind") == kind]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} in the rendered chart, found {len(found)}")
    return found[0]


@dataclass
class EndpointPod:
    """The rendered Deployment's endpoint container, ready to be started with podman.

    ``field_values`` fills the downward-API env (``status.podIP``, ``metadata.namespace``); ``secret``
    holds the credentials secret's keys, or None for a secret that does not exist (the chart mounts it
    ``optional: true``, so the kubelet mounts an empty directory). ``service_account`` is the token
    directory mounted at the in-cluster path.
    """

    docs: Sequence[Object]
    field_values: Mapping[str, str]
    secret: Mapping[str, bytes] | None
    volumes_dir: Path
    service_account: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def deployment(self) -> Object:
        return only(self.docs, "Deployment")

    @property
    def pod_spec(self) -> Object:
        spec: Object = self.deployment["spec"]["template"]["spec"]
        return spec

    @property
    def container(self) -> Object:
        (container,) = [c for c in self.pod_spec["containers"] if c["name"] == "endpoint"]
        found: Object = container
        return found

    @property
    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in self.container.get("env") or []:
            if "value" in item:
                env[item["name"]] = str(item["value"])
            else:
                env[item["name"]] = self.field_values[item["valueFrom"]["fieldRef"]["fieldPath"]]
        return {**env, **self.extra_env}

    def podman_args(
        self, image: str, name: str, network: str, args: Sequence[str] | None = None, extra: Sequence[str] = ()
    ) -> list[str]:
        """``podman run`` arguments (without ``run``) for this container: the kubelet's part, by hand.

        ``args`` replaces the container's args (the image's ENTRYPOINT stays), ``extra`` adds podman options.
        """
        pod, container = self.pod_spec, self.container
        security = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
        options = ["--name", name, "--network", network, "--pull=never"]
        options += ["--user", f"{security['runAsUser']}:{security['runAsGroup']}"]
        if "fsGroup" in security:
            options += ["--group-add", str(security["fsGroup"])]
        if security.get("readOnlyRootFilesystem"):
            options += ["--read-only", "--read-only-tmpfs=false"]
        if "ALL" in ((security.get("capabilities") or {}).get("drop") or []):
            options += ["--cap-drop", "ALL"]
        if security.get("allowPrivilegeEscalation") is False:
            options += ["--security-opt", "no-new-privileges"]
        options += resource_flags(container.get("resources"))
        for key, value in self.env.items():
            options += ["--env", f"{key}={value}"]
        options += self._volume_args()
        if container.get("workingDir"):
            options += ["--workdir", container["workingDir"]]
        if container.get("command"):
            options += ["--entrypoint", json.dumps(container["command"])]
        return [*options, *extra, image, *((container.get("args") or []) if args is None else args)]

    def _volume_args(self) -> list[str]:
        pod, container = self.pod_spec, self.container
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        configmaps = {doc["metadata"]["name"]: doc["data"] for doc in self.docs if doc.get("kind") == "ConfigMap"}
        group = int((pod.get("securityContext") or {}).get("fsGroup", 0))
        shutil.rmtree(self.volumes_dir, ignore_errors=True)
        args: list[str] = []
        for mount in container["volumeMounts"]:
            volume = volumes[mount["name"]]
            read_only = ":ro" if mount.get("readOnly") else ""
            source = self.volumes_dir / mount["name"]
            if "emptyDir" in volume:
                # As the kubelet makes one: an empty directory on the node, mode 0777 (its sizeLimit is
                # enforced by eviction, which podman does not do).
                source.mkdir(parents=True)
                source.chmod(0o777)
            elif "configMap" in volume:
                spec = volume["configMap"]
                data = {key: value.encode() for key, value in configmaps[spec["name"]].items()}
                write_kubelet_volume(
                    source, select_items(data, spec.get("items")), spec.get("defaultMode", 0o644), group
                )
            elif "secret" in volume:
                spec = volume["secret"]
                data = dict(self.secret or {})
                write_kubelet_volume(
                    source, select_items(data, spec.get("items")), spec.get("defaultMode", 0o644), group
                )
            else:
                raise AssertionError(f"volume kind not handled by the tests: {sorted(volume)}")
            args += ["--volume", f"{source}:{mount['mountPath']}{read_only}"]
        if self.service_account is not None and pod.get("automountServiceAccountToken", True):
            args += ["--volume", f"{self.service_account}:/var/run/secrets/kubernetes.io/serviceaccount:ro"]
        return args
