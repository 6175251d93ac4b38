"""Benchmark `gce-values validate` against `helm lint`, `helm template` and check-jsonschema.

Every number is whole-process wall time (what a pre-commit hook or CI job pays) or the peak resident
memory of that process, measured side by side in one run on one machine: the tools take turns, run
after run, so a slow spell of a shared machine hits all of them alike. The inputs are made here,
deterministically; the tools compared are pinned by the Makefile (helm binaries by checksum,
requirements/bench.txt and check-jsonschema.txt by hash); each tool's exit code is checked before
anything is timed, and the verdicts on the generated confs are compared with Helm's. The tables go
to bench/results.md with the machine's CPU and every version.

The growth of validate's time with the size of each input shape is bench/growth.py's section.

usage: python bench/run_bench.py --gce-values BIN [--editable BIN] --helm BIN [--helm38 BIN]
                                 --check-jsonschema BIN [--runs N] [--confs N] [--out FILE]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import growth
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART = REPO_ROOT / "chart" / "globus-compute-endpoint"
HELM_SCHEMA = CHART / "values.schema.json"
SEED = 20261126
VALID_SHARE = 0.7
# Environment variables that would change what is measured (another gce_values on the path, no
# byte-code cache, the fast path switched off); the tools run without them.
_DROPPED_ENV = ("PYTHON", "GCE_VALUES_")


@dataclass(frozen=True)
class Sample:
    """One finished run: wall time, peak resident memory, exit code."""

    seconds: float
    peak_kib: int
    returncode: int


@dataclass(frozen=True)
class Tool:
    """A command to time: a label for the tables, its argv, and the exit code it must end with."""

    label: str
    argv: list[str]
    expect: int
    env: tuple[tuple[str, str], ...] = ()


# gce-values' switch that sends every call to the full click command (no fast path).
FULL_PATH = (("GCE_VALUES_NO_FAST_PATH", "1"),)


def clean_env(extra: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED_ENV)}
    return env | dict(extra)


def run_once(
    argv: Sequence[str], stdout: int | None = subprocess.DEVNULL, env: Sequence[tuple[str, str]] = ()
) -> Sample:
    """Run a command to completion; its wall time and the peak RSS the kernel reports for it alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL, env=clean_env(env))
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(elapsed, int(usage.ru_maxrss), proc.returncode)


def check_tool(tool: Tool) -> None:
    """Stop the benchmark when a tool does not end as expected: its timings would mean nothing."""
    result = subprocess.run(tool.argv, capture_output=True, text=True, check=False, env=clean_env(tool.env))
    if result.returncode != tool.expect:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        command = " ".join(tool.argv)
        sys.exit(f"{tool.label}: exit code {result.returncode}, expected {tool.expect}:\n  {command}\n{tail}")


def take_turns(tools: Sequence[Tool], runs: int) -> dict[str, list[Sample]]:
    """Run every tool ``runs`` times (after one warm-up round), taking turns in a rotating order."""
    samples: dict[str, list[Sample]] = {tool.label: [] for tool in tools}
    for round_ in range(runs + 1):
        for offset in range(len(tools)):
            tool = tools[(round_ + offset) % len(tools)]
            sample = run_once(tool.argv, env=tool.env)
            if sample.returncode != tool.expect:
                sys.exit(f"{tool.label}: exit code {sample.returncode} on run {round_}, expected {tool.expect}")
            if round_:
                samples[tool.label].append(sample)
    return samples


