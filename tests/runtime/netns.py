"""A private network namespace for one test run: only a loopback interface, removed afterwards.

Everything that must talk to everything else in the function-run test (the Kubernetes API double, the
engine's interchange, the worker containers) shares this namespace and talks over its 127.0.0.1, so no
traffic leaves it. Containers join it with ``podman run --network ns:<path>``. The test process itself
stays in the host's namespace; it opens listening sockets *inside* the private one (``listen``), so the
double can run as a thread of the test and still be reached only from within the namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import subprocess
import threading
from pathlib import Path
from types import TracebackType

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/var/run/netns")


def enter(target: Path | int) -> None:
    """Move the calling thread (and the processes it starts later) into a network namespace, given by its
    path or an open descriptor of it."""
    libc = ctypes.CDLL(None, use_errno=True)
    with contextlib.ExitStack() as stack:
        fd = target if isinstance(target, int) else stack.enter_context(target.open("rb")).fileno()
        if libc.setns(fd, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {target}: {os.strerror(error)}")


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")


class NetworkNamespace:
    """``ip netns add NAME`` with its loopback up; ``ip netns del NAME`` on exit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = NETNS_DIR / name

    def __enter__(self) -> NetworkNamespace:
        _ip("netns", "add", self.name)
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.remove()

    def remove(self) -> None:
        if self.path.exists():
            _ip("netns", "del", self.name)

    @property
    def podman_network(self) -> str:
        """The ``--network`` value that puts a container into this namespace."""
        return f"ns:{self.path}"

    def listen(self, host: str = "127.0.0.1", port: int = 0, backlog: int = 64) -> socket.socket:
        """A TCP socket listening on ``host:port`` inside this namespace.

        A socket belongs to the namespace of the thread that created it, for its whole life; a helper
        thread enters the namespace (``setns``), creates the socket and ends, leaving the caller's
        threads where they were.
        """
        created: list[socket.socket] = []
        failure: list[OSError] = []

        def create() -> None:
            try:
                enter(self.path)
                server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                server.bind((host, port))
                server.listen(backlog)
                created.append(server)
            except OSError as error:
                failure.append(error)

        thread = threading.Thread(target=create, name=f"setns-{self.name}")
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return created[0]
