"""The entrypoint's relay of the engine's log can neither block the endpoint nor lose its last lines.

The chart's entrypoint runs for real (/bin/sh, unprivileged, with the Deployment's env and mounts laid
out by entrypoint_harness.Pod) in a PID namespace of its own, as in a pod: when the process the
entrypoint execs ends, the kernel ends every other process there, the relay included. What it execs is a
stand-in for ``globus-compute-endpoint start`` (the endpoint needs Globus): a Python process, so the
chart's sitecustomize.py applies to it as to the endpoint, that refreshes its PID file and starts "user
endpoint processes" on request, each opening GLOBUS_COMPUTE_LOG_PATH and writing one line, as the
endpoint's user endpoint processes do. A writer whose open() blocks is ended by an alarm after 5 s.
SIGTERM goes to the whole process group, as the image's init (dumb-init) sends it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.entrypoint_harness import RUN_AS, Pod, PodSpec, client_secret_keys, host_tool, render_chart
from support.paths import CI_DIR

# A user endpoint process, cut to its log: open the log (an alarm ends a blocked open), write a line.
WRITER = """
import os, signal, sys
signal.alarm(5)
with open(os.environ["GLOBUS_COMPUTE_LOG_PATH"], "a") as log:
    log.write(f"engine line {sys.argv[1]}\\n")
"""

# The stand-in endpoint: refreshes daemon.pid; a file "write-TAG" in the state directory starts a
# writer for TAG, whose exit code goes to "done-TAG"; at SIGTERM one last writer ("last") and exit.
STANDIN = """
import os, pathlib, signal, subprocess, sys, time
state = pathlib.Path(os.environ["GLOBUS_COMPUTE_USER_DIR"])
endpoint_dir = state / os.environ["GCE_ENDPOINT_NAME"]
endpoint_dir.mkdir(parents=True, exist_ok=True)
writer = pathlib.Path(os.environ["GCE_TEST_WRITER"]).read_text()

def write(tag):
    return subprocess.run([sys.executable, "-c", writer, tag], check=False).returncode

stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
while not stopping:
    (endpoint_dir / "daemon.pid").write_text(f"{os.getpid()}\\n")
    for request in sorted(state.glob("write-*")):
        tag = request.name[len("write-"):]
        request.unlink()
        (state / f"done-{tag}").write_text(str(write(tag)))
    time.sleep(0.1)
