"""The endpoint image on the test node: built as the runtime tests build it, then imported into containerd.

No registry is reachable, so the image goes from podman's store to containerd's by archive; pods name it
with ``pullPolicy: IfNotPresent`` and the kubelet finds it already there.
"""

from __future__ import annotations

from pathlib import Path

from cluster.node import Node
from cluster.processes import ClusterError
from runtime.testbed import TestbedError, build_endpoint_image, ensure_base_image, setup_podman

ARCHIVE_DIR = Path(__file__).resolve().parents[2] / "build" / "cluster" / "images"


def import_endpoint_image(node: Node) -> str:
    """Build (or reuse) the endpoint image and import it into the node; returns its reference."""
    try:
        podman = setup_podman()
        built = build_endpoint_image(podman, ensure_base_image(podman))
        ARCHIVE_DIR.mkdir(parents=True, exist_ok=True)
        archive = ARCHIVE_DIR / (built.reference.rsplit("/", 1)[-1].replace(":", "_") + ".tar")
        if not archive.is_file():
            partial = archive.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            podman.run("save", "--format", "docker-archive", "-o", str(partial), built.reference, timeout=600)
            partial.rename(archive)
    except TestbedError as exc:
        raise ClusterError(f"the endpoint image: {exc}") from exc
    node.import_image(archive)
    return built.reference


def add_image_name(node: Node, image: str, name: str) -> None:
    """Give an image on the node a second name (``ctr images tag``): the same image under another
    reference, for a conf that lets submissions choose between two worker images the node has."""
    node.ctr("images", "tag", "--force", image, name)
