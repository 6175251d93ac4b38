"""Every command that reads a conf or env file, on every input of the hostile corpus (tests/hostile_corpus.py).

Each run must end with the exit code the corpus gives for that input and command, a message that
names the file and the problem (one line for unusable input), no traceback or Python exception name,
nothing written where the command refused, and within 2 s. In-process runs (the real entry point,
click's stream isolation) cover every command on every input a test process can safely be given.
Separate processes, limited to 512 MiB of address space, run validate on every input (and migrate on
the heaviest) to measure wall time and peak memory, and run every command on the inputs only a
process can have (a closed standard input, a pipe whose writer is killed, a file its user cannot
read) or that would hang or exhaust the test process if a limit ever broke (a FIFO without a writer,
/dev/zero, an alias bomb).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gce_values.sources import PIPE_WAIT_SECONDS, read_source
from support.cli import Ran, run
from support.helmprobe import python_cli
from support.hostile_corpus import (
    CASES,
    CASES_BY_NAME,
    COMMANDS,
    OUTPUT_FILE,
    VALID_CONF,
    Case,
    argv,
    materialize,
    shown_name,
)
from support.paths import REPO_ROOT

TIME_LIMIT = 2.0
ADDRESS_SPACE_LIMIT = 512 * 1024 * 1024
PEAK_MEMORY_LIMIT = 200 * 1024 * 1024
_EXCEPTION_NAME = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception|Interrupt)\b|internal error")

# Inputs heavy enough that a second command (migrate, the other reader of confs) runs them in a process too.
HEAVY = (
    "fifty-megabytes",
    "deep-flow-sequences",
    "deep-block-mappings",
    "hundred-thousand-keys",
    "hundred-thousand-unknown-keys",
    "one-megabyte-key",
)


@dataclass
class Corpus:
    """The materialized inputs (one directory per case, made on first use) and a good conf."""

    root: Path
    good_conf: Path
    made: dict[str, str]

    def target(self, case: Case) -> str:
        if case.name not in self.made:
            self.made[case.name] = materialize(case, self.root / case.name)
        return self.made[case.name]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    root = tmp_path_factory.mktemp("hostile")
    good_conf = root / "good-conf.yaml"
    good_conf.write_text(VALID_CONF, encoding="utf-8")
    yield Corpus(root, good_conf, {})
    for path in root.rglob("*"):  # let pytest clean up what chmod 000 made unreadable
        if not path.is_symlink():
            path.chmod(0o700)


def check_outcome(case: Case, command: str, target: str, ran: Ran, seconds: float, run_dir: Path) -> None:
    """The outcome the corpus gives, with its message, nothing leaked, nothing left behind, in time."""
    expect = case.outcomes[command]
    context = f"{case.name} / {command} (exit {ran.code}, {seconds:.2f} s):\n{ran.output[:2000]}"
    assert ran.code == expect.code, context
    assert not _EXCEPTION_NAME.search(ran.output), context
    assert seconds < TIME_LIMIT, context
    assert expect.shows(ran, shown_name(command, target)), context
    if command in OUTPUT_FILE:
        out = run_dir / OUTPUT_FILE[command]
        written = {"render": (0,), "migrate": (0, 1), "secret-create": (0,)}[command]
        assert out.exists() == (ran.code in written), context
        if command == "secret-create" and out.exists():
            assert stat.S_IMODE(out.stat().st_mode) == 0o600


# --- the whole matrix, in process ------------------------------------------------------------------------------------

IN_PROCESS = [
    pytest.param(case, command, id=f"{case.name}-{command}")
    for case in CASES
    if not case.needs_process
    for command in COMMANDS
]


@pytest.mark.parametrize(("case", "command"), IN_PROCESS)
def test_hostile_input(case: Case, command: str, corpus: Corpus, tmp_path: Path) -> None:
    target = corpus.target(case)
    stdin = case.stdin if isinstance(case.stdin, bytes) else None
    start = time.perf_counter()
    ran = run(*argv(command, target, tmp_path, corpus.good_conf), stdin=stdin)
    check_outcome(case, command, target, ran, time.perf_counter() - start, tmp_path)


# --- in separate processes: time, memory, and what only a process can be given ---------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    ran: Ran
    seconds: float
    peak_memory: int


def _without_file_access_override() -> list[str]:
    """A prefix that runs a command as root without the capabilities that let root read any file."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test an unreadable file as root"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]


def _dying_writer(content: bytes) -> subprocess.Popen[bytes]:
    """A process that writes ``content`` to its standard output, then is killed (SIGKILL) before closing it."""
    return subprocess.Popen(
        ["sh", "-c", 'printf "%s" "$1"; kill -KILL $$', "writer", content.decode()],
        stdout=subprocess.PIPE,
    )


