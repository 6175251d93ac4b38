"""The plain reader (helmyaml.plainread) reads what the full reader reads, or leaves the text to it.

Wherever the plain reader accepts a text, its data (types included), positions, notes and problems
must be the full reader's; generated texts mix the forms it takes with the YAML it must refuse.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gce_values.errors import InputError
from gce_values.helmyaml import plainread, reader
from gce_values.schema import load
from support.paths import CHART_DIR, REPO_ROOT, SEED_FILE, TESTS_DIR, TOOLS_DIR
from support.strategies import confs

CORPUS = sorted(
    {*CHART_DIR.rglob("*.yaml"), *TESTS_DIR.rglob("*.yaml"), *(REPO_ROOT / "schema").rglob("*.yaml")}
    - set(CHART_DIR.joinpath("templates").rglob("*.yaml"))
)


def _agrees(text: str) -> bool:
    """Whether the plain reader accepted ``text``; fails when it read it differently from the full reader."""
    plain = plainread.load(text, "conf.yaml")
    if plain is None:
        return False
    full = reader.load(text, "conf.yaml")
    assert json.dumps(plain.data) == json.dumps(full.data)  # 1 and 1.0, 1 and true differ here
    assert plain.positions == full.positions
    assert plain.notes == full.notes
    assert plain.problems == full.problems == []
    return True


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_repository_yaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        reader.load(text, path.name)
    except InputError:
        assert plainread.load(text, path.name) is None
        return
    _agrees(text)


@pytest.mark.parametrize("path", [SEED_FILE, CHART_DIR / "values.yaml"], ids=lambda path: path.name)
def test_plain_confs_take_the_plain_reader(path: Path) -> None:
    assert _agrees(path.read_text(encoding="utf-8"))


# Each must go to the full reader: the plain reader does not take these forms.
NOT_PLAIN = {
    "anchor and alias": "a: &x 1\nb: *x\n",
    "tag": "a: !!str 1\n",
    "flow mapping": "a: {b: 1}\n",
    "flow sequence": "a: [1, 2]\n",
    "bool word": "a: yes\n",
    "bool word key": "on: 1\n",
    "tilde": "a: ~\n",
    "empty value": "a:\nb: 1\n",
    "octal": "a: 010\n",
    "hex": "a: 0x1F\n",
    "exponent": "a: 1e3\n",
    "leading dot": "a: .5\n",
    "plus sign": "a: +1\n",
    "big integer": "a: 12345678901234567\n",
    "special float": "a: .inf\n",
    "number the templates write differently": "a: 4.10\n",
    "trailing zero": "a: 1.50\n",
    "whole float": "a: 2.0\n",
    "document start": "---\na: 1\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "tab": "a:\n\tb: 1\n",
    "carriage return": "a: 1\r\n",
    "non-ASCII": "a: caf\u00e9\n",
    "block scalar": "a: |\n  text\n",
    "multi-line plain": "a: one\n  two\n",
    "escape": 'a: "x\\ty"\n',
    "doubled quote": "a: 'it''s'\n",
    "unclosed quote": "a: 'x\n",
    "duplicate key": "a: 1\na: 2\n",
    "quoted key": "'a': 1\n",
    "merge key": "<<: {a: 1}\n",
    "odd indentation": "a:\n    b: 1\n  c: 2\n",
    "colon in plain text": "a: b: c\n",
    "empty": "",
    "comments only": "# nothing\n",
    "indented root": "  a: 1\n",
    "a list": "- 1\n",
    "nested list": "a:\n- - 1\n",
    "dash alone": "a:\n-\n  b: 1\n",
    "key longer than libyaml takes": "k" * 1025 + ": 1\n",
    "long key": "k" * 1001 + ": 1\n",
    "long key in a list": "a:\n- " + "k" * 1001 + ": 1\n",
}


def test_a_long_key_within_libyamls_limit_is_read_alike() -> None:
    assert _agrees("k" * 1000 + ": 1\n")


@pytest.mark.parametrize("text", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_left_to_the_full_reader(text: str) -> None:
    assert plainread.load(text, "conf.yaml") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conf=confs(load()))
def test_generated_confs(conf: str) -> None:
    _agrees(conf)


KEYS = st.sampled_from(["a", "b", "Instance", "x.y", "_k", "on", "y", "null", "k-1", "True"])
SCALARS = st.sampled_from(
    [
        "1",
        "0",
        "-0",
        "-12",
        "007",
        "1.5",
        "-0.0",
        "0.50",
        "1e3",
        "123456789012345",
        "1234567890123456",
        "true",
        "False",
        "NULL",
        "null",
        "yes",
        "n",
        "~",
        "x",
        "512Mi",
        "2Gi",
        "100m",
        "1_000",
        "0b1",
        "0f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c",
        "2001-12-14",
        "a b",
        "a  b",
        "/path/x",
        ".x",
        "-x",
        "a#b",
        "a # comment",
        "''",
        '""',
        "'1'",
        '"true"',
        "'yes'",
        "'~'",
        "'0x1F'",
        "'a: b'",
        "'a # b'",
        '"1.0"',
        "{}",
        "[]",
        "{ }",
        "...",
        "..",
        "a...",
        "'a'  # c",
        "'it''s'",
        '"\\n"',
        "12:30",
        "@x",
        "`x",
        "!x",
        "*x",
        "&x 1",
    ]
)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """Block YAML mixing the forms the plain reader takes with some it must refuse, at varied indents."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        indent = " " * draw(st.sampled_from([0, 0, 0, 2, 2, 4, 1]))
        form = draw(st.integers(0, 6))
        if form == 0:
            lines.append(f"{indent}{draw(KEYS)}:")
        elif form == 1:
            lines.append(f"{indent}- {draw(SCALARS)}")
        elif form == 2:
            lines.append(f"{indent}- {draw(KEYS)}: {draw(SCALARS)}")
        elif form == 3:
            lines.append(draw(st.sampled_from(["", "# note", "  # note", "   "])))
        else:
            lines.append(f"{indent}{draw(KEYS)}: {draw(SCALARS)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


PLAIN_SCALARS = st.sampled_from(
    [
        "1",
        "-12",
        "0.5",
        "true",
        "FALSE",
        "null",
        "x",
        "512Mi",
        "a b",
        "/p",
        "0f4e3d2c-1b0a",
        "'1'",
        "'yes'",
        '"a: b"',
        "''",
        "{}",
        "[]",
        "x  # c",
        "2001-12-14",
        "1_000",
        "12e",
    ]
)


@st.composite
def _blocks(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """Well-formed block YAML of the plain forms (nested mappings, lists, compact list items)."""
    pad, text, keys = " " * indent, "", draw(st.lists(KEYS, min_size=1, max_size=4, unique=True))
    for key in keys:
        form = draw(st.integers(0, 4 if depth < 3 else 1))
        if form <= 1:
            text += f"{pad}{key}: {draw(PLAIN_SCALARS)}\n"
        elif form == 2:
            text += f"{pad}{key}:\n" + draw(_blocks(indent + draw(st.sampled_from([2, 4])), depth + 1))
        else:
            dash = indent + draw(st.sampled_from([0, 2]))
            text += f"{pad}{key}:\n"
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    text += f"{' ' * dash}- {draw(PLAIN_SCALARS)}\n"
                else:
                    item = draw(_blocks(dash + 2, depth + 1))
                    text += f"{' ' * dash}- {item[dash + 2 :]}"
        if draw(st.integers(0, 5)) == 0:
            text += draw(st.sampled_from(["\n", "# c\n", f"{pad}  # c\n"]))
    return text


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_blocks())
def test_generated_plain_texts(text: str) -> None:
    assert _agrees(text) or any(word in text for word in ("on:", "y:", "null:", "True:", "1_000", "12e"))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts())
def test_generated_texts(text: str) -> None:
    try:
        reader.load(text, "conf.yaml")
    except InputError:
        assert plainread.load(text, "conf.yaml") is None
        return
    _agrees(text)


def test_reading_a_plain_conf_does_not_import_pyyaml() -> None:
    """The saving bench/results.md states: the validator's modules load PyYAML only to parse with it."""
    probe = (
        "import sys\n"
        "from gce_values import validator\n"
        "from gce_values.cli import fastpath\n"
        "from gce_values.helmyaml import plainread\n"
        f"assert plainread.load(open({str(SEED_FILE)!r}).read(), 'conf.yaml') is not None\n"
        "print('yaml' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(TOOLS_DIR)}
    )
    assert done.stdout == "False\n"
