"""Benchmark `gce-values validate` against `helm lint`, `helm template` and check-jsonschema.

Every number is whole-process wall time (what a pre-commit hook or CI job pays) or the peak resident
memory of that process, measured side by side in one run on one machine. The inputs are made here,
deterministically, so a run can be repeated; the table goes to bench/results.md with the machine's CPU
and the versions of everything compared.

usage: python bench/run_bench.py --gce-values BIN --helm BIN --check-jsonschema BIN [--runs N] [--confs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART = REPO_ROOT / "chart" / "globus-compute-endpoint"
HELM_SCHEMA = CHART / "values.schema.json"


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_kib: int
    returncode: int


def run_once(argv: Sequence[str]) -> Sample:
    """Run a command to completion; its wall time and the peak RSS the kernel reports for it."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(elapsed, int(usage.ru_maxrss), proc.returncode)


def run_many(argv: Sequence[str], runs: int) -> list[Sample]:
    run_once(argv)  # warm the page cache; not counted
    return [run_once(argv) for _ in range(runs)]


def median_seconds(samples: Sequence[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def max_peak(samples: Sequence[Sample]) -> int:
    return max(s.peak_kib for s in samples)


def full_conf(rng: random.Random, valid: bool) -> dict[str, object]:
    """A complete conf (every key, as `gce-values init` writes it), valid or with 1-3 faults."""
    conf: dict[str, object] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    conf.pop("SLATE", None)
    conf["Instance"] = f"bench{rng.randrange(10_000)}"
    conf["endpointUUID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    conf["secrets"] = "globus-compute-creds"
    conf["maxBlocks"] = rng.randrange(1, 20)
    conf["minBlocks"] = rng.randrange(0, int(conf["maxBlocks"]) + 1)  # type: ignore[call-overload]
    if not valid:
        faults = [
            ("endpointUUID", "not-a-uuid"),
            ("minBlocks", 50),
            ("maxBlocks", -1),
            ("Instance", "Bad_Instance"),
            ("initMem", "lots"),
            ("replicaCount", 2),
        ]
        for key, value in rng.sample(faults, rng.randrange(1, 4)):
            conf[key] = value
    return conf


def write_conf(path: Path, conf: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    return path


def version_of(argv: Sequence[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def import_time_us(python: str) -> int:
    """Cumulative import time of gce_values.cli, from `python -X importtime`."""
    result = subprocess.run(
        [python, "-X", "importtime", "-c", "import gce_values.cli"], capture_output=True, text=True, check=True
    )
    for line in reversed(result.stderr.splitlines()):
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+gce_values\.cli$", line)
        if match:
            return int(match.group(1))
    raise RuntimeError("gce_values.cli not found in -X importtime output")


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gce-values", required=True, help="the gce-values executable")
    parser.add_argument("--helm", required=True, help="the helm executable")
    parser.add_argument("--check-jsonschema", required=True, help="the check-jsonschema executable")
    parser.add_argument("--runs", type=int, default=7, help="runs per single-conf measurement (median)")
    parser.add_argument("--confs", type=int, default=1000, help="generated confs for the throughput case")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results.md")
    args = parser.parse_args(argv)

    gce, helm, cjs = args.gce_values, args.helm, args.check_jsonschema
    python = str(Path(gce).resolve().parent / "python")
    rng = random.Random(20261126)
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gce-bench-") as scratch:
        tmp = Path(scratch)
        valid = write_conf(tmp / "valid.yaml", full_conf(rng, valid=True))
        invalid = write_conf(tmp / "invalid.yaml", full_conf(rng, valid=False))
        many_dir = tmp / "many"
        many_dir.mkdir()
        many = [
            write_conf(many_dir / f"conf-{i:04d}.yaml", full_conf(rng, valid=rng.random() < 0.7))
            for i in range(args.confs)
        ]

        def trio(conf: Path) -> dict[str, list[Sample]]:
            return {
                "gce-values validate": run_many([gce, "validate", "--quiet", str(conf)], args.runs),
                "helm lint": run_many([helm, "lint", str(CHART), "-f", str(conf)], args.runs),
                "check-jsonschema": run_many([cjs, "--schemafile", str(HELM_SCHEMA), str(conf)], args.runs),
            }

        for label, conf in (("one valid conf", valid), ("one invalid conf", invalid)):
            results = trio(conf)
            base = median_seconds(results["helm lint"])
            for tool, samples in results.items():
                rows.append(
                    f"| {label} | {tool} | {fmt_s(median_seconds(samples))} | "
                    f"{median_seconds(samples) / base:.2f} | {max_peak(samples) / 1024:.0f} MiB |"
                )

        gce_many = run_once([gce, "validate", "--quiet", *map(str, many)])
        start = time.perf_counter()
        helm_peaks = [run_once([helm, "template", "bench", str(CHART), "-f", str(conf)]).peak_kib for conf in many]
        helm_many = time.perf_counter() - start
        cjs_many = run_once([cjs, "--schemafile", str(HELM_SCHEMA), *map(str, many)])
        label = f"{args.confs} confs"
        rows.append(
            f"| {label} | gce-values validate (one call) | {fmt_s(gce_many.seconds)} | "
            f"{gce_many.seconds / helm_many:.3f} | {gce_many.peak_kib / 1024:.0f} MiB |"
        )
        rows.append(
            f"| {label} | helm template (one run per conf) | {fmt_s(helm_many)} | 1.00 | "
            f"{max(helm_peaks) / 1024:.0f} MiB |"
        )
        rows.append(
            f"| {label} | check-jsonschema (one call) | {fmt_s(cjs_many.seconds)} | "
            f"{cjs_many.seconds / helm_many:.3f} | {cjs_many.peak_kib / 1024:.0f} MiB |"
        )
        speedup = helm_many / gce_many.seconds

    help_samples = run_many([gce, "--help"], args.runs)
    import_us = statistics.median(import_time_us(python) for _ in range(args.runs))
    rows.append(
        f"| start-up | gce-values --help | {fmt_s(median_seconds(help_samples))} | | "
        f"{max_peak(help_samples) / 1024:.0f} MiB |"
    )
    rows.append(f"| start-up | import gce_values.cli (-X importtime) | {import_us / 1000:.1f} ms | | |")

    text = "\n".join(
        [
            "# gce-values benchmark",
            "",
            f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M %Z')}.",
            f"Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}.",
            f"Versions: {version_of([gce, '--version']).strip()} "
            f"({version_of([python, '--version'])}); helm {version_of([helm, 'version', '--short'])}; "
            f"{version_of([cjs, '--version'])}.",
            f"Single-conf rows are medians of {args.runs} runs (after one warm-up); the ratio is to "
            "`helm lint` of the chart with the same conf (to `helm template` in the throughput rows); "
            "memory is the peak resident set of the process (the largest of the runs).",
            "",
            "| case | tool | wall time | ratio | peak memory |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Throughput: one gce-values call over {args.confs} confs is {speedup:.0f}x faster than "
            f"{args.confs} helm template runs.",
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
