"""The registries of the release rehearsal: Debian's docker-registry (the CNCF distribution registry 2.8)
with TLS and a password, inside the test cluster's network namespace, and a PEP 503 package index.

The registry listens on the node's address (10.201.0.1:5000), which exists only in that namespace, so
containerd there pulls from it exactly as from a registry on the internet: over TLS, checking the
certificate against a CA (the node's containerd is told to trust it), with the credentials of the
chart's imagePullSecret. The package index is a static folder laid out as PEP 503 says, served by
python's http.server on 127.0.0.1; pip is given no other index.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cluster.controlplane import NODE_IP, ControlPlane
from cluster.pki import Pki
from cluster.processes import ClusterError, wait_until

REGISTRY_PORT = 5000
REGISTRY_HOST = f"{NODE_IP}:{REGISTRY_PORT}"
USERNAME = "gce-release"


def missing_programs() -> list[str]:
    """Debian packages the rehearsal needs that are not installed (docker-registry, htpasswd)."""
    programs = {"docker-registry": "docker-registry", "apache2-utils": "htpasswd"}
    return [package for package, program in programs.items() if shutil.which(program) is None]


@dataclass(frozen=True)
class RegistryFiles:
    """The CA, the server's key pair, the password file and the storage of one registry."""

    folder: Path
    ca_file: Path
    password: str = ""

    @classmethod
    def make(cls, folder: Path) -> RegistryFiles:
        """A CA and a certificate for the node's address, and a bcrypt password file (htpasswd -B)."""
        folder.mkdir(parents=True, exist_ok=True)
        pki = Pki(folder / "pki")
        serving = pki.serving("registry", ips=(NODE_IP, "127.0.0.1"), dns_names=("localhost",))
        password = secrets.token_urlsafe(18)
        entry = subprocess.run(
            ["htpasswd", "-nbB", USERNAME, password], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        (folder / "htpasswd").write_text(entry.strip() + "\n", encoding="utf-8")
        (folder / "htpasswd").chmod(0o600)
        (folder / "storage").mkdir(exist_ok=True)
        (folder / "config.yml").write_text(
            f"""\
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {folder / "storage"}
http:
  addr: {REGISTRY_HOST}
  secret: {secrets.token_hex(16)}
  tls:
    certificate: {serving.certificate}
    key: {serving.key}
auth:
  htpasswd:
    realm: gce-release-rehearsal
    path: {folder / "htpasswd"}
""",
            encoding="utf-8",
        )
        return cls(folder, pki.ca.certificate, password)


def start_registry(cluster: ControlPlane, files: RegistryFiles) -> None:
    """docker-registry under the cluster's supervisor (stopped with it), ready when /v2/ asks for a login."""
    program = cluster.supervisor.start(
        "docker-registry", ["docker-registry", "serve", str(files.folder / "config.yml")]
    )
    context = ssl.create_default_context(cafile=str(files.ca_file))

    def asks_for_login() -> bool:
        program.check_alive()
        with cluster.network():
            try:
                urllib.request.urlopen(f"https://{REGISTRY_HOST}/v2/", timeout=5, context=context)
            except urllib.error.HTTPError as exc:
                return exc.code == 401
            except OSError:
                return False
        raise ClusterError("the registry answered /v2/ without asking for a password")

    wait_until("docker-registry", asks_for_login, 60, program.log)


def normalized(name: str) -> str:
    """A project name as PEP 503 spells its folder."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename: str) -> str:
    """The project a wheel or sdist file belongs to (the part before its version)."""
    return normalized(re.split(r"-\d", filename, maxsplit=1)[0])


def write_simple_index(files: list[Path], root: Path) -> Path:
    """A static PEP 503 index of ``files`` under ``root/simple``; returns that folder."""
    simple = root / "simple"
    projects: dict[str, list[Path]] = {}
    for path in files:
        projects.setdefault(project_of(path.name), []).append(path)
    for project, paths in projects.items():
        folder = simple / project
        folder.mkdir(parents=True, exist_ok=True)
        links = []
        for path in sorted(paths):
            shutil.copyfile(path, folder / path.name)
            links.append(f'<a href="{html.escape(path.name)}">{html.escape(path.name)}</a><br>')
        (folder / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    top = "\n".join(f'<a href="{p}/">{p}</a><br>' for p in sorted(projects))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{top}\n</body></html>\n", encoding="utf-8")
    return simple


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """pip's requests are not worth a line each in the test output."""


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
