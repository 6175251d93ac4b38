"""Fixed examples of the chart's real edges, each held against live Helm 3.8.1 and Helm 4.

One per class the adversarial corpus of issue 24 found (and tests/test_grammar_differential.py now
generates): quantities in every suffix compared exactly, numbers as Go prints them, ``\\'`` escapes
by the thousand, URL passwords in values, comments and --set text, and reader corner cases (code
points, byte-order marks, merges of aliases, NEL in keys) that must end in Helm's verdict and never
in an internal error.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.errors import InputError
from gce_values.helmyaml.scalars import as_template_text
from gce_values.report import reporters
from gce_values.sources import read_source
from gce_values.validator import Result, validate_sources
from support import cli
from support.helmprobe import helm_template, write_probe_chart
from support.paths import CHART_DIR, SEED_TEXT

RELEASE = "gce-edges"
EXAMPLES = int(os.environ.get("GCE_FUZZ_EXAMPLES", "30"))
HELMS = ["v3.8", "v4"]


def _pod(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> str:
    requests = f"{{cpu: {cpu}, memory: {memory}}}"
    return f"resources:\n  requests: {requests}\n  limits: {{cpu: {cpu_limit}, memory: {memory_limit}}}\n"


# (conf lines after the seed, --set expressions, the x-rule Helm fails on or None when it renders)
QUANTITY_CASES = [
    ("initMem: 3000000Ki\n", [], "memory-request-within-limit"),
    ("initMem: 2097152Ki\n", [], None),
    ("", ["maxMem=400000Ki"], "memory-request-within-limit"),
    (_pod("100m", "512Mi", "1", "1000Ki"), [], "endpoint-memory-request-within-limit"),
    (_pod("700m", "1Gi", '"0.7"', "1Gi"), [], None),
    (_pod("9m", "1Gi", '"0.009"', "1Gi"), [], None),
    (_pod("7100m", "1Gi", '"7.1"', "1Gi"), [], None),
    (_pod("100m", "1.07G", "1", '"1070000000"'), [], None),
    (_pod("100m", "1.07G", "1", '"1069999999"'), [], "endpoint-memory-request-within-limit"),
    (_pod("1000000.6", "1Gi", "1000000.5", "1Gi"), [], "endpoint-cpu-request-within-limit"),
    (_pod("1000000.4", "1Gi", "1000000.5", "1Gi"), [], None),
    (_pod("1e3", "1Ei", "1001", "2E"), [], None),
    (_pod("1.0000000011", "1Gi", "1.000000002", "1Gi"), [], None),
    ("initMem: 1.5Ei\nmaxMem: 1Pi\n", [], "memory-request-within-limit"),
    ('initMem: ".5Gi"\nmaxMem: 512Mi\n', [], None),
]


def _validate(conf: str, sets: list[str] | None = None) -> Result:
    return validate_sources([("conf.yaml", conf)], set_values=sets or [], release=RELEASE)


def _helm(helm: Path, tmp_path: Path, conf: str | bytes, sets: list[str] | None = None) -> tuple[bool, str]:
    path = tmp_path / "conf.yaml"
    if isinstance(conf, str):
        path.write_text(conf, encoding="utf-8")
    else:
        path.write_bytes(conf)
    rendered = helm_template(helm, CHART_DIR, [path], sets=sets or [], release=RELEASE)
    return rendered.ok, rendered.stderr


@pytest.mark.parametrize("version", HELMS)
@pytest.mark.parametrize(("lines", "sets", "rule"), QUANTITY_CASES)
def test_quantities_compare_exactly_as_helm_does(
    lines: str, sets: list[str], rule: str | None, version: str, helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    conf = SEED_TEXT + lines
    ok, stderr = _helm(helm_bins[version], tmp_path, conf, sets)
    assert ok == (rule is None), stderr
    if rule:
        assert f"[{rule}]" in stderr
    result = _validate(conf, sets)
    assert [p.rule for p in result.errors] == ([rule] if rule else [])


def test_numbers_are_written_as_go_prints_them() -> None:
    """The chart reads a float64 through its text: non-whole numbers of a million and more have an exponent."""
    assert [as_template_text(x) for x in (1000000.5, 999999.5, 1e6, 0.00001, 4.10)] == [
        "1.0000005e+06",
        "999999.5",
        "1000000",
        "1e-05",
        "4.1",
    ]


@pytest.mark.parametrize("version", HELMS)
def test_thousands_of_quote_escapes_read_as_helm_reads_them(
    version: str, helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    """More than the thousand a former limit refused, in one file: each \\' is a quote, as in go-yaml."""
    env = "".join(f'  V{i}: "it\\\'s {i}"\n' for i in range(1500))
    conf = SEED_TEXT + "userEnvironment:\n" + env
    result = _validate(conf)
    assert result.ok, [p.message for p in result.errors]
    assert result.values["userEnvironment"]["V1499"] == "it's 1499"
    chart = write_probe_chart(tmp_path / "probe")
    (tmp_path / "conf.yaml").write_text(conf, encoding="utf-8")
    probed = helm_template(helm_bins[version], chart, [tmp_path / "conf.yaml"]).values()
    assert probed["userEnvironment"] == result.values["userEnvironment"]


PASSWORD = "pa55-w0rd-Zq9"
URL = f"https://alice:{PASSWORD}@proxy.example.org:3128"