def median_seconds(samples: Sequence[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def max_peak(samples: Sequence[Sample]) -> int:
    return max(s.peak_kib for s in samples)


# --- inputs ---------------------------------------------------------------------------------------

_FAULTS: list[tuple[str, object]] = [
    ("endpointUUID", "not-a-uuid"),
    ("minBlocks", 50),
    ("maxBlocks", -1),
    ("Instance", "Bad_Instance"),
    ("initMem", "lots"),
    ("replicaCount", 2),
]


def full_conf(rng: random.Random, valid: bool) -> dict[str, object]:
    """A complete conf (every key, as `gce-values init` writes it), valid or with 1-3 faults."""
    conf: dict[str, object] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    conf.pop("SLATE", None)
    conf["Instance"] = f"bench{rng.randrange(10_000)}"
    conf["endpointUUID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    conf["secrets"] = "globus-compute-creds"
    max_blocks = rng.randrange(1, 20)
    conf["maxBlocks"] = max_blocks
    conf["minBlocks"] = rng.randrange(0, max_blocks + 1)
    if not valid:
        for key, value in rng.sample(_FAULTS, rng.randrange(1, 4)):
            conf[key] = value
    return conf


def write_conf(path: Path, conf: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    return path


# --- what the tools said ------------------------------------------------------------------------------


def gce_rejected(output: str) -> set[str]:
    """The confs `gce-values validate` (without --quiet) called invalid, from its summary lines."""
    return {match.group(1) for match in re.finditer(r"^(.+): invalid, \d+ errors?", output, re.MULTILINE)}


def cjs_rejected(output: str, confs: Sequence[Path]) -> set[str]:
    """The confs check-jsonschema reported errors for (its lines read ``  FILE::$.path: message``)."""
    names = {str(conf) for conf in confs}
    return {match.group(1) for match in re.finditer(r"^\s+(.+?)::", output, re.MULTILINE)} & names


@dataclass(frozen=True)
class Batch:
    """One tool over all the generated confs: its samples and the confs it rejected."""

    label: str
    samples: list[Sample]
    rejected: set[str]
    output: str = ""


def one_call(
    label: str,
    argv: list[str],
    runs: int,
    rejected_from: Callable[[str], set[str]],
    scratch: Path,
    env: Sequence[tuple[str, str]] = (),
) -> Batch:
    """Time one call over all confs ``runs`` times; what it rejected and printed, from its output."""
    out_path = scratch / "batch-output.txt"
    samples = []
    output = ""
    for _ in range(runs):
        with open(out_path, "wb") as out:
            sample = run_once(argv, stdout=out.fileno(), env=env)
        if sample.returncode not in (0, 1):
            sys.exit(f"{label}: exit code {sample.returncode} over the generated confs")
        samples.append(sample)
        output = out_path.read_text(encoding="utf-8", errors="replace")
    return Batch(label, samples, rejected_from(output), output)


def run_per_conf(label: str, helm: str, confs: Sequence[Path]) -> Batch:
    """``helm template`` once per conf, in turn, as a loop over the confs would."""
    samples, rejected = [], set()
    for conf in confs:
        sample = run_once([helm, "template", "bench", str(CHART), "-f", str(conf)])
        if sample.returncode not in (0, 1):
            sys.exit(f"{label}: exit code {sample.returncode} on {conf}")
        if sample.returncode:
            rejected.add(str(conf))
        samples.append(sample)
    return Batch(label, samples, rejected)


# --- machine and versions -------------------------------------------------------------------------------


def first_line(argv: Sequence[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=clean_env())
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines and result.returncode == 0 else f"? ({' '.join(argv)} exited {result.returncode})"


def python_facts(python: str) -> str:
    """The interpreter and the versions of gce-values' dependencies in the environment measured."""
    code = (
        "import importlib.metadata as m, platform, yaml; "
        "deps = ', '.join(f'{d} {m.version(d)}' for d in ('click', 'jsonschema', 'pyyaml', 'jinja2')); "
        "print(f'Python {platform.python_version()}; {deps}; libyaml: {yaml.__with_libyaml__}')"
    )
    return first_line([python, "-c", code])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def import_time_us(python: str, module: str) -> int | None:
    """Cumulative import time of ``module`` in a fresh interpreter (``python -X importtime``); None if absent."""
    result = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    for line in reversed(result.stderr.splitlines()):
        match = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+(\S+)$", line)
        if match and match.group(2) == module and result.returncode == 0:
            return int(match.group(1))
    return None


# --- formatting ---------------------------------------------------------------------------------------


def fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def ratio(value: float, reference: float | None) -> str:
    return f"{value / reference:.2f}" if reference else ""


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# --- the benchmark --------------------------------------------------------------------------------------


@dataclass
class Setup:
    """What is compared, and with which inputs."""

    gces: dict[str, str]  # label -> gce-values executable (the wheel first)
    helms: dict[str, str]  # "helm 4" / "helm 3.8" -> executable
    helm_versions: dict[str, str]
    cjs: str
    runs: int
    batch_runs: int


@dataclass
class Report:
    """The rows of the tables, and the figures the targets are judged by."""

    single_rows: list[str]
    batch_rows: list[str]
    start_rows: list[str]
    lint_ratio: dict[str, dict[str, float]]
    fast_path_saving: dict[str, float]
    one_conf_peak_kib: int
    throughput: float
    confs: int
    invalid: int
    same_as_full_path: bool
    shortcuts: dict[str, Any] = field(default_factory=dict)
    instruction_rows: list[str] = field(default_factory=list)
    growth_lines: list[str] = field(default_factory=list)


# Run in the benchmark's own interpreter: what two shortcuts save inside one process, best of 5 rounds.
_SHORTCUTS_PROBE = r"""
import json, re, sys, time, timeit
from gce_values.cli import fastpath
from gce_values.helmyaml import plainread, reader
from gce_values.schema import fastcheck, fasterrors, load
from gce_values.validator import validate_sources

valid, invalid = sys.argv[1], sys.argv[2]
out = sys.stdout
sys.stdout = open("/dev/null", "w")
fastpath.run(["validate", valid])
sys.stdout = out
pyyaml_imported = "yaml" in sys.modules

def compile_ms(patterns):
    re.purge()
    start = time.perf_counter()
    for pattern, flags in patterns:
        re.compile(pattern, flags)
    return (time.perf_counter() - start) * 1000

def schema_patterns(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        yield from (found for child in node.values() for found in schema_patterns(child))
    elif isinstance(node, list):
        yield from (found for child in node for found in schema_patterns(child))

from gce_values.schema.goregex import go_regex
all_schema = sorted(set(schema_patterns(load().document)))
schema_ms = min(compile_ms([(go_regex.__wrapped__(p).pattern, re.ASCII) for p in all_schema]) for _ in range(5))
text = open(valid, encoding="utf-8").read()

def best(call, number=200):
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6

plain_us = best(lambda: plainread.load(text, "conf"))
full_us = best(lambda: reader.load(text, "conf"))
document = load().document
values = validate_sources([(invalid, open(invalid, encoding="utf-8").read())]).values
assert fastcheck.compiled(document) is not None
pruned_us = best(lambda: list(fasterrors.errors(document, values)))
fastcheck._BY_NODE.clear()  # without the quick check's verdicts: every part of the conf is walked
walked_us = best(lambda: list(fasterrors.errors(document, values)))
from gce_values.helmyaml import origins
loaded = plainread.load(text, valid)
source = origins.Source(valid, loaded.data, loaded.positions)
# What the merge no longer does: make an Origin for every value (it keeps the Source, asked when read).
eager_us = best(lambda: [source.origin(pointer) for pointer in loaded.positions])
print(json.dumps({"pyyaml_imported": pyyaml_imported, "plain_us": plain_us, "full_us": full_us,
                  "pruned_us": pruned_us, "walked_us": walked_us, "eager_us": eager_us,
                  "values": len(loaded.positions),
                  "schema_patterns": len(all_schema), "schema_ms": schema_ms}))
"""


# A fresh process that runs the fast path on one conf, then says which of the modules the validator avoids
# were loaded all the same, and how long the regular expressions the run compiled take to compile.
_RUN_PROBE = r"""
import sys
from gce_values.cli import fastpath

out, sys.stdout = sys.stdout, open("/dev/null", "w")
fastpath.run(["validate", sys.argv[1]])
sys.stdout = out
loaded = sorted(name for name in ("typing", "json", "math", "select", "yaml") if name in sys.modules)
import re, time

patterns = [(pattern, flags) for (_kind, pattern, flags) in re._cache]
seconds = []
for _ in range(5):
    re.purge()
    start = time.perf_counter()
    for pattern, flags in patterns:
        re.compile(pattern, flags)
    seconds.append(time.perf_counter() - start)
print(repr({"loaded": loaded, "run_patterns": len(patterns), "run_ms": min(seconds) * 1000}))
"""


def measure_shortcuts(python: str, valid: Path, invalid: Path, report: Report) -> None:
    """In-process costs with and without helmyaml.plainread and fasterrors' skipping of valid parts."""
    result = subprocess.run(
        [python, "-c", _SHORTCUTS_PROBE, str(valid), str(invalid)],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(),
    )
    report.shortcuts = json.loads(result.stdout)
    for case, conf in (("valid", valid), ("invalid", invalid)):
        run = subprocess.run(
            [python, "-c", _RUN_PROBE, str(conf)], capture_output=True, text=True, check=True, env=clean_env()
        )
        report.shortcuts[case] = ast.literal_eval(run.stdout)


def instructions(argv: Sequence[str]) -> str:
    """Instructions a command executes (valgrind's callgrind total): a measure the machine's load does not move."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return "(valgrind not installed)"
    result = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    match = re.search(r"Collected : (\d+)", result.stderr)
    return f"{int(match.group(1)) / 1e6:.1f} M" if match else "(callgrind failed)"


# The fast path as the console script runs it, but ending as any Python program does.
_MAIN_PROBE = "import re, sys; from gce_values.cli import main; main()"


def measure_instructions(setup: Setup, python: str, valid: Path, invalid: Path, report: Report) -> None:
    gce = next(iter(setup.gces.values()))
    for label, argv in (
        ("gce-values validate, valid conf", [gce, "validate", str(valid)]),
        ("gce-values validate, invalid conf", [gce, "validate", str(invalid)]),
        (
            "the same valid conf through gce_values.cli.main (collector on, the interpreter's usual exit)",
            [python, "-c", _MAIN_PROBE, "validate", str(valid)],
        ),
        ("python -c pass (the interpreter's own start-up, site included)", [python, "-c", "pass"]),
        ("python -S -c pass (without site)", [python, "-S", "-c", "pass"]),
    ):
        report.instruction_rows.append(f"| {label} | {instructions(argv)} |")


def measure_single(setup: Setup, conf: Path, case: str, code: int, report: Report) -> None:
    """One conf, every tool taking turns: median wall time, ratios to each helm lint, peak memory."""
    tools = [Tool(label, [binary, "validate", str(conf)], code) for label, binary in setup.gces.items()]
    wheel = next(iter(setup.gces.values()))
    tools.append(Tool("gce-values validate, full path (click)", [wheel, "validate", str(conf)], code, FULL_PATH))
    lints = {
        name: Tool(f"helm lint ({setup.helm_versions[name]})", [binary, "lint", str(CHART), "-f", str(conf)], code)
        for name, binary in setup.helms.items()
    }
    tools += lints.values()
    tools.append(Tool("check-jsonschema", [setup.cjs, "--schemafile", str(HELM_SCHEMA), str(conf)], code))
    for tool in tools:
        check_tool(tool)
    samples = take_turns(tools, setup.runs)
    lint = {name: median_seconds(samples[tool.label]) for name, tool in lints.items()}
    for tool in tools:
        seconds = median_seconds(samples[tool.label])
        ratios = " | ".join(ratio(seconds, lint[name]) for name in setup.helms)
        peak = max_peak(samples[tool.label])
        report.single_rows.append(f"| {case} | {tool.label} | {fmt_s(seconds)} | {ratios} | {mib(peak)} |")
    first = samples[tools[0].label]
    report.lint_ratio[case] = {name: median_seconds(first) / lint[name] for name in setup.helms}
    full = samples[tools[len(setup.gces)].label]
    report.fast_path_saving[case] = median_seconds(full) - median_seconds(first)
    if case == "valid":
        report.one_conf_peak_kib = max_peak(first)


def measure_batch(setup: Setup, many: list[Path], scratch: Path, report: Report) -> None:
    """All generated confs: one call of gce-values and check-jsonschema, one helm template run per conf."""
    names = [str(conf) for conf in many]
    batches = [
        one_call(label, [binary, "validate", *names], setup.batch_runs, gce_rejected, scratch)
        for label, binary in setup.gces.items()
    ]
    wheel = next(iter(setup.gces.values()))
    full = one_call(
        "gce-values validate, full path (click)", [wheel, "validate", *names], 1, gce_rejected, scratch, FULL_PATH
    )
    report.same_as_full_path = all(batch.output == full.output for batch in batches)
    batches.append(
        one_call(
            "check-jsonschema (one call, schema only)",
            [setup.cjs, "--schemafile", str(HELM_SCHEMA), *names],
            setup.batch_runs,
            lambda output: cjs_rejected(output, many),
            scratch,
        )
    )
    per_conf = {
        name: run_per_conf(f"helm template ({setup.helm_versions[name]})", binary, many)
        for name, binary in setup.helms.items()
    }
    total = {name: sum(sample.seconds for sample in batch.samples) for name, batch in per_conf.items()}
    reference = per_conf["helm 4"].rejected

    def row(label: str, seconds: float, batch: Batch, speedups: str) -> str:
        agrees = len(many) - len(batch.rejected ^ reference)
        return (
            f"| {label} | {fmt_s(seconds)} | {fmt_ms(seconds / len(many))} | {speedups} | "
            f"{mib(max_peak(batch.samples))} | {len(batch.rejected)} | {agrees} |"
        )

    for batch in batches:
        seconds = median_seconds(batch.samples)
        speedups = " | ".join(f"{total[name] / seconds:.0f}x" for name in setup.helms)
        report.batch_rows.append(row(batch.label, seconds, batch, speedups))
    for name, batch in per_conf.items():
        speedups = " | ".join(f"{total[other] / total[name]:.2f}x" for other in setup.helms)
        report.batch_rows.append(row(f"{batch.label}, one run per conf", total[name], batch, speedups))
    report.throughput = total["helm 4"] / median_seconds(batches[0].samples)
    report.confs, report.invalid = len(many), len(reference)


def measure_start_up(setup: Setup, python: str, report: Report) -> None:
    gce = next(iter(setup.gces.values()))
    for label, argv in (("gce-values --help (click)", [gce, "--help"]), ("gce-values --version", [gce, "--version"])):
        samples = take_turns([Tool(label, argv, 0)], setup.runs)[label]
        report.start_rows.append(f"| {label} | {fmt_s(median_seconds(samples))} | {mib(max_peak(samples))} |")
    for module, what in (
        ("gce_values.cli", "what the console script imports first"),
        ("gce_values.validator", "what the fast path loads"),
        ("gce_values.schema.reference", "what explains an invalid conf's schema errors, without jsonschema"),
        ("typing", "what gce_values.records spares every run"),
        ("json", "what gce_values.jsontext and the schema's marshal form spare every run"),
        ("yaml", "PyYAML imported as usual"),
        ("gce_values.pyyaml", "PyYAML as gce-values imports it, its patterns compiled on first use"),
        ("gce_values.cli.group", "click and the command group, for every other call"),
        ("jsonschema", "the reference checker; loaded only for a schema outside the quick subset"),
    ):
        times = [import_time_us(python, module) for _ in range(setup.runs)]
        known = [micros for micros in times if micros is not None]
        shown = f"{statistics.median(known) / 1000:.1f} ms" if known else "(no such module)"
        report.start_rows.append(f"| import {module} ({what}; -X importtime) | {shown} | |")


def render(setup: Setup, python: str, load: float, report: Report) -> str:
    gce = next(iter(setup.gces.values()))
    helm_cols = " | ".join(f"vs {name} lint" for name in setup.helms)
    template_cols = " | ".join(f"speed-up vs {name} template" for name in setup.helms)
    valid_38 = report.lint_ratio["valid"].get("helm 3.8", 0.0)
    invalid_38 = report.lint_ratio["invalid"].get("helm 3.8", 0.0)
    saving = {case: f"{seconds * 1000:.0f} ms" for case, seconds in report.fast_path_saving.items()}
    shortcuts = report.shortcuts
    return "\n".join(
        [
            "# gce-values benchmark",
            "",
            f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M %Z')}; no test asserts a time.",
            "",
            f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()} "
            f"(load average {load:.2f} at the start).",
            f"- gce-values: `{first_line([gce, '--version'])}`, the wheel of the working tree installed by pip "
            f"(requirements/bench.txt); {python_facts(python)}.",
            *(f"- {name}: {version}" for name, version in setup.helm_versions.items()),
            f"- check-jsonschema: `{first_line([setup.cjs, '--version'])}` (requirements/check-jsonschema.txt) "
            "with the chart's values.schema.json; it checks only the schema (no YAML 1.1 reading, no rules).",
            "",
            "Wall time is that of the whole process, as a pre-commit hook or CI job pays it; memory is the peak "
            "resident set of the process (the largest of the runs). Single-conf rows are medians of "
            f"{setup.runs} runs after a warm-up round, the tools taking turns; every exit code was checked "
            "(0 for the valid conf, 1 for the invalid one). gce-values runs without `--quiet`, as the "
            "pre-commit hook runs it.",
            "",
            "## One conf",
            "",
            f"| conf | tool | wall time | {helm_cols} | peak memory |",
            "|---|---|---|" + "---|" * len(setup.helms) + "---|",
            *report.single_rows,
            "",
            f"## {report.confs} generated confs ({report.confs - report.invalid} valid, {report.invalid} invalid)",
            "",
            f"One call over all confs (median of {setup.batch_runs}) against one `helm template` run per conf, "
            "in turn (the sum of their times). `rejected` counts the confs a tool called invalid; `agrees` "
            "counts the confs on which its verdict is helm 4's.",
            "",
            f"| tool | wall time | per conf | {template_cols} | peak memory | rejected | agrees |",
            "|---|---|---|" + "---|" * len(setup.helms) + "---|---|---|",
            *report.batch_rows,
            "",
            "## Start-up",
            "",
            "| what | time | peak memory |",
            "|---|---|---|",
            *report.start_rows,
            "",
            "## Instructions executed",
            "",
            "valgrind's callgrind count for one run of each: unlike wall time, the machine's load does not move it, "
            "so it compares versions of gce-values measured at different times.",
            "",
            "| what | instructions |",
            "|---|---|",
            *report.instruction_rows,
            "",
            *report.growth_lines,
            "## Targets (issue 17)",
            "",
            f"- One valid conf at or below 0.6x the wall time of helm 3.8.1 `lint`: {valid_38:.2f} "
            f"({verdict(valid_38 <= 0.6)}).",
            f"- One invalid conf at or below the wall time of helm 3.8.1 `lint`: {invalid_38:.2f} "
            f"({verdict(invalid_38 <= 1.0)}).",
            f"- {report.confs} confs in one call at least 100x faster than {report.confs} `helm template` runs "
            f"(helm 4): {report.throughput:.0f}x ({verdict(report.throughput >= 100)}).",
            "- The same output (verdicts and messages, byte for byte) as the full path over the generated confs: "
            f"{'yes' if report.same_as_full_path else 'NO'}.",
            f"- Peak memory under 60 MB for one conf: {mib(report.one_conf_peak_kib)} "
            f"({verdict(report.one_conf_peak_kib * 1024 < 60e6)}).",
            "",
            "## Shortcuts and what they save",
            "",
            "- The fast path (gce_values.cli.fastpath: a plain `validate CONF...` answered without click): "
            f"{saving.get('valid', '?')} on the valid conf, {saving.get('invalid', '?')} on the invalid one "
            '(the rows above marked "full path").',
            "- The quick check (schema.fastcheck) and the quick explainer (schema.fasterrors): jsonschema is "
            "neither imported nor built; its import alone is the `import jsonschema` row above.",
            "- gce_values.pyyaml (PyYAML's import-time patterns compiled on first use): the difference between "
            "the `import yaml` and `import gce_values.pyyaml` rows above; only confs the plain reader leaves "
            "to the full one (and commands other than `validate`) import PyYAML now.",
            "- helmyaml.plainread (plainly written confs read without PyYAML; tests/test_plainread.py compares it "
            "with the full reader): PyYAML imported by the fast path on the valid conf: "
            f"{'yes' if shortcuts.get('pyyaml_imported') else 'no'}, so a run saves the "
            "`import gce_values.pyyaml` row above; reading the conf takes "
            f"{shortcuts.get('plain_us', 0):.0f} us instead of the full reader's {shortcuts.get('full_us', 0):.0f} us "
            "(in one process, best of 5 rounds of 200).",
            "- gce_values.records (records written as typing.NamedTuples, built as tuple subclasses without "
            "collections.namedtuple's compiling, about 70 us a class): the `import typing` row above. "
            "gce_values.jsontext (values in messages written without json unless "
            "json would escape them) and the schema's parsed form in marshal rather than JSON: the `import json` "
            "row above. Loaded by the fast path on the valid conf, of typing, json, math, select and PyYAML: "
            f"{', '.join(shortcuts['valid']['loaded']) or 'none'}; on the invalid conf: "
            f"{', '.join(shortcuts['invalid']['loaded']) or 'none'} (tests/test_schema_parsed_form.py checks "
            "both).",
            "- Patterns compiled on first use (the checks' own, and the schema's, whose check a value equal to its "
            f"node's default skips): the valid conf's run compiled {shortcuts['valid']['run_patterns']} regular "
            f"expressions, {shortcuts['valid']['run_ms']:.1f} ms of compiling, the invalid conf's "
            f"{shortcuts['invalid']['run_patterns']} ({shortcuts['invalid']['run_ms']:.1f} ms); the schema's "
            f"{shortcuts.get('schema_patterns', 0)} patterns alone take {shortcuts.get('schema_ms', 0):.1f} ms to "
            "compile (in one process, best of 5).",
            "- helmyaml.origins.Origins keeps each value's Source and makes its Origin only when a problem asks "
            f"for it: making one for each of the valid conf's {shortcuts.get('values', 0)} values takes "
            f"{shortcuts.get('eager_us', 0):.0f} us a conf (same measure), which the merge no longer spends.",
            "- The console script's quick exit (gce_values.cli: the collector off while the fast path runs, "
            "then os._exit once the answer is flushed): the difference between the first row of the "
            "instructions table and its `gce_values.cli.main` row.",
            "- fasterrors skips the parts of an invalid conf the quick check passes (fastcheck.known_valid, a few "
            f"lines): explaining the invalid conf's schema errors takes {shortcuts.get('pruned_us', 0):.0f} us "
            f"instead of {shortcuts.get('walked_us', 0):.0f} us (same measure).",
            "",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gce-values", required=True, help="gce-values as installed from its wheel")
    parser.add_argument("--editable", help="gce-values of an editable install, for a second row")
    parser.add_argument("--helm", required=True, help="helm 4, the first reference")
    parser.add_argument("--helm38", help="helm 3.8.1 (what the SLATE server runs), the second reference")
    parser.add_argument("--check-jsonschema", required=True, help="the check-jsonschema executable")
    parser.add_argument("--runs", type=int, default=41, help="runs per single-conf measurement (median)")
    parser.add_argument("--batch-runs", type=int, default=3, help="runs of each one-call batch measurement")
    parser.add_argument("--confs", type=int, default=1000, help="generated confs for the throughput case")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results.md")
    return parser.parse_args(argv)


# bench/run_cold_start.py (`make bench-runtime`) owns the section between these markers; it is kept.
COLD_START_MARKERS = ("<!-- cold-start:start -->", "<!-- cold-start:end -->")


def kept_cold_start_section(path: Path) -> str:
    """The cold-start section of the results file as it is now, to carry over when rewriting the rest."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = old.find(COLD_START_MARKERS[0]), old.find(COLD_START_MARKERS[1])
    if start < 0 or end < start:
        return ""
    return "\n" + old[start : end + len(COLD_START_MARKERS[1])] + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    helms = {"helm 4": args.helm, **({"helm 3.8": args.helm38} if args.helm38 else {})}
    setup = Setup(
        gces={
            "gce-values validate": args.gce_values,
            **({"gce-values (editable)": args.editable} if args.editable else {}),
        },
        helms=helms,
        helm_versions={name: first_line([binary, "version", "--short"]) for name, binary in helms.items()},
        cjs=args.check_jsonschema,
        runs=args.runs,
        batch_runs=args.batch_runs,
    )
    python = str(Path(args.gce_values).parent / "python")
    load = os.getloadavg()[0]
    report = Report([], [], [], {}, {}, 0, 0.0, 0, 0, False)
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="gce-bench-") as scratch_name:
        scratch = Path(scratch_name)
        valid = write_conf(scratch / "valid.yaml", full_conf(rng, valid=True))
        invalid = write_conf(scratch / "invalid.yaml", full_conf(rng, valid=False))
        (scratch / "many").mkdir()
        many = [
            write_conf(scratch / "many" / f"conf-{i:04d}.yaml", full_conf(rng, valid=rng.random() < VALID_SHARE))
            for i in range(args.confs)
        ]
        measure_single(setup, valid, "valid", 0, report)
        measure_single(setup, invalid, "invalid", 1, report)
        measure_shortcuts(python, valid, invalid, report)
        measure_instructions(setup, python, valid, invalid, report)
        measure_batch(setup, many, scratch, report)
        report.growth_lines = growth.section(python, scratch)
    measure_start_up(setup, python, report)
    text = render(setup, python, load, report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + kept_cold_start_section(args.out), encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
