"""Running `gce-values` the way a user does, for the workflow command tests.

``run`` calls the real entry point (``gce_values.cli.main``, which maps errors to exit codes) in this
process with click's stream isolation; ``run_on_terminal`` starts it as a child process whose standard
input is a pseudo-terminal, for the prompts that only appear on a terminal.
"""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from gce_values.cli import main
from support.paths import REPO_ROOT


@dataclass(frozen=True)
class Ran:
    """What a run of gce-values left behind."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(*args: str, stdin: str | bytes | None = None, env: Mapping[str, str | None] | None = None) -> Ran:
    """Run ``gce-values ARGS`` through its real entry point and return its exit code and output."""
    runner = CliRunner()
    saved_argv = sys.argv
    code: int | str | None = 0
    with runner.isolation(input=stdin, env=dict(env or {})) as (out, err, _):
        sys.argv = ["gce-values", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved_argv
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return Ran(code if isinstance(code, int) else (0 if code is None else 1), stdout, stderr)


def _make_controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty on stdin (getpass needs one)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_terminal(
    args: Sequence[str],
    dialogue: Sequence[tuple[str, str]],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run gce-values on a pseudo-terminal; for each (prompt text, answer), wait for the prompt, then type.

    Returns the exit code and everything the terminal showed (stdout and stderr both go to it), so
    anything echoed, or not echoed, is visible.
    """
    master, slave = os.openpty()
    child_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tools"), **(env or {})}
    child = subprocess.Popen(
        [sys.executable, "-c", "from gce_values.cli import main; main()", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=child_env,
        preexec_fn=_make_controlling_terminal,  # noqa: PLW1509 - no threads are started before the fork
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    pending = list(dialogue)
    seen_up_to = 0
    try:
        while True:
            if pending and (found := shown.find(pending[0][0].encode(), seen_up_to)) >= 0:
                prompt, answer = pending.pop(0)
                seen_up_to = found + len(prompt)
                os.write(master, answer.encode() + b"\r")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk and child.poll() is not None:
                    break
                shown += chunk
            elif child.poll() is not None:
                break
            if time.monotonic() > deadline:
                child.kill()
                raise AssertionError(f"gce-values did not finish; the terminal showed:\n{shown.decode()}")
    finally:
        os.close(master)
    code = child.wait(timeout=timeout)
    return code, shown.decode(errors="replace")
