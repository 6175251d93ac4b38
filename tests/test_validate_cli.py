"""`gce-values validate` as a command: inputs, output formats, exit codes, and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gce_values.schema import reference as schema_check
from gce_values.sources import MAX_BYTES, read_source
from gce_values.validator import validate_sources
from support.cli import run
from support.helmprobe import python_cli
from support.paths import REPO_ROOT, SEED_FILE

VALID = SEED_FILE.read_text(encoding="utf-8")
INVALID = VALID + "maxBlocks: 2000\nimagee: x\n"
WARNING_ONLY = VALID + "workerInit: '010'\n"


@pytest.fixture
def confs(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("valid", VALID), ("invalid", INVALID), ("warning", WARNING_ONLY)):
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def _subprocess(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")}
    return subprocess.run(
        [*python_cli(), "validate", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [("valid", 0), ("invalid", 1), ("missing", 2), ("stdin", 0), ("bad-yaml", 2), ("usage", 2)],
)
def test_exit_codes_end_to_end(case: str, expected: int, confs: dict[str, Path], tmp_path: Path) -> None:
    """In a real process: exit code, and no traceback whatever the input."""
    args: tuple[str, ...] = {
        "valid": (str(confs["valid"]),),
        "invalid": (str(confs["invalid"]),),
        "missing": (str(tmp_path / "nope.yaml"),),
        "stdin": ("-",),
        "bad-yaml": ("-",),
        "usage": ("--format", "xml", str(confs["valid"])),
    }[case]
    stdin = {"stdin": VALID, "bad-yaml": "a: [\n"}.get(case)
    proc = _subprocess(*args, stdin=stdin)
    assert proc.returncode == expected, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_text_output_is_one_line_per_problem_then_a_summary(confs: dict[str, Path]) -> None:
    ran = run("validate", str(confs["invalid"]))
    assert ran.code == 1
    assert ran.stdout.splitlines() == [
        f"{confs['invalid']}:7:12: error: maxBlocks: must be at most 1000; got 2000 [maximum /maxBlocks]",
        f"{confs['invalid']}:8:1: error: imagee: unknown key 'imagee'; did you mean 'image'? [unknown-key /imagee]",
        f"{confs['invalid']}: invalid, 2 errors",
    ]


def test_quiet_prints_only_problems(confs: dict[str, Path]) -> None:
    assert run("validate", "-q", str(confs["valid"])).stdout == ""
    assert len(run("validate", "--quiet", str(confs["invalid"])).stdout.splitlines()) == 2


def test_each_conf_is_checked_alone(confs: dict[str, Path], tmp_path: Path) -> None:
    ran = run("validate", str(confs["valid"]), str(confs["invalid"]), str(confs["warning"]))
    assert ran.code == 1
    summaries = [line for line in ran.stdout.splitlines() if ": valid" in line or ": invalid" in line]
    assert summaries == [
        f"{confs['valid']}: valid",
        f"{confs['invalid']}: invalid, 2 errors",
        f"{confs['warning']}: valid, 1 warning",
    ]
    # An unreadable conf among them: the others are still checked, and the exit code is 2.
    ran = run("validate", str(confs["invalid"]), str(tmp_path / "missing.yaml"))
    assert ran.code == 2
    assert f"{tmp_path / 'missing.yaml'}: error: no such file [unreadable-input]" in ran.stderr
    assert "imagee" in ran.stdout


def test_values_files_are_merged_like_helm_f(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(VALID.replace("minBlocks: 0", "minBlocks: 4") + "maxBlocks: 2\n", encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("maxBlocks: 8\n", encoding="utf-8")
    assert run("validate", "-f", str(base), "-f", str(mine)).code == 0
    ran = run("validate", "-f", str(mine), "-f", str(base))
    assert ran.code == 1
    assert ran.stdout.splitlines()[0].startswith(f"{base}:6:1: error: minBlocks: minBlocks must not exceed maxBlocks")
    assert ran.stdout.splitlines()[-1] == f"{mine} + {base}: invalid, 1 error"


def test_set_alone_checks_the_chart_defaults_with_it() -> None:
    ran = run("validate", "--set", "Instance=x,endpointUUID=7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57,secrets=s")
    assert (ran.code, ran.stdout) == (0, "(chart defaults): valid\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a conf to check"),
        (("a.yaml", "-f", "b.yaml"), "not both"),
        (("-", "-"), "standard input (-) can be read only once"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    ran = run("validate", *args)
    assert ran.code == 2
    assert message in ran.stderr


def test_unreadable_inputs_are_exit_2_with_one_line(tmp_path: Path) -> None:
    cases = {
        "directory": (tmp_path, "is a directory"),
        "not a mapping": (tmp_path / "list.yaml", "a conf must be a YAML mapping (key: value lines), not a list"),
        "not UTF-8": (tmp_path / "latin1.yaml", "not UTF-8 text (byte 0xe9)"),
        "too big": (tmp_path / "big.yaml", "larger than 1 MiB"),
        "binary": (tmp_path / "zero.bin", "not valid YAML: character U+0000 is not allowed"),
    }
    (tmp_path / "list.yaml").write_text("- a\n")
    (tmp_path / "latin1.yaml").write_bytes(b"Instance: caf\xe9\n")
    (tmp_path / "big.yaml").write_text("#" * MAX_BYTES + "\n")
    (tmp_path / "zero.bin").write_bytes(b"a: 1\n\0\0\0")
    for name, (path, message) in cases.items():
        ran = run("validate", str(path))
        assert ran.code == 2, name
        assert message in ran.stderr, name
        assert len(ran.stderr.splitlines()) == 1, name
        assert "Traceback" not in ran.output


def test_a_conf_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "limit.yaml"
    text = VALID + "#" * (MAX_BYTES - len(VALID.encode()) - 1) + "\n"
    path.write_text(text, encoding="utf-8")
    assert len(path.read_bytes()) == MAX_BYTES
    assert read_source(str(path))[1] == text


def test_reads_from_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "conf.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "w", encoding="utf-8") as handle:
            handle.write(VALID)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert read_source(str(fifo)) == (str(fifo), VALID)
    finally:
        thread.join(timeout=10)


def test_json_output_has_the_documented_shape(confs: dict[str, Path]) -> None:
    ran = run("validate", "--format", "json", str(confs["invalid"]), str(confs["warning"]))
    report = json.loads(ran.stdout)
    assert set(report) == {"version", "valid", "files", "problems"}
    assert report["version"] == 1 and report["valid"] is False
    assert report["files"] == [str(confs["invalid"]), str(confs["warning"])]
    assert report["problems"][0] == {
        "file": str(confs["invalid"]),
        "line": 7,
        "column": 12,
        "pointer": "/maxBlocks",
        "key": "maxBlocks",
        "severity": "error",
        "rule": "maximum",
        "message": "must be at most 1000; got 2000",
        "hint": None,
    }
    assert [p["severity"] for p in report["problems"]] == ["error", "error", "warning"]
    assert ran.stderr == ""


def test_json_output_for_unreadable_input(tmp_path: Path) -> None:
    ran = run("validate", "--format", "json", "-", str(tmp_path / "missing.yaml"), stdin="- 1\n")
    assert ran.code == 2
    report = json.loads(ran.stdout)
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "file": "<stdin>",
            "line": 1,
            "column": 1,
            "pointer": "",
            "key": "",
            "severity": "error",
            "rule": "unreadable-input",
            "message": "a conf must be a YAML mapping (key: value lines), not a list",
            "hint": None,
        },
        {
            "file": str(tmp_path / "missing.yaml"),
            "line": 0,
            "column": 0,
            "pointer": "",
            "key": "",
            "severity": "error",
            "rule": "unreadable-input",
            "message": "no such file",
            "hint": None,
        },
    ]


def test_github_annotations(confs: dict[str, Path]) -> None:
    ran = run("validate", "--format", "github", str(confs["invalid"]), "--set", "endpoint.debug=maybe")
    lines = ran.stdout.splitlines()
    assert lines[0] == (
        f"::error file={confs['invalid']},line=7,col=12,title=gce-values maximum::"
        "maxBlocks: must be at most 1000; got 2000"
    )
    assert lines[-2] == ('::error title=gce-values type::--set #1: endpoint.debug: expected a boolean, got "maybe"')
    assert lines[-1] == f"{confs['invalid']}: invalid, 3 errors"


def test_github_escapes_what_would_break_the_command() -> None:
    from gce_values.report import Problem
    from gce_values.report.reporters import github_line

    problem = Problem("a,b:c.yaml", 1, 2, "/x", "x", "warning", "r", "50% done\nnext", "h")
    assert github_line(problem, is_file=True) == (
        "::warning file=a%2Cb%3Ac.yaml,line=1,col=2,title=gce-values r::x: 50%25 done\\nnext; h"
    ), "a newline in a message is shown escaped, never as a second line of the annotation"


def test_strict_turns_warnings_into_errors(confs: dict[str, Path]) -> None:
    assert run("validate", str(confs["warning"])).code == 0
    ran = run("validate", "--strict", "--format", "json", str(confs["warning"]))
    assert ran.code == 1
    assert [p["severity"] for p in json.loads(ran.stdout)["problems"]] == ["error"]


def test_colour_only_when_asked_or_on_a_terminal(confs: dict[str, Path]) -> None:
    plain = run("validate", str(confs["invalid"])).stdout
    assert "\x1b[" not in plain
    assert "\x1b[" in run("validate", "--color", str(confs["invalid"])).stdout
    assert "\x1b[" not in run("validate", "--no-color", str(confs["invalid"])).stdout


def test_help_documents_exit_codes() -> None:
    ran = run("validate", "--help")
    assert ran.code == 0
    for line in ("0  success", "1  the conf is invalid", "2  usage error or unreadable input", "3  internal error"):
        assert line in ran.stdout


def test_a_thousand_confs_in_one_call(tmp_path: Path) -> None:
    """One process checks many confs: the schema validator is built once, and a conf costs milliseconds."""
    sources = [(f"c{i}.yaml", VALID if i % 2 else INVALID) for i in range(1000)]
    validate_sources(sources[:2])
    built = dict(schema_check._VALIDATORS)
    start = time.perf_counter()
    results = [validate_sources([source]) for source in sources]
    elapsed = time.perf_counter() - start
    assert [r.ok for r in results] == [bool(i % 2) for i in range(1000)]
    assert built == schema_check._VALIDATORS
    assert elapsed < 20, f"{elapsed:.1f} s for 1000 confs"
