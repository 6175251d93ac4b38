"""Every x-rule gives the same verdict in `validate` (Python) and in the chart (its Go template form).

For each rule of the schema, confs are made from the values its keys can take (read from the schema:
booleans, small numbers on both sides of each other, empty and non-empty strings and lists, and the
values its kind adds), each merged over the seed conf, plus the examples its kind gives (confs that
break it, confs that keep it at its edge); everything about a kind comes from the registry
(gce_values.checks.xrules), so a new kind is compared as soon as a rule uses it. Each conf is
rendered by the real helm 4 with `helm install --dry-run=client`, which prints NOTES.txt (where
warning rules print their lines) and stops at the first error rule's `fail`. Helm's verdict must be
validate's, both ways: a rule Helm reports is one validate reports, and a rule validate reports is
one Helm reports. Helm 3.8.1 (the SLATE server's) cannot dry-run an install without a cluster, so
there `helm template` shows the failures (it renders no NOTES.txt).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker

from gce_values.checks import xrules
from gce_values.schema import Rule, load
from gce_values.validator import validate_sources
from support.paths import CHART_DIR, SEED_TEXT

SCHEMA = load()
RULES = SCHEMA.rules()
RULE_IDS = {rule.id for rule in RULES}
UUID = "7c7a9a4e-52a0-4b4c-9a84-3f0b9d6b8f11"
# Helm checks the release name itself before rendering, with the limit of the releaseNameLength rule.
HELM_RELEASE_CHECK = re.compile(r"release name .* must not be longer than \d+")
ID_IN_TEXT = re.compile(r"\[([a-z0-9-]+)\]")


# Values on both sides of every rule: true and false, numbers below, equal to and above each other,
# empty and non-empty text and lists. Each key gets those its schema node accepts, and those its
# rule's kind adds (its pool: quantities, mappings, lists of items).
POOL: list[Any] = [True, False, 0, 0.25, 1, 4, "", "a1", UUID, [], [UUID]]


def candidates(key: str, rule: Rule) -> list[Any]:
    node = SCHEMA.node(tuple(key.split(".")))
    assert node is not None, key
    accepts = Draft7Validator(node, format_checker=FormatChecker()).is_valid
    found = [value for value in POOL + list(xrules.kind_of(rule).pool) if accepts(value)]
    assert len(found) >= 2, (key, found)
    return found


class Case(NamedTuple):
    name: str
    values: dict[str, Any]
    release: str


def nested(dotted: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return out


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def cases() -> Iterator[Case]:
    """For each rule: every combination of candidate values of its keys, and its kind's own examples."""
    seed = yaml.safe_load(SEED_TEXT)
    for rule in RULES:
        kind = xrules.kind_of(rule)
        keys = kind.keys(rule)
        for combo in itertools.product(*(candidates(key, rule) for key in keys)):
            values = seed
            for key, value in zip(keys, combo, strict=True):
                values = deep_merge(values, nested(key, value))
            yield Case(f"{rule.id}:{json.dumps(dict(zip(keys, combo, strict=True)))}", values, "parity")
        examples = kind.breaking(rule, SCHEMA) + kind.keeping(rule, SCHEMA)
        for index, example in enumerate(examples):
            yield Case(f"{rule.id}:example-{index}", deep_merge(seed, example.values), example.release or "parity")


CASES = list(cases())


class Verdict(NamedTuple):
    failed: str | None  # the error rule that stopped the render (Helm stops at the first)
    warnings: frozenset[str]


def helm_verdict(helm: Path, case: Case, workdir: Path, *, notes: bool) -> Verdict:
    conf = workdir / "conf.yaml"
    conf.write_text(json.dumps(case.values), encoding="utf-8")
    command = ["install", "--dry-run=client"] if notes else ["template"]
    argv = [str(helm), *command, case.release, str(CHART_DIR), "-f", str(conf)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        if HELM_RELEASE_CHECK.search(done.stderr):
            # Helm's own check of the release name, before the chart's: the verdict of the case's rule,
            # when that rule is of a kind that looks at the release name.
            rule = next(r for r in RULES if r.id == case.name.split(":", 1)[0])
            assert xrules.kind_of(rule).on_release, done.stderr
            return Verdict(rule.id, frozenset())
        ids = [found for found in ID_IN_TEXT.findall(done.stderr) if found in RULE_IDS]
        assert len(ids) == 1, done.stderr  # a schema error here would mean the case is not a rule case
        return Verdict(ids[0], frozenset())
    if not notes:
        return Verdict(None, frozenset())
    lines = [line for line in done.stdout.split("NOTES:", 1)[1].splitlines() if line.startswith("WARNING: ")]
    return Verdict(None, frozenset(found for line in lines for found in ID_IN_TEXT.findall(line)))


def validate_verdict(case: Case) -> tuple[list[str], frozenset[str]]:
    """The error rules validate reports, in the order the chart checks them, and its warning rules."""
    result = validate_sources([("conf.yaml", json.dumps(case.values))], release=case.release)
    # Only rule errors in these cases (a warning of another check, such as a UUID in secrets, may come too).
    assert {p.rule for p in result.errors} <= RULE_IDS, result.problems
    reported = {p.rule for p in result.problems}
    errors = [rule.id for rule in RULES if rule.severity == "error" and rule.id in reported]
    warnings = frozenset(rule.id for rule in RULES if rule.severity == "warning" and rule.id in reported)
    return errors, warnings


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_helm_and_validate_agree_on_every_rule(case: Case, helm_bins: dict[str, Path], tmp_path: Path) -> None:
    errors, warnings = validate_verdict(case)
    helm = helm_verdict(helm_bins["v4"], case, tmp_path, notes=True)
    if helm.failed is None:
        assert errors == []
        assert helm.warnings == warnings
    else:
        assert errors[:1] == [helm.failed]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_helm_3_8_fails_on_the_rules_validate_reports(case: Case, helm_bins: dict[str, Path], tmp_path: Path) -> None:
    errors, _warnings = validate_verdict(case)
    assert (
        errors[:1] == [failed]
        if (failed := helm_verdict(helm_bins["v3.8"], case, tmp_path, notes=False).failed)
        else errors == []
    )


def test_the_cases_break_and_keep_every_rule() -> None:
    """Each rule is broken by some case and kept by another, so the comparison above cannot pass idly."""
    broken: set[str] = set()
    kept: set[str] = set()
    for case in CASES:
        errors, warnings = validate_verdict(case)
        rule_id = case.name.split(":", 1)[0]
        (broken if rule_id in {*errors, *warnings} else kept).add(rule_id)
    assert broken == kept == RULE_IDS


def test_every_kind_is_used_by_a_rule_of_the_schema() -> None:
    """A kind no rule uses is compared with Helm by nothing here (the kinds are tested through rules)."""
    assert {rule.kind for rule in RULES} == set(xrules.kinds())
