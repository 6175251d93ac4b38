"""Worker cold start in the runtime harness: the prebuilt image against pip-installing at worker start.

Each run starts the chart's engine (rendered chart, the endpoint's own template renderer) in the endpoint
image inside a private network namespace, with the Kubernetes API double (tests/runtime/), submits
``hello_world`` and times, from the double's record and the engine's events:

- pod requested -> worker registered with the interchange -> first result.

Two worker set-ups, taking turns in the same run:

- **prebuilt**: the chart's default, workers run the endpoint image (everything installed at build time);
- **pip at start**: the predecessors' way, workers run the stock Python base image and
  ``pip install globus-compute-endpoint`` in ``workerInit`` before the worker starts. That container alone
  reaches PyPI through a tunnel that allows pypi.org and files.pythonhosted.org only, with the host's CA
  bundle (tests/runtime/pypi_tunnel.py). Here the stock base is the mmdebstrap-made Debian bookworm
  Python 3.11 image (no registry is reachable); python:3.11-slim would add its pull time on a real node.

Needs root and podman (it sets them up like the runtime tests). Writes its section of bench/results.md
between markers, leaving the rest as ``make bench`` wrote it. Usage: ``make bench-runtime`` or
``python bench/run_cold_start.py [--repeat N] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from sections import write_section  # noqa: E402

from runtime.conftest import image_values, render  # noqa: E402
from runtime.functions import FunctionRun, RunResult  # noqa: E402
from runtime.testbed import app_version, build_endpoint_image, ensure_base_image, setup_podman  # noqa: E402

MARKERS = ("<!-- cold-start:start -->", "<!-- cold-start:end -->")
WORKER_VALUES: dict[str, Any] = {
    "Instance": "bench",
    "maxIdleTime": 5,
    "initCPU": 1,
    "maxCPU": 2,
    "initMem": "512Mi",
    "maxMem": "2Gi",
    "maxBlocks": 1,
}


@dataclass(frozen=True)
class ColdStart:
    to_registered: float
    to_result: float
    total_run: float


def pip_at_start_values(base_image: str) -> dict[str, Any]:
    """The predecessors' worker: stock Python image, the endpoint pip-installed before the worker starts."""
    # The stock image has no home for the pod's user 1000, and the worker writes ~/.globus_compute.
    install = (
        "export HOME=/tmp"
        " && python3 -m venv /tmp/gce-venv"
        f" && /tmp/gce-venv/bin/pip install --quiet --no-cache-dir globus-compute-endpoint=={app_version()}"
        " && export PATH=/tmp/gce-venv/bin:$PATH"
    )
    return {"workerImage": base_image, "workerInit": install}


def measure(run: RunResult) -> ColdStart:
    (create,) = run.double.requests_for("create", "pods")
    registered = run.of("registered")
    results = run.results("hello_world")
    if not registered or results != ["Hello World!"]:
        raise RuntimeError(
            f"the run did not return Hello World!: {json.dumps(run.events)[-2000:]}\n{run.stderr[-3000:]}"
        )
    result_time = next(e["time"] for e in run.of("result") if e["function"] == "hello_world")
    return ColdStart(registered[0]["time"] - create.time, result_time - create.time, run.seconds)


def table(samples: dict[str, list[ColdStart]]) -> list[str]:
    lines = [
        "| workers | runs | pod requested -> worker registered | pod requested -> first result | whole run |",
        "|---|---|---|---|---|",
    ]
    for label, runs in samples.items():

        def cell(values: list[float]) -> str:
            return f"{statistics.median(values):.1f} s (min {min(values):.1f}, max {max(values):.1f})"

        lines.append(
            f"| {label} | {len(runs)} | {cell([r.to_registered for r in runs])} | {cell([r.to_result for r in runs])}"
            f" | {statistics.median([r.total_run for r in runs]):.0f} s |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind (taking turns)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results.md")
    options = parser.parse_args()

    podman = setup_podman()
    base = ensure_base_image(podman)
    image = build_endpoint_image(podman, base)
    helm = REPO_ROOT / ".tools" / "bin" / "helm4"
    load_before = os.getloadavg()[0]
    samples: dict[str, list[ColdStart]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        # The engine runs each task in its own run directory (/home/gce/.globus_compute/...), which the
        # worker creates: the stock image has no /home/gce its user 1000 may write, so it gets an empty one.
        stock_home = Path(scratch) / "home"
        stock_home.mkdir()
        stock_home.chmod(0o777)
        kinds = {
            "prebuilt endpoint image (chart default)": ({}, False, []),
            "stock Python base + pip install globus-compute-endpoint at worker start": (
                pip_at_start_values(base), True, ["--volume", f"{stock_home}:/home/gce"],
            ),
        }  # fmt: skip
        samples = {label: [] for label in kinds}
        for round_number in range(options.repeat):
            for index, (label, (extra, needs_pypi, worker_args)) in enumerate(kinds.items()):
                docs = render(helm, {**WORKER_VALUES, **image_values(image), **extra}, Path(scratch) / label[:8])
                run = FunctionRun(
                    podman, image.reference, docs, name=f"bench{index}", pypi_for_workers=needs_pypi,
                    worker_extra_args=worker_args, driver_args=["--no-error-task", "--idle-wait", "0"],
                ).run()  # fmt: skip
                samples[label].append(measure(run))
                print(f"round {round_number + 1}: {label}: {samples[label][-1]}", file=sys.stderr, flush=True)

    cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (a shared machine: expect noise)"
    lines = [
        "## Worker cold start in the runtime harness (issue 13)",
        "",
        f"`make bench-runtime`, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {cpu} CPUs, {load},"
        " podman with runc and overlay storage, images already on the machine (no pull)."
        " One `hello_world` per run through the chart's engine (GlobusComputeEngine + KubernetesProvider,"
        " rendered from the chart's template by the endpoint's renderer) and the Kubernetes API double,"
        " which starts each requested pod as a podman container;"
        f" the two kinds take turns, {options.repeat} runs each, medians with the range.",
        "",
        *table(samples),
        "",
        "Pod requested is when the API double received the provider's create-pod request; registered is when the"
        " engine first saw the worker's manager connected; first result is when `hello_world`'s result reached"
        " the engine. The pip-at-start workers use the stock Debian bookworm Python 3.11 image made for these"
        " tests (`python:3.11-slim` stands in for it on a real cluster, plus its pull) and reach PyPI, and only"
        " PyPI, through a tunnel out of the test's network namespace, with this machine's CA bundle; they also get"
        " an empty writable /home/gce, because the engine runs tasks in its own run directory there, which a"
        " stock image lacks (every task failed with Permission denied without it). The prebuilt"
        f" image ({image.reference.rsplit(':', 1)[0]}, built from images/endpoint) needs no network at start.",
    ]
    write_section(options.out, MARKERS, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
