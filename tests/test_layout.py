"""The package's layout holds: no module imports one that imports it back, click only in the command
layer, and every rule id belongs to exactly one check kind."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from gce_values.checks.registry import CHECKS
from gce_values.schema import load
from support.paths import SCHEMA_FILE, TOOLS_DIR

PACKAGE_DIR = TOOLS_DIR / "gce_values"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the gce_values modules it imports (at any depth: lazy imports count too)."""
    modules = {_module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gce_values"):
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("gce_values"))
        graph[name] = found - {name}
    return graph


def _third_party(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _imports()
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []


def test_only_the_command_layer_imports_click() -> None:
    users = sorted(_module_name(path) for path in PACKAGE_DIR.rglob("*.py") if "click" in _third_party(path))
    assert users and all(name.startswith("gce_values.cli.") or name == "gce_values.cli" for name in users)


def test_every_rule_id_belongs_to_one_check_kind() -> None:
    ids = [rule for check in CHECKS for rule in check.rules]
    assert len(ids) == len(set(ids))


def test_each_shared_pattern_is_written_once_in_the_schema_and_nowhere_in_the_code() -> None:
    schema_text = SCHEMA_FILE.read_text(encoding="utf-8")
    code = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE_DIR.rglob("*.py"))
    patterns = load().document["x-patterns"]
    assert set(patterns) == {"uuid", "uuidLowercase", "dnsSubdomain", "quantity", "memoryQuantity", "proxyURL"}
    for pattern in patterns.values():
        body = pattern.removeprefix("^$|^")  # the part that is not "or empty"
        written = json.dumps(pattern)  # as the YAML source writes it: double-quoted, backslashes doubled
        assert schema_text.count(written) == 1
        assert body not in code and body.replace("\\", "\\\\") not in code


def test_one_release_name_function() -> None:
    code = [path for path in PACKAGE_DIR.rglob("*.py") if "CHART_NAME}-" in path.read_text(encoding="utf-8")]
    assert [path.relative_to(PACKAGE_DIR).as_posix() for path in code] == ["schema/__init__.py"]
