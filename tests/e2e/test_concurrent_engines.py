"""Two engines of one release at once, each with its own worker keys, on the real control plane.

The endpoint runs one user endpoint process per identity and configuration, each with its own engine,
interchange and CurveZMQ keys, and all of them start worker pods that mount the one
``<release>-worker-keys`` Secret. Here the chart's endpoint pod runs the endpoint stand-in
(``e2e/endpoint_standin.py``) with two user endpoint processes, ``alpha`` and ``beta`` (engine drivers
with the chart's engine and provider, through the chart's ServiceAccount), which start worker pods in
rounds the test sets going for both at once, so the two engines' pods are created interleaved. Each
task returns the name of the pod that ran it and the interchange key in the keys that pod mounted.

Had the engines shared the Secret's entries, a pod would mount the other engine's keys (the last
patch wins) and never register: its task would not return, its Secret volume would name the same
entries as the other engine's pods, and the Secret would hold one engine's keys, not two.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import pytest

from e2e import engine, manifests
from e2e.access import AccessCheck
from e2e.kube import E2eCluster, Kubectl, PodWatch
from e2e.release import InstallRelease, Release
from e2e.settings import Credentials

pytestmark = pytest.mark.e2e

DUMMY = Credentials(engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_ID"], engine.CREDENTIALS["GLOBUS_COMPUTE_CLIENT_SECRET"])
STEP_TIMEOUT = 420.0
ENGINES = ("alpha", "beta")
# Each round: one task on a new worker pod, then the wait until the engine has scaled that pod in, so
# the next round needs a new one. The user endpoint processes stay up until SIGTERM.
UEP_ARGS = ["--function", "where", "--no-error-task", "--idle-wait", "180", "--result-timeout", "300"]
UEP_ARGS += ["--batches-on-signal"]
CLIENT_KEY, SERVER_KEY = "client.key_secret", "server.key_secret"


def keys_items(pod: dict[str, Any]) -> list[dict[str, str]]:
    """The ``items`` of the pod's worker-keys Secret volume (all of the Secret when there are none)."""
    (volume,) = [v for v in pod["spec"].get("volumes", []) if v["name"] == "worker-keys"]
    items: list[dict[str, str]] = volume["secret"].get("items", [])
    return items


def entries_of(key_id: str) -> set[str]:
    return {f"{key_id}.{CLIENT_KEY}", f"{key_id}.{SERVER_KEY}"}


def secret_entries(kubectl: Kubectl, namespace: str, name: str) -> dict[str, str]:
    secret = kubectl.get("secret", name, f"--namespace={namespace}")
    return {key: base64.b64decode(value).decode("ascii") for key, value in (secret.get("data") or {}).items()}


def switches(sequence: list[str]) -> int:
    """How often the engine changes from one pod creation to the next."""
    return sum(1 for before, after in itertools.pairwise(sequence) if before != after)


def endpoint_may_not_touch_secrets(kubectl: Kubectl, release: Release, namespace: str, keys: str) -> list[str]:
    """The checks of the endpoint's ServiceAccount on Secrets it must not have that came out otherwise."""
    account = release.deployment["spec"]["template"]["spec"]["serviceAccountName"]
    checks = [
        AccessCheck(release.namespace, account, "create", "secrets", namespace, False),
        AccessCheck(release.namespace, account, "list", "secrets", namespace, False),
        AccessCheck(release.namespace, account, "get", "secrets", namespace, False, name=keys),
    ]
    return [str(check) for check in checks if kubectl.can_i(check) != check.expected]


