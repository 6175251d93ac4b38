"""Run the generated corpus through helm 3.8.1, helm 4 and `gce-values validate`, and list every disagreement.

    .venv/bin/python tests/support/corpus_check.py [--only CATEGORY] [--show N]

prints the counts of each kind of disagreement (and the first N cases of each); tests/test_helm_corpus.py
asserts there are none. Helm runs a few at a time in threads; gce-values runs in two batch processes
(tests/support/cli_batch.py) under different hash seeds, and a third repeats the text output of the cases that
plant secrets under yet another seed, to show that the output does not depend on hash order.

The kinds:
    missed          a Helm version refuses the conf and validate says "valid" without a warning
    lenient         both Helm versions refuse it and validate says "valid" (with warnings only)
    unnamed         the Helm versions disagree and validate only warns, without naming Helm 3 and Helm 4
    refused         both Helm versions render it and validate refuses it, for a reason other than the
                    documented extra checks (EXTRA_RULES)
    silent          an unquoted number whose text the templates change (image.tag 4.10 -> 4.1) without
                    an error on a key that takes an identifier, or without any word on a quantity
    leak            a planted credential appears in some output, in any escaping
    slow            a call took more than CALL_SECONDS of CPU time
    crash           exit code 3, or a traceback
    unparsable      --format json printed something that is not the JSON report
    nondeterministic the same call printed something else under another hash seed
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: tests/ holds `support`

from gce_values.errors import LIMITS
from support.helm_corpus import SECRET_TOKENS, Case, generate
from support.paths import CHART_DIR, REPO_ROOT

RELEASE = "gce-corpus"
CALL_SECONDS = 2.0
HELM_THREADS = 3
HELM_SECONDS = 60
# What validate checks beyond Helm, on purpose (README "What validate checks that Helm does not").
EXTRA_RULES = frozenset(
    {"duplicate-key", "secret", "extra-document", "number-text-changed", "number-text-invalid", *LIMITS}
)
KINDS = (
    "missed", "lenient", "unnamed", "refused", "silent", "leak", "slow", "crash", "unparsable", "nondeterministic",
)  # fmt: skip
_WINDOW = 10


@dataclass(frozen=True)
class HelmVerdict:
    ok: bool
    error: str


@dataclass
class Outcome:
    """What helm and gce-values made of one case."""

    case: Case
    helm3: HelmVerdict
    helm4: HelmVerdict
    code: int = -1
    problems: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    unparsable: bool = False
    nondeterministic: bool = False

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p.get("severity") == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p.get("severity") == "warning"]


def _paths(case: Case, directory: Path) -> list[Path]:
    paths = []
    for index, data in enumerate(case.files):
        path = directory / f"values-{index}.yaml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def _value_args(case: Case, paths: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for path in paths:
        args += ["-f", str(path)]
    for expression in case.sets:
        args += ["--set", expression]
    for expression in case.set_strings:
        args += ["--set-string", expression]
    return args


def helm_verdict(helm: Path, case: Case, paths: Sequence[Path]) -> HelmVerdict:
    try:
        proc = subprocess.run(
            [str(helm), "template", RELEASE, str(CHART_DIR), *_value_args(case, paths)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=HELM_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return HelmVerdict(False, f"Error: no answer within {HELM_SECONDS} s")
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    return HelmVerdict(proc.returncode == 0, (lines[0] if lines else proc.stderr.strip())[:300])


def _jobs(case: Case, paths: Sequence[Path]) -> list[dict[str, Any]]:
    base = ["validate", *_value_args(case, paths), "--release", RELEASE]
    jobs = [
        {"argv": [*base, "--format", fmt, *(["--no-color"] if fmt == "text" else [])]}
        for fmt in ("json", "text", "github")
    ]
    if len(paths) == 1 and not case.sets and not case.set_strings:
        jobs.append({"argv": ["validate", str(paths[0])]})
    return jobs


def _batch(jobs: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONHASHSEED": str(seed), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parent / "cli_batch.py")],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the batch runner failed:\n{proc.stderr[-3000:]}")
    results = json.loads(proc.stdout)
    assert isinstance(results, list)
    return results


def run(cases: Sequence[Case], helm3: Path, helm4: Path) -> list[Outcome]:
    """Every case through both helms and gce-values."""
    with tempfile.TemporaryDirectory(prefix="gce-corpus-") as scratch:
        root = Path(scratch)
        paths = []
        for index, case in enumerate(cases):
            directory = root / f"case-{index:04d}"
            directory.mkdir()
            paths.append(_paths(case, directory))
        with ThreadPoolExecutor(HELM_THREADS) as pool:
            verdicts3 = list(pool.map(lambda i: helm_verdict(helm3, cases[i], paths[i]), range(len(cases))))
            verdicts4 = list(pool.map(lambda i: helm_verdict(helm4, cases[i], paths[i]), range(len(cases))))
        outcomes = [Outcome(case, verdicts3[i], verdicts4[i]) for i, case in enumerate(cases)]
        jobs = [(i, job) for i, case in enumerate(cases) for job in _jobs(case, paths[i])]
        halves = [jobs[0::2], jobs[1::2]]
        repeat = [(i, job) for i, job in jobs if cases[i].secrets and "text" in job["argv"]]
        with ThreadPoolExecutor(3) as pool:
            futures = [
                pool.submit(_batch, [job for _, job in part], seed)
                for seed, part in ((1, halves[0]), (2, halves[1]), (3, repeat))
            ]
            results = [future.result() for future in futures]
    first_text: dict[int, str] = {}
    for part, part_results in zip(halves, results[:2], strict=True):
        for (index, job), result in zip(part, part_results, strict=True):
            _record(outcomes[index], job, result)
            if "text" in job["argv"]:
                first_text[index] = result["stdout"] + result["stderr"]
    for (index, _job), result in zip(repeat, results[2], strict=True):
        outcome = outcomes[index]
        outcome.outputs.append(result["stdout"] + result["stderr"])
        if result["stdout"] + result["stderr"] != first_text.get(index):
            outcome.nondeterministic = True
    return outcomes


def _record(outcome: Outcome, job: dict[str, Any], result: dict[str, Any]) -> None:
    argv = job["argv"]
    output = result["stdout"] + result["stderr"]
    outcome.outputs.append(output)
    outcome.seconds = max(outcome.seconds, result["seconds"])
    if result["code"] == 3 or "Traceback" in output:
        outcome.code = 3
    if "json" in argv:
        if outcome.code != 3:
            outcome.code = result["code"]
        try:
            document = json.loads(result["stdout"])
            outcome.problems = list(document["problems"])
        except (ValueError, KeyError, TypeError):
            outcome.unparsable = True


def _windows(secret: str) -> list[str]:
    if len(secret) <= _WINDOW:
        return [secret]
    return [secret[i : i + _WINDOW] for i in range(len(secret) - _WINDOW + 1)]


_ALL_WINDOWS = [w for token in SECRET_TOKENS for w in _windows(token)]


def _names_both(problem: dict[str, Any]) -> bool:
    text = f"{problem.get('message', '')} {problem.get('hint') or ''}"
    return "Helm 3" in text and "Helm 4" in text


def classify(outcome: Outcome) -> list[str]:
    """The kinds of disagreement this outcome shows (empty when helm and gce-values agree)."""
    kinds = []
    h3, h4 = outcome.helm3.ok, outcome.helm4.ok
    valid = outcome.code == 0
    if (not h3 or not h4) and valid and not outcome.warnings:
        kinds.append("missed")
    elif not h3 and not h4 and valid:
        kinds.append("lenient")
    elif h3 != h4 and valid and not any(_names_both(p) for p in outcome.problems):
        kinds.append("unnamed")
    if h3 and h4 and outcome.code in (1, 2) and {p.get("rule") for p in outcome.errors} - EXTRA_RULES:
        kinds.append("refused")
    if (outcome.case.silent == "error" and valid) or (outcome.case.silent == "warning" and not outcome.problems):
        kinds.append("silent")
    windows = [w for secret in outcome.case.secrets for w in _windows(secret)] + _ALL_WINDOWS
    if any(w in output for output in outcome.outputs for w in windows):
        kinds.append("leak")
    if outcome.seconds > CALL_SECONDS:
        kinds.append("slow")
    if outcome.code == 3:
        kinds.append("crash")
    if outcome.unparsable:
        kinds.append("unparsable")
    if outcome.nondeterministic:
        kinds.append("nondeterministic")
    return kinds


def describe(outcome: Outcome) -> str:
    problems = "; ".join(
        f"{p['severity']} {p['rule']} {p.get('key', '')}: {p['message']}" for p in outcome.problems[:4]
    )

    def verdict(name: str, helm: HelmVerdict) -> str:
        return f"{name} ok" if helm.ok else f"{name} refuses ({helm.error[:140]})"

    return (
        f"{outcome.case.name}: {verdict('helm3.8', outcome.helm3)}, {verdict('helm4', outcome.helm4)}"
        f"; validate exit {outcome.code}"
        f" [{problems[:400]}] {outcome.seconds:.2f}s"
    )


def tools() -> tuple[Path, Path]:
    helm3 = Path(os.environ.get("HELM38") or REPO_ROOT / ".tools/bin/helm38")
    helm4 = Path(os.environ.get("HELM4") or REPO_ROOT / ".tools/bin/helm4")
    return helm3, helm4


def main() -> None:
    from gce_values.schema import load

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only this category")
    parser.add_argument("--show", type=int, default=10, help="cases shown per kind")
    args = parser.parse_args()
    cases = [c for c in generate(load()) if args.only in (None, c.category)]
    outcomes = run(cases, *tools())
    by_kind: dict[str, list[Outcome]] = {kind: [] for kind in KINDS}
    for outcome in outcomes:
        for kind in classify(outcome):
            by_kind[kind].append(outcome)
    print(f"{len(cases)} confs; slowest call {max(o.seconds for o in outcomes):.2f} s")
    for kind, items in by_kind.items():
        print(f"{kind}: {len(items)}")
        for outcome in items[: args.show]:
            print("   ", describe(outcome))


if __name__ == "__main__":
    main()
