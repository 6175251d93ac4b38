"""Run the chart's entrypoint on this machine the way the endpoint pod runs it.

The "pod" is built from what the chart renders, not from a copy of it: the Deployment's container
command, args, env, volume mounts and probes, the ConfigMap's data, the volumes' items and modes.
Each mount becomes a directory under a sandbox root, laid out the way the kubelet writes ConfigMap
and Secret volumes (a timestamped directory, a ``..data`` symlink to it, and one symlink per key).
The entrypoint then runs as an unprivileged user through ``setpriv`` (the tests run as root, and the
entrypoint refuses root), with PATH leading to the bin directory of the interpreter running the
tests, whose environment holds the pinned globus-compute-endpoint. When that environment lies where
the unprivileged user cannot reach it (a clone under a 0700 directory such as root's home), PATH
leads to a copy of it in a world-readable temporary directory instead.
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.paths import CHART_DIR

ENTRYPOINT_FILE = CHART_DIR / "files" / "entrypoint.sh"
RELEASE = "globus-compute-endpoint-test"
NAMESPACE = "slate-group-test"
POD_IP = "10.42.0.15"

# Credentials used throughout. The secret is distinctive so a leak into any output is unmistakable.
CLIENT_ID = "5b7e3c1a-2f4d-4e6b-9a8c-0d1e2f3a4b5c"
CLIENT_SECRET = "gce-TEST-secret-Zq8+wV3/kP0="
SQLITE_MAGIC = b"SQLite format 3\x00"

# The user the entrypoint runs as: it exists on every Debian-like system, and is not root.
RUN_AS = pwd.getpwnam("nobody")

# What the kubelet sets through the downward API.
_FIELD_VALUES = {"status.podIP": POD_IP, "metadata.namespace": NAMESPACE}
_KUBELET_DATA_DIR = "..2026_01_01_00_00_00.000000001"


def host_tool(name: str) -> str:
    """Absolute path of a system tool the harness needs (util-linux); fail clearly when missing."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found on PATH; install util-linux")
    return path


def linter_binary(env_var: str, name: str) -> str:
    """A linter from $ENV_VAR, else next to the interpreter (its PyPI wheel installs it there).

    Missing, it fails the test: a skipped lint would pass silently.
    """
    value = os.environ.get(env_var)
    path = Path(value) if value else venv_bin() / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"{name} not found at {path} (${env_var}, or next to {sys.executable}); run `make setup`", pytrace=False
        )
    return str(path)


def venv_bin() -> Path:
    """The bin directory with the pinned globus-compute-endpoint: next to the running interpreter."""
    return Path(sys.executable).parent


def reachable_by_run_as(path: Path) -> bool:
    """Whether RUN_AS can execute ``path``: every directory above it must let that user through."""
    probe = [host_tool("setpriv"), f"--reuid={RUN_AS.pw_uid}", f"--regid={RUN_AS.pw_gid}", "--clear-groups"]
    return subprocess.run([*probe, "--", "/bin/sh", "-c", 'test -x "$0"', str(path)], check=False).returncode == 0


def copy_environment(source: Path, target: Path) -> Path:
    """Copy the virtual environment ``source`` to ``target``, its scripts pointed at the copy's interpreter.

    Files are hard links where the file system allows (nothing is changed in them); the scripts whose
    first line names ``source``'s interpreter, and files others may not read, are written anew, and
    every directory of the copy lets others through.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    linked = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True, check=False)
    if linked.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    old, new = f"#!{source}/bin/".encode(), f"#!{target}/bin/".encode()
    for script in (target / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        if data.startswith(old):
            mode = script.stat().st_mode
            script.unlink()
            script.write_bytes(new + data[len(old) :])
            script.chmod(mode)
    for directory, _, files in os.walk(target):
        Path(directory).chmod(Path(directory).stat().st_mode | 0o005)
        for name in files:
            path = Path(directory, name)
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                data = path.read_bytes()
                path.unlink()
                path.write_bytes(data)
                path.chmod(mode | 0o004 | (0o001 if mode & stat.S_IXUSR else 0))
    return target


def reachable_bin(prefix: Path) -> Path:
    """The bin directory of environment ``prefix`` as the pod's user can run it: its own, or a copy's.

    A clone in a private directory is out of reach of every user but its owner; the copy then goes to a
    world-readable temporary directory, removed when the test session ends.
    """
    own = prefix / "bin"
    if reachable_by_run_as(own / "globus-compute-endpoint"):
        return own
    staging = Path(tempfile.mkdtemp(prefix="gce-venv-"))
    staging.chmod(0o755)
    atexit.register(shutil.rmtree, staging, True)
    return copy_environment(prefix, staging / "venv") / "bin"


@functools.cache
def pod_bin() -> Path:
    """Where the pod's user finds globus-compute-endpoint: once per session for the running environment."""
    return reachable_bin(Path(sys.prefix))


