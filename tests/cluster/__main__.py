"""``make cluster-up``: start the test cluster for a person, and stop it on Ctrl-C.

It prints how to reach it: the API server listens only inside the cluster's network namespace, so
kubectl and helm run there too (``nsenter --net=...``), with the admin kubeconfig it wrote.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from cluster.controlplane import ControlPlane
from cluster.images import import_endpoint_image
from cluster.processes import ClusterError


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__)
    parser.add_argument("--name", default="gce-kube-up", help="network namespace and state folder name")
    parser.add_argument("--with-image", action="store_true", help="also build and import the endpoint image")
    options = parser.parse_args()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with ControlPlane(options.name) as cluster:
            assert cluster.kubeconfigs is not None and cluster.node is not None
            image = import_endpoint_image(cluster.node) if options.with_image else None
            kubectl = Path(cluster.bin_dir) / "kubectl"
            print(
                f"cluster {options.name} is up (ready in {cluster.timings['ready']:.1f} s).\n"
                f"  kubeconfig: {cluster.kubeconfigs.admin}\n"
                f"  a shell inside its network: nsenter --net={cluster.netns_path} bash\n"
                f"  then: {kubectl} --kubeconfig={cluster.kubeconfigs.admin} get nodes\n"
                + (f"  endpoint image: {image}\n" if image else "")
                + "Ctrl-C stops it and removes everything it made.",
                flush=True,
            )
            while not stop.wait(2):
                cluster.supervisor.check_alive()
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
