"""The package's layout holds: every import follows the declared layer order (gce_values.LAYERS),
no module imports one that imports it back, click only in the command layer, and every rule id
belongs to exactly one check kind."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gce_values import LAYERS
from gce_values.checks.registry import CHECKS
from gce_values.schema import load
from support.paths import SCHEMA_FILE, SEED_TEXT, TOOLS_DIR

PACKAGE_DIR = TOOLS_DIR / "gce_values"


def _module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, modules: set[str]) -> Iterator[tuple[int, str]]:
    """(line, gce_values module) for every import statement in ``path``, at any depth: one inside a
    function or an ``if TYPE_CHECKING:`` block counts as much as one at the top."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gce_values":
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                yield node.lineno, child if child in modules else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "gce_values":
                    yield node.lineno, alias.name


def _imports(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Module -> the gce_values modules it imports (at any depth: lazy imports count too)."""
    paths = {_module_name(path, package_dir): path for path in package_dir.rglob("*.py")}
    return {name: {target for _, target in _imported(path, set(paths))} - {name} for name, path in paths.items()}


def _member(module: str) -> str:
    """The LAYERS entry a gce_values module belongs to: its subpackage or top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _members(package_dir: Path) -> set[str]:
    return {_member(_module_name(path, package_dir)) for path in package_dir.rglob("*.py")}


def layer_problems(package_dir: Path, layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[str]:
    """Every import of a module from a higher layer, and every part of the package no layer names."""
    rank = {member: index for index, layer in enumerate(layers) for member in layer}
    present = _members(package_dir)
    problems = [f"{member} is in no layer of gce_values.LAYERS" for member in sorted(present - set(rank))]
    problems += [f"gce_values.LAYERS names {member}, which does not exist" for member in sorted(set(rank) - present)]
    modules = {_module_name(path, package_dir) for path in package_dir.rglob("*.py")}
    for path in sorted(package_dir.rglob("*.py")):
        source = _member(_module_name(path, package_dir))
        for line, target in _imported(path, modules):
            if rank.get(_member(target), -1) > rank.get(source, len(layers)):
                where = path.relative_to(package_dir).as_posix()
                problems.append(f"{where}:{line} imports {target}, a layer above {source}")
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    cycles = []
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in done:
                visit(target, [*trail, target])
        done.add(node)

    for node in sorted(graph):
        visit(node, [node])
    return cycles


def test_every_import_follows_the_layer_order() -> None:
    assert layer_problems(PACKAGE_DIR) == []


def test_no_package_imports_one_that_imports_it_back() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        packages.setdefault(_member(module), set()).update(_member(target) for target in targets)
    assert _cycles({name: targets - {name} for name, targets in packages.items()}) == []


def test_a_back_import_inside_a_function_of_the_real_package_fails_the_layer_check() -> None:
    """The loop this order removed (checks <-> workflow), brought back the way it used to hide."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "gce_values"
        shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
        module = copy / "checks" / "credsfile.py"
        text = module.read_text(encoding="utf-8")
        module.write_text(text + "\n\ndef _late() -> None:\n    from gce_values.workflow import fileio\n", "utf-8")
        line = text.count("\n") + 4
        assert layer_problems(copy) == [
            f"checks/credsfile.py:{line} imports gce_values.workflow.fileio, a layer above checks"
        ]


_FORMS = ("from gce_values.{target} import thing", "import gce_values.{target}", "from gce_values import {target}")
_PLACES = (
    "{statement}",
    "def late():\n    {statement}",
    "class Late:\n    def run(self):\n        {statement}",
    "if TYPE_CHECKING:\n    {statement}",
)
_ALL = [member for layer in LAYERS for member in layer if member != "__init__"]


def _tree(root: Path) -> None:
    """A package with the real one's layers, each part an empty module (or package with one module)."""
    root.mkdir()
    (root / "__init__.py").write_text("", "utf-8")
    for member in _ALL:
        if (PACKAGE_DIR / member).is_dir():
            (root / member).mkdir()
            (root / member / "__init__.py").write_text("", "utf-8")
            (root / member / "part.py").write_text("", "utf-8")
        else:
            (root / f"{member}.py").write_text("", "utf-8")


@given(st.sampled_from(_ALL), st.sampled_from(_ALL), st.sampled_from(_FORMS), st.sampled_from(_PLACES))
def test_the_layer_check_flags_exactly_the_imports_from_above(source: str, target: str, form: str, place: str) -> None:
    rank = {member: index for index, layer in enumerate(LAYERS) for member in layer}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "gce_values"
        _tree(root)
        module = root / source / "part.py" if (root / source).is_dir() else root / f"{source}.py"
        module.write_text("\n" + place.format(statement=form.format(target=target)) + "\n", "utf-8")
        problems = layer_problems(root)
    if rank[target] > rank[source]:
        assert len(problems) == 1 and f"a layer above {source}" in problems[0]
    else:
        assert problems == []


def test_a_part_of_the_package_in_no_layer_fails_the_layer_check() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "gce_values"
        _tree(root)
        (root / "newthing.py").write_text("", "utf-8")
        assert layer_problems(root) == ["newthing is in no layer of gce_values.LAYERS"]


def _third_party(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycles(_imports()) == []


def _function_level_importers(package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The modules that import a gce_values module inside a function."""
    found = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = (child for statement in node.body for child in ast.walk(statement))
                if any(
                    (isinstance(child, ast.ImportFrom) and (child.module or "").split(".")[0] == "gce_values")
                    or (
                        isinstance(child, ast.Import) and any(a.name.split(".")[0] == "gce_values" for a in child.names)
                    )
                    for child in inner
                ):
                    found.add(_module_name(path, package_dir))
    return found


def test_imports_hide_inside_functions_only_where_validate_or_the_command_line_starts(tmp_path: Path) -> None:
    """A function-level import keeps a module off the start-up path; anywhere else it only hides the structure.

    Allowed: the command layer (click and each command load on demand) and the modules `validate`
    loads for a valid conf, an invalid one and one the full YAML reader reads (what it imports late
    it then loads only for some confs)."""
    confs = {
        "valid.yaml": SEED_TEXT,
        "invalid.yaml": SEED_TEXT + "maxBlocks: many\n",
        "anchors.yaml": SEED_TEXT + "workerLabels: &labels {team: ml}\nworkerAnnotations: *labels\n",
    }
    for name, text in confs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    script = (
        "import sys\nfrom gce_values.cli import fastpath\n"
        f"code = fastpath.run(['validate', *{sorted(str(tmp_path / name) for name in confs)!r}])\n"
        "print(code, *sorted(m for m in sys.modules if m.startswith('gce_values')), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    code, *loaded = run.stderr.split()
    assert code == "1"  # the fast path answered, and found the invalid conf
    late = _function_level_importers()
    assert late - set(loaded) - {name for name in late if name.split(".")[1] == "cli"} == set()


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
