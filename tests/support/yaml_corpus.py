"""Generated YAML texts for the reader-level differential: what Helm reads against what validate reads.

Each text is a whole values file. A probe chart prints the ``.Values`` that helm 3.8.1
and helm 4 make of it; tests/test_yaml_reader_corpus.py compares that with
the data gce-values reads from the same bytes. The texts cover plain scalar spellings, quoting styles,
escapes, tags, keys of every type, control characters, block scalars, flow collections, anchors and
merges, directives and documents, and encodings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

PLAIN = (
    "yes", "no", "on", "off", "y", "n", "Y", "N", "True", "FALSE", "tRue", "~", "null", "NULL", "",
    "010", "-010", "08", "0o17", "0x1F", "-0x1F", "0b101", "0B11", "+12", "1_000", "1__0", "_1", "1_",
    "1e3", "1E+3", "1e-3", ".5", "-.5", "+.5", "0.", "1.", ".5e3", ".5e999", "-.5e999", "1e400", "1e308", "4.9e-324",
    "1e-400", ".inf", "-.Inf", ".nan", "9007199254740993", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
    "0x7FFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFF", "4.10", "4.19.0", "1.10", "0.0", "-0", "-0.0", "12:30", "190:20:30",
    "2001-12-14", "2001-12-14T21:59:43.10-05:00", "2001-13-45", "1,000", "1e3.5", "0x", "=", "<<", "a #c", "a#c",
    "-", "?", "x: y", "'a'b", "@x", "`x", "%x",
)  # fmt: skip

ESCAPES = (
    "\\/", "\\x41", "\\u00e9", "\\U0001F600", "\\N", "\\_", "\\L", "\\P", "\\e", "\\a", "\\0", "\\t", "\\ ",
    "\\q", "\\'", '\\"', "\\\\", "\\b", "\\v", "\\f", "\\r", "\\x7f", "\\u0085", "\\uFFFE", "\\uD800", "\\uDFFF",
    "\\U00110000", "\\x9b", "\\u2028", "\\uFEFF", "\\\t", "\\%",
)  # fmt: skip

TAGS = (
    "!!str 5", "!!str yes", "!!int 010", "!!int 0x10", "!!int yes", '!!int "5"', "!!int 1e3", "!!float 3",
    "!!float 1e3", "!!float .5e999", "!!bool yes", "!!bool 1", "!!null ''", "!!null x", "!!timestamp 2001-12-14",
    "!!timestamp 2001-13-45", "!!timestamp 5", "!!timestamp 2001-12-14T21:59:43Z", "!!binary aGVsbG8=",
    "!!binary aGVs bG8=", '!!binary "aGVs\\nbG8="', "!!binary |\n  aGVs\n  bG8=", "!!binary @@", "!!binary /w==",
    "!foo bar", "!foo 5", "!!set {a, b}", "!!omap [a: 1]", "!!seq [1]", "!!map {a: 1}", "!<tag:yaml.org,2002:str> 5",
    "!!python/name:os.system ''",
)  # fmt: skip

KEYS = (
    "1", "1.5", "0.1", "1e3", "1e6", "0x10", "010", "true", "yes", "y", "~", "null", ".inf", ".nan", "2001-12-14",
    "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "-9223372036854775809", "'<<'", '"<<"', "!!str 5", "!!int 5", "[a]", "{a: 1}", "? a", "'a b'", "\"a\\tb\"",
)  # fmt: skip

CONTROLS = {
    "del": "\x7f", "nel": "\x85", "c1": "\x9b", "nbsp": "\xa0", "ls": "\u2028", "fffe": "\ufffe", "ffff": "\uffff",
    "bom": "\ufeff", "tab": "\t", "astral": "\U0001f600", "surrogate-free": "\ud7ff", "e000": "\ue000",
}  # fmt: skip

STRUCTURES = {
    "block-literal": "k: |\n  a\n  b\n",
    "block-keep": "k: |+\n  a\n\n",
    "block-strip": "k: >-\n  a\n  b\n",
    "block-indent-indicator": "k: |2\n   a\n",
    "flow-map": "k: {a: 1, b: [2, 3]}\n",
    "flow-trailing-comma": "k: [1, 2,]\n",
    "flow-empty-entry": "k: [1, , 2]\n",
    "flow-implicit-pair": "k: [a: 1]\n",
    "anchor-alias": "a: &x {b: 1}\nc: *x\n",
    "anchor-scalar-key": "a: &x k\n*x : 1\n",
    "alias-undefined": "a: *x\n",
    "merge": "a: &x {b: 1}\nc:\n  <<: *x\n",
    "merge-list": "a: &x {b: 1}\nd: &y {e: 2}\nc:\n  <<: [*x, *y]\n",
    "merge-override": "a: &x {b: 1}\nc:\n  b: 2\n  <<: *x\n",
    "merge-list-alias": "a: &x [1]\nc:\n  <<: *x\n",
    "merge-list-scalar": "a: &x {b: 1}\nc:\n  <<: [*x, 1]\n",
    "merge-scalar": "c:\n  <<: 1\n",
    "merge-null": "c:\n  <<: ~\n",
    "merge-quoted": "c:\n  '<<': {b: 1}\n",
    "merge-tagged": "a: &x {b: 1}\nc:\n  !!merge <<: *x\n",
    "merge-nested-alias": "a: &x {b: 1}\nd: &y {<<: *x, e: 2}\nc:\n  <<: *y\n",
    "duplicate": "a: 1\na: 2\n",
    "duplicate-after-merge": "x: &x {a: 1}\nc:\n  <<: *x\n  a: 2\n  a: 3\n",
    "complex-key": "? a\n: 1\n",
    "null-value": "a:\n",
    "empty": "",
    "comment-only": "# nothing\n",
    "tab-indent": "a:\n\tb: 1\n",
    "tab-separator": "a:\t1\n",
    "crlf": "a: 1\r\nb: 2\r\n",
    "cr": "a: 1\rb: 2\r",
    "no-final-newline": "a: 1",
    "top-list": "- 1\n",
    "top-scalar": "hello\n",
    "deep-40": "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n",
    "long-key-1024": "k" * 1024 + ": 1\n",
    "flow-key-1022": "{" + "k" * 1022 + ": 1}\n",
    "flow-key-1030": "{" + "k" * 1030 + ": 1}\n",
    "flow-quoted-key-1030": '{"' + "k" * 1030 + '": 1}\n',
    "list-item-glued": "a:\n  - b:c\n  - d\n",
    "long-key-1025": "k" * 1025 + ": 1\n",
    "quoted-long-key": '"' + "k" * 1100 + '": 1\n',
    "string-with-hash": "a: 'x # y'\n",
    "multi-line-plain": "a: x\n  y\n",
    "multi-line-double": 'a: "x\n  y"\n',
}

DOCUMENTS = {
    "two": "a: 1\n---\nb: 2\n",
    "override": "a: 1\n---\na: 2\n",
    "deep": "a: {x: 1}\n---\na: {y: 2}\n",
    "null": "a: 1\n---\na: null\n",
    "list-second": "a: 1\n---\n- 1\n",
    "scalar-second": "a: 1\n---\nhello\n",
    "bad-second": "a: 1\n---\nb: [1\n",
    "bad-escape-second": 'a: 1\n---\nb: "\\/"\n',
    "empty-second": "a: 1\n---\n",
    "comment-second": "a: 1\n---\n# c\n",
    "marker-space": "a: 1\n--- \nb: 2\n",
    "marker-comment": "a: 1\n--- # c\nb: 2\n",
    "marker-content": "a: 1\n--- {b: 2}\n",
    "marker-scalar": "a: 1\n--- b\n",
    "start": "---\na: 1\n",
    "start-twice": "---\n---\na: 1\n",
    "end": "a: 1\n...\n",
    "end-then-doc": "a: 1\n...\n---\nb: 2\n",
    "end-then-text": "a: 1\n...\nb: 2\n",
    "in-block-scalar": "a: |\n  x\n  ---\nb: 1\n",
    "column-zero-in-quoted": 'a: "x\n---\ny"\n',
    "dashes-in-value": "a: ---\n",
    "three": "a: 1\n---\nb: 2\n---\nc: 3\n",
    "anchor-across": "a: &x 1\n---\nb: *x\n",
}

DIRECTIVES = {
    "yaml-1.1": "%YAML 1.1\n---\na: 1\n",
    "yaml-1.2": "%YAML 1.2\n---\na: 1\n",
    "yaml-1.0": "%YAML 1.0\n---\na: 1\n",
    "yaml-2.0": "%YAML 2.0\n---\na: 1\n",
    "tag": "%TAG !e! tag:example.org,2000:\n---\na: !e!x 1\n",
    "unknown": "%FOO bar\n---\na: 1\n",
    "no-marker": "%YAML 1.1\na: 1\n",
    "twice": "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
}


def texts() -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every generated values file, in a fixed order."""
    for index, text in enumerate(PLAIN):
        yield f"plain#{index} {text!r}", f"k: {text}\n".encode()
        if text:
            yield f"single#{index} {text!r}", f"k: '{text.replace(chr(39), chr(39) * 2)}'\n".encode()
    for index, escape in enumerate(ESCAPES):
        yield f"escape#{index} {escape!r}", f'k: "a{escape}b"\n'.encode()
        yield f"escape-key#{index} {escape!r}", f'"a{escape}b": 1\n'.encode()
    for index, tag in enumerate(TAGS):
        yield f"tag#{index} {tag!r}", f"k: {tag}\n".encode()
    for index, key in enumerate(KEYS):
        yield f"key#{index} {key!r}", f"{key}: v\n".encode()
        yield f"nested-key#{index} {key!r}", f"m:\n  {key}: v\n".encode()
    for name, char in CONTROLS.items():
        yield f"raw-{name}", f"k: a{char}b\n".encode("utf-8", "surrogatepass")
        yield f"quoted-{name}", f'k: "a{char}b"\n'.encode("utf-8", "surrogatepass")
        yield f"key-{name}", f"a{char}b: 1\n".encode("utf-8", "surrogatepass")
    for name, text in {**STRUCTURES, **DOCUMENTS, **DIRECTIVES}.items():
        yield name, text.encode()
    base = "a: 1\nb: x\n"
    yield "utf8-bom", b"\xef\xbb\xbf" + base.encode()
    yield "utf16-le-bom", b"\xff\xfe" + base.encode("utf-16-le")
    yield "utf16-be-bom", b"\xfe\xff" + base.encode("utf-16-be")
    yield "utf16-le-no-bom", base.encode("utf-16-le")
    yield "utf32-le-bom", b"\xff\xfe\x00\x00" + base.encode("utf-32-le")
    yield "latin1", "a: caf\xe9\n".encode("latin-1")
    yield "bom-in-middle", "a: 1\n\ufeffb: 2\n".encode()
    yield "nul", b"a: 1\x00\n"
    yield "json", json.dumps({"a": [1, 2.5, "x"], "b": {"c": None}}).encode()