write("last")
sys.exit(0)
"""


def processes() -> dict[int, tuple[int, str]]:
    """Every process of this machine: pid -> (parent pid, command name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            parent = int(text[text.rindex(")") + 2 :].split()[1])
            found[int(entry.name)] = (parent, name)
    return found


def descendants(root: int) -> dict[int, tuple[int, str]]:
    table = processes()
    found: dict[int, tuple[int, str]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, name) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = (ppid, name)
                frontier.append(pid)
    return found


@dataclass
class RunningPod:
    """The entrypoint, started in its own PID and mount namespace, with the stand-in endpoint."""

    pod: Pod
    process: subprocess.Popen[str]
    stdout_path: Path
    stderr_path: Path

    def init_pid(self) -> int:
        """The host pid of the namespace's PID 1 (the exec'd stand-in, once the entrypoint is done)."""
        children = [pid for pid, (ppid, _) in processes().items() if ppid == self.process.pid]
        assert len(children) == 1, children
        return children[0]

    def wait_for(self, path: Path, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if path.is_file() and path.read_text():
                return path.read_text()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {path.name}; stderr:\n{self.stderr_path.read_text()[-3000:]}")

    def write(self, tag: str) -> int:
        """Have a user endpoint process open the log and write a line; its exit code (-14: blocked)."""
        request = self.pod.state_dir / f"write-{tag}"
        request.write_text("")
        return int(self.wait_for(self.pod.state_dir / f"done-{tag}"))

    def relay(self) -> tuple[int, int]:
        """Host pids of the relay's loop and of its cat."""
        inside = descendants(self.init_pid())
        cats = [pid for pid, (_, name) in inside.items() if name == "cat"]
        assert len(cats) == 1, inside
        return inside[cats[0]][0], cats[0]

    def probe_live(self) -> subprocess.CompletedProcess[str]:
        """The liveness probe, run inside the pod's namespaces as the kubelet runs it."""
        argv = self.pod.command(self.pod.spec.probes["livenessProbe"])
        command = [
            host_tool("nsenter"), f"--target={self.init_pid()}", "--pid", "--mount", "--",
            host_tool("setpriv"), f"--reuid={RUN_AS.pw_uid}", f"--regid={RUN_AS.pw_gid}", "--clear-groups", "--",
            *argv,
        ]  # fmt: skip
        return subprocess.run(
            command, env=self.pod.environment(), capture_output=True, text=True, check=False, timeout=60
        )

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM to the process group, as dumb-init sends it; the exit code and the outputs."""
        os.killpg(self.process.pid, signal.SIGTERM)
        code = self.process.wait(timeout=60)
        return code, self.stdout_path.read_text(), self.stderr_path.read_text()


@pytest.fixture(scope="module")
def spec(helm_bins: dict[str, Path]) -> PodSpec:
    if os.geteuid() != 0:
        pytest.fail("the entrypoint runs as another user in namespaces of its own: needs root", pytrace=False)
    return PodSpec.from_manifests(render_chart(helm_bins["v3"], CI_DIR / "default-values.yaml"))


@pytest.fixture
def running(spec: PodSpec) -> Iterator[RunningPod]:
    pod = Pod(spec, client_secret_keys())
    tools = Path(tempfile.mkdtemp(prefix="gce-standin-"))
    tools.chmod(0o755)
    standin = tools / "globus-compute-endpoint"
    writer = tools / "writer.py"
    writer.write_text(WRITER, encoding="utf-8")
    # The system's Python: the pod's user cannot enter this machine's virtualenv (under /root).
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python, "the stand-in endpoint needs the system's python3"
    standin.write_text(f"#!{python}\n{STANDIN}", encoding="utf-8")
    standin.chmod(0o755)
    writer.chmod(0o644)
    outputs = Path(tempfile.mkdtemp(prefix="gce-relay-out-"))
    stdout_path, stderr_path = outputs / "stdout", outputs / "stderr"
    environment = pod.environment({"PATH": f"{tools}:{pod.environment()['PATH']}"})
    argv = pod.command()
    command = [
        host_tool("unshare"), "--pid", "--fork", "--mount-proc", "--",
        host_tool("setpriv"), f"--reuid={RUN_AS.pw_uid}", f"--regid={RUN_AS.pw_gid}", "--clear-groups", "--",
        *argv,
    ]  # fmt: skip
    environment["GCE_TEST_WRITER"] = str(writer)
    with stdout_path.open("w") as out, stderr_path.open("w") as err:
        process = subprocess.Popen(
            command,
            env=environment,
            cwd=pod.translate(pod.spec.working_dir),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=True,
        )
    started = RunningPod(pod, process, stdout_path, stderr_path)
    try:
        started.wait_for(pod.endpoint_dir / "daemon.pid")
        yield started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        pod.cleanup()
        shutil.rmtree(tools, ignore_errors=True)
        shutil.rmtree(outputs, ignore_errors=True)


BLOCKED = -signal.SIGALRM


def test_a_killed_relay_is_restarted_and_no_writer_waits(running: RunningPod) -> None:
    assert running.write("before") == 0
    loop, cat = running.relay()

    os.kill(cat, signal.SIGKILL)
    # Written at once, while no cat may be reading yet: the open must not wait for one.
    assert running.write("meanwhile") == 0, "a user endpoint process blocked on opening its log"
    time.sleep(1.5)
    assert running.relay()[0] == loop, "the same loop started a new cat"
    assert running.write("after") == 0
    code, stdout, stderr = running.stop()

    assert code == 0, stderr
    lines = [line for line in stdout.splitlines() if line.startswith("engine line ")]
    assert lines == [f"engine line {tag}" for tag in ("before", "meanwhile", "after", "last")], stdout
    assert "the engine log relay stopped; restarting it" in stderr


def test_the_last_lines_reach_the_output_at_sigterm(running: RunningPod) -> None:
    assert running.write("running") == 0
    code, stdout, stderr = running.stop()

    assert code == 0, stderr
    # Both lines, although the signal reached the relay too and the kernel ends it with the endpoint.
    assert stdout.splitlines()[-2:] == ["engine line running", "engine line last"], stdout


def test_the_liveness_probe_fails_once_the_relay_is_gone_for_good(running: RunningPod) -> None:
    healthy = running.probe_live()
    assert healthy.returncode == 0, healthy.stderr
    loop, cat = running.relay()

    os.kill(loop, signal.SIGKILL)
    os.kill(cat, signal.SIGKILL)
    # Nobody copies the log now, and still no writer waits (the pipe holds 64 KiB)...
    assert running.write("unrelayed") == 0
    broken = running.probe_live()

    # ...but the probe says it, and the kubelet restarts the container.
    assert broken.returncode == 1
    assert "the engine log relay" in broken.stderr and "has stopped" in broken.stderr
