"""The fast path of `gce-values validate` (gce_values.cli.fastpath) changes nothing but the time taken.

Every case runs the real command in a fresh process twice, once as users run it and once with
GCE_VALUES_NO_FAST_PATH=1 (the switch that sends every call to the full click command), and the two
must print the same bytes on stdout and stderr and end with the same exit code. Separately, the fast
path must really answer the valid confs without loading click or jsonschema, and leave everything
else, untouched, to the full command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gce_values.cli import NO_FAST_PATH_ENV
from support.paths import CI_DIR, REPO_ROOT, SEED_FILE

VALID = SEED_FILE.read_text(encoding="utf-8")

# name -> file content, written into the test's directory
FILES: dict[str, str | bytes] = {
    "valid.yaml": VALID,
    "also valid.yaml": VALID.replace("Instance: ci", "Instance: ci2"),
    "yes-for-a-boolean.yaml": VALID + "workerDebug: yes\n",
    "héllo.yaml": VALID,
    "-dash.yaml": VALID,
    "warning.yaml": VALID + "workerInit: '010'\n",
    "invalid.yaml": VALID + "maxBlocks: 2000\nimagee: x\n",
    "bad-yaml.yaml": "a: [\n",
    "a-list.yaml": "- 1\n- 2\n",
    "latin1.yaml": "Instance: caf\xe9\n".encode("latin-1"),
    "unknown-non-ascii-key.yaml": VALID + "imagé: x\n",
    "secret.yaml": VALID + "endpointConfig: {token: Zx9QvT3mLp8RwY2nKc7HsD4fGj6BtA1uEo5IiN0rV}\n",
    "workflow.yaml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
}

# What the fast path answers itself: plain `validate [-q|--quiet] [--strict] CONF...` of confs in files.
FAST = {
    "one valid conf": ["validate", "valid.yaml"],
    "several valid confs": ["validate", "valid.yaml", "also valid.yaml", "yes-for-a-boolean.yaml"],
    "quiet": ["validate", "-q", "valid.yaml"],
    "long quiet, strict, options after the confs": ["validate", "valid.yaml", "--quiet", "--strict"],
    "a conf named twice": ["validate", "valid.yaml", "valid.yaml"],
    "a name that is not ASCII": ["validate", "héllo.yaml"],
    "the chart's ci confs": ["validate", *(str(path) for path in sorted(CI_DIR.glob("*.yaml")))],
    "a warning": ["validate", "warning.yaml"],
    "a warning, strict": ["validate", "--strict", "warning.yaml"],
    "invalid": ["validate", "invalid.yaml"],
    "valid then invalid": ["validate", "valid.yaml", "invalid.yaml"],
    "invalid, quiet": ["validate", "-q", "invalid.yaml"],
    "a credential": ["validate", "secret.yaml"],
    "only confs, other YAML skipped": ["validate", "--only-confs", "workflow.yaml", "valid.yaml"],
    "only confs, quiet": ["validate", "--only-confs", "-q", "valid.yaml", "workflow.yaml"],
    "only confs, one invalid": ["validate", "--only-confs", "workflow.yaml", "invalid.yaml"],
}

# What it must leave to the full command (output and exit code then come from click's command alone).
FULL = {
    "missing file": ["validate", "valid.yaml", "missing.yaml"],
    "a directory": ["validate", "."],
    "not YAML": ["validate", "bad-yaml.yaml"],
    "not a mapping": ["validate", "a-list.yaml"],
    "not UTF-8": ["validate", "latin1.yaml"],
    "standard input": ["validate", "-"],
    "json format": ["validate", "--format", "json", "valid.yaml"],
    "only confs, json": ["validate", "--only-confs", "--format", "json", "workflow.yaml", "valid.yaml"],
    "github format": ["validate", "--format=github", "valid.yaml"],
    "no colour": ["validate", "--no-color", "valid.yaml"],
    "merged with -f": ["validate", "-f", "valid.yaml", "-f", "also valid.yaml"],
    "--set": ["validate", "valid.yaml", "--set", "minBlocks=1"],
    "--release": ["validate", "--release", "mine", "valid.yaml"],
    "a name after --": ["validate", "--", "-dash.yaml"],
    "a name with a tab": ["validate", "valid\t.yaml"],
    "an unknown option": ["validate", "-x", "valid.yaml"],
    "combined short flags": ["validate", "-qq", "valid.yaml"],
    "no conf": ["validate"],
    "help": ["validate", "--help"],
    "no command": [],
    "version": ["--version"],
}

ENTRY = "import sys; sys.argv[0] = 'gce-values'; from gce_values.cli import {0}; {0}()"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("fastpath")
    for name, content in FILES.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (directory / "valid\t.yaml").write_text(VALID, encoding="utf-8")
    return directory


def gce_values(
    args: list[str], cwd: Path, *, fast: bool, entry: str = "console", env: dict[str, str] | None = None
) -> tuple[int, bytes, bytes]:
    """Run the real entry point in a fresh process; exit code, stdout and stderr as bytes."""
    child_env = {key: value for key, value in os.environ.items() if key != NO_FAST_PATH_ENV}
    child_env["PYTHONPATH"] = str(REPO_ROOT / "tools")
    child_env.update(env or {})
    if not fast:
        child_env[NO_FAST_PATH_ENV] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY.format(entry), *args],
        cwd=cwd,
        env=child_env,
        input=VALID.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("args", [*FAST.values(), *FULL.values()], ids=[*FAST, *FULL])
def test_fast_path_output_and_exit_code_are_the_full_commands(args: list[str], workdir: Path) -> None:
    assert gce_values(args, workdir, fast=True) == gce_values(args, workdir, fast=False)


@pytest.mark.parametrize("args", list(FAST.values()), ids=list(FAST))
def test_the_in_process_entry_point_agrees_with_the_console_script(args: list[str], workdir: Path) -> None:
    assert gce_values(args, workdir, fast=True, entry="main") == gce_values(args, workdir, fast=True)


def test_an_ascii_only_stdout_sends_a_non_ascii_name_to_the_full_command(workdir: Path) -> None:
    """click re-encodes output for an ASCII stdout; the fast path must not print such a name itself."""
    env = {"PYTHONIOENCODING": "ascii"}
    args = ["validate", "héllo.yaml"]
    fast = gce_values(args, workdir, fast=True, env=env)
    assert fast == gce_values(args, workdir, fast=False, env=env)
    assert fast[0] == 0


def test_problems_for_an_ascii_only_stdout_go_to_the_full_command(workdir: Path) -> None:
    env = {"PYTHONIOENCODING": "ascii"}
    args = ["validate", "unknown-non-ascii-key.yaml"]
    fast = gce_values(args, workdir, fast=True, env=env)
    assert fast == gce_values(args, workdir, fast=False, env=env)
    assert fast[0] == 1


PROBE = """
import json, sys
from gce_values.cli import fastpath as quickvalidate
code = quickvalidate.run(sys.argv[1:])
loaded = sorted(name for name in ("click", "jsonschema") if name in sys.modules)
print(json.dumps({"code": code, "loaded": loaded}))
"""


def quick(args: list[str], cwd: Path) -> tuple[dict[str, object], str]:
    """What quickvalidate.run alone does with ``args`` in a fresh process; what it printed before that."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    printed, _, verdict = proc.stdout.rstrip("\n").rpartition("\n")
    return json.loads(verdict), printed + proc.stderr


@pytest.mark.parametrize("args", list(FAST.values()), ids=list(FAST))
def test_confs_in_files_are_answered_without_click_or_jsonschema(args: list[str], workdir: Path) -> None:
    verdict, _ = quick(args, workdir)
    assert verdict["code"] in (0, 1)
    assert verdict["loaded"] == []


@pytest.mark.parametrize("args", list(FULL.values()), ids=list(FULL))
def test_everything_else_is_left_to_the_full_command_untouched(args: list[str], workdir: Path) -> None:
    verdict, printed = quick(args, workdir)
    assert verdict["code"] is None
    assert printed == ""


def test_a_broken_installation_gets_one_line_and_exit_code_3_not_a_traceback(workdir: Path) -> None:
    """A module that cannot be imported (a half-installed package) breaks the fast path and the full path."""
    broken = "import sys; sys.modules['gce_values.errors'] = None; from gce_values.cli import console; console()"
    proc = subprocess.run(
        [sys.executable, "-c", broken, "validate", "valid.yaml"],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.startswith("gce-values: internal error: ModuleNotFoundError: ")
    assert len(proc.stderr.splitlines()) == 1
