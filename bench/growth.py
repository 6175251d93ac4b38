"""How `gce-values validate`'s time grows with the size of a conf, one input shape at a time.

Each shape is a conf made larger by one kind of content: double-quoted values with ``\\'`` escapes, keys,
comment lines, flow nesting, one long value, comments holding URLs with passwords, and quantities with
long digit strings. It is written at 1x, 2x, 4x and 8x its base size (the largest stays under the 1 MiB
read limit, the deepest nesting under the documented 100 levels). Each is read and validated in the
wheel's interpreter, imports and schema loaded beforehand: the best CPU time of 5 rounds, so neither
start-up nor the load of a shared machine blurs it. Linear growth doubles the time with the size: the
last column divides the 8x time by the 1x one (8 is linear; a quadratic step would make it about 64).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

FACTORS = (1, 2, 4, 8)
SEED = (
    "Instance: growth\nendpointUUID: 0b9d6a3e-2f1c-4e5d-9a8b-7c6d5e4f3a2b\nsecrets: globus-compute-creds\n"
    "useClientCredentials: true\nminBlocks: 0\n"
)


def _escapes(n: int) -> str:
    return "userEnvironment:\n" + "".join(f'  V{i}: "it\\\'s {i}, \\"quoted\\""\n' for i in range(1500 * n))


def _keys(n: int) -> str:
    return "userEnvironment:\n" + "".join(f"  KEY_{i}: v{i}\n" for i in range(2000 * n))


def _lines(n: int) -> str:
    return "".join(f"# line {i} of a long comment\n" for i in range(3000 * n))


def _nesting(n: int) -> str:
    depth = 12 * n
    return "userConfigSchema:\n" + "".join(f"  c{j}: " + "{a: " * depth + "1" + "}" * depth + "\n" for j in range(100))


def _long_value(n: int) -> str:
    return f'workerInit: "{"echo ready; " * 8000 * n}"\n'


def _url_comments(n: int) -> str:
    return "".join(f"# proxy {i}: https://user{i}:Zq{i}secretword@proxy.example.org/\n" for i in range(500 * n))


def _quantities(n: int) -> str:
    digits = "1" * (20_000 * n)
    return f'initMem: "0.{digits}Ki"\nmaxMem: "0.{digits}Mi"\n'


SHAPES: dict[str, Callable[[int], str]] = {
    "\\' escapes in double quotes": _escapes,
    "keys": _keys,
    "comment lines": _lines,
    "flow nesting (100 chains)": _nesting,
    "one long value": _long_value,
    "URL passwords in comments": _url_comments,
    "digits of a quantity": _quantities,
}


# Run by the benchmark's interpreter (the wheel's): read and validate each file, best CPU time of 5 rounds.
_PROBE = r"""
import json, sys, time
from gce_values.sources import read_source
from gce_values.validator import validate_sources

validate_sources([read_source(sys.argv[1])])  # imports and the schema, outside the timings
best = {}
for _ in range(5):
    for path in sys.argv[1:]:
        start = time.process_time()
        result = validate_sources([read_source(path)])
        seconds = time.process_time() - start
        best[path] = min(best.get(path, seconds), seconds)
print(json.dumps(best))
"""


def measure(python: str, scratch: Path) -> list[str]:
    """The growth table's rows (Markdown), one per shape."""
    import json

    files: dict[str, list[Path]] = {}
    for index, (name, make) in enumerate(SHAPES.items()):
        files[name] = []
        for factor in FACTORS:
            path = scratch / f"growth-{index}-{factor}.yaml"
            path.write_text(SEED + make(factor), encoding="utf-8")
            files[name].append(path)
    argv = [python, "-c", _PROBE, *(str(path) for paths in files.values() for path in paths)]
    best = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    rows = []
    for name, paths in files.items():
        times = [best[str(path)] for path in paths]
        cells = " | ".join(f"{seconds * 1000:.1f} ms" for seconds in times)
        rows.append(f"| {name} | {paths[0].stat().st_size / 1024:.0f} KiB | {cells} | {times[-1] / times[0]:.1f} |")
    return rows


def section(python: str, scratch: Path) -> list[str]:
    """The growth section of bench/results.md."""
    return [
        "## Growth with input size",
        "",
        (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        "| shape | 1x size | 1x | 2x | 4x | 8x | 8x / 1x |",
        "|---|---|---|---|---|---|---|",
        *measure(python, scratch),
        "",
    ]
