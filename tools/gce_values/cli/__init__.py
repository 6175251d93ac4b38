"""The `gce-values` command: its entry point, its subcommands' registry and its exit codes.

Start-up time matters (pre-commit hooks run it on every commit), so this module imports nothing
heavy: a plain `gce-values validate [--quiet] CONF...` is answered by gce_values.cli.fastpath
without loading click (through the functions the click command calls, gce_values.cli.validation);
everything else goes to the click group in
gce_values.cli.group, whose subcommands (registered in gce_values.cli.commands) are loaded on demand.
"""

from __future__ import annotations

import gc
import os
import sys

# Set to 1 to skip the fast path: the full command then handles every call (the tests compare the two).
NO_FAST_PATH_ENV = "GCE_VALUES_NO_FAST_PATH"


def _fast_path(tidy_exit: bool) -> int | None:
    """The exit code when gce_values.cli.fastpath answered the call, else None.

    With ``tidy_exit`` (the console script, whose process ends right after), the cyclic garbage
    collector is kept out of the way (start-up makes many objects and no garbage worth collecting),
    and once the fast path has answered, its output flushed and no file left open, the process ends
    at once: the interpreter's teardown of every module would take about 2 ms, a tenth of the run.
    The full command runs with the collector and ends as usual.
    """
    from gce_values.cli import fastpath

    if not tidy_exit:
        return fastpath.run(sys.argv[1:])
    gc.disable()
    try:
        code = fastpath.run(sys.argv[1:])
    finally:
        gc.enable()
    if code is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _exit_code(tidy_exit: bool) -> int:
    """Run the CLI; unexpected exceptions become one line on stderr and exit code 3, never a traceback."""
    try:
        code = None if os.environ.get(NO_FAST_PATH_ENV) == "1" else _fast_path(tidy_exit)
        if code is None:
            from gce_values.cli.group import cli

            result = cli.main(prog_name="gce-values", standalone_mode=False)
            code = result if isinstance(result, int) else 0
    except KeyboardInterrupt:
        import click

        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        return _failure_code(exc)
    return code


def _failure_code(error: Exception) -> int:
    """Report ``error`` in one line; the exit code for it (3 when even that fails: a broken installation)."""
    try:
        from gce_values.cli.group import exit_code

        return exit_code(error)
    except Exception:  # noqa: BLE001 - a broken installation still gets one line, not a traceback
        print(f"gce-values: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 3


def main() -> None:
    """Entry point for running the CLI in-process: exits with the command's exit code."""
    sys.exit(_exit_code(tidy_exit=False))


def console() -> None:
    """The `gce-values` console script: main(), with the quicker way out described in _fast_path."""
    sys.exit(_exit_code(tidy_exit=True))
