"""Where Helm 3.8.1 (the SLATE server's) and Helm 4 part ways, validate refuses or warns and names both;
what the chart renders stays safe; numbers that would silently change text are flagged; credentials
never reach any output, whatever the escaping, and the output is the same on every run.

Each case is also rendered with both real Helm versions, so the expectation is Helm's, not ours.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gce_values.validator import Result, validate_sources
from support.helmprobe import helm_template, python_cli
from support.paths import CHART_DIR, SEED_TEXT

RELEASE = "gce-versions"


def _validate(text: str, *sets: str) -> Result:
    return validate_sources([("conf.yaml", text)], list(sets), release=RELEASE)


def _helm(helm_bins: dict[str, Path], tmp_path: Path, text: str, *sets: str) -> dict[str, bool]:
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    return {v: helm_template(helm_bins[v], CHART_DIR, [path], sets, release=RELEASE).ok for v in ("v3.8", "v4")}


def _names_both(result: Result) -> bool:
    return any("Helm 3" in f"{p.message} {p.hint}" and "Helm 4" in f"{p.message} {p.hint}" for p in result.problems)


_DISPLAY = "endpoint:\n  displayName: "
_ADMIN = (
    "endpoint:\n  subscriptionId: 7a3c1e52-9b4d-4f0e-8c21-5d6e7f809a1b\n"
    "  admins: [7A3C1E52-9B4D-4F0E-8C21-5D6E7F809A1B]\n"
)
_FLOW = "--- " + SEED_TEXT.replace("\n", ", ").join("{}") + "\n"

# (conf text, Helm 3.8.1 renders it, Helm 4 renders it, rule validate reports as an error). Where the
# schema now refuses what only Helm 3 could not take, both Helm versions refuse it.
DIFFERING = {
    "uppercase admin UUID": (SEED_TEXT + _ADMIN, False, False, "pattern"),
    "second document": (SEED_TEXT + "---\nmaxBlocks: 8\n", True, True, "extra-document"),
    "%YAML 1.1 directive": ("%YAML 1.1\n---\n" + SEED_TEXT, True, False, "yaml-directive"),
    "content after ---": (_FLOW, True, False, "yaml-document-marker"),
    "DEL in a node label": (SEED_TEXT + 'nodeSelector:\n  zone: "a\\x7fb"\n', False, False, "helm3-unreadable-text"),
    "DEL in a toleration": (SEED_TEXT + 'tolerations:\n  - key: "a\\x7fb"\n', False, True, "helm3-unreadable-text"),
    "U+FFFE in the name shown": (SEED_TEXT + _DISPLAY + '"a\\uFFFEb"\n', False, False, "helm3-unreadable-text"),
    "a 1,023-character key": (
        SEED_TEXT + "workerAffinity:\n  nodeAffinity:\n    " + "k" * 1023 + ": 1\n",
        False,
        True,
        "helm3-long-key",
    ),
    "a key named <<": (SEED_TEXT + "workerAffinity:\n  nodeAffinity:\n    '<<': x\n", False, True, "helm3-merge-key"),
}


@pytest.mark.parametrize("case", sorted(DIFFERING))
def test_validate_refuses_what_a_helm_version_refuses_and_names_both(
    case: str, helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    text, helm3_ok, helm4_ok, rule = DIFFERING[case]
    assert _helm(helm_bins, tmp_path, text) == {"v3.8": helm3_ok, "v4": helm4_ok}
    result = _validate(text)
    assert rule in {p.rule for p in result.errors}, result.problems
    assert _names_both(result), result.problems


def test_control_characters_render_escaped_with_helm_4(helm_bins: dict[str, Path], tmp_path: Path) -> None:
    """Helm 4 renders DEL and NEL in free text as JSON escapes, not raw (which broke the manifests)."""
    path = tmp_path / "conf.yaml"
    path.write_text(
        SEED_TEXT + 'workerAffinity:\n  nodeAffinity:\n    title: "a\\x85b"\nworkerInit: "x\\x85y"\n', encoding="utf-8"
    )
    rendered = helm_template(helm_bins["v4"], CHART_DIR, [path], release=RELEASE)
    assert rendered.ok, rendered.stderr
    assert '"a\\u0085b"' in rendered.stdout and "x\\u0085y" in rendered.stdout
    assert "\x85" not in rendered.stdout


@pytest.mark.parametrize(
    ("text", "sets"),
    [(SEED_TEXT + "SLATE:\n  Instance: foo\n", ()), (SEED_TEXT, ("SLATE.Instance=abc",))],
)
def test_slate_instance_that_is_not_a_mapping_is_a_schema_error(
    text: str, sets: tuple[str, ...], helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    """It used to pass the schema and crash every Helm in the templates (error calling dig)."""
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    for version in ("v3.8", "v4"):
        rendered = helm_template(helm_bins[version], CHART_DIR, [path], sets, release=RELEASE)
        assert not rendered.ok
        assert "dig" not in rendered.stderr and "schema" in rendered.stderr
    result = _validate(text, *sets)
    assert [(p.rule, p.key) for p in result.errors] == [("type", "SLATE.Instance")]


@pytest.mark.parametrize(
    ("line", "severity", "rule"),
    [
        ("image:\n  tag: 4.10", "error", "number-text-changed"),
        ("image:\n  tag: 0x10", "error", "number-text-changed"),
        ("image:\n  tag: -1", "error", "number-text-invalid"),
        ("Instance: 1e3", "error", "number-text-changed"),
        ("resources:\n  limits:\n    cpu: 1.50", "warning", "number-text-changed"),
        # On requests: a limit of 0.0 would also be below the default request (another rule's error).
        ("resources:\n  requests:\n    cpu: '0.0'", "warning", "slate-quotes"),
        ("workerExtraResources:\n  nvidia.com/gpu: '0'", "warning", "slate-quotes"),
    ],
)
def test_numbers_that_change_their_text_are_flagged(line: str, severity: str, rule: str) -> None:
    key = line.split(":", maxsplit=1)[0]
    text = "".join(row for row in SEED_TEXT.splitlines(keepends=True) if not row.startswith(key + ":"))
    result = _validate(text + line + "\n")
    assert [(p.severity, p.rule) for p in result.problems] == [(severity, rule)]


def test_quoted_tag_and_plain_integer_are_fine() -> None:
    assert _validate(SEED_TEXT + 'image:\n  tag: "4.19.0"\nmaxBlocks: 8\n').problems == []


PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "-----END PRIVATE KEY-----\n"
)
TOKEN = "Zq3Rk9Wm2Xp7Lv4Tn8Hs1Jd6Fb5Gc0Ya3Ue7Ki9Oo2Pl"
LEAKS = {
    "PEM under a boolean": "useClientCredentials:\n  key: |\n" + "".join(f"    {row}\n" for row in PEM.splitlines()),
    "PEM as a key": f"userEnvironment:\n  {json.dumps(PEM)}: x\n",
    "token in tabs": f'endpoint:\n  displayName: "a\\t{TOKEN}\\tb"\n',
    "token with backslashes": f'endpoint:\n  displayName: "a\\\\{TOKEN}\\\\b"\n',
    "token as an unknown key": f"{TOKEN}: x\n",
    "token in a mapping where text belongs": f"endpoint:\n  name: {{a: {TOKEN}}}\n",
}
_FRAGMENTS = [TOKEN[i : i + 10] for i in range(0, len(TOKEN) - 10, 5)] + ["MIIEvQIBADANBg", "BKcwggSjAgEAAo"]


def _outputs(path: Path, seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"}
    outs = []
    for fmt in ("text", "json", "github"):
        proc = subprocess.run(
            [*python_cli(), "validate", str(path), "--format", fmt],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr
        outs.append(proc.stdout + proc.stderr)
    return outs


@pytest.mark.parametrize("case", sorted(LEAKS))
def test_credentials_never_printed_in_any_escaping_and_always_the_same(case: str, tmp_path: Path) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text(SEED_TEXT + LEAKS[case], encoding="utf-8")
    first = _outputs(path, "1")
    for output in first:
        assert not [f for f in _FRAGMENTS if f in output], output
    assert _outputs(path, "2") == first


def test_a_credential_in_a_bad_set_expression_is_not_printed() -> None:
    from gce_values.errors import InputError

    with pytest.raises(InputError) as caught:
        _validate(SEED_TEXT, TOKEN)
    assert TOKEN not in str(caught.value) and "at character" in str(caught.value)
