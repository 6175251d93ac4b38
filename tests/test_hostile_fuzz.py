"""Fuzzing the readers in process: random bytes, random YAML trees and mangled copies of the chart's values.yaml.

Whatever goes in, the loader (gce_values.helmyaml.reader.load), read_source and validate_sources may only
answer in their documented ways: a result, or an InputError whose message is one line. Any other
exception is a bug (the CLI would report it as an internal error, exit code 3). The problems of a
result must print as one line each, in every output format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.errors import InputError
from gce_values.helmyaml import reader
from gce_values.helmyaml.loaded import Loaded
from gce_values.report import reporters
from gce_values.sources import read_source
from gce_values.validator import Result, validate_sources
from support.paths import CHART_DIR

VALUES_YAML = (CHART_DIR / "values.yaml").read_text(encoding="utf-8")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_T = TypeVar("_T")

# Pieces of YAML that tend to break things, spliced into the chart's values.yaml.
SNIPPETS = (
    "\t",
    "\n",
    "\r\n",
    "\x00",
    "\ufeff",
    "\u2028",
    "\x1b[31m",
    ": ",
    "- ",
    "? ",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!python/object/apply:os.system [id]",
    "!!binary ",
    "!custom ",
    "!!set ",
    "!!int ",
    "{",
    "}",
    "[",
    "]",
    '"',
    "'",
    "#",
    "|",
    ">-",
    ".nan",
    "-.inf",
    "1" * 400,
    "0x",
    "010",
    "yes",
    "~",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
)


def allowed(call: Callable[[], _T]) -> _T | InputError:
    """The call's result, or the InputError it raised, whose message must be one non-empty line."""
    try:
        return call()
    except InputError as error:
        text = str(error)
        assert text and text.isprintable(), repr(text)
        return error


def check_validation(sources: list[tuple[str, str]]) -> None:
    outcome = allowed(lambda: validate_sources(sources))
    if isinstance(outcome, InputError):
        return
    assert isinstance(outcome, Result)
    for problem in outcome.problems:
        assert reporters.text_line(problem).isprintable()
        assert "\n" not in reporters.github_line(problem, is_file=True)
    json.loads(reporters.to_json(outcome.problems, [name for name, _ in sources]))


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "conf.yaml"


@FUZZ
@given(raw=st.binary(max_size=4096) | st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_random_bytes_through_read_source_and_validation(fuzz_file: Path, raw: bytes) -> None:
    fuzz_file.write_bytes(raw)
    source = allowed(lambda: read_source(str(fuzz_file)))
    if isinstance(source, InputError):
        return
    assert source[0] == str(fuzz_file)
    loaded = allowed(lambda: reader.load(source[1], source[0]))
    assert isinstance(loaded, (Loaded, InputError))
    check_validation([source])


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=20)
    | st.sampled_from(["yes", "010", "0x1F", "1e3", "~", "<<", "=", "2001-12-14", "12:30:45"])
)
_KEYS = (
    st.text(max_size=20)
    | st.sampled_from(["Instance", "endpointUUID", "secrets", "minBlocks", "userEnvironment", "endpoint", "<<"])
    | st.integers(min_value=-5, max_value=5)
    | st.booleans()
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=30,
)


def _dumped(tree: Any) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


@FUZZ
@given(tree=_TREES | st.dictionaries(_KEYS, _TREES, max_size=8), flow=st.booleans())
def test_random_yaml_trees_through_the_loader_and_validation(tree: Any, flow: bool) -> None:
    text = yaml.safe_dump(tree, default_flow_style=flow, allow_unicode=True) if flow else _dumped(tree)
    loaded = allowed(lambda: reader.load(text, "tree.yaml"))
    assert isinstance(loaded, (Loaded, InputError))
    check_validation([("tree.yaml", text), ("more.yaml", _dumped({"maxBlocks": 3}))])


@st.composite
def mangled_values_yaml(draw: st.DrawFn) -> str:
    """The chart's values.yaml with a few cuts, splices, duplicated lines and swapped characters."""
    text = VALUES_YAML
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        where = draw(st.integers(min_value=0, max_value=len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "duplicate-line", "replace"]))
        if edit == "insert":
            text = text[:where] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=8)) + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + draw(st.integers(min_value=1, max_value=80)) :]
        elif edit == "duplicate-line":
            start = text.rfind("\n", 0, where) + 1
            end = text.find("\n", where)
            line = text[start : end + 1 if end >= 0 else len(text)]
            text = text[:start] + line + line + text[start + len(line) :]
        else:
            text = text[:where] + draw(st.characters()) + text[where + 1 :]
    return text


@FUZZ
@given(text=mangled_values_yaml())
def test_mangled_values_yaml_through_the_loader_and_validation(text: str) -> None:
    loaded = allowed(lambda: reader.load(text, "values.yaml"))
    assert isinstance(loaded, (Loaded, InputError))
    check_validation([("values.yaml", text)])
