"""gce-values reads a conf exactly as Helm does (YAML 1.1 as go-yaml v2 reads it), checked against helm.

Every case is rendered by the real helm binaries (3.8.1 as on the SLATE server, the last Helm 3, and
Helm 4) through a probe chart that prints ``.Values`` as JSON, and compared with what
gce_values.helmyaml.reader makes of the same text.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from gce_values.errors import NOT_UTF8, InputError
from gce_values.helmyaml import reader
from gce_values.sources import read_source
from gce_values.validator import validate_sources
from support.helmprobe import helm_template, json_normal

HELM_VERSIONS = ("v3.8", "v3", "v4")

# Scalars every Helm version accepts; the comment says what YAML 1.1 (go-yaml v2) makes of them.
ACCEPTED_SCALARS = (
    "yes", "no", "on", "off", "y", "n", "Y", "N", "NO", "Off", "True", "TRUE", "tRue",  # booleans, or text
    "~", "null", "Null", "NULL", "", "!!null ''",  # null
    "010", "-010", "0777", "08", "07_8", "00", "0", "-0", "0_7",  # leading zero: octal where it can be
    "0o10", "0o1_0", "0x1F", "0X1F", "+0x10", "-0x10", "0xff_ff", "0x_1F", "0b101", "0B101", "0b_1",
    "1e3", "1E3", "1e+3", "1e-3", "1.5e3", "+1e3", "1_e3", "1e0_1", "0.1e3", "6.8523015e+5",
    "1_000", "1__0", "1_", "+_1", "1_0.5", "685.230_15e+03", "+12", "0.", "1.", "1.0", ".5", "+.5", "-.5e-1",
    ".5_0", ".5e3", "0e0", "1e-400", "4.9e-324", "1e400", "-1e400",  # overflow stays text
    "9007199254740993", "99999999999999999999", "0x7FFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFF",
    "18446744073709551616", "0x10000000000000000", "-9223372036854775809",
    "0x", "0b", "0o", "0x1G", "0b2", "0o8", "1e", "1e3e", ".e3", "._5", ".5_", "_1", "_", "+", "+-1", "0x-1",
    "1.5.5", "1,000", "1e3.5", "0_x1",
    "2001-12-14", "2001-12-14T21:59:43.10-05:00", "12:30:45", "190:20:30", "1:20", "-1:20",  # text
    "=", "<<", "'a''b'", '"\\u00e9"', '"010"', "'1.10'", "a #c",
    "!!str 5", "!!str yes", "!!str", "!<tag:yaml.org,2002:str> 010", "!!int 010", '!!int "5"', "!!float 3",
    "!!float 1e3", "!!bool yes", "!!timestamp 2001-12-14", "!!binary aGVsbG8=", "!!binary 8J+YgA==",
    "!!merge <<", "!!value =", "!foo bar", "!foo 5", "!foo yes", "!foo {a: 1}", "!foo [1]",
    "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1, a: 2]", "!!str [1]", "!!map {a: 1}", "!!seq [1]",
    "[yes, 010, '1']", "{on: 1, 0x10: 2, 1e3: 3, 1.5: 4, 1e6: 5, 0.0001: 6, 123456789: 7, ~x: 8}",
)  # fmt: skip

# Text every Helm version refuses, and gce-values with it (exit code 2).
REFUSED_TEXT = {
    "infinity": "x: .inf\n",
    "minus infinity": "x: -.inf\n",
    "NaN": "x: .NaN\n",
    "!!int on a word": "x: !!int yes\n",
    "!!int on a float": "x: !!int 1e3\n",
    "!!float on a word": "x: !!float yes\n",
    "!!bool on a number": "x: !!bool 1\n",
    "bad base64": 'x: !!binary "!!"\n',
    "!!timestamp on a number": "x: !!timestamp 5\n",
    "a list as a key": "? [a, b]\n: 1\n",
    "a mapping as a key": "? {a: 1}\n: 1\n",
    "a null key": "~: 1\n",
    "a merge of a scalar": "x:\n  <<: 5\n",
    "a list at the top": "- 1\n- 2\n",
    "text at the top": "hello\n",
    "a syntax error": "x: [1, 2\n",
    "a tab for indentation": "x:\n\t- 1\n",
}


def _loader_values(text: str) -> dict[str, object]:
    return reader.load(text, "conf.yaml").data


@pytest.fixture(scope="module")
def accepted_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("yaml") / "accepted.yaml"
    path.write_text("".join(f"k{i:03d}: {text}\n" for i, text in enumerate(ACCEPTED_SCALARS)), encoding="utf-8")
    return path


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_scalars_read_like_helm(
    version: str, helm_bins: dict[str, Path], probe_chart: Path, accepted_file: Path
) -> None:
    helm_values = helm_template(helm_bins[version], probe_chart, [accepted_file]).values()
    mine = _loader_values(accepted_file.read_text(encoding="utf-8"))
    mismatches = {
        ACCEPTED_SCALARS[int(key[1:])]: (helm_values.get(key), mine.get(key))
        for key in sorted(set(helm_values) | set(mine))
        if json_normal(helm_values.get(key)) != json_normal(mine.get(key))
    }
    assert mismatches == {}, f"helm {version} vs gce-values (scalar: (helm, gce-values))"


def test_yaml_1_1_readings_users_trip_over() -> None:
    """The table above is checked against helm; these spell out what it means for a conf."""
    data = _loader_values("a: no\nb: on\nc: 010\nd: 0o10\ne: 0x1F\nf: 1e3\ng: ~\nh: 08\ni: 12:30:45\nj: y\n")
    assert data == {
        "a": False,
        "b": True,
        "c": 8,
        "d": 8,
        "e": 31,
        "f": 1000.0,
        "g": None,
        "h": 8.0,
        "i": "12:30:45",
    } | {"j": True}


@pytest.mark.parametrize("version", HELM_VERSIONS)
@pytest.mark.parametrize("case", sorted(REFUSED_TEXT))
def test_refused_like_helm(
    case: str, version: str, helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path
) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text(REFUSED_TEXT[case], encoding="utf-8")
    assert not helm_template(helm_bins[version], probe_chart, [path]).ok, f"helm {version} accepts {case}"
    with pytest.raises(InputError) as caught:
        validate_sources([read_source(str(path))])
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_non_utf8_refused_like_helm(
    version: str, helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("Instance: caf\u00e9\n".encode("latin-1"))
    assert not helm_template(helm_bins[version], probe_chart, [path]).ok
    with pytest.raises(InputError, match=r"latin1\.yaml:1:14: not UTF-8 text \(byte 0xe9\)"):
        read_source(str(path))


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no byte-order mark", "byte-order mark"])
def test_a_bad_byte_is_located_where_an_editor_shows_it(bom: bytes, tmp_path: Path) -> None:
    """A UTF-8 byte-order mark is not a column, and does not shift the byte reported."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(bom + "Instance: demo\nsecrets: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"bad\.yaml:2:13: not UTF-8 text \(byte 0xe9\)"):
        read_source(str(path))


