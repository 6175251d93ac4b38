"""validate against live Helm 3.8.1 and Helm 4 on confs generated from the grammar of each value type.

Where tests/test_validate_differential.py draws spellings from the schema's own defaults and examples,
this test writes values from their grammar (tests/support/grammar.py): quantities with every suffix,
exponent, sign and near miss, in every YAML scalar form; numbers as Python and Go print them; strings
with escapes; URLs with a password. For each conf it compares with ``helm template``: the verdict, the
x-rule id Helm fails on (it must be among validate's errors), and the line of a YAML error. It also
holds that validate never prints the password, whatever it says.

`make test` runs a bounded number of examples; `make fuzz` sets GCE_FUZZ_EXAMPLES to run many more.
A conf the long run finds wrong becomes an ``@example`` here (and a fixed test in test_edges_fixed.py).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gce_values.errors import InputError
from gce_values.report import reporters
from gce_values.validator import validate_sources
from support.grammar import credential_text, quantity_value, yaml_forms
from support.helmprobe import helm_template
from support.paths import CHART_DIR, SEED_TEXT

RELEASE = "gce-grammar"
EXAMPLES = int(os.environ.get("GCE_FUZZ_EXAMPLES", "25"))
_RULE_ID = re.compile(r"\[([a-z0-9-]+)\]\s*$", re.MULTILINE)
_YAML_LINE = re.compile(r"yaml: line (\d+):")
# Keys outside the resources block, and the endpoint pod's own (a block: all four are required).
_WORKER_KEYS = ("initMem", "maxMem")
_POD_KEYS = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))
_POD_DEFAULTS = {("requests", "cpu"): "100m", ("requests", "memory"): "512Mi"} | {
    ("limits", "cpu"): '"1"',
    ("limits", "memory"): "1Gi",
}


@st.composite
def grammar_confs(draw: st.DrawFn) -> tuple[str, str]:
    """(conf text, a password it holds that must never be printed)."""
    lines = [SEED_TEXT.rstrip("\n")]
    for key in _WORKER_KEYS:
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(quantity_value())}")
    if draw(st.booleans()):
        pod = {key: draw(quantity_value()) if draw(st.booleans()) else _POD_DEFAULTS[key] for key in _POD_KEYS}
        lines.append("resources:")
        for part in ("requests", "limits"):
            lines.append(f"  {part}:")
            lines += [f"    {name}: {pod[(part, name)]}" for (group, name) in _POD_KEYS if group == part]
    # A URL password in a value is a warning (Helm takes it); any credential in a comment is one too.
    where = draw(st.sampled_from(("env", "comment", "none")))
    password = ""
    if where == "env":
        url, password = draw(credential_text())
        lines.append(f"userEnvironment: {{HTTPS_PROXY: {draw(yaml_forms(url))}}}")
    elif where == "comment":
        text, password = draw(credential_text(("url", "token", "assignment")))
        lines.append(f"# was {text}")
    return "\n".join(lines) + "\n", password


def _pod_resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> str:
    requests = f"{{cpu: {cpu}, memory: {memory}}}"
    return f"resources: {{requests: {requests}, limits: {{cpu: {cpu_limit}, memory: {memory_limit}}}}}\n"


def _compare(helm: Path, conf: str, password: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "conf.yaml"
        path.write_text(conf, encoding="utf-8")
        rendered = helm_template(helm, CHART_DIR, [path], release=RELEASE)
    shown = f"--- conf\n{conf}--- helm\n{rendered.stderr}"
    try:
        result = validate_sources([("conf.yaml", conf)], release=RELEASE)
    except InputError as error:
        assert not rendered.ok, f"validate refuses a conf helm renders: {error}\n{shown}"
        assert password not in str(error) if password else True
        helm_line = _YAML_LINE.search(rendered.stderr)
        if helm_line and error.line is not None:
            # go-yaml counts the line of a "while parsing ..." context from 0: Helm may say one less.
            assert error.line - int(helm_line.group(1)) in (0, 1), f"{error}\n{shown}"
        return
    errors = "\n".join(f"{p.line}:{p.column} {p.rule} {p.key}: {p.message}" for p in result.errors)
    assert result.ok == rendered.ok, f"helm {'renders' if rendered.ok else 'refuses'}, validate says\n{errors}\n{shown}"
    helm_rule = _RULE_ID.search(rendered.stderr)
    if helm_rule:
        assert helm_rule.group(1) in {p.rule for p in result.errors}, f"{errors}\n{shown}"
    if password:
        for name, reporter in reporters.REPORTERS.items():
            printed = "\n".join(reporter(result.problems, ["conf.yaml"], ["conf.yaml"], False))
            assert password not in printed, f"{name} output shows the password\n{printed}"


@pytest.mark.parametrize("version", ["v3.8", "v4"])
def test_validate_agrees_with_helm_on_generated_values(version: str, helm_bins: dict[str, Path]) -> None:
    helm = helm_bins[version]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=grammar_confs())
    @example(case=(SEED_TEXT + "initMem: 3000000Ki\n", ""))
    @example(
        case=(SEED_TEXT + 'resources: {requests: {cpu: 700m, memory: 1Gi}, limits: {cpu: "0.7", memory: 1Gi}}\n', "")
    )
    @example(
        case=(
            SEED_TEXT + "resources: {requests: {cpu: 1000000.6, memory: 1Gi}, limits: {cpu: 1000000.5, memory: 1Gi}}\n",
            "",
        )
    )
    @example(case=(SEED_TEXT + "# https://user:pa55w0rd99@host\n", "pa55w0rd99"))
    # Found by `make fuzz`: go-yaml ends a plain scalar at ? in a flow mapping, libyaml reads on.
    @example(case=(SEED_TEXT + "userEnvironment: {HTTPS_PROXY: https://user:Zq00000000@host?x=1}\n", "Zq00000000"))
    def agree(case: tuple[str, str]) -> None:
        _compare(helm, *case)

    agree()
