"""The cleanup hook deletes this release's worker pods and nobody else's.

``files/cleanup.py`` runs in the endpoint image at uninstall time; its selection is tested here on
real ``kubernetes.client.V1Pod`` objects, named and labelled the way Parsl's KubernetesProvider
makes worker pods (``<pod_name>.<job id>``, label ``parsl-job-id``, the chart's owner annotation).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod

from support.chartrender import HELM_VERSIONS, VALUE_SETS, HelmRenderer, containers, env_of
from support.paths import CHART_DIR

OWNER_KEY = "globus-compute.slateci.io/owner"
RELEASE = "globus-compute-endpoint-atlas"
PREFIX = f"{RELEASE}-worker"
OWNER = f"slate-group-demo/{RELEASE}"


@pytest.fixture(scope="module")
def cleanup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gce_cleanup", CHART_DIR / "files" / "cleanup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve the script's annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def worker_pod(job_id: str, *, prefix: str = PREFIX, owner: str | None = OWNER, label: bool = True) -> V1Pod:
    """A pod as KubernetesProvider creates it (name, label and the annotations the chart configures)."""
    return V1Pod(
        metadata=V1ObjectMeta(
            name=f"{prefix}.{job_id}",
            labels={"parsl-job-id": job_id} if label else {"app": "something-else"},
            annotations={OWNER_KEY: owner} if owner is not None else None,
        )
    )


def test_selects_this_releases_workers(cleanup: ModuleType) -> None:
    pods = [worker_pod("1700000000.2"), worker_pod("1700000000.1")]

    assert cleanup.select_workers(pods, PREFIX, OWNER_KEY, OWNER) == [
        f"{PREFIX}.1700000000.1",
        f"{PREFIX}.1700000000.2",
    ]


@pytest.mark.parametrize(
    "pod",
    [
        worker_pod(
            "7", prefix="globus-compute-endpoint-cms-worker", owner="slate-group-demo/globus-compute-endpoint-cms"
        ),
        # Another release whose name starts like ours.
        worker_pod("7", prefix=f"{RELEASE}2-worker", owner=f"slate-group-demo/{RELEASE}2"),
        # Our name prefix, but started by a same-named release in another namespace.
        worker_pod("7", owner=f"slate-group-other/{RELEASE}"),
        # Our name prefix, but no owner annotation at all.
        worker_pod("7", owner=None),
        # Our name and annotation, but not a Parsl worker.
        worker_pod("7", label=False),
        # Parsl's label and our annotation, but a name outside our prefix.
        worker_pod("7", prefix=f"{PREFIX}-extra"),
        V1Pod(metadata=V1ObjectMeta(name=f"{PREFIX}.8", labels=None, annotations=None)),
    ],
    ids=[
        "other-release",
        "release-sharing-a-prefix",
        "other-namespace-owner",
        "no-owner-annotation",
        "no-parsl-label",
        "longer-prefix",
        "bare-pod",
    ],
)
def test_leaves_other_pods_alone(cleanup: ModuleType, pod: V1Pod) -> None:
    assert cleanup.is_our_worker(pod, PREFIX, OWNER_KEY, OWNER) is False
    assert cleanup.select_workers([pod, worker_pod("9")], PREFIX, OWNER_KEY, OWNER) == [f"{PREFIX}.9"]


@pytest.mark.parametrize("set_name", ["default", "full"])
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_job_environment_is_what_the_script_reads(
    cleanup: ModuleType, chart: HelmRenderer, helm: str, set_name: str
) -> None:
    value_set = VALUE_SETS[set_name]
    rendered = chart.render_set(helm, value_set)
    job = rendered.one("Job")
    env = {name: entry["value"] for name, entry in env_of(containers(job)[0]).items()}

    settings = cleanup.Settings.from_env(env)

    assert settings.release_namespace == rendered.namespace
    assert settings.deployment == rendered.deployment["metadata"]["name"]
    assert settings.worker_namespace == value_set.worker_namespace
    assert settings.worker_prefix == f"{value_set.release}-worker"
    # The script must give up before Kubernetes kills the job at its deadline.
    assert 0 < settings.timeout_seconds < job["spec"]["activeDeadlineSeconds"]
    endpoint_labels = rendered.deployment["spec"]["template"]["metadata"]["labels"]
    selector = dict(term.split("=", 1) for term in settings.endpoint_selector.split(","))
    assert selector.items() <= endpoint_labels.items()
    cleanup_labels = job["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= cleanup_labels.items(), "the job would wait for itself to stop"
