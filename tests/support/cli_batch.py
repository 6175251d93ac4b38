"""Run many `gce-values` calls in one process: ``python cli_batch.py < jobs.json > results.json``.

Each job is ``{"argv": [...]}``; each result ``{"code", "stdout", "stderr", "seconds"}``. The calls go
through the real entry point (gce_values.cli), fast path included, with standard output and error
captured; starting one interpreter per call would cost the corpus test minutes. Run it under two
PYTHONHASHSEEDs to see whether the output depends on hash order.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any


class _Capture(io.StringIO):
    """A text stream with the attributes click and the fast path look at on a real stdout."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


def run(argv: list[str]) -> dict[str, Any]:
    from gce_values import cli

    out, err = _Capture(), _Capture()
    saved = sys.argv
    sys.argv = ["gce-values", *argv]
    # CPU time of this process, not wall time: the machine's load (other tests, other checkouts) must not
    # make a call look slow.
    started = time.process_time()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli._exit_code(tidy_exit=False)
    finally:
        sys.argv = saved
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(), "seconds": time.process_time() - started}


def main() -> None:
    jobs = json.load(sys.stdin)
    results = [run(job["argv"]) for job in jobs]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
