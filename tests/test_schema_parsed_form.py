"""The schema's parsed form (marshal), which the wheel carries so that no run has to parse the YAML.

It is used only when it was made from exactly the YAML beside it; otherwise the YAML is parsed, so a
stale or damaged form can cost time but never change a result.
"""

from __future__ import annotations

import marshal
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from gce_values import schema
from support.paths import REPO_ROOT

SCHEMA_FILE = REPO_ROOT / "schema" / "values.schema.yaml"
SMALL = "type: object\nproperties:\n  a:\n    type: string\n    default: x\n"


def write_schema(directory: Path, text: str, form: bytes | None) -> Path:
    path = directory / "values.schema.yaml"
    path.write_text(text, encoding="utf-8")
    if form is not None:
        (directory / ("values.schema.yaml" + schema.PARSED_SUFFIX)).write_bytes(form)
    return path


def test_the_form_of_the_real_schema_reads_back_as_the_yaml_does() -> None:
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    form = marshal.loads(schema.parsed_form(text))
    assert form == {"source": text, "document": yaml.safe_load(text)}


def test_a_form_made_from_the_same_text_is_what_load_reads(tmp_path: Path) -> None:
    # The document in the form differs from the YAML's, to show which of the two was read.
    form = marshal.dumps({"source": SMALL, "document": {"type": "object", "properties": {"b": {}}}}, 4)
    loaded = schema.load(write_schema(tmp_path, SMALL, form))
    assert list(loaded.properties) == ["b"]


@pytest.mark.parametrize(
    "form",
    [
        marshal.dumps({"source": SMALL + "# edited since\n", "document": {"properties": {"b": {}}}}, 4),
        marshal.dumps({"source": SMALL, "document": {"properties": {"b": {}}}}, 4)[:-9],
        b"\xff not marshal",
        marshal.dumps(["source", SMALL], 4),
        None,
    ],
    ids=["made from other text", "cut short", "damaged", "not a mapping", "absent"],
)
def test_otherwise_the_yaml_is_parsed(tmp_path: Path, form: bytes | None) -> None:
    loaded = schema.load(write_schema(tmp_path, SMALL, form))
    assert list(loaded.properties) == ["a"]
    assert loaded.defaults() == {"a": "x"}


def test_a_schema_that_is_not_plain_data_has_no_form() -> None:
    with pytest.raises(ValueError, match="not plain data"):
        schema.parsed_form("default: 2024-01-01\n")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (so no build/ directory appears in the checkout)."""
    source = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("schema", "chart", "tools"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("gce_values-*.whl")
    return built


def test_the_wheel_carries_the_form_of_its_schema(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("gce_values/data/schema/values.schema.yaml").decode("utf-8")
        form = marshal.loads(archive.read("gce_values/data/schema/values.schema.yaml.marshal"))
    assert form["source"] == text
    assert form["document"] == yaml.safe_load(text)


def test_the_installed_tool_reads_the_form_not_the_yaml(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    probe = (
        "from gce_values import schema\n"
        "def refuse(text): raise AssertionError('the YAML was parsed')\n"
        "schema.parse = refuse\n"
        "print(len(schema.load().properties))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{probe}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == len(schema.load(SCHEMA_FILE).properties)


@pytest.mark.parametrize("conf", ["valid", "invalid"])
def test_a_plain_validate_from_the_wheel_loads_no_heavy_module(wheel: Path, tmp_path: Path, conf: str) -> None:
    """What a pre-commit hook runs: the fast path, the parsed schema, and none of the imports it was made to avoid."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    values = yaml.safe_load((REPO_ROOT / "chart" / "globus-compute-endpoint" / "values.yaml").read_text("utf-8"))
    values.update(endpointUUID="6c4c7c4e-1b9c-4c38-a7a4-0d3f1c2b9e11", secrets="creds")
    if conf == "invalid":
        values["maxBlocks"] = -1
    (tmp_path / "conf.yaml").write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    heavy = ("click", "jsonschema", "yaml", "typing", "json", "dataclasses", "pathlib")
    probe = (
        f"import sys; sys.path.insert(0, {str(site)!r}); sys.argv = ['gce-values', 'validate', 'conf.yaml']\n"
        "from gce_values.cli import fastpath\n"
        "code = fastpath.run(sys.argv[1:])\n"
        f"print(code, sorted(name for name in {heavy!r} if name in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stderr.splitlines()[-1] == f"{0 if conf == 'valid' else 1} []", proc.stdout + proc.stderr


def test_the_wheel_builds_the_chart_it_carries(wheel: Path, tmp_path: Path) -> None:
    """`schema build --check` from the installed wheel: every rule kind's template partial is in it."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, sys.argv.pop(1)); from gce_values.cli import main; "
            "sys.argv[0] = 'gce-values'; main()",
            str(site),
            "schema",
            "build",
            "--check",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
