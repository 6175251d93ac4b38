"""The cluster's one node: Debian's containerd, runc and CNI plugins, a kubelet and kube-proxy we build.

Everything runs in the cluster's network namespace. containerd gets a configuration of its own
(cgroupfs, its own root, state and socket, our pause image as the sandbox image); the bridge plugin
puts pods on a bridge inside the namespace, on the pod range, with no route out of it. The kubelet
keeps its pods under a cgroup root of its own, so two clusters, or a cluster and podman, never share
cgroups, and the teardown knows what to remove.

No registry outside is reachable: images reach containerd by ``ctr images import`` of an archive
(podman's ``save``, or the pause image this module writes as a docker archive), or from a registry the
tests start inside the namespace, whose CA the layout names (``registry_cas``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from cluster.pki import KeyPair
from cluster.processes import ClusterError, Supervisor, run, wait_until

CONTAINERD_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "iptables", "conntrack")
CNI_BIN_DIR = Path("/usr/lib/cni")
PAUSE_IMAGE = "localhost/gce-test/pause:1"
# Debian's containerd reads the CRI namespace by this name.
K8S_NAMESPACE = "k8s.io"


@dataclass(frozen=True)
class NodeLayout:
    """Where the node keeps its state. ``run_dir`` is short (unix socket paths are limited)."""

    state_dir: Path
    run_dir: Path
    name: str
    node_ip: str
    pod_cidr: str
    cgroup_root: str
    # Registries the node pulls from, each host ("10.201.0.1:5000") with the CA file that signed its
    # certificate; empty for a node that gets its images only by import.
    registry_cas: tuple[tuple[str, Path], ...] = ()

    @property
    def containerd_socket(self) -> Path:
        return self.run_dir / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state_dir / "kubelet"

    @property
    def pod_logs_dir(self) -> Path:
        return self.state_dir / "pod-logs"


def containerd_config(layout: NodeLayout) -> str:
    """containerd 1.6's configuration (version 2) for one test node."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{layout.state_dir / "containerd"}"
state = "{layout.run_dir / "containerd"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{layout.containerd_socket}"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  enable_selinux = false
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{layout.state_dir / "cni"}"
""" + "".join(
        f"""
[{cri}.registry.configs."{host}".tls]
  ca_file = "{ca_file}"
"""
        for host, ca_file in layout.registry_cas
    )


def cni_config(layout: NodeLayout) -> dict[str, object]:
    """A bridge inside the namespace, addresses from the pod range, the default route to the bridge."""
    return {
        "cniVersion": "0.4.0",
        "name": "gce-test-pods",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "gcetest0",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(layout: NodeLayout, ca_file: Path, serving: KeyPair, resolv_conf: Path) -> dict[str, object]:
    """The KubeletConfiguration. ``failCgroupV1: false``: these machines have cgroup v1 (KEP-5573)."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": layout.cgroup_root,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "address": layout.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        # Signed by the cluster's CA, so the API server can check it when it relays logs and exec.
        "tlsCertFile": str(serving.certificate),
        "tlsPrivateKeyFile": str(serving.key),
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "clusterDomain": "cluster.local",
        "resolvConf": str(resolv_conf),
        "failSwapOn": False,
        "podLogsDir": str(layout.pod_logs_dir),
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "podCIDR": layout.pod_cidr,
        "maxPods": 60,
        "fileCheckFrequency": "1s",
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "5s",
        "shutdownGracePeriod": "0s",
        "localStorageCapacityIsolation": True,
    }


