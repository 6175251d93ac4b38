"""Start the real endpoint through the entrypoint, offline, and watch where it first goes.

Run as root inside fresh mount and network namespaces (``unshare --mount --net``), with a JSON spec
on stdin: ``argv``, ``env``, ``cwd``, ``uid``, ``gid``, ``deadline_seconds``, ``staging`` (a root-only
scratch directory). The network namespace has only a loopback interface, where a tiny HTTPS proxy
listens; the endpoint is pointed at it through HTTPS_PROXY. The proxy records each request line
(``CONNECT host:port HTTP/1.1``: a host name, never credentials, which travel inside TLS) and refuses
it. Once the first request arrives, or the endpoint exits, or the deadline passes, the runner notes
which program the spawned process is running (the entrypoint must have exec'd the endpoint), sends it
SIGTERM, and prints a JSON report on stdout.

If the interpreter lies under a directory the unprivileged user may not enter (a pyenv in /root),
that directory is covered, in this mount namespace only, by a tmpfs holding just the needed entries.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = "16sH14x"


def bring_up_loopback() -> None:
    """A new network namespace starts with its loopback interface down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def expose_to_others(targets: list[Path], staging: Path) -> list[str]:
    """Make each target path reachable for any user by covering closed ancestors with a tmpfs."""
    covered: list[str] = []
    depth = 1
    while any(len(t.parts) > depth + 1 for t in targets):
        ancestors = {Path(*t.parts[: depth + 1]) for t in targets if len(t.parts) > depth + 1}
        for ancestor in sorted(ancestors):
            if os.stat(ancestor).st_mode & 0o001:
                continue
            children = sorted({t.parts[depth + 1] for t in targets if Path(*t.parts[: depth + 1]) == ancestor})
            kept: list[tuple[str, Path, bool]] = []
            for index, child in enumerate(children):
                keep = staging / f"keep-{depth}-{index}"
                is_dir = (ancestor / child).is_dir()
                if is_dir:
                    keep.mkdir()
                else:
                    keep.touch()
                _mount("--bind", str(ancestor / child), str(keep))
                kept.append((child, keep, is_dir))
            _mount("-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", str(ancestor))
            for child, keep, is_dir in kept:
                if is_dir:
                    (ancestor / child).mkdir()
                else:
                    (ancestor / child).touch()
                _mount("--bind", str(keep), str(ancestor / child))
            covered.append(str(ancestor))
        depth += 1
    return covered


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


class RefusingProxy:
    """Accept HTTP proxy requests on loopback, record their request lines, refuse them all."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.first_request = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self.port: int = self._server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            connection, _ = self._server.accept()
            with connection:
                connection.settimeout(5)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = connection.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                    self.first_request.set()
                    connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    continue


def main() -> int:
    spec: dict[str, Any] = json.load(sys.stdin)
    staging = Path(spec["staging"])
    bring_up_loopback()
    interpreter = Path(os.path.realpath(sys.executable))
    covered = expose_to_others([interpreter, Path(os.path.realpath(sys.base_prefix)) / "lib"], staging)
    proxy = RefusingProxy()
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    env = dict(spec["env"])
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env[name] = proxy_url
    stdout_path, stderr_path = staging / "stdout", staging / "stderr"
    started = time.monotonic()
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [
                "setpriv",
                f"--reuid={spec['uid']}",
                f"--regid={spec['gid']}",
                "--clear-groups",
                "--",
                *spec["argv"],
            ],
            env=env,
            cwd=spec["cwd"],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
        deadline = started + float(spec["deadline_seconds"])
        while time.monotonic() < deadline and process.poll() is None and not proxy.first_request.is_set():
            proxy.first_request.wait(0.1)
        seconds_to_event = time.monotonic() - started
        program = None
        if process.poll() is None:
            try:
                program = os.readlink(f"/proc/{process.pid}/exe")
            except OSError:
                program = None
        exited_by_itself = process.poll() is not None
        stopped_by_sigterm = False
        if not exited_by_itself:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
                stopped_by_sigterm = True
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    report = {
        "requests": proxy.requests,
        "program": program,
        "exited_by_itself": exited_by_itself,
        "stopped_by_sigterm": stopped_by_sigterm,
        "returncode": process.returncode,
        "seconds_to_event": round(seconds_to_event, 2),
        "covered": covered,
        "stdout": stdout_path.read_text(errors="replace"),
        "stderr": stderr_path.read_text(errors="replace"),
    }
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
