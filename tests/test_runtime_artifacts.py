"""The runtime harness keeps each run's artifacts apart: every FunctionRun of the tests and the benchmark
has a name of its own, which names its folders under the build's artifacts (pods/NAME, logs/NAME).

Two runs of one name would overwrite each other's pod bodies and logs, and the one read after a failure
could be the other run's. Read from the sources (the runs themselves need podman and root).
"""

from __future__ import annotations

import ast
from collections import Counter

from support.paths import REPO_ROOT


def run_names() -> list[tuple[str, str]]:
    """(file, name) of every ``FunctionRun(..., name="...")`` in the runtime tests and the benchmark."""
    found = []
    for path in sorted([*(REPO_ROOT / "tests" / "runtime").glob("*.py"), *(REPO_ROOT / "bench").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FunctionRun":
                for keyword in node.keywords:
                    if keyword.arg == "name":
                        text = ast.unparse(keyword.value)
                        found.append((path.name, text))
    return found


def test_every_function_run_has_a_name_of_its_own() -> None:
    names = run_names()
    assert len(names) >= 4, names
    repeated = {name for name, count in Counter(name for _, name in names).items() if count > 1}
    assert not repeated, [entry for entry in names if entry[1] in repeated]
