"""Finding and running the external programs gce-values hands work to (helm, slate)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gce_values.errors import InputError


class ProgramMissing(InputError):
    """A program gce-values needs is not installed (exit code 2, like any unusable input)."""


def find(name: str, env_var: str, explicit: str | None, fallbacks: Sequence[Path], how_to_get: str) -> str:
    """The program to run: ``explicit`` (an option), else ``$env_var``, else ``name`` on PATH, else a fallback.

    An explicit choice that does not exist is an error rather than a reason to look elsewhere, so the
    user never runs a different binary than the one they named.
    """
    chosen, source = (explicit, "the option") if explicit else (os.environ.get(env_var), f"${env_var}")
    if chosen:
        found = shutil.which(chosen)
        if found is None:
            raise ProgramMissing(f"{name}: {chosen} (from {source}) is not an executable file")
        return found
    found = shutil.which(name)
    if found:
        return found
    for candidate in fallbacks:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ProgramMissing(f"{name} not found on PATH: {how_to_get}")


def run(argv: Sequence[str]) -> int:
    """Run a program with the user's terminal (its output is theirs to read) and return its exit code."""
    return run_keeping_errors(argv, keep=False)[0]


def run_keeping_errors(argv: Sequence[str], *, keep: bool = True) -> tuple[int, str]:
    """Run a program, its standard output on the user's terminal; return its exit code and its standard error.

    The error output is passed on to the user's standard error once the program ends, and kept so the
    caller can tell why it failed.
    """
    try:
        done = subprocess.run(list(argv), check=False, stderr=subprocess.PIPE if keep else None)
    except OSError as exc:
        raise ProgramMissing(f"{argv[0]}: cannot run: {exc.strerror or exc}") from exc
    errors = done.stderr.decode("utf-8", "replace") if keep else ""
    if errors:
        sys.stderr.write(errors)
        sys.stderr.flush()
    code = done.returncode
    return (128 - code if code < 0 else code), errors  # killed by signal N: the shell's 128+N
