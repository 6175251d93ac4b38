"""Worker pods of the release, as the real engine asks for them through the Kubernetes API double.

- Only this release's workers reach the interchange: next to the engine's own worker pod a rogue runs
  the same worker command in the same network, with a key pair of its own (and the server's public key,
  which is no secret). The engine's worker runs the tasks; the rogue never becomes one of its workers,
  while a control with the release's (stolen) client key does.
- Worker trouble shows in the endpoint container's output: with every pod create refused by the double,
  the engine container, started through the chart's entrypoint, prints the provider's line about it.
- What the provider really sends passes kubernetes-validate --strict (1.25 and the newest), checkov
  (only the explained skips fail), the restricted Pod Security profile field by field, and is namespaced.

Nothing here is a cluster: the double stores objects and starts pods as podman containers.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runtime.conftest import image_values, render, worker_values
from runtime.functions import FunctionRun, RunResult
from runtime.pods import Object, PodmanPodRunner
from runtime.testbed import BuiltImage, Podman
from support.checkov import checkov_executable
from support.worker_pod_checks import (
    WORKER_CHECKOV_SKIPS,
    checkov_report,
    kubernetes_problems,
    namespaced,
    restricted_profile_problems,
    unexplained_failures,
)

HOLD_SECONDS = 20
ROGUE = "rogue"
THIEF = "thief"


@dataclass
class RogueAlongside(PodmanPodRunner):
    """Starts the engine's pods, and next to the first one two impostor workers.

    Both run the worker command the engine gave its own pod, in the same network, with a block id of
    their own, and are told the server's public key (from the keys Secret; it is no secret). The rogue
    has a CurveZMQ key pair it made itself, as any pod of the cluster could; the thief has the release's
    client key, as if stolen from the Secret: the control that shows the keys, and nothing else, decide.
    """

    started_at: dict[str, float] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)

    def start(self, pod: Object) -> None:
        super().start(pod)
        if not self.started_at:
            for role in (ROGUE, THIEF):
                self._start_impostor(pod, role)

    def stop(self, pod: Object) -> None:
        for role in self.started_at:
            if role in self.states:
                continue
            name = f"{self.label}-{role}"
            inspected = self.podman.run("container", "inspect", "--format", "{{.State.Status}}", name, check=False)
            self.states[role] = inspected.stdout.strip()
            logs = self.podman.run("logs", name, check=False, timeout=60)
            self.logs[role] = logs.stdout + logs.stderr
            if self.logs_dir is not None:
                self.logs_dir.mkdir(parents=True, exist_ok=True)
                text = f"state: {self.states[role]}\n{self.logs[role]}"
                (self.logs_dir / f"{role}.log").write_text(text, encoding="utf-8")
        super().stop(pod)

    def _start_impostor(self, pod: Object, role: str) -> None:
        (container,) = pod["spec"]["containers"]
        launch = [line for line in container["args"][1].splitlines() if line.strip()][-1]
        launch = re.sub(r"--block_id=\S+", f"--block_id={role}", launch)
        (volume,) = pod["spec"]["volumes"]
        assert self.lookup is not None
        secret = self.lookup("secrets", pod["metadata"]["namespace"], volume["secret"]["secretName"])
        assert secret is not None
        # The files the release's worker mounts: its engine's entries of the Secret (items).
        items = volume["secret"]["items"]
        keys = {item["path"]: base64.b64decode(secret["data"][item["key"]]).decode() for item in items}
        client_key = keys["client.key_secret"] if role == THIEF else ""
        script = "\n".join(
            [
                'cert_dir="$(mktemp -d)"',
                'if [ -n "$CLIENT_KEY" ]; then printf "%s" "$CLIENT_KEY" > "$cert_dir/client.key_secret"; else',
                '  python3 -c \'import sys, zmq.auth as a; a.create_certificates(sys.argv[1], "client")\' "$cert_dir"',
                "fi",
                'printf "%s" "$SERVER_KEY" > "$cert_dir/server.key_secret"',
                f"exec {launch}",
            ]
        )
        self.podman.run(
            "run", "--detach", "--pull=never", "--name", f"{self.label}-{role}", "--network", self.network,
            "--label", f"{self.label}=1", "--user", "1000:1000", "--cap-drop", "ALL",
            "--env", f"SERVER_KEY={keys['server.key_secret']}", "--env", f"CLIENT_KEY={client_key}",
            "--entrypoint", '["/bin/bash"]', container["image"], "-c", script, timeout=120,
        )  # fmt: skip
        self.started_at[role] = time.time()


def explain(run: RunResult) -> str:
    return f"driver exit {run.returncode}; events {json.dumps(run.events)[-3000:]}\nstderr:\n{run.stderr[-6000:]}"


@pytest.fixture(scope="module")
def rogue_run(
    podman: Podman, endpoint_image: BuiltImage, helm4: Path, tmp_path_factory: pytest.TempPathFactory
) -> RunResult:
    # The worker must outlive the hold: no scale-in while it is idle between the two tasks.
    values = {**worker_values("rtpods"), "maxIdleTime": 600, **image_values(endpoint_image)}
    docs = render(helm4, values, tmp_path_factory.mktemp("render"))
    return FunctionRun(
        podman,
        endpoint_image.reference,
        docs,
        name="rogue",
        runner_type=RogueAlongside,
        driver_args=["--tasks", "2", "--hold", str(HOLD_SECONDS), "--no-error-task", "--idle-wait", "0"],
    ).run()


def test_rogue_worker_is_refused_while_the_releases_worker_runs_tasks(rogue_run: RunResult) -> None:
    runner = rogue_run.runner
    assert isinstance(runner, RogueAlongside)
    assert set(runner.started_at) == {ROGUE, THIEF}, "no impostor started: the engine asked for no pod"
    assert rogue_run.results("hello_world") == ["Hello World!", "Hello World!"], explain(rogue_run)
    managers = rogue_run.of("managers")
    assert len(managers) == 2, explain(rogue_run)
    # The last count comes after the impostors had HOLD_SECONDS to register.
    assert managers[-1]["time"] - max(runner.started_at.values()) >= HOLD_SECONDS / 2, explain(rogue_run)
    # The thief, with the release's client key, got in: the setup works, and keys are what decide...
    assert managers[-1]["blocks"] == sorted(["0", THIEF]), explain(rogue_run)
    # ...and the rogue, with keys of its own, never did: the interchange did not even answer the probe
    # Parsl's worker makes before it registers (it gives up with "No viable ZMQ url"), or it still waits.
    assert all(ROGUE not in event["blocks"] for event in managers), explain(rogue_run)
    rogue = f"{runner.states.get(ROGUE)}: {runner.logs.get(ROGUE, '')[-2000:]}"
    assert runner.states.get(ROGUE) == "running" or "No viable ZMQ url" in runner.logs.get(ROGUE, ""), rogue


def test_the_releases_worker_got_its_keys_from_the_secret(rogue_run: RunResult) -> None:
    (create,) = rogue_run.double.requests_for("create", "pods")
    patch, withdraw = rogue_run.double.requests_for("patch", "secrets")
    assert patch.status == 200 and create.status == 201 and withdraw.status == 200
    assert patch.time < create.time, "the keys must be in the Secret before the pod that mounts them"
    (volume,) = create.body["spec"]["volumes"]
    assert patch.path.endswith("/secrets/" + volume["secret"]["secretName"])
    # The engine's own entries, which its pod mounts as the files Parsl's worker reads...
    items = volume["secret"]["items"]
    assert {item["path"] for item in items} == {"client.key_secret", "server.key_secret"}
    assert set(patch.body["data"]) == {item["key"] for item in items}
    # ...removed when the engine process ended.
    assert withdraw.body["data"] == dict.fromkeys(patch.body["data"])


def test_recorded_requests_are_namespaced(rogue_run: RunResult) -> None:
    for request in rogue_run.double.requests:
        if request.path.startswith("/api"):
            assert "/namespaces/" in request.path, request.path
    for create in rogue_run.double.requests_for("create", "pods"):
        assert namespaced(create.body)


def recorded_pods(run: RunResult) -> list[Object]:
    return [request.body for request in run.double.requests_for("create", "pods")]


def test_recorded_pods_are_valid_kubernetes(rogue_run: RunResult) -> None:
    pods = recorded_pods(rogue_run)
    assert pods
    for pod in pods:
        assert kubernetes_problems(pod) == []


def test_recorded_pods_meet_the_restricted_profile(rogue_run: RunResult) -> None:
    for pod in recorded_pods(rogue_run):
        assert restricted_profile_problems(pod) == []
        assert pod["spec"]["restartPolicy"] == "Never"
        assert pod["spec"]["automountServiceAccountToken"] is False
        (owner,) = pod["metadata"]["ownerReferences"]
        assert owner["kind"] == "ConfigMap" and owner["name"].endswith("-workers")


def test_recorded_pods_pass_checkov_but_the_explained_skips(
    rogue_run: RunResult, helm4: Path, endpoint_image: BuiltImage, tmp_path: Path
) -> None:
    checkov = checkov_executable()
    docs = render(helm4, {**worker_values("rtpods"), **image_values(endpoint_image)}, tmp_path / "render")
    policies = [doc for doc in docs if doc["kind"] == "NetworkPolicy"]

    report = checkov_report(checkov, [*recorded_pods(rogue_run), *policies], tmp_path)

    assert report["summary"]["passed"] > 0
    assert unexplained_failures(report) == []
    failed = {check["check_id"] for check in report["results"]["failed_checks"]}
    assert failed <= set(WORKER_CHECKOV_SKIPS)


@pytest.fixture(scope="module")
def refused_run(
    podman: Podman, endpoint_image: BuiltImage, helm4: Path, tmp_path_factory: pytest.TempPathFactory
) -> RunResult:
    docs = render(helm4, {**worker_values("rtpods"), **image_values(endpoint_image)}, tmp_path_factory.mktemp("render"))
    return FunctionRun(
        podman,
        endpoint_image.reference,
        docs,
        name="refused-entrypoint",
        inject=[("create", "pods", 403)],
        through_entrypoint=True,
        driver_args=["--tasks", "1", "--no-error-task", "--idle-wait", "0", "--result-timeout", "60"],
        timeout=300,
    ).run()


def test_refused_pod_create_shows_in_the_endpoint_containers_output(refused_run: RunResult) -> None:
    refusals = refused_run.double.requests_for("create", "pods")
    assert refusals and {r.status for r in refusals} == {403}, explain(refused_run)
    lines = [line for line in refused_run.stdout.splitlines() if "worker pod not created" in line]
    assert lines, f"not in the container's output:\n{refused_run.stdout[-4000:]}"
    assert "403" in lines[0] and "Forbidden" in lines[0]
    # It came through the entrypoint's relay of the engine's log file, not from the driver itself.
    assert "starting endpoint" in refused_run.stderr, refused_run.stderr[-2000:]