def render_chart(helm: Path, values_file: Path) -> list[dict[str, Any]]:
    """The chart's manifests for a values file, rendered by the real helm."""
    result = subprocess.run(
        [str(helm), "template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE, "-f", str(values_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"helm template failed for {values_file.name}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's way of applying a values file over the chart's values.yaml (maps merge, the rest replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def chart_values(values_file: Path) -> dict[str, Any]:
    """The values the chart rendered with: its values.yaml with the values file applied."""
    defaults = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    overrides = yaml.safe_load(values_file.read_text(encoding="utf-8")) or {}
    return deep_merge(defaults, overrides)


@dataclass(frozen=True)
class Mount:
    """One volume mount of the endpoint container, with the volume it mounts."""

    path: str
    volume: dict[str, Any]


@dataclass(frozen=True)
class PodSpec:
    """What the rendered chart says the endpoint container runs, sees and is probed with."""

    command: tuple[str, ...]
    args: tuple[str, ...]
    env: dict[str, str]
    mounts: tuple[Mount, ...]
    probes: dict[str, tuple[str, ...]]
    configmap: dict[str, str]
    working_dir: str

    @property
    def argv(self) -> tuple[str, ...]:
        return self.command + self.args

    @classmethod
    def from_manifests(cls, docs: Sequence[dict[str, Any]]) -> PodSpec:
        deployment = _only(docs, "Deployment")
        # The ConfigMap the Deployment mounts (the other one, in the worker namespace, owns the workers).
        configmap = _only(
            [doc for doc in docs if doc["metadata"]["name"] == deployment["metadata"]["name"]], "ConfigMap"
        )
        pod = deployment["spec"]["template"]["spec"]
        (container,) = [c for c in pod["containers"] if c["name"] == "endpoint"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        env: dict[str, str] = {}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = str(item["value"])
            else:
                env[item["name"]] = _FIELD_VALUES[item["valueFrom"]["fieldRef"]["fieldPath"]]
        probes = {
            kind: tuple(container[kind]["exec"]["command"])
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
            if kind in container
        }
        return cls(
            command=tuple(container.get("command", [])),
            args=tuple(container.get("args", [])),
            env=env,
            mounts=tuple(Mount(m["mountPath"], volumes[m["name"]]) for m in container["volumeMounts"]),
            probes=probes,
            configmap=dict(configmap["data"]),
            # Without a workingDir the image's WORKDIR applies: the user's home in this project's image.
            working_dir=container.get("workingDir") or env.get("HOME", "/"),
        )


def _only(docs: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [doc for doc in docs if doc.get("kind") == kind]
    if len(matches) != 1:
        raise RuntimeError(f"expected one {kind} in the rendered chart, found {len(matches)}")
    return matches[0]


class Pod:
    """A sandbox directory tree standing in for the endpoint pod's filesystem, and a way to run in it.

    ``secret`` holds the credentials secret's keys; None means the secret does not exist (the chart
    mounts it with ``optional: true``, so the kubelet then mounts an empty directory).
    """

    def __init__(self, spec: PodSpec, secret: Mapping[str, bytes] | None) -> None:
        self.spec = spec
        # Not pytest's tmp_path: that lives in a directory only root may enter.
        self.root = Path(tempfile.mkdtemp(prefix="gce-pod-"))
        try:
            self.root.chmod(0o755)
            for mount in spec.mounts:
                self._populate(mount, secret)
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def host_path(self, container_path: str) -> Path:
        """Where a path inside the container lies in the sandbox."""
        return self.root / container_path.lstrip("/")

    def translate(self, value: str) -> str:
        """Rewrite a container path that lies on a mount (a command word, an env value) to the sandbox."""
        for mount in sorted(self.spec.mounts, key=lambda m: len(m.path), reverse=True):
            if value == mount.path or value.startswith(mount.path.rstrip("/") + "/"):
                return str(self.host_path(value))
        return value

    @property
    def state_dir(self) -> Path:
        return Path(self.translate(self.spec.env["GLOBUS_COMPUTE_USER_DIR"]))

    @property
    def endpoint_dir(self) -> Path:
        return self.state_dir / self.spec.env["GCE_ENDPOINT_NAME"]

    @property
    def secret_dir(self) -> Path:
        return Path(self.translate(self.spec.env["GCE_CREDENTIALS_DIR"]))

    @property
    def config_dir(self) -> Path:
        return Path(self.translate(self.spec.env["GCE_CONFIG_DIR"]))

    def environment(self, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The container's environment: the Deployment's env (paths rewritten) and the image's PATH."""
        env = {name: self.translate(value) for name, value in self.spec.env.items()}
        env["PATH"] = f"{pod_bin()}:/usr/local/bin:/usr/bin:/bin"
        for name, value in (overrides or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def command(self, argv: Sequence[str] | None = None) -> list[str]:
        """The container's command (or another argv, e.g. a probe's), with paths rewritten."""
        return [self.translate(word) for word in (self.spec.argv if argv is None else argv)]

    def run(
        self,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        *,
        as_root: bool = False,
        setpriv_options: Sequence[str] = (),
        uid: int = RUN_AS.pw_uid,
        gid: int = RUN_AS.pw_gid,
    ) -> subprocess.CompletedProcess[str]:
        """Run the container's command (default) or ``argv``, unprivileged unless ``as_root``.

        Every run is checked for the secret: it must never reach stdout or stderr.
        """
        command = self.command(argv)
        if not as_root:
            command = [
                host_tool("setpriv"),
                f"--reuid={uid}",
                f"--regid={gid}",
                "--clear-groups",
                *setpriv_options,
                "--",
                *command,
            ]
        result = subprocess.run(
            command,
            env=self.environment(env),
            cwd=self.translate(self.spec.working_dir),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert_no_secret(result.stdout, result.stderr)
        return result

    def _populate(self, mount: Mount, secret: Mapping[str, bytes] | None) -> None:
        target = self.host_path(mount.path)
        target.mkdir(parents=True)
        volume = mount.volume
        if "emptyDir" in volume:
            target.chmod(0o777)  # the kubelet's mode for an emptyDir
        elif "configMap" in volume:
            source = volume["configMap"]
            data = {key: value.encode() for key, value in self.spec.configmap.items()}
            files = select_items(data, source.get("items"))
            write_kubelet_volume(target, files, source.get("defaultMode", 0o644), group=0)
        elif "secret" in volume:
            source = volume["secret"]
            files = select_items(dict(secret or {}), source.get("items"))
            # fsGroup: the kubelet gives the pod's group ownership of secret files.
            write_kubelet_volume(target, files, source.get("defaultMode", 0o644), group=RUN_AS.pw_gid)
        else:
            raise RuntimeError(f"volume kind not simulated: {sorted(volume)}")


def select_items(data: Mapping[str, bytes], items: Sequence[Mapping[str, Any]] | None) -> dict[str, bytes]:
    if items is None:
        return dict(data)
    return {item["path"]: data[item["key"]] for item in items if item["key"] in data}


def write_kubelet_volume(target: Path, files: Mapping[str, bytes], mode: int, group: int) -> None:
    """The kubelet's atomic-writer layout: KEY -> ..data/KEY, ..data -> ..<timestamp>/ (``target`` may not exist)."""
    data_dir = target / _KUBELET_DATA_DIR
    data_dir.mkdir(parents=True)
    for relative, content in files.items():
        path = data_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chown(path, 0, group)
        path.chmod(mode)
    (target / "..data").symlink_to(_KUBELET_DATA_DIR)
    for top in sorted({relative.split("/", 1)[0] for relative in files}):
        (target / top).symlink_to(f"..data/{top}")
    for directory in (target, data_dir):
        directory.chmod(0o755)


def client_secret_keys(
    id_key: str = "GLOBUS_COMPUTE_CLIENT_ID", secret_key: str = "GLOBUS_COMPUTE_CLIENT_SECRET"
) -> dict[str, bytes]:
    """A credentials secret as `slate secret create --from-env-file` makes it: one key per variable."""
    return {id_key: CLIENT_ID.encode(), secret_key: CLIENT_SECRET.encode()}


def assert_no_secret(*outputs: str) -> None:
    """Fail when the client secret shows up in any of the outputs."""
    for output in outputs:
        if CLIENT_SECRET in output:
            raise AssertionError("the client secret was printed")
