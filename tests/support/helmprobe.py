"""Helpers for the `gce-values validate` tests: ask the real helm how it reads and merges values.

A throwaway "probe" chart whose only template prints ``.Values`` as JSON shows exactly what a Helm
version makes of a values file and of --set flags; the validator's own reading is compared with that.
Renders are cached for the session, keyed by helm binary, chart and arguments.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def write_probe_chart(directory: Path, defaults: str = "") -> Path:
    """A chart whose output is ``.Values`` as JSON (``defaults`` is its values.yaml)."""
    (directory / "templates").mkdir(parents=True, exist_ok=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n", encoding="utf-8")
    (directory / "values.yaml").write_text(defaults, encoding="utf-8")
    # A ConfigMap keeps the output valid YAML for every helm version, whatever the values are.
    (directory / "templates" / "values.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  values: {{ .Values | toJson | quote }}\n",
        encoding="utf-8",
    )
    return directory


@dataclass(frozen=True)
class HelmRun:
    """What ``helm template`` did: its exit code, its output and errors."""

    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def values(self) -> dict[str, Any]:
        """The ``.Values`` the probe chart printed."""
        assert self.ok, self.stderr
        for line in self.stdout.splitlines():
            if line.startswith("  values: "):
                data = json.loads(json.loads(line.removeprefix("  values: ")))
                assert isinstance(data, dict)
                return data
        raise AssertionError(f"no values in helm output:\n{self.stdout}")


@functools.lru_cache(maxsize=4096)
def _helm_template(helm: str, chart: str, args: tuple[str, ...], release: str, _content: str) -> HelmRun:
    """One helm run; ``_content`` (the files' hash) is only part of the cache key."""
    proc = subprocess.run(
        [helm, "template", release, chart, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return HelmRun(proc.returncode, proc.stdout, proc.stderr)


def helm_template(
    helm: Path,
    chart: Path,
    files: Sequence[Path] = (),
    sets: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str = "probe",
) -> HelmRun:
    """``helm template RELEASE CHART -f ... --set ... --set-string ...``, once per distinct call."""
    args: list[str] = []
    content = hashlib.sha256()
    for path in files:
        args += ["-f", str(path)]
        content.update(path.read_bytes())
    for expression in sets:
        args += ["--set", expression]
    for expression in set_strings:
        args += ["--set-string", expression]
    return _helm_template(str(helm), str(chart), tuple(args), release, content.hexdigest())


def json_normal(value: Any) -> Any:
    """JSON-like data with every number as a float, as Helm holds them (float64)."""
    if isinstance(value, dict):
        return {key: json_normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_normal(item) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        assert math.isfinite(number)
        return number
    return value


def python_cli() -> list[str]:
    """The argv prefix that runs gce-values in a fresh process (the real console entry point)."""
    return [sys.executable, "-c", "import sys; from gce_values.cli import main; sys.argv[0] = 'gce-values'; main()"]