def pause_archive(pause_binary: Path) -> bytes:
    """A docker-archive image holding only the pause program, named PAUSE_IMAGE."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("pause")
        data = pause_binary.read_bytes()
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
            "os": "linux",
            "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "tests/cluster/node.py pause_archive"}],
        },
        sort_keys=True,
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [PAUSE_IMAGE], "Layers": ["layer/layer.tar"]}]).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, content in (("layer/layer.tar", layer_bytes), (config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(content), 0
            tar.addfile(info, io.BytesIO(content))
    return archive.getvalue()


class Node:
    """containerd, the kubelet and kube-proxy of the test cluster, and their teardown."""

    def __init__(self, layout: NodeLayout, supervisor: Supervisor, bin_dir: Path) -> None:
        self.layout = layout
        self.supervisor = supervisor
        self.bin_dir = bin_dir

    def ctr(self, *args: str, timeout: float = 300, stdin: bytes | None = None, check: bool = True) -> str:
        argv = ["ctr", "--address", str(self.layout.containerd_socket), "-n", K8S_NAMESPACE, *args]
        return run(argv, timeout, check=check, stdin=stdin)

    def start_containerd(self) -> None:
        layout = self.layout
        for folder in (layout.state_dir / "containerd", layout.state_dir / "cni", layout.run_dir):
            folder.mkdir(parents=True, exist_ok=True)
        config = layout.state_dir / "containerd.toml"
        config.write_text(containerd_config(layout), encoding="utf-8")
        (layout.state_dir / "cni" / "10-gce-test.conflist").write_text(
            json.dumps(cni_config(layout), indent=2), encoding="utf-8"
        )
        program = self.supervisor.start("containerd", ["containerd", "--config", str(config)])
        wait_until("containerd", lambda: program.check_alive() and layout.containerd_socket.exists(), 60, program.log)
        wait_until("containerd's CRI plugin", self._cri_ready, 60, program.log)
        self.ctr("images", "import", "--no-unpack", "-", stdin=pause_archive(self.bin_dir / "pause"))

    def _cri_ready(self) -> bool:
        try:
            return "ok" in self.ctr("plugins", "ls", timeout=10)
        except ClusterError:
            return False

    def import_image(self, archive: Path) -> None:
        """Import a docker or OCI archive (``podman save``) into the node's image store."""
        self.ctr("images", "import", "--no-unpack", str(archive), timeout=600)

    def images(self) -> list[str]:
        return [line.split()[0] for line in self.ctr("images", "ls", "-q").splitlines() if line.strip()]

    def start_kubelet(self, kubeconfig: Path, ca_file: Path, serving: KeyPair) -> None:
        layout = self.layout
        make_cgroup_root(layout.cgroup_root)
        layout.kubelet_dir.mkdir(parents=True, exist_ok=True)
        layout.pod_logs_dir.mkdir(parents=True, exist_ok=True)
        resolv_conf = layout.state_dir / "resolv.conf"
        resolv_conf.write_text("# pods of the test cluster have no name server\n", encoding="utf-8")
        config = layout.state_dir / "kubelet.yaml"
        config.write_text(yaml.safe_dump(kubelet_config(layout, ca_file, serving, resolv_conf)), encoding="utf-8")
        self.supervisor.start(
            "kubelet",
            [
                str(self.bin_dir / "kubelet"),
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={layout.kubelet_dir}",
                f"--hostname-override={layout.name}",
                f"--node-ip={layout.node_ip}",
                "--v=1",
            ],
        )

    def start_kube_proxy(self, kubeconfig: Path) -> None:
        config = self.layout.state_dir / "kube-proxy.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                    "kind": "KubeProxyConfiguration",
                    "mode": "iptables",
                    "clientConnection": {"kubeconfig": str(kubeconfig)},
                    "hostnameOverride": self.layout.name,
                    "clusterCIDR": self.layout.pod_cidr,
                    # In a network namespace the conntrack table size is the host's to set, not ours.
                    "conntrack": {"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
                    "metricsBindAddress": "127.0.0.1:10249",
                    "healthzBindAddress": "127.0.0.1:10256",
                }
            ),
            encoding="utf-8",
        )
        self.supervisor.start("kube-proxy", [str(self.bin_dir / "kube-proxy"), f"--config={config}"])

    def teardown(self) -> list[str]:
        """Stop every container of this node and free what the kubelet and containerd held.

        Returns what could not be cleaned, for the caller to report. Order: the kubelet first (it would
        restart what we stop), then each container and sandbox through containerd, then containerd's
        shims, mounts under our folders, and the kubelet's cgroups.
        """
        problems: list[str] = []
        self.supervisor.stop("kubelet")
        self.supervisor.stop("kube-proxy")
        if self.layout.containerd_socket.exists():
            try:
                for task in self.ctr("tasks", "ls", "-q", timeout=30).split():
                    self.ctr("tasks", "kill", "-s", "SIGKILL", task, timeout=30, check=False)
            except ClusterError as exc:
                problems.append(str(exc))
        self.supervisor.stop("containerd")
        problems += kill_shims(self.layout.containerd_socket)
        problems += unmount_under((self.layout.state_dir, self.layout.run_dir))
        problems += remove_cgroups(self.layout.cgroup_root)
        return problems


def _processes() -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            found.append((int(entry.name), [part.decode(errors="replace") for part in argv if part]))
    return found


def kill_shims(socket: Path) -> list[str]:
    """SIGKILL the containerd shims serving ``socket`` (they outlive containerd) and their children."""
    shims = [pid for pid, argv in _processes() if argv[:1] and "containerd-shim" in argv[0] and str(socket) in argv]
    for pid in shims:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except ProcessLookupError:
            continue
        except PermissionError:
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in shims):
        time.sleep(0.1)
    return [f"shim {pid} still running" for pid in shims if Path(f"/proc/{pid}").exists()]


def unmount_under(folders: tuple[Path, ...]) -> list[str]:
    """Unmount (lazily, deepest first) every mount point inside ``folders``."""
    prefixes = tuple(str(folder.resolve()) + "/" for folder in folders)
    points = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes):
            points.append(point)
    problems = []
    for point in sorted(set(points), key=len, reverse=True):
        try:
            run(["umount", "-l", point], 30)
        except ClusterError as exc:
            problems.append(str(exc))
    return problems


def _hierarchies(with_unified: bool = False) -> list[Path]:
    """The cgroup v1 hierarchies mounted under /sys/fs/cgroup; ``with_unified`` adds the v2 one beside them
    (the kubelet does not need it, but runc also makes its containers' folders there)."""
    return [
        path
        for path in Path("/sys/fs/cgroup").iterdir()
        if path.is_dir() and not path.is_symlink() and (with_unified or path.name != "unified")
    ]


def make_cgroup_root(cgroup_root: str) -> None:
    """The kubelet's cgroup root in every hierarchy (it refuses to start without); a new cpuset starts
    empty, so it gets its parent's CPUs and memory nodes."""
    for hierarchy in _hierarchies():
        folder = hierarchy / cgroup_root.strip("/")
        folder.mkdir(exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if (folder / name).exists() and not (folder / name).read_text().strip():
                (folder / name).write_text((hierarchy / name).read_text())


def remove_cgroups(cgroup_root: str) -> list[str]:
    """Remove the kubelet's cgroup tree under every hierarchy, deepest first, killing what is left in it."""
    problems = []
    for hierarchy in _hierarchies(with_unified=True):
        top = hierarchy / cgroup_root.strip("/")
        if not top.is_dir() or top.is_symlink():
            continue
        folders = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for folder in [*folders, top]:
            procs = folder / "cgroup.procs"
            if procs.exists():
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                problems.append(f"cgroup {folder} not removed")
    return problems
