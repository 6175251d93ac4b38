"""The entrypoint's relay of the engine's log, in the chart's endpoint pod on the real control plane.

The endpoint's user endpoint processes log to GLOBUS_COMPUTE_LOG_PATH, which the chart's entrypoint
makes a FIFO that a relay (a loop around ``cat``) copies to the container's output, where ``kubectl
logs`` and ``slate instance logs`` show it. The pod is the chart's, with its entrypoint, probes, dumb-init
as PID 1 and the kubelet's own signals; the endpoint is the stand-in (``e2e/endpoint_standin.py``:
it writes the PID file and ``endpoint.json`` as the endpoint does, and starts user endpoint processes,
engine drivers that log with the endpoint's own logging set-up, each in a session of its own as the
endpoint starts them). The test reaches into the pod only with ``kubectl exec`` (to kill the relay, to
ask for a user endpoint process) and deletes the pod as a user would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e import engine, manifests, pods
from e2e.kube import E2eCluster
from e2e.release import InstallRelease, Release
from e2e.settings import Credentials
from e2e.waits import wait_for

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])
STEP_TIMEOUT = 300.0
# A user endpoint process that starts no task until asked, and stays up until SIGTERM.
IDLE_UEP = ["--tasks", "0", "--no-error-task", "--idle-wait", "0", "--batches-on-signal"]
# One that runs one task on a worker pod at once.
BUSY_UEP = ["--function", "where", "--tasks", "1", "--no-error-task", "--idle-wait", "0", "--batches-on-signal"]
# Kill the relay's cat (with "all", first the loop that would start another), prints what it killed;
# without "all", then asks at once for the user endpoint process named by the second argument.
KILL_RELAY = """
read -r loop <"$GLOBUS_COMPUTE_USER_DIR/log-relay.pid"
for stat in /proc/[0-9]*/stat; do
    read -r pid comm _ parent _ <"$stat" || continue
    if [ "$parent" = "$loop" ] && [ "$comm" = "(cat)" ]; then cat_pid=$pid; fi
