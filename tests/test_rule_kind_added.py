"""A new x-rule kind is one module and its template partial, and everything else picks it up.

In a copy of the repository, the only change being one new module in gce_values/checks/rulekinds
(with its .tpl beside it) and one rule of the new kind appended to the schema, `gce-values schema
build` writes the rule and its partial into the chart, `gce-values validate` reports a conf that
breaks it, the real Helm 3.8.1 and 4 fail the render of that conf naming it, and the repository's
own rule tests (the Python-vs-Helm parity test and the chart's rule test) test it, unchanged. And a
rule whose fields are not its kind's is refused by `gce-values schema build`, before any conf meets it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import REPO_ROOT, SEED_FILE

RULE_ID = "init-blocks-differ-from-max"
ENTRY = "import sys; sys.argv[0] = 'gce-values'; from gce_values.cli import main; main()"

# The whole of the new kind: its fields, its check, its Go condition, an example that breaks it.
NEW_KIND = '''"""differ: the values at ``keys`` are not all the same text (as toString writes them)."""

from __future__ import annotations

from gce_values.checks.rulekind import (
    KEYS, Context, Example, Field, Kind, Violation, go_string, merged, nested, node_of, partial_beside, values_expr,
)
from gce_values.schema import Rule, ValuesSchema


def check(rule: Rule, ctx: Context) -> Violation | None:
    texts = {go_string(ctx.get(key)) for key in rule.spec["keys"]}
    return Violation(rule, ctx.user_first(*rule.spec["keys"])) if len(texts) == 1 else None


def go_condition(rule: Rule) -> str:
    listed = " ".join(values_expr(key) for key in rule.spec["keys"])
    return f'eq (include "gce.allSameText" (list {listed})) "true"'


def breaking(rule: Rule, schema: ValuesSchema) -> list[Example]:
    value = node_of(schema, rule.spec["keys"][-1])["default"]
    return [Example(merged(*(nested(key, value) for key in rule.spec["keys"])))]


KIND = Kind("differ", (Field("keys", KEYS),), check, go_condition, breaking, template=partial_beside(__file__))
'''
NEW_PARTIAL = """{{/* gce.allSameText: "true" when every item of the list has the same toString. */}}
{{- define "gce.allSameText" -}}
{{- $first := toString (first .) -}}
{{- $other := false -}}
{{- range . }}{{ if ne (toString .) $first }}{{ $other = true }}{{ end }}{{ end -}}
{{- if not $other }}true{{ end -}}
{{- end }}
"""
NEW_RULE = f"""  - id: {RULE_ID}
    kind: differ
    keys: [initBlocks, maxBlocks]
    message: initBlocks must differ from maxBlocks