def run_process(args: list[str], case: Case, run_dir: Path) -> ProcessRun:
    """Run gce-values in a fresh process; its exit code, output, wall time and peak resident memory."""
    prefix = _without_file_access_override() if case.name == "unreadable-file" else []
    out_path, err_path, in_path = run_dir / "stdout", run_dir / "stderr", run_dir / "stdin"
    in_path.write_bytes(case.stdin if isinstance(case.stdin, bytes) else b"")
    writer = _dying_writer(b"Instance: ci\nendpointUUID: [2f0bd7f3") if case.stdin == "writer-dies" else None
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")}
    with open(in_path, "rb") as stdin_file, open(out_path, "wb") as out, open(err_path, "wb") as err:
        stdin = writer.stdout if writer else stdin_file

        report_read, report_write = os.pipe()
        start = time.perf_counter()
        spawner = [sys.executable, "-S", "-c", _SPAWNER, str(ADDRESS_SPACE_LIMIT), str(int(case.stdin == "closed"))]
        child = subprocess.Popen(
            [*spawner, str(report_write), *prefix, *python_cli(), *args],
            stdin=stdin,
            stdout=out,
            stderr=err,
            env=env,
            cwd=run_dir,
            pass_fds=(report_write,),
            start_new_session=True,
        )
        os.close(report_write)
        if writer and writer.stdout:
            writer.stdout.close()
        status, _ = _wait(child, deadline=start + 30)
        seconds = time.perf_counter() - start
        with os.fdopen(report_read, "rb") as report:
            peak = int(report.read() or 0) * 1024
    if writer:
        writer.wait(timeout=10)
    ran = Ran(os.waitstatus_to_exitcode(status), out_path.read_text(errors="replace"), err_path.read_text())
    return ProcessRun(ran, seconds, peak)


