"""A Kubernetes control plane and one node, started by the tests in a network namespace of their own.

What runs (all built from ``tests/cluster/kube``, but containerd, runc and the CNI plugins, which are
Debian's):

- etcd on 127.0.0.1 in the namespace;
- kube-apiserver with real TLS, ``--authorization-mode=Node,RBAC`` and the admission plugins the
  chart's promises depend on (NamespaceLifecycle, ServiceAccount, PodSecurity,
  OwnerReferencesPermissionEnforcement, NodeRestriction and the rest of the defaults);
- kube-controller-manager (garbage collector, namespace, ServiceAccount, token, Deployment and the
  other default controllers) and kube-scheduler;
- a node: containerd, a kubelet and kube-proxy (iptables), pods on a bridge inside the namespace.

Addresses: the namespace has its loopback, which also holds the node's (and API server's) address,
and the pod bridge; the pod and service ranges exist only in it, and it has no route out.

Use it as a context manager; :meth:`ControlPlane.enter_network` moves the calling thread (and so every
process it starts: helm, kubectl) into the namespace, where the kubeconfig's 127.0.0.1 is the API server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cluster.build import ensure_built
from cluster.node import CONTAINERD_PACKAGES, Node, NodeLayout
from cluster.pki import Identity, Pki
from cluster.processes import ClusterError, Supervisor, apt_install, run, tail, wait_until
from runtime import netns

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_ROOT = REPO_ROOT / "build" / "cluster"
NETNS_DIR = Path("/var/run/netns")

NODE_NAME = "gce-test-node"
NODE_IP = "10.201.0.1"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/24"
KUBERNETES_SERVICE_IP = "10.96.0.1"
API_PORT = 6443

ADMIN = Identity("admin", "gce-test-admin", ("system:masters",))
CONTROLLER_MANAGER = Identity("controller-manager", "system:kube-controller-manager")
SCHEDULER = Identity("scheduler", "system:kube-scheduler")
KUBELET = Identity("kubelet", f"system:node:{NODE_NAME}", ("system:nodes",))
KUBE_PROXY = Identity("kube-proxy", "system:kube-proxy")
API_TO_KUBELET = Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ("system:masters",))

ADMISSION_PLUGINS = (
    "NamespaceLifecycle",
    "ServiceAccount",
    "PodSecurity",
    "OwnerReferencesPermissionEnforcement",
    "NodeRestriction",
    "LimitRanger",
    "ResourceQuota",
    "DefaultTolerationSeconds",
    "Priority",
    "RuntimeClass",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
)


def missing_host_tools() -> list[str]:
    """Debian packages the node needs that are not installed."""
    programs = {"containerd": "containerd", "runc": "runc", "iptables": "iptables", "conntrack": "conntrack"}
    missing = [package for package, program in programs.items() if shutil.which(program) is None]
    if not Path("/usr/lib/cni/bridge").exists():
        missing.append("containernetworking-plugins")
    return missing


@dataclass(frozen=True)
class Kubeconfigs:
    """The kubeconfig files the control plane made, one per identity."""

    admin: Path
    controller_manager: Path
    scheduler: Path
    kubelet: Path
    kube_proxy: Path


class ControlPlane:
    """etcd, the API server, controller manager, scheduler and one node, in a namespace of their own."""

    def __init__(
        self, name: str | None = None, state_dir: Path | None = None, registry_cas: tuple[tuple[str, Path], ...] = ()
    ) -> None:
        """``registry_cas``: (host:port, CA file) of registries the node is to trust (see NodeLayout)."""
        self.name = name or f"gce-kube-{os.getpid()}"
        self.registry_cas = registry_cas
        self.state_dir = state_dir or STATE_ROOT / self.name
        self.run_dir = Path("/run") / self.name
        self.netns_path = NETNS_DIR / self.name
        self.supervisor = Supervisor(self.name, self.state_dir / "logs")
        self.bin_dir = Path()
        self.node: Node | None = None
        self.kubeconfigs: Kubeconfigs | None = None
        self.pki: Pki | None = None
        self.timings: dict[str, float] = {}
        # The network namespaces there were before ours: containerd's new ``cni-*`` ones are this cluster's.
        self._netns_before: set[str] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        problems = self.stop()
        if problems and kind is None:
            raise ClusterError("teardown left things behind:\n" + "\n".join(problems))

    def start(self) -> None:
        if os.geteuid() != 0:
            raise ClusterError("the test cluster needs root (network namespace, containerd, kubelet)")
        started = time.monotonic()
        apt_install(CONTAINERD_PACKAGES if missing_host_tools() else ())
        self.bin_dir = ensure_built()
        self.timings["build"] = time.monotonic() - started
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state_dir.mkdir(parents=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        begin = time.monotonic()
        self._make_network()
        self.pki = Pki(self.state_dir / "pki")
        self.kubeconfigs = self._kubeconfigs(self.pki)
        self._start_etcd()
        self._start_apiserver(self.pki)
        self._start_controllers()
        self.node = Node(
            NodeLayout(
                self.state_dir / "node",
                self.run_dir,
                NODE_NAME,
                NODE_IP,
                POD_CIDR,
                f"/{self.name}",
                self.registry_cas,
            ),
            self.supervisor,
            self.bin_dir,
        )
        self.node.start_containerd()
        kubelet_serving = self.pki.serving("kubelet-serving", ips=(NODE_IP,), dns_names=(NODE_NAME,))
        self.node.start_kubelet(self.kubeconfigs.kubelet, self.pki.ca.certificate, kubelet_serving)
        self.node.start_kube_proxy(self.kubeconfigs.kube_proxy)
        self._wait_for_node()
        self.timings["ready"] = time.monotonic() - begin

    def stop(self) -> list[str]:
        """Stop everything and remove the namespace; returns what could not be cleaned."""
        problems: list[str] = []
        if self.node is not None:
            problems += self.node.teardown()
        self.supervisor.stop_all()
        for entry in self._pod_namespaces():
            run(["ip", "netns", "del", entry.name], 30, check=False)
        if self.netns_path.exists():
            run(["ip", "netns", "del", self.name], 30, check=False)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        if not problems and self.state_dir.is_dir():
            # The logs stay for reading after a failure; the stores (images among them: hundreds of MB) go.
            for entry in self.state_dir.iterdir():
                if entry.name != "logs":
                    shutil.rmtree(entry, ignore_errors=True)
        return problems

    # -- network -----------------------------------------------------------------------------------

    def _make_network(self) -> None:
        if self.netns_path.exists():
            run(["ip", "netns", "del", self.name])
        self._netns_before = {entry.name for entry in NETNS_DIR.iterdir()} if NETNS_DIR.is_dir() else set()
        run(["ip", "netns", "add", self.name])
        inside = ["ip", "-n", self.name]
        run([*inside, "link", "set", "lo", "up"])
        # The node's address sits on the loopback device (these kernels have no dummy devices); pods
        # reach it through the bridge, as the namespace's own address.
        run([*inside, "addr", "add", f"{NODE_IP}/32", "dev", "lo"])
        for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.route_localnet=1"):
            run(["nsenter", f"--net={self.netns_path}", "sysctl", "-qw", key])

    def _pod_namespaces(self) -> list[Path]:
        """The pod network namespaces containerd made for this cluster (new ``cni-*`` entries)."""
        before = self._netns_before
        if before is None or not NETNS_DIR.is_dir():
            return []
        return [entry for entry in NETNS_DIR.iterdir() if entry.name.startswith("cni-") and entry.name not in before]

    @contextmanager
    def network(self) -> Iterator[None]:
        """Run the body with this thread in the cluster's network namespace (its children too)."""
        original = Path(f"/proc/self/task/{threading.get_native_id()}/ns/net")
        with original.open("rb") as handle:
            saved = os.dup(handle.fileno())
        try:
            netns.enter(self.netns_path)
            yield
        finally:
            netns.enter(saved)
            os.close(saved)

    # -- components --------------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{API_PORT}"

    def _kubeconfigs(self, pki: Pki) -> Kubeconfigs:
        folder = self.state_dir / "kubeconfig"
        folder.mkdir()

        def make(identity: Identity, server: str | None = None) -> Path:
            return pki.kubeconfig(folder / f"{identity.file_stem}.yaml", server or self.server, identity)

        return Kubeconfigs(
            admin=make(ADMIN),
            controller_manager=make(CONTROLLER_MANAGER),
            scheduler=make(SCHEDULER),
            kubelet=make(KUBELET),
            kube_proxy=make(KUBE_PROXY),
        )

    def _start_etcd(self) -> None:
        data = self.state_dir / "etcd"
        program = self.supervisor.start(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=gce-test",
                f"--data-dir={data}",
                "--listen-client-urls=http://127.0.0.1:2379",
                "--advertise-client-urls=http://127.0.0.1:2379",
                "--listen-peer-urls=http://127.0.0.1:2380",
                "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                "--initial-cluster=gce-test=http://127.0.0.1:2380",
                "--listen-metrics-urls=http://127.0.0.1:2381",
                # A throw-away store: durability buys nothing here and fsync is slow on a busy disk.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        wait_until(
            "etcd", lambda: program.check_alive() and self._http_ok("http://127.0.0.1:2381/health"), 60, program.log
        )

    def _start_apiserver(self, pki: Pki) -> None:
        serving = pki.serving(
            "apiserver",
            ips=("127.0.0.1", NODE_IP, KUBERNETES_SERVICE_IP),
            dns_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
        )
        to_kubelet = pki.client(API_TO_KUBELET)
        sa = pki.service_account_key()
        self._sa = sa
        program = self.supervisor.start(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                "--etcd-servers=http://127.0.0.1:2379",
                "--bind-address=0.0.0.0",
                f"--secure-port={API_PORT}",
                f"--advertise-address={NODE_IP}",
                f"--tls-cert-file={serving.certificate}",
                f"--tls-private-key-file={serving.key}",
                f"--client-ca-file={pki.ca.certificate}",
                f"--kubelet-client-certificate={to_kubelet.certificate}",
                f"--kubelet-client-key={to_kubelet.key}",
                f"--kubelet-certificate-authority={pki.ca.certificate}",
                "--kubelet-preferred-address-types=InternalIP",
                f"--service-account-key-file={sa.certificate}",
                f"--service-account-signing-key-file={sa.key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                f"--enable-admission-plugins={','.join(ADMISSION_PLUGINS)}",
                "--allow-privileged=false",
                "--profiling=false",
                "--event-ttl=1h",
            ],
        )
        wait_until("kube-apiserver", lambda: program.check_alive() and self._api_ready(), 120, program.log)

    def _start_controllers(self) -> None:
        assert self.kubeconfigs is not None and self.pki is not None
        self.supervisor.start(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={self.kubeconfigs.controller_manager}",
                f"--authentication-kubeconfig={self.kubeconfigs.controller_manager}",
                f"--authorization-kubeconfig={self.kubeconfigs.controller_manager}",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={self._sa.key}",
                f"--root-ca-file={self.pki.ca.certificate}",
                f"--cluster-signing-cert-file={self.pki.ca.certificate}",
                f"--cluster-signing-key-file={self.pki.ca.key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--controllers=*",
                # Faster reactions than a production cluster's, so the tests wait less.
                "--node-monitor-grace-period=20s",
                "--concurrent-gc-syncs=5",
            ],
        )
        self.supervisor.start(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={self.kubeconfigs.scheduler}",
                f"--authentication-kubeconfig={self.kubeconfigs.scheduler}",
                f"--authorization-kubeconfig={self.kubeconfigs.scheduler}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
            ],
        )

    def _wait_for_node(self) -> None:
        def ready() -> bool:
            self.supervisor.check_alive()
            out = self.kubectl(
                "get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False
            )
            return out.strip() == "True"

        kubelet_log = self.state_dir / "logs" / "kubelet.log"
        wait_until(f"node {NODE_NAME} Ready", ready, 180, kubelet_log)

    # -- clients -----------------------------------------------------------------------------------

    def kubectl(self, *args: str, check: bool = True, stdin: bytes | None = None, timeout: float = 60) -> str:
        """kubectl as the admin, run inside the namespace."""
        assert self.kubeconfigs is not None
        argv = [
            "nsenter",
            f"--net={self.netns_path}",
            str(self.bin_dir / "kubectl"),
            f"--kubeconfig={self.kubeconfigs.admin}",
            *args,
        ]
        try:
            return run(argv, timeout, check=check, stdin=stdin)
        except ClusterError:
            if check:
                raise
            return ""

    def _http_ok(self, url: str) -> bool:
        result = subprocess.run(
            ["nsenter", f"--net={self.netns_path}", "python3", "-c", _PROBE, url],
            capture_output=True,
            timeout=15,
            check=False,
        )
        return result.returncode == 0

    def _api_ready(self) -> bool:
        return self.kubectl("get", "--raw", "/readyz", check=False).strip() == "ok"

    def log_tail(self, program: str, lines: int = 60) -> str:
        return tail(self.state_dir / "logs" / f"{program}.log", lines)


_PROBE = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()"
