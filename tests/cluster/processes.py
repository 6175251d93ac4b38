"""Long-running programs of the test cluster, each started inside the cluster's network namespace.

Every program joins that namespace with ``nsenter --net`` (not ``ip netns exec``, which would also give
it a mount namespace of its own: the kubelet's volume mounts must be seen by containerd), so whatever it
listens on exists only there. Each logs to a file of its own; stopping sends SIGTERM, then SIGKILL after
a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ClusterError(RuntimeError):
    """The test cluster could not be built, started or stopped; the message says where and shows the log."""


def run(argv: Sequence[str], timeout: float = 60, check: bool = True, stdin: bytes | None = None) -> str:
    """Run a short command to its end; with ``check``, a failure raises ClusterError with its output."""
    try:
        result = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"timed out after {timeout:g} s: {' '.join(argv)}") from None
    out = result.stdout.decode(errors="replace")
    if check and result.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return out


def apt_install(packages: Sequence[str]) -> None:
    """apt-get install Debian packages a fresh machine lacks (root only); nothing when none is missing."""
    if not packages:
        return
    if os.geteuid() != 0:
        raise ClusterError(f"missing Debian packages {', '.join(packages)}; installing them needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(argv[:2])} failed: {result.stderr[-2000:]}")


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(what: str, ready: Callable[[], bool], timeout: float, log: Path | None = None) -> None:
    """Poll ``ready`` until it is true; fail after ``timeout`` seconds, showing the end of ``log``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.25)
    shown = f"\n--- {log} ---\n{tail(log)}" if log is not None else ""
    raise ClusterError(f"{what}: not ready after {timeout:g} s{shown}")


@dataclass
class Program:
    """One running program of the cluster."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def check_alive(self) -> bool:
        """True while it runs; once it has exited, ClusterError with the end of its log."""
        if self.process.poll() is not None:
            raise ClusterError(f"{self.name} exited ({self.process.returncode})\n--- {self.log} ---\n{tail(self.log)}")
        return True

    def stop(self, grace: float = 10) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@dataclass
class Supervisor:
    """Starts programs in one network namespace and stops them in reverse order."""

    netns: str
    log_dir: Path
    programs: list[Program] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Program:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as handle:
            process = subprocess.Popen(
                ["nsenter", f"--net=/var/run/netns/{self.netns}", "--", *argv],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        program = Program(name, process, log)
        self.programs.append(program)
        return program

    def check_alive(self) -> None:
        for program in self.programs:
            program.check_alive()

    def stop(self, name: str) -> None:
        for program in self.programs:
            if program.name == name:
                program.stop()

    def stop_all(self) -> None:
        for program in reversed(self.programs):
            program.stop()
        self.programs.clear()