done
if [ "$1" = all ]; then kill -KILL "$loop" && echo "loop $loop"; fi
kill -KILL "$cat_pid" && echo "cat $cat_pid"
if [ "$1" != all ]; then : >"$GLOBUS_COMPUTE_USER_DIR/uep-requests/$2"; fi
"""
RESTARTED = "gce-entrypoint: the engine log relay stopped; restarting it"


def last_log_of(name: str) -> str:
    """The last line a user endpoint process (the engine driver) logs before it exits."""
    return f"user endpoint {name}: engine stopped"


def start(
    cluster: E2eCluster, install_release: InstallRelease, run_labels: dict[str, str], ueps: dict[str, Any]
) -> tuple[Release, dict[str, Any]]:
    """Install, run the endpoint stand-in with these user endpoint processes, wait until ``first`` waits."""
    release = install_release(credentials=DUMMY)
    engine.run_endpoint(cluster.kubectl, release, ueps, run_labels)
    engine.wait_until(
        cluster.kubectl,
        release,
        "user endpoint process first to wait",
        lambda events: bool(engine.of_engine(events, "first", "waiting")),
        STEP_TIMEOUT,
    )
    pod = engine.driver_pod(cluster.kubectl, release)
    assert pod is not None
    return release, pod


def test_a_killed_relay_is_restarted_and_later_lines_reach_kubectl_logs(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    kubectl = cluster.kubectl
    ueps = {"first": {"args": IDLE_UEP, "at_start": True}, "second": {"args": BUSY_UEP, "at_start": False}}
    release, pod = start(cluster, install_release, run_labels, ueps)

    # The relay's cat killed; at once, before a new cat can read, a new user endpoint process starts,
    # opens the log and runs a task, whose worker pod the provider reports in the log.
    killed = engine.exec_in(kubectl, release, pod, KILL_RELAY, "cat", "second")
    assert killed.startswith("cat "), killed
    events, log = engine.wait_until(
        kubectl,
        release,
        "the task of user endpoint process second",
        lambda ev: bool(engine.of_engine(ev, "second", "waiting")),
        STEP_TIMEOUT,
    )
    (result,) = [e["value"] for e in engine.of_engine(events, "second", "result")]
    # And the first one, which had the log open before, writes its last lines after the kill too.
    (first,) = engine.of_engine(events, "first", "started")
    engine.signal_uep(kubectl, release, pod, first["pid"], "TERM")
    events, log = engine.wait_until(
        kubectl,
        release,
        "user endpoint process first to exit",
        lambda ev: bool(engine.of_engine(ev, "first", "driver-exit")),
        STEP_TIMEOUT,
    )

    # Both lines were written after the kill (second started after it; first logs its last line at
    # SIGTERM), so only a relay that came back can have copied them.
    namespace = release.worker_identity().namespace
    created = [line for line in log.splitlines() if f"worker pod {namespace}/{result['pod']}" in line]
    assert created and created[0].endswith(" created"), log[-4000:]
    assert last_log_of("first") in log, log[-4000:]
    assert RESTARTED in log and log.index(RESTARTED) < log.index(created[0]), log[-4000:]


def test_the_last_lines_before_sigterm_reach_the_container_log(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str], tmp_path: Path
) -> None:
    kubectl = cluster.kubectl
    release, pod = start(cluster, install_release, run_labels, {"first": {"args": IDLE_UEP, "at_start": True}})
    container = manifests.first_container_of(release.deployment)
    name = pod["metadata"]["name"]
    followed = tmp_path / "followed.log"

    # The container's log, followed until the container ends; then the pod deleted, so the kubelet sends
    # SIGTERM (to dumb-init, which passes it on to the endpoint's process group).
    with followed.open("w") as out:
        argv = [str(kubectl.binary), f"--kubeconfig={kubectl.kubeconfig}", "logs", name, "--follow"]
        follow = subprocess.Popen(
            [*argv, f"--namespace={release.namespace}", f"--container={container}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for("kubectl logs --follow to start", lambda: (followed.stat().st_size or None, ""), 60, 0.2)
            kubectl.run("delete", "pod", name, f"--namespace={release.namespace}", "--wait=false")
            follow.wait(timeout=120)
        finally:
            if follow.poll() is None:
                follow.kill()
                follow.wait()
    log = followed.read_text(encoding="utf-8", errors="replace")

    # The stand-in passed SIGTERM on to the user endpoint process, which shut its engine down and logged
    # its last line through the relay; the stand-in's own last line (on stderr) follows it.
    lines = log.splitlines()
    stopped = [i for i, line in enumerate(lines) if last_log_of("first") in line]
    finished = [i for i, line in enumerate(lines) if "Finished HighThroughputExecutor shutdown attempt" in line]
    complete = [i for i, line in enumerate(lines) if "shutdown complete" in line]
    assert stopped and finished and complete, log[-4000:]
    assert finished[0] < stopped[0] < complete[0], log[-4000:]


def test_the_probes_turn_red_when_the_relay_is_gone_for_good(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    kubectl = cluster.kubectl
    release, _ = start(cluster, install_release, run_labels, {"first": {"args": IDLE_UEP, "at_start": True}})
    container = manifests.first_container_of(release.deployment)

    def current() -> dict[str, Any]:
        pod = engine.driver_pod(kubectl, release)
        assert pod is not None
        return pod

    def restarts(pod: dict[str, Any]) -> int:
        status = pods.container_status(pod, container) or {}
        return int(status.get("restartCount", 0))

    ready = wait_for(
        "the endpoint pod to be ready",
        lambda: ((pod if pods.is_ready(pod := current()) else None), pods.summary(pod)),
        STEP_TIMEOUT,
    )
    assert restarts(ready) == 0
    killed = engine.exec_in(kubectl, release, ready, KILL_RELAY, "all", "")
    assert killed.startswith("loop ") and "\ncat " in killed, killed

    # Readiness fails within two of its periods (15 s), liveness within three of its (30 s): the kubelet
    # restarts the container.
    wait_for(
        "the endpoint pod to become not ready",
        lambda: ((True if not pods.is_ready(pod := current()) else None), pods.summary(pod)),
        120,
    )
    wait_for(
        "the kubelet to restart the endpoint container",
        lambda: ((True if restarts(pod := current()) >= 1 else None), pods.summary(pod)),
        240,
    )
    selector = f"--field-selector=involvedObject.name={ready['metadata']['name']}"
    listed = kubectl.get("events", f"--namespace={release.namespace}", selector)
    messages = [event.get("message", "") for event in listed.get("items", [])]
    liveness = [m for m in messages if m.startswith("Liveness probe failed") and "the engine log relay" in m]
    assert liveness, messages