# The measured process is started by this small one, not forked from pytest: a child's peak resident
# memory (ru_maxrss) counts what its parent had resident when it forked, and pytest holds hundreds of
# MiB by the end of a full run. It limits the address space, runs the command, reports the command's
# peak on the given descriptor and ends as the command ended (the same exit code or signal).
_SPAWNER = """
import os, resource, signal, sys
limit, close_stdin, report = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
pid = os.fork()
if pid == 0:
    os.close(report)
    if close_stdin:
        os.close(0)
    os.execvp(sys.argv[4], sys.argv[4:])
_, status, usage = os.wait4(pid, 0)
os.write(report, str(usage.ru_maxrss).encode())
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def _wait(child: subprocess.Popen[bytes], deadline: float) -> tuple[int, resource.struct_rusage]:
    """Reap the child with its own resource usage; kill it (and fail) if it outlives the deadline."""
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return status, usage
        if time.perf_counter() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            os.wait4(child.pid, 0)
            child.returncode = -signal.SIGKILL
            raise AssertionError(f"{child.args!r} did not finish: it hangs")
        time.sleep(0.002)


def _process_runs() -> list[Any]:
    runs: list[Any] = []
    for case in CASES:
        commands = COMMANDS if case.needs_process else ("validate", "migrate") if case.name in HEAVY else ("validate",)
        runs += [pytest.param(case, command, id=f"{case.name}-{command}") for command in commands]
    return runs


@pytest.mark.parametrize(("case", "command"), _process_runs())
def test_hostile_input_in_a_process(case: Case, command: str, corpus: Corpus, tmp_path: Path) -> None:
    target = corpus.target(case)
    done = run_process(argv(command, target, tmp_path, corpus.good_conf), case, tmp_path)
    check_outcome(case, command, target, done.ran, done.seconds, tmp_path)
    assert done.peak_memory < PEAK_MEMORY_LIMIT, f"{case.name} / {command}: {done.peak_memory / 2**20:.0f} MiB"


# --- particular promises ---------------------------------------------------------------------------------------------


def test_the_corpus_covers_the_hostile_inputs_of_the_issue() -> None:
    required = {
        "empty",
        "comments-only",
        "random-bytes",
        "latin1",
        "utf8-byte-order-mark",
        "alias-bomb",
        "deep-flow-sequences",
        "deep-block-sequences",
        "fifty-megabytes",
        "multiple-documents",
        "top-level-list",
        "top-level-scalar",
        "tab-indentation",
        "duplicate-keys",
        "python-object-tag",
        "binary-tag",
        "custom-tags",
        "merge-keys",
        "one-megabyte-key",
        "one-megabyte-value",
        "nan",
        "infinity",
        "directory",
        "missing-file",
        "unreadable-file",
        "symlink-loop",
        "fifo-without-writer",
        "stdin-closed",
        "stdin-empty",
        "stdin-writer-dies",
        "nul-bytes",
        "crlf-line-endings",
        "utf16",
        "hundred-thousand-keys",
        "huge-integers",
        "non-string-keys",
        "complex-key",
        "anchor-to-itself",
        "set-tag",
        "nested-lists-in-user-environment",
        "env-export-lines",
        "env-quoted-values",
        "env-no-equals",
        "env-secret-only",
    }
    assert required <= set(CASES_BY_NAME)
    assert len(CASES) >= 40


# The second key also holds a NEL, which Helm 3.8.1 refuses in a key: a problem of its own.
@pytest.mark.parametrize(("case_name", "count"), [("newline-in-key", 1), ("terminal-escapes-in-key", 2)])
def test_a_key_cannot_forge_a_line_or_drive_the_terminal(case_name: str, count: int, corpus: Corpus) -> None:
    target = corpus.target(CASES_BY_NAME[case_name])
    problems = json.loads(run("validate", "--format", "json", target).stdout)["problems"]
    text = run("validate", "--quiet", target)
    github = run("validate", "--quiet", "--format", "github", target)
    assert len(text.stdout.splitlines()) == len(problems) == len(github.stdout.splitlines()) == count
    for output in (text.output, github.output, json.dumps(problems, ensure_ascii=False)):
        assert "\x1b" not in output and "\u2028" not in output and "\x85" not in output
    assert "\\n" in text.stdout or "\\x1b" in text.stdout, "the odd characters are shown escaped"


def test_a_python_tag_runs_nothing(corpus: Corpus, tmp_path: Path) -> None:
    """The corpus file asks os.system to create /tmp/gce-values-pwned; no command may do it."""
    evidence = Path("/tmp/gce-values-pwned")
    evidence.unlink(missing_ok=True)
    target = corpus.target(CASES_BY_NAME["python-object-tag"])
    for command in COMMANDS:
        run(*argv(command, target, tmp_path, corpus.good_conf))
    assert not evidence.exists()


def test_a_fifo_waits_for_a_writer_that_is_slow_to_write(tmp_path: Path) -> None:
    """The wait for a writer is only for one that never comes: one that opened the pipe may take its time."""
    fifo = tmp_path / "slow.fifo"
    os.mkfifo(fifo)

    def slow_writer() -> None:
        with open(fifo, "w", encoding="utf-8") as handle:
            time.sleep(PIPE_WAIT_SECONDS * 2)
            handle.write(VALID_CONF)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert read_source(str(fifo)) == (str(fifo), VALID_CONF)
    finally:
        thread.join(timeout=10)


def test_stdin_dash_reads_a_real_pipe_to_its_end(tmp_path: Path) -> None:
    """Standard input as a pipe fed in pieces: read to the end, however slowly it comes."""
    feeder = subprocess.Popen(
        ["sh", "-c", 'for line in "$@"; do printf "%s\\n" "$line"; sleep 0.2; done', "feed", *VALID_CONF.splitlines()],
        stdout=subprocess.PIPE,
    )
    assert feeder.stdout is not None
    done = subprocess.run(
        [*python_cli(), "validate", "-"],
        stdin=feeder.stdout,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")},
        timeout=30,
        check=False,
    )
    feeder.stdout.close()
    feeder.wait(timeout=10)
    assert (done.returncode, done.stdout) == (0, "<stdin>: valid\n"), done.stderr


HOSTILE_SETS = [
    pytest.param("a" + "[0]" * 5000 + "=1", 2, "lists are nested more than 100 levels deep", id="lists-5000-deep"),
    pytest.param(".".join(["a"] * 5000) + "=1", 2, "nested at most 30 levels deep", id="keys-5000-deep"),
    pytest.param("maxBlocks=" + "1" * 5000, 1, "expected an integer", id="five-thousand-digits"),
    pytest.param("endpoint.admins[" + "1" * 5000 + "]=x", 2, "is out of range", id="index-of-5000-digits"),
    pytest.param("endpoint.admins[65537]=x", 2, "greater than maximum supported index", id="index-too-big"),
    pytest.param("max\nBlocks=1", 1, "unknown key 'max\\nBlocks'", id="newline-in-key"),
]


@pytest.mark.parametrize(("expression", "code", "says"), HOSTILE_SETS)
@pytest.mark.parametrize("command", ["validate", "render"])
def test_hostile_set_expression(command: str, expression: str, code: int, says: str, tmp_path: Path) -> None:
    conf = tmp_path / "conf.yaml"
    conf.write_text(VALID_CONF, encoding="utf-8")
    out = ["-o", str(tmp_path / "rendered.yaml")] if command == "render" else ["--quiet"]
    start = time.perf_counter()
    ran = run(command, str(conf), "--set", expression, *out)
    seconds = time.perf_counter() - start
    assert ran.code == code, ran.output
    assert not _EXCEPTION_NAME.search(ran.output) and seconds < TIME_LIMIT, ran.output
    problem_lines = (ran.stdout + ran.stderr).splitlines()
    assert len(problem_lines) == 1 and says in problem_lines[0] and "--set #1" in problem_lines[0], ran.output
    assert not (tmp_path / "rendered.yaml").exists()


def test_a_conf_given_as_a_pipe_is_read_once_and_fully_reported() -> None:
    """`gce-values validate <(...)`: a pipe can be read only once, so whatever path validates it must report it."""
    conf_with_a_warning = VALID_CONF + 'workerInit: "010"\n'
    read_end, write_end = os.pipe()
    os.write(write_end, conf_with_a_warning.encode())
    os.close(write_end)
    try:
        done = subprocess.run(
            [*python_cli(), "validate", f"/dev/fd/{read_end}"],
            pass_fds=(read_end,),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")},
            timeout=30,
            check=False,
        )
    finally:
        os.close(read_end)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"/dev/fd/{read_end}: valid, 1 warning\n"), done.stdout
    assert "may lose its quotes on SLATE" in done.stdout