def test_two_engines_of_one_release_keep_their_own_worker_keys(
    install_release: InstallRelease, cluster: E2eCluster, run_labels: dict[str, str]
) -> None:
    kubectl = cluster.kubectl
    release = install_release(credentials=DUMMY, extra_values={"maxIdleTime": 5})
    workers = release.worker_identity()
    ueps = {name: {"args": UEP_ARGS, "at_start": True} for name in ENGINES}

    with PodWatch(kubectl, workers.namespace, manifests.PARSL_JOB_LABEL) as watch:
        engine.run_endpoint(kubectl, release, ueps, run_labels)
        # Round 1 runs at start; round 2 on SIGUSR1 to both at once.
        current, log = engine.wait_until(
            kubectl, release, "round 1 of both engines", lambda ev: all(waiting_in(ev, n, 1) for n in ENGINES),
            STEP_TIMEOUT,
        )  # fmt: skip
        pod = engine.driver_pod(kubectl, release)
        assert pod is not None
        started = {name: engine.of_engine(current, name, "started")[0] for name in ENGINES}
        for name in ENGINES:
            engine.signal_uep(kubectl, release, pod, started[name]["pid"], "USR1")
        current, log = engine.wait_until(
            kubectl, release, "round 2 of both engines", lambda ev: all(waiting_in(ev, n, 2) for n in ENGINES),
            STEP_TIMEOUT,
        )  # fmt: skip
        both_running = secret_entries(kubectl, workers.namespace, workers.keys_secret)

        # alpha stops (SIGTERM, as the endpoint stops a user endpoint process); beta runs a round after it.
        engine.signal_uep(kubectl, release, pod, started["alpha"]["pid"], "TERM")
        current, log = engine.wait_until(
            kubectl, release, "alpha to exit", lambda ev: bool(engine.of_engine(ev, "alpha", "driver-exit")),
            STEP_TIMEOUT,
        )  # fmt: skip
        beta_alone = secret_entries(kubectl, workers.namespace, workers.keys_secret)
        engine.signal_uep(kubectl, release, pod, started["beta"]["pid"], "USR1")
        current, log = engine.wait_until(
            kubectl, release, "beta's round 3", lambda ev: waiting_in(ev, "beta", 3), STEP_TIMEOUT
        )
        engine.signal_uep(kubectl, release, pod, started["beta"]["pid"], "TERM")
        current, log = engine.wait_until(
            kubectl, release, "beta to exit", lambda ev: bool(engine.of_engine(ev, "beta", "driver-exit")),
            STEP_TIMEOUT,
        )  # fmt: skip
        after_both = secret_entries(kubectl, workers.namespace, workers.keys_secret)
        pods = [p for p in watch.pods() if manifests.is_release_worker(p, workers)]

    key_ids = {name: started[name]["key_id"] for name in ENGINES}
    assert key_ids["alpha"] != key_ids["beta"]
    # Every worker pod mounts exactly one engine's two entries, as client.key_secret and server.key_secret.
    engine_of_pod: dict[str, str] = {}
    for worker in pods:
        items = {item["key"]: item["path"] for item in keys_items(worker)}
        owners = [name for name in ENGINES if set(items) == entries_of(key_ids[name])]
        assert len(owners) == 1, f"{worker['metadata']['name']} mounts {items}, not one engine's entries {key_ids}"
        assert sorted(items.values()) == [CLIENT_KEY, SERVER_KEY]
        engine_of_pod[worker["metadata"]["name"]] = owners[0]
    # Each round's task ran on a pod of its own engine, whose keys open that engine's interchange.
    for name in ENGINES:
        results = [e["value"] for e in engine.of_engine(current, name, "result")]
        assert len(results) == (3 if name == "beta" else 2), log[-5000:]
        for result in results:
            pod_name = next((p for p in engine_of_pod if p.startswith(result["pod"])), None)
            assert pod_name is not None and engine_of_pod[pod_name] == name, (result, engine_of_pod)
            assert result["server_key"] == started[name]["server_key"], (name, result)
    # One pod per engine and round: rounds 1 and 2 of both, interleaved (each engine created a pod after
    # the other had), then beta's round 3 after alpha had stopped.
    order = [engine_of_pod[p["metadata"]["name"]] for p in pods]
    assert len(order) == 5, order
    assert switches(order[:4]) >= 2 and order[4] == "beta", order
    # The Secret held both engines' entries while both ran, then only beta's, then nothing.
    assert set(both_running) == entries_of(key_ids["alpha"]) | entries_of(key_ids["beta"])
    assert set(beta_alone) == entries_of(key_ids["beta"])
    assert after_both == {}
    # And still no Secret may be created, read or listed with the endpoint's token.
    assert endpoint_may_not_touch_secrets(kubectl, release, workers.namespace, workers.keys_secret) == []


def waiting_in(events: engine.Events, name: str, count: int) -> bool:
    """The user endpoint process ``name`` has finished its ``count``-th round and waits for a signal."""
    return len(engine.of_engine(events, name, "waiting")) >= count