"""
BREAKING_CONF = "initBlocks: 4\nmaxBlocks: 4\n"


def copy_repository(root: Path, *, with_tests: bool = False) -> Path:
    """The parts of the repository the tool, the chart and (``with_tests``) the test suite need."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for part in ("tools/gce_values", "schema", "chart", *(("tests",) if with_tests else ())):
        shutil.copytree(REPO_ROOT / part, root / part, ignore=ignore)
    shutil.copy2(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def gce_values(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The copy's gce-values, run as a user runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'gce-values'; from gce_values.cli import main; main()",
            *args,
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "tools")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with the new kind and a rule of it; its chart built by its own gce-values."""
    root = copy_repository(tmp_path_factory.mktemp("added-kind"), with_tests=True)
    kinds = root / "tools" / "gce_values" / "checks" / "rulekinds"
    (kinds / "differ.py").write_text(NEW_KIND, encoding="utf-8")
    (kinds / "differ.tpl").write_text(NEW_PARTIAL, encoding="utf-8")
    with (root / "schema" / "values.schema.yaml").open("a", encoding="utf-8") as schema:
        schema.write(NEW_RULE)
    built = gce_values(root, "schema", "build")
    assert built.returncode == 0, built.stderr
    return root


def test_schema_build_writes_the_rule_and_the_partial_into_the_chart(added: Path) -> None:
    rules = (added / "chart" / "globus-compute-endpoint" / "templates" / "_rules.tpl").read_text(encoding="utf-8")
    assert f"[{RULE_ID}]" in rules
    assert 'define "gce.allSameText"' in rules
    checked = gce_values(added, "schema", "build", "--check")
    assert checked.returncode == 0, checked.stderr


def test_validate_reports_a_conf_that_breaks_it(added: Path, tmp_path: Path) -> None:
    seed = SEED_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(seed + BREAKING_CONF, encoding="utf-8")
    ran = gce_values(added, "validate", str(broken))
    assert ran.returncode == 1
    assert re.search(rf":\d+:1: error: initBlocks: initBlocks must differ from maxBlocks \[{RULE_ID} ", ran.stdout)
    assert gce_values(added, "validate", str(SEED_FILE)).returncode == 0


@pytest.mark.parametrize("helm", ["v3.8", "v4"])
def test_helm_fails_the_render_naming_it(added: Path, tmp_path: Path, helm_bins: dict[str, Path], helm: str) -> None:
    conf = tmp_path / "broken.yaml"
    conf.write_text(BREAKING_CONF, encoding="utf-8")
    chart = added / "chart" / "globus-compute-endpoint"

    def template(*files: Path) -> subprocess.CompletedProcess[str]:
        args = [str(helm_bins[helm]), "template", "kind", str(chart)]
        args += [arg for path in files for arg in ("-f", str(path))]
        return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)

    broken = template(SEED_FILE, conf)
    assert broken.returncode != 0
    assert f"initBlocks must differ from maxBlocks [{RULE_ID}]" in broken.stderr
    kept = template(SEED_FILE)
    assert kept.returncode == 0, kept.stderr


def test_the_rule_tests_test_it_unchanged(added: Path, helm_bins: dict[str, Path]) -> None:
    """The parity and chart rule tests of the copy run its examples and value combinations against Helm."""
    env = {**os.environ, "HELM38": str(helm_bins["v3.8"]), "HELM3": str(helm_bins["v3"]), "HELM4": str(helm_bins["v4"])}
    env["PYTHONPATH"] = str(added / "tools")
    tests = ["tests/test_rule_parity.py", "tests/test_chart_template_rules.py"]
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-k", RULE_ID, *tests],
        cwd=added,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:]
    passed = re.search(r"(\d+) passed", ran.stdout)
    assert passed and int(passed[1]) >= 10, ran.stdout[-3000:]


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        (
            "  - {id: typo, kind: lessOrEqual, kyes: [initBlocks, maxBlocks], message: m}\n",
            "x-rules[*] (typo): lessOrEqual has no field 'kyes'; its fields are keys",
        ),
        (
            "  - {id: typo, kind: requiredWhen, key: secrets, whenTure: rbacEnabled, message: m}\n",
            "x-rules[*] (typo): requiredWhen has no field 'whenTure'",
        ),
        (
            "  - {id: typo, kind: required, key: endpointUUDI, message: m}\n",
            "x-rules[*] (typo): key: 'endpointUUDI' is not a key of the schema",
        ),
        ("  - {id: typo, kind: requried, key: secrets, message: m}\n", "x-rules[*] (typo): unknown kind 'requried'"),
        (
            "  - {id: typo, kind: warnWhen, key: imagePullSecret, when: [{key: imagePullSecret, notEmtpy: true}],"
            " message: m}\n",
            "x-rules[*] (typo): when: a condition has no field 'notEmtpy'",
        ),
    ],
)
def test_schema_build_refuses_a_rule_that_is_not_its_kinds(tmp_path: Path, rule: str, complaint: str) -> None:
    root = copy_repository(tmp_path)
    with (root / "schema" / "values.schema.yaml").open("a", encoding="utf-8") as schema:
        schema.write(rule)
    chart_before = (root / "chart" / "globus-compute-endpoint" / "templates" / "_rules.tpl").read_bytes()
    for args in (("schema", "build", "--check"), ("schema", "build")):
        ran = gce_values(root, *args)
        assert ran.returncode == 1
        lines = ran.stderr.splitlines()
        assert any(re.sub(r"x-rules\[\d+\]", "x-rules[*]", line).count(complaint) for line in lines), ran.stderr
        assert "Traceback" not in ran.stderr
    after = (root / "chart" / "globus-compute-endpoint" / "templates" / "_rules.tpl").read_bytes()
    assert after == chart_before, "nothing is written"