def test_python_tags_refused_although_helm_reads_them_as_text(
    helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path
) -> None:
    """Deliberately stricter than Helm: a conf has no business carrying a Python object tag."""
    path = tmp_path / "tagged.yaml"
    path.write_text("x: !!python/object/apply:os.system [echo]\nz: !!python/name:os.system x\n", encoding="utf-8")
    for version in HELM_VERSIONS:
        assert helm_template(helm_bins[version], probe_chart, [path]).values() == {"x": ["echo"], "z": "x"}
    with pytest.raises(InputError, match=r"tagged\.yaml:1:4: Python object tags"):
        validate_sources([read_source(str(path))])


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_duplicate_keys_helm_keeps_the_last_and_we_say_so(
    version: str, helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path
) -> None:
    text = "a: 1\nm:\n  x: 1\n  x: 2\nb: 2\na: 3\n"
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    helm_values = helm_template(helm_bins[version], probe_chart, [path]).values()
    loaded = reader.load(text, "dup.yaml")
    assert json_normal(loaded.data) == json_normal(helm_values) == json_normal({"a": 3, "m": {"x": 2}, "b": 2})
    found = [(p.line, p.column, p.pointer, p.message) for p in loaded.problems]
    assert found == [
        (4, 3, "/m/x", "duplicate key 'x' at lines 3 and 4"),
        (6, 1, "/a", "duplicate key 'a' at lines 1 and 6"),
    ]
    assert all(p.severity == "error" and p.rule == "duplicate-key" for p in loaded.problems)


def test_keys_equal_once_they_are_strings_are_duplicates() -> None:
    """``'1'`` and ``1`` are one JSON key; which value Helm keeps then depends on Go's map order."""
    loaded = reader.load("'1': one\n1: uno\nyes: a\ntrue: b\n", "dup.yaml")
    assert [(p.line, p.pointer, p.message) for p in loaded.problems] == [
        (2, "/1", "duplicate key '1' at lines 1 and 2"),
        (4, "/true", "duplicate key 'true' at lines 3 and 4"),
    ]


MERGE_TEXT = """\
base: &base {a: 1, b: 2}
other: &other {a: 5, c: 3}
explicit_after: {<<: *base, a: 9}
explicit_before:
  a: 9
  <<: *base
listed: {<<: [*base, *other]}
inline: {<<: {z: 1}, y: 2}
quoted: {"<<": *base}
"""


@pytest.mark.parametrize("version", HELM_VERSIONS)
def test_merge_keys_apply_in_order_like_helm(
    version: str, helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path
) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text(MERGE_TEXT, encoding="utf-8")
    helm_values = helm_template(helm_bins[version], probe_chart, [path]).values()
    loaded = reader.load(MERGE_TEXT, "merge.yaml")
    assert json_normal(loaded.data) == json_normal(helm_values)
    # go-yaml v2 applies << in order, so it overrides the key written before it (YAML says it should not).
    assert loaded.data["explicit_before"] == {"a": 1, "b": 2}
    assert loaded.data["explicit_after"] == {"a": 9, "b": 2}
    assert [(p.rule, p.line, p.column, p.pointer) for p in loaded.problems] == [
        ("yaml-merge-order", 6, 3, "/explicit_before/a")
    ]


