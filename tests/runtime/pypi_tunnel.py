"""A way out of the test's network namespace to PyPI, and nowhere else (benchmark only).

The cold-start benchmark's "predecessors' way" worker pip-installs the endpoint when it starts, so it
needs PyPI, while it must also sit in the private namespace to reach the interchange on 127.0.0.1.
This is an HTTP CONNECT proxy that listens inside the namespace and opens the tunnels from the host's
namespace, but only to ``pypi.org:443`` and ``files.pythonhosted.org:443``; every other request gets
403. The worker is pointed at it with HTTPS_PROXY, and given the host's CA bundle (HTTPS here passes
through a proxy with its own CA). The runtime *tests* never use it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

from runtime.netns import NetworkNamespace

ALLOWED = frozenset({("pypi.org", 443), ("files.pythonhosted.org", 443)})


@dataclass
class PypiTunnel:
    netns: NetworkNamespace
    refused: list[str] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = self.netns.listen()
        self.port: int = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PypiTunnel:
        threading.Thread(target=self._serve, name="pypi-tunnel", daemon=True).start()
        return self

    def stop(self) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 16384:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = request.partition(" ")
            target = rest.split(" ", 1)[0]
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or (host, int(port or 0)) not in ALLOWED:
                self.refused.append(request)
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            try:
                upstream = socket.create_connection((host, int(port)), timeout=30)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            self.tunnels.append(target)
            with upstream:
                upstream.settimeout(None)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
                pump.start()
                _copy(client, upstream)
                pump.join(timeout=60)


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
