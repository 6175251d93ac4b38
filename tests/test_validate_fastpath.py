"""The fast path of `gce-values validate` (gce_values.cli.fastpath) changes nothing but the time taken.

Both entry points call the same functions (gce_values.cli.validation) for what the flags mean, how each
conf is checked and which lines are printed; what is left to show is that the fast path's own part -
recognising a plain call and writing the lines - gives the bytes click gives. A generative test runs
the real command in fresh processes twice on drawn calls, once as users run it and once with
GCE_VALUES_NO_FAST_PATH=1 (the switch that sends every call to the full click command), and the two
must print the same bytes on stdout and stderr and end with the same exit code. Separately, the fast
path must really answer plain calls without loading click or jsonschema, and leave every other call,
untouched, to the full command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.cli import NO_FAST_PATH_ENV, validation
from support.paths import REPO_ROOT, SEED_FILE

VALID = SEED_FILE.read_text(encoding="utf-8")

# name -> file content, written into the test's directory: one of each kind of answer validate gives.
FILES: dict[str, str | bytes] = {
    "valid.yaml": VALID,
    "héllo.yaml": VALID.replace("Instance: ci", "Instance: ci2"),
    "yes-for-a-boolean.yaml": VALID + "workerDebug: yes\n",
    "warning.yaml": VALID + "workerInit: '010'\n",
    "invalid.yaml": VALID + "maxBlocks: 2000\nimagee: x\n",
    "bad-yaml.yaml": "a: [\n",
    "a-list.yaml": "- 1\n- 2\n",
    "latin1.yaml": "Instance: caf\xe9\n".encode("latin-1"),
    "unknown-non-ascii-key.yaml": VALID + "imagé: x\n",
    "secret.yaml": VALID + "endpointConfig: {token: Zx9QvT3mLp8RwY2nKc7HsD4fGj6BtA1uEo5IiN0rV}\n",
    "workflow.yaml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
}
FLAGS = [decl for flag in validation.PLAIN_FLAGS for decl in flag.decls]
# Calls the fast path must leave to click, whatever the confs.
OTHER_CALLS = {
    "json format": ["validate", "--format", "json", "valid.yaml"],
    "no colour": ["validate", "--no-color", "valid.yaml"],
    "merged with -f": ["validate", "-f", "valid.yaml", "-f", "invalid.yaml"],
    "--set": ["validate", "valid.yaml", "--set", "minBlocks=1"],
    "standard input": ["validate", "-"],
    "a directory": ["validate", "."],
    "a name with a tab": ["validate", "valid\t.yaml"],
    "combined short flags": ["validate", "-qq", "valid.yaml"],
    "no command": [],
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


# A plain call: confs (repeats allowed) and flags in any order.
plain_calls = st.tuples(
    st.lists(st.sampled_from(sorted(FILES)), min_size=1, max_size=4),
    st.lists(st.sampled_from(FLAGS), max_size=3),
    st.randoms(use_true_random=False),
).map(lambda drawn: ["validate", *drawn[2].sample([*drawn[0], *drawn[1]], len(drawn[0]) + len(drawn[1]))])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=plain_calls, encoding=st.sampled_from(["utf-8", "ascii"]))
def test_fast_path_output_and_exit_code_are_the_full_commands(args: list[str], encoding: str, workdir: Path) -> None:
    env = {"PYTHONIOENCODING": encoding}
    assert gce_values(args, workdir, fast=True, env=env) == gce_values(args, workdir, fast=False, env=env)


def test_the_in_process_entry_point_agrees_with_the_console_script(workdir: Path) -> None:
    args = ["validate", "valid.yaml", "invalid.yaml", "latin1.yaml"]
    assert gce_values(args, workdir, fast=True, entry="main") == gce_values(args, workdir, fast=True)


PROBE = """
import json, sys
from gce_values.cli import fastpath
code = fastpath.run(sys.argv[1:])
loaded = sorted(name for name in ("click", "jsonschema") if name in sys.modules)
print(json.dumps({"code": code, "loaded": loaded}))
"""


def quick(args: list[str], cwd: Path) -> tuple[dict[str, object], str]:
    """What fastpath.run alone does with ``args`` in a fresh process; what it printed before that."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools"), "PYTHONIOENCODING": "utf-8"}
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


@pytest.mark.parametrize("conf", ["valid.yaml", "invalid.yaml", "bad-yaml.yaml"])
def test_plain_calls_are_answered_without_click_or_jsonschema(conf: str, workdir: Path) -> None:
    verdict, _ = quick(["validate", "--strict", conf, "-q"], workdir)
    assert verdict == {"code": {"valid.yaml": 0, "invalid.yaml": 1}.get(conf, 2), "loaded": []}


@pytest.mark.parametrize("args", list(OTHER_CALLS.values()), ids=list(OTHER_CALLS))
def test_everything_else_is_left_to_the_full_command_untouched(args: list[str], workdir: Path) -> None:
    verdict, printed = quick(args, workdir)
    assert verdict["code"] is None
    assert printed == ""
    assert gce_values(args, workdir, fast=True) == gce_values(args, workdir, fast=False)


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
