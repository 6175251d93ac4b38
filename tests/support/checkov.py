"""checkov's Kubernetes checks on a manifest file, as the chart and worker-pod tests run them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest


def checkov_executable() -> Path:
    """The checkov executable named by $CHECKOV (the Makefile sets it); the test fails without one."""
    value = os.environ.get("CHECKOV")
    if not value:
        pytest.fail("$CHECKOV is not set: it must name the checkov executable (`make test` sets it)", pytrace=False)
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"$CHECKOV={value} is not an executable file; run `make setup`", pytrace=False)
    return path


def run_checkov(checkov: Path, manifest: Path) -> dict[str, Any]:
    """checkov's JSON report of ``manifest`` (nothing skipped here: the callers say what may fail, and why)."""
    result = subprocess.run(
        [
            str(checkov),
            "--framework",
            "kubernetes",
            "--file",
            str(manifest),
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # Exit code 1 means failed checks, which the tests report in detail; anything else is a crash.
    assert result.returncode in (0, 1), f"checkov crashed ({result.returncode}):\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    if isinstance(report, list):
        report = next(item for item in report if item.get("check_type") == "kubernetes")
    assert isinstance(report, dict)
    return report