@pytest.mark.parametrize(
    ("lines", "sets", "line"),
    [
        (f"userEnvironment: {{HTTPS_PROXY: '{URL}'}}\n", [], 6),
        (f"workerImage: '{URL}/img:1'\n", [], 6),
        (f"# the old proxy: {URL}\n", [], 6),
        ("", [f"userEnvironment.HTTPS_PROXY={URL}"], None),
    ],
)
def test_url_passwords_are_warned_about_and_never_printed(lines: str, sets: list[str], line: int | None) -> None:
    result = _validate(SEED_TEXT + lines, sets)
    found = [p for p in result.problems if p.rule in ("secret-in-url", "secret-in-comment")]
    assert found and all(p.severity == "warning" for p in found)
    if line is not None:
        assert found[0].line == line
    for name, reporter in reporters.REPORTERS.items():
        printed = "\n".join(reporter(result.problems, ["conf.yaml"], ["conf.yaml"], False))
        assert PASSWORD not in printed, name


def test_url_password_in_a_bad_value_is_redacted_in_every_format(tmp_path: Path) -> None:
    conf = tmp_path / "conf.yaml"
    conf.write_text(SEED_TEXT + f"workerImage: '{URL}/ with a space'\n", encoding="utf-8")
    for output in ("text", "json", "github"):
        ran = cli.run("validate", str(conf), "--format", output, "--set", f"displayName={URL}")
        assert ran.code == 1, ran.output
        assert PASSWORD not in ran.output and "alice:" not in ran.output


@pytest.mark.parametrize("expression", ["k=a,hunter2-Secret", "a.b=1,c=x,hunter2-Secret", "x[hunter2-Secret]=1"])
def test_a_set_parse_error_names_the_position_not_the_text(expression: str) -> None:
    with pytest.raises(InputError) as caught:
        _validate(SEED_TEXT, [expression])
    assert "hunter2" not in str(caught.value)
    assert "at character " in str(caught.value)


@pytest.mark.parametrize("version", HELMS)
@pytest.mark.parametrize(
    "conf",
    [
        pytest.param(codecs.BOM_UTF8 * 2 + SEED_TEXT.encode(), id="two-boms"),
        pytest.param((SEED_TEXT + "base: &b [{a: b}]\nnodeSelector:\n  <<: *b\n").encode(), id="merge-alias-list"),
    ],
)
def test_reader_corners_are_refused_as_helm_refuses_them(
    conf: bytes, version: str, helm_bins: dict[str, Path], tmp_path: Path
) -> None:
    ok, stderr = _helm(helm_bins[version], tmp_path, conf)
    assert not ok, stderr
    (tmp_path / "mine.yaml").write_bytes(conf)
    with pytest.raises(InputError):
        _validate(read_source(str(tmp_path / "mine.yaml"))[1])


def test_a_nel_in_a_key_is_refused_as_helm_3_refuses_it(helm_bins: dict[str, Path], tmp_path: Path) -> None:
    conf = SEED_TEXT + 'nodeSelector:\n  "a\\Nb": x\n'
    ok, stderr = _helm(helm_bins["v3.8"], tmp_path, conf)
    assert not ok and "error converting JSON to YAML" in stderr, stderr
    assert [p.rule for p in _validate(conf).errors] == ["key-next-line"]


def test_every_private_use_code_point_in_a_comment_is_just_a_comment(tmp_path: Path) -> None:
    planes = [(0xE000, 0xF900), (0xF0000, 0xFFFFE), (0x100000, 0x10FFFE)]
    comment = "# " + "".join(chr(c) for start, end in planes for c in range(start, end)) + "\n"
    mid_bom = "displayName: \ufeffx\n"
    conf = tmp_path / "conf.yaml"
    conf.write_text(SEED_TEXT + comment + mid_bom, encoding="utf-8")
    ran = cli.run("validate", str(conf))
    assert ran.code == 1 and "unknown-key" in ran.output, ran.output


_PLACES = ("# {} comment", "key{}: x", "k: a{}b", "k: 'a{}b'", 'k: "a{}b"', "{}k: x", "k:\n  - a{}")


@settings(max_examples=10 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(st.integers(0, 0x10FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF), min_size=1, max_size=3),
    place=st.sampled_from(_PLACES),
    boms=st.integers(0, 2),
)
def test_any_code_point_anywhere_ends_in_a_result_or_an_input_error(points: list[int], place: str, boms: int) -> None:
    """No internal error (exit 3): whatever the code points, byte-order marks and place in the YAML."""
    text = "\ufeff" * boms + SEED_TEXT + place.format("".join(map(chr, points)))
    try:
        result = validate_sources([("conf.yaml", text)])
    except InputError as error:
        assert "\n" not in str(error)
        return
    for name in ("text", "github"):
        assert all("\n" not in line for line in reporters.REPORTERS[name](result.problems, ["conf.yaml"], [], False))


@pytest.mark.parametrize("plane", range(17))
@pytest.mark.parametrize("place", ["# {}\n", 'displayName: "{}"\n', "nodeSelector: {{a: '{}'}}\n"])
def test_every_code_point_of_a_plane_ends_in_a_result_or_an_input_error(plane: int, place: str) -> None:
    """All of a plane's code points at once (surrogates aside: UTF-8 cannot hold them), in three places."""
    points = "".join(chr(c) for c in range(plane * 0x10000, (plane + 1) * 0x10000) if not 0xD800 <= c <= 0xDFFF)
    try:
        validate_sources([("conf.yaml", SEED_TEXT + place.format(points))])
    except InputError as error:
        assert "\n" not in str(error)