def test_first_document_only_as_helm_3_reads_it(helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path) -> None:
    """Helm 3 (and the SLATE server's 3.8.1) reads the first document; Helm 4 merges them all.

    gce-values reads what Helm 3.8 reads and refuses the file, naming both versions, because the same
    file means two things; a second document with nothing in it means the same to both and is fine.
    """
    text = "a: 1\n---\nb: 2\n"
    path = tmp_path / "two-docs.yaml"
    path.write_text(text, encoding="utf-8")
    read = {v: helm_template(helm_bins[v], probe_chart, [path]).values() for v in HELM_VERSIONS}
    assert json_normal(read) == json_normal({"v3.8": {"a": 1}, "v3": {"a": 1}, "v4": {"a": 1, "b": 2}})
    loaded = reader.load(text, "two-docs.yaml")
    assert loaded.data == read["v3.8"]
    assert [(p.rule, p.severity, p.line) for p in loaded.problems] == [("extra-document", "error", 2)]
    assert "Helm 3" in loaded.problems[0].message and "Helm 4" in loaded.problems[0].message
    assert reader.load("a: 1\n--- # nothing more\n", "one-doc.yaml").problems == []


def test_utf16_refused_though_helm_3_reads_it(helm_bins: dict[str, Path], probe_chart: Path, tmp_path: Path) -> None:
    """Helm 3 decodes a UTF-16 file with a byte-order mark, Helm 4 does not: a conf must be UTF-8."""
    path = tmp_path / "utf16.yaml"
    path.write_bytes("a: 1\n".encode("utf-16"))
    assert helm_template(helm_bins["v3.8"], probe_chart, [path]).ok
    assert helm_template(helm_bins["v3"], probe_chart, [path]).ok
    assert not helm_template(helm_bins["v4"], probe_chart, [path]).ok
    with pytest.raises(InputError, match="is UTF-16 text, which Helm 3 reads but Helm 4 and SLATE may not") as caught:
        read_source(str(path))
    assert caught.value.rule == NOT_UTF8


def test_utf8_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert reader.load(read_source(str(path))[1], "bom.yaml").data == {"a": 1}


def test_positions_of_keys_and_values() -> None:
    text = (
        "top: 1\n"
        "nested:\n"
        "  inner: [a, {deep: x}]\n"
        "  block: |\n"
        "    text\n"
        "flow: {k: v}\n"
        "list:\n"
        "  - one\n"
        "  -   two\n"
        "\u00e9t\u00e9: \u00e9\n"
    )
    positions = reader.load(text, "p.yaml").positions
    expected = {
        "": (1, 1, 1, 1),
        "/top": (1, 6, 1, 1),
        "/nested": (3, 3, 2, 1),
        "/nested/inner": (3, 10, 3, 3),
        "/nested/inner/0": (3, 11, 3, 11),
        "/nested/inner/1": (3, 14, 3, 14),
        "/nested/inner/1/deep": (3, 21, 3, 15),
        "/nested/block": (4, 10, 4, 3),
        "/flow": (6, 7, 6, 1),
        "/flow/k": (6, 11, 6, 8),
        "/list": (8, 3, 7, 1),
        "/list/0": (8, 5, 8, 5),
        "/list/1": (9, 7, 9, 7),
        "/\u00e9t\u00e9": (10, 6, 10, 1),  # columns count characters, not bytes
    }
    assert {pointer: tuple(pos) for pointer, pos in positions.items()} == expected


def test_notes_on_surprising_scalars() -> None:
    notes = reader.load("a: no\nb: 010\nc: '010'\nd: true\non: 1\ne: 08\nf: \"x\"\n", "n.yaml").notes
    assert [(n.pointer, n.kind, n.text, n.value, n.at_key) for n in notes] == [
        ("/a", "bool-word", "no", False, False),
        ("/b", "octal", "010", 8, False),
        ("/c", "quoted", "010", 8, False),
        ("/true", "bool-word", "on", True, True),
        ("/e", "number", "08", 8.0, False),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a0: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{i}: &a{i} [{', '.join(['*a' if i == 1 else f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)),
            "aliases expand to more than 10000 values",
        ),
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "not valid YAML: exceeded maximum nesting depth"),
        ("".join("  " * i + f"k{i}:\n" for i in range(150)) + "  " * 150 + "x: 1\n", "nested more than 100 levels"),
        ("a: &x\n  b: *x\n", "alias *x refers to the value that contains it"),
        ("a: *nope\n", "alias *nope has no anchor &nope before it"),
    ],
    ids=["billion-laughs", "deep-flow", "deep-block", "recursive-alias", "undefined-alias"],
)
def test_hostile_input_fails_fast(text: str, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        reader.load(text, "hostile.yaml")
    assert time.perf_counter() - start < 1.0
    assert "\n" not in str(caught.value)
