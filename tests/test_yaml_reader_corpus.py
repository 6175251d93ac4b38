"""Reader-level differential: the values helm 3.8.1 and helm 4 read from generated YAML against validate's.

Every text of tests/support/yaml_corpus.py goes through the probe chart (it prints ``.Values`` as JSON) with
both Helm versions, and through gce-values' own reading (the file read and decoded as `validate` reads
it, then parsed as Helm parses values). Where both Helm versions read the same values, gce-values must
read exactly those; where both refuse the text, it must refuse it; where they differ, it must refuse
the text or report a problem that names both versions. The only refusals of text both Helm versions
read are the documented limits (READER_EXTRAS).
"""

from __future__ import annotations

import base64
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gce_values.errors import LIMITS, InputError
from gce_values.helmyaml import reader
from gce_values.sources import read_source
from support.helmprobe import helm_template, json_normal
from support.yaml_corpus import texts

# Refusals on purpose, by rule id: Python object tags, UTF-16, and the nesting, size and alias limits.
READER_EXTRAS = frozenset(LIMITS)


@dataclass(frozen=True)
class Reading:
    ok: bool
    values: Any = None
    problems: tuple[tuple[str, str, str], ...] = ()  # (severity, rule, message + hint)
    rule: str = ""
    error: str = ""


def _probe_chart(directory: Path) -> Path:
    """A chart that prints ``.Values`` as base64 of its JSON: any character survives the trip."""
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n", encoding="utf-8")
    (directory / "values.yaml").write_text("", encoding="utf-8")
    (directory / "templates" / "values.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  values: {{ .Values | toJson | b64enc }}\n",
        encoding="utf-8",
    )
    return directory


def _helm(helm: Path, chart: Path, path: Path) -> Reading:
    run = helm_template(helm, chart, [path])
    if not run.ok:
        return Reading(False, error=run.stderr.strip()[:300])
    for line in run.stdout.splitlines():
        if line.startswith("  values: "):
            return Reading(True, json_normal(json.loads(base64.b64decode(line.removeprefix("  values: ")))))
    raise AssertionError(f"no values in helm output:\n{run.stdout}")


def _gce(path: Path) -> Reading:
    try:
        name, text = read_source(str(path))
        loaded = reader.load(text, name)
    except InputError as error:
        return Reading(False, rule=getattr(error, "rule", "unreadable-input"), error=str(error))
    problems = tuple((p.severity, p.rule, f"{p.message} {p.hint or ''}") for p in loaded.problems)
    return Reading(True, json_normal(loaded.data), problems)


@pytest.fixture(scope="module")
def readings(helm_bins: dict[str, Path]) -> list[tuple[str, Reading, Reading, Reading]]:
    cases = list(texts())
    with tempfile.TemporaryDirectory(prefix="gce-yaml-corpus-") as scratch:
        root = Path(scratch)
        chart = _probe_chart(root / "probe")
        paths = []
        for index, (_, data) in enumerate(cases):
            path = root / f"text-{index:04d}.yaml"
            path.write_bytes(data)
            paths.append(path)
        with ThreadPoolExecutor(3) as pool:
            helm3 = list(pool.map(lambda p: _helm(helm_bins["v3.8"], chart, p), paths))
            helm4 = list(pool.map(lambda p: _helm(helm_bins["v4"], chart, p), paths))
        mine = [_gce(path) for path in paths]
    return [(name, helm3[i], helm4[i], mine[i]) for i, (name, _) in enumerate(cases)]


def _names_both(reading: Reading) -> bool:
    return any("Helm 3" in text and "Helm 4" in text for _, _, text in reading.problems)


def disagreement(helm3: Reading, helm4: Reading, mine: Reading) -> str | None:
    """Why gce-values' reading does not match Helm's, or None."""
    if helm3.ok and helm4.ok and helm3.values == helm4.values:
        if not mine.ok:
            extra = mine.rule in READER_EXTRAS
            return None if extra else f"both Helm versions read it; gce-values refuses: {mine.error}"
        if mine.values != helm3.values:
            return f"Helm reads {helm3.values!r}; gce-values reads {mine.values!r}"
        return None
    if not helm3.ok and not helm4.ok:
        refused = not mine.ok or any(severity == "error" for severity, _, _ in mine.problems)
        return None if refused else f"both Helm versions refuse it; gce-values reads {mine.values!r}"
    if not mine.ok or any(severity == "error" for severity, _, _ in mine.problems) or _names_both(mine):
        return None
    return "the Helm versions read it differently; gce-values neither refuses it nor names both"


def test_the_corpus_is_big_and_reaches_both_verdicts(readings: list[tuple[str, Reading, Reading, Reading]]) -> None:
    assert len(readings) >= 300
    assert sum(h3.ok and h4.ok for _, h3, h4, _ in readings) >= 100
    assert sum(not h3.ok and not h4.ok for _, h3, h4, _ in readings) >= 20
    assert sum(h3.ok != h4.ok or h3.values != h4.values for _, h3, h4, _ in readings) >= 5


def test_gce_values_reads_what_helm_reads(readings: list[tuple[str, Reading, Reading, Reading]]) -> None:
    found = []
    for name, helm3, helm4, mine in readings:
        why = disagreement(helm3, helm4, mine)
        if why is not None:
            found.append(
                f"{name}: {why}\n    helm 3.8.1: {helm3.values if helm3.ok else helm3.error[:160]!r}"
                f"\n    helm 4:     {helm4.values if helm4.ok else helm4.error[:160]!r}"
            )
    assert not found, f"{len(found)} of {len(readings)} texts:\n" + "\n".join(found)
