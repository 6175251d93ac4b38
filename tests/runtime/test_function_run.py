"""Functions run by the chart's engine, in worker pods started through the Kubernetes API double.

The engine is configured exactly as the chart configures it: the rendered ConfigMap's template,
rendered by the endpoint's own renderer in the endpoint pod's environment. The pods it asks for are
started as containers of the requested image; nothing here is a cluster.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.conftest import ARTIFACTS, image_values, render, worker_values
from runtime.functions import FunctionRun, RunResult
from runtime.pods import Object, PodmanPodRunner
from runtime.testbed import BuiltImage, Podman

# Small worker pods, and a short idle time so the test sees the engine scale its idle pod in.


@pytest.fixture(scope="module")
def hello_run(
    podman: Podman, endpoint_image: BuiltImage, helm4: Path, tmp_path_factory: pytest.TempPathFactory
) -> RunResult:
    docs = render(helm4, {**worker_values("rt"), **image_values(endpoint_image)}, tmp_path_factory.mktemp("render"))
    return FunctionRun(podman, endpoint_image.reference, docs, name="hello").run()


def explain(run: RunResult) -> str:
    return f"driver exit {run.returncode}; events {json.dumps(run.events)[-3000:]}\nstderr:\n{run.stderr[-6000:]}"


def test_hello_world_returns_hello_world(hello_run: RunResult) -> None:
    assert hello_run.results("hello_world") == ["Hello World!"], explain(hello_run)
    (engine,) = hello_run.of("engine")
    # The chart's own provider (files/gce_release_provider.py), found as the endpoint finds it.
    assert engine == {**engine, "type": "ReleaseComputeEngine", "provider": "ReleaseKubernetesProvider"}


def test_exception_in_function_comes_back_as_that_exception(hello_run: RunResult) -> None:
    errors = hello_run.errors("fail_on_purpose")
    assert len(errors) == 1, explain(hello_run)
    # The worker's traceback, ending in the exception raised, as the SDK hands it to the submitter.
    assert errors[0]["text"].rstrip().endswith("ValueError: raised on purpose in the worker")
    assert errors[0]["code"] == "RemoteExecutionError"
    assert not hello_run.results("fail_on_purpose")


def test_worker_pod_is_the_requested_image_user_and_limits(hello_run: RunResult, endpoint_image: BuiltImage) -> None:
    (create,) = hello_run.double.requests_for("create", "pods")
    pod = create.body
    (container,) = pod["spec"]["containers"]
    assert container["image"] == endpoint_image.reference
    assert container["resources"] == {
        "requests": {"cpu": "0.5", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert container["securityContext"]["runAsUser"] == 1000
    # Started as asked: that image, user, limits, command and args.
    (command,) = hello_run.runner.commands.values()
    line = " ".join(command)
    assert "--user 1000:1000" in line
    assert "--cpus 1 " in line
    assert f"--memory {2**30}b" in line
    assert command[-3:] == [endpoint_image.reference, *container["args"]]
    assert '--entrypoint ["/bin/bash"]' in line
    # The recorded body is kept for the worker-pod checks.
    recorded = sorted((ARTIFACTS / "pods" / "hello").glob("*.json"))
    assert [json.loads(p.read_text())["metadata"]["name"] for p in recorded] == [pod["metadata"]["name"]]
    # Nothing is pip-installed when a worker starts: the image has it all.
    assert "pip install" not in " ".join(container["args"])


def test_idle_worker_pod_is_deleted_and_its_container_removed(hello_run: RunResult) -> None:
    (create,) = hello_run.double.requests_for("create", "pods")
    name = create.body["metadata"]["name"]
    deletes = [r for r in hello_run.double.requests_for("delete", "pods") if r.path.endswith(f"/{name}")]
    assert deletes, explain(hello_run)
    (idle,) = hello_run.of("idle")
    assert set(idle["jobs"].values()) == {"CANCELLED"}, explain(hello_run)
    assert all(not hello_run.runner.exists(c) for c in hello_run.runner.removed)


def test_refused_pod_create_comes_back_as_the_task_error(
    podman: Podman, endpoint_image: BuiltImage, helm4: Path, tmp_path: Path
) -> None:
    # An API server (RBAC, quota, admission) that refuses the worker pod: the task fails with the
    # API's answer instead of waiting forever, and no container was started.
    docs = render(helm4, {**worker_values("rt"), **image_values(endpoint_image)}, tmp_path)
    run = FunctionRun(
        podman, endpoint_image.reference, docs, name="refused-driver", inject=[("create", "pods", 403)],
        driver_args=["--no-error-task", "--idle-wait", "0", "--result-timeout", "120"],
    ).run()  # fmt: skip
    (error,) = run.errors("hello_world")
    assert "(403)" in error["text"]
    assert "Forbidden" in error["text"]
    assert [r.status for r in run.double.requests_for("create", "pods")][:1] == [403]
    assert run.runner.started == {}


@dataclass
class FirstPodNeverRegisters(PodmanPodRunner):
    """Runs the engine's first worker pod with a command that idles instead of starting the worker, and
    every later pod as asked: the task waits for a worker when the first pod is deleted, rather than
    being in flight on it (a task on a worker that vanishes is lost with it; that is not tested here)."""

    def start(self, pod: Object) -> None:
        if self.started:
            super().start(pod)
            return
        idle = copy.deepcopy(pod)
        (container,) = idle["spec"]["containers"]
        container["args"] = ["-c", "sleep 3600"]
        super().start(idle)


def test_a_deleted_worker_pod_is_replaced_and_the_task_completes(
    podman: Podman, endpoint_image: BuiltImage, helm4: Path, tmp_path: Path
) -> None:
    # maxBlocks 1: before the fix the engine kept the deleted pod's block as running, never started
    # another, and the task waited for the result timeout.
    docs = render(helm4, {**worker_values("rtlost"), **image_values(endpoint_image)}, tmp_path)
    run = FunctionRun(
        podman, endpoint_image.reference, docs, name="lost-pod", runner_type=FirstPodNeverRegisters,
        driver_args=["--delete-running-pod", "--no-error-task", "--idle-wait", "0", "--result-timeout", "240"],
        timeout=420,
    ).run()  # fmt: skip

    (deleted,) = run.of("deleted")
    creates = [r.body["metadata"]["name"] for r in run.double.requests_for("create", "pods")]
    assert len(creates) == 2 and creates[0] == deleted["pod"], explain(run)
    # The provider read the deleted pod once more and was told it is gone...
    reads = [r.status for r in run.double.requests_for("get", "pods") if r.path.endswith("/" + deleted["pod"])]
    assert 404 in reads, explain(run)
    # ...and the engine's replacement ran the task.
    assert run.results("hello_world") == ["Hello World!"], explain(run)
    (result,) = run.of("result")
    assert result["time"] > deleted["time"]
