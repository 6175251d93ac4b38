"""-f files, --set and --set-string merge over the chart defaults exactly as Helm merges them.

Each case runs through the real helm binaries with a probe chart (defaults below, output ``.Values``)
and through gce_values.helmyaml.merge; the two must agree, including on which expressions Helm refuses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gce_values.errors import InputError
from gce_values.helmyaml import merge, origins, reader
from support.helmprobe import helm_template, json_normal, write_probe_chart

HELM_VERSIONS = ("v3.8", "v3", "v4")
DEFAULTS = "top: 1\nm:\n  a: 1\n  b: {c: 2}\nl: [1, 2]\ns: str\nempty: {}\n"

# name -> (files' text, --set expressions, --set-string expressions)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "later files win, maps merge deeply": (("m: {a: 5, b: {d: 1}}\ns: x\n", "m: {a: 6}\nl: [9]\n"), (), ()),
    "null deletes a default, stays where there is none": (
        ("foo: null\nm: {a: null, zz: null, b: {c: null}}\ntop: null\n",), (), ()
    ),
    "a scalar replaces a map and a map a scalar or list": (("m: 5\nl: {x: 1}\ns: {z: 2}\n",), (), ()),
    "a later map replaces an earlier null": (("m: null\n", "m: {q: 1}\n"), (), ()),
    "a later null replaces an earlier map": (("m: {q: 1}\n", "m: null\n"), (), ()),
    "nested null then map": (("m: {b: null}\n", "m: {b: {d: 1}}\n"), (), ()),
    "empty file": (("",), (), ()),
    "set types": (
        (),
        ("a=TRUE,b=False,c=0,d=007,e=-5,f=+5,g=1.5,h=1e3,i=,j=NULL,k=-0,n=0x10,o=-05",
         "big=9223372036854775807,small=-9223372036854775808,over=9223372036854775808,u=1_0"),
        (),
    ),
    "set null deletes": ((), ("top=null,m.a=null,new=null",), ()),
    "set lists": ((), ("a={x,1,true},b={},c={ a , b }",), ()),
    "set indexes": ((), ("a[1]=x,b[0].c=1,b[0].d=2,c[0][1]=z", "d[2]=1", "d[0]=0", "e[+1]=1"), ()),
    "set escapes": ((), ("a\\.b=1,c=x\\,y,d.e\\.f=2,g=\\{x}", "h=1\\"), ()),
    "set-string after every set": ((), ("top=5",), ("top=s",)),
    "set-string lists": ((), (), ("a={1,true},b=0",)),
    "set into a file's map and list": (("m: {q: 1}\nl2: [1, 2]\n",), ("m.r=2,l2[3]=9",), ()),
    "set replaces a default map with a list": ((), ("m[0]=1",), ()),
    "set makes a default scalar a map": ((), ("top.x=1",), ()),
    "set odd but accepted": ((), ("a=1,", "a=b=c", " a = b ", "=1,.x=2", "b[0].c=", "c[0]", "z.y="), ()),
    "set overrides within one expression": ((), ("a=1,a=2,b.c=1,b.d=2",), ()),
    "refused: no value": ((), ("a",), ()),
    "refused: key map without value": ((), ("a.=1",), ()),
    "refused: unterminated list": ((), ("a={x,y",), ()),
    "refused: bad index": ((), ("a[x]=1",), ()),
    "refused: negative index": ((), ("a[-1]=1",), ()),
    "refused: data after index": ((), ("a[0]x=1",), ()),
    "refused: text after a list": ((), ("a={x}y",), ()),
    "refused: index into a string": ((), ("a=x", "a[0]=1"), ()),
    "refused: key into a list": ((), ("a[0]=1", "a.b=1"), ()),
    "refused: key into a file's null": (("m: null\n",), ("m.x=1",), ()),
    "refused: trailing comma after key": ((), ("a,b=1",), ()),
}  # fmt: skip


@pytest.fixture(scope="module")
def defaults_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_probe_chart(tmp_path_factory.mktemp("defaults-chart"), DEFAULTS)


def _mine(files: tuple[str, ...], sets: tuple[str, ...], strings: tuple[str, ...]) -> dict[str, object] | None:
    sources = []
    for index, text in enumerate(files):
        loaded = reader.load(text, f"f{index}.yaml")
        sources.append(origins.Source(loaded.name, loaded.data, loaded.positions))
    defaults = reader.load(DEFAULTS, "values.yaml").data
    try:
        return merge.merge(sources, sets, strings, defaults=defaults).values
    except InputError:
        return None


@pytest.mark.parametrize("version", HELM_VERSIONS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_merge_like_helm(
    name: str, version: str, helm_bins: dict[str, Path], defaults_chart: Path, tmp_path: Path
) -> None:
    files, sets, strings = CASES[name]
    paths = []
    for index, text in enumerate(files):
        paths.append(tmp_path / f"f{index}.yaml")
        paths[-1].write_text(text, encoding="utf-8")
    helm = helm_template(helm_bins[version], defaults_chart, paths, sets, strings)
    mine = _mine(files, sets, strings)
    if name.startswith("refused"):
        assert not helm.ok, f"helm {version} accepted it: {helm.stdout}"
        assert mine is None
    else:
        assert helm.ok, helm.stderr
        assert json_normal(mine) == json_normal(helm.values())


def test_key_map_at_the_end_refused_as_helm_3_8_does(helm_bins: dict[str, Path], defaults_chart: Path) -> None:
    """``--set a.`` fails in Helm 3.8 (the SLATE server's) and is silently ignored by later Helm."""
    outcome = {v: helm_template(helm_bins[v], defaults_chart, sets=["a."]).ok for v in HELM_VERSIONS}
    assert outcome == {"v3.8": False, "v3": True, "v4": True}
    assert _mine((), ("a.",), ()) is None


def test_set_types_are_helms() -> None:
    values = merge.merge([], ["a=TRUE,c=0,d=007,e=-5,g=1.5,h=1e3,i=,j=null"], ["k=5,l=true"]).values
    assert values == {"a": True, "c": 0, "d": "007", "e": -5, "g": "1.5", "h": "1e3", "i": "", "j": None} | {
        "k": "5",
        "l": "true",
    }


def test_set_error_names_the_expression() -> None:
    with pytest.raises(InputError) as caught:
        merge.merge([], ["a=1", "b.=2"])
    assert str(caught.value) == "--set #2: Helm cannot parse this expression at character 4: a key map with no value"


def _source(name: str, text: str) -> origins.Source:
    loaded = reader.load(text, name)
    return origins.Source(name, loaded.data, loaded.positions)


def test_provenance_names_the_source_of_each_value() -> None:
    base = _source("base.yaml", "m:\n  a: 1\n  b: {c: 2}\nl: [1, 2]\nkeep: 1\n")
    mine = _source("mine.yaml", "m:\n  a: 5\nl: [3]\nkeep: null\n")
    merged = merge.merge(
        [base, mine], ["m.b.d=7,x=1", "l[2]=9"], ["s=str"], defaults={"keep": 0, "m": {"z": 0}, "dflt": 3}
    )
    where = {pointer: (o.source, o.line, o.column) for pointer, o in merged.origins.items()}
    assert where["/m/a"] == ("mine.yaml", 2, 6)
    assert where["/m/b/c"] == ("base.yaml", 3, 10)
    assert where["/m/b/d"] == ("--set #1", 1, 1)
    assert where["/x"] == ("--set #1", 1, 9)
    assert where["/l/0"] == ("mine.yaml", 3, 5)
    assert where["/l/2"] == ("--set #2", 1, 1)
    assert "/l/1" not in where or where["/l/1"][0] == "--set #2"
    assert where["/s"] == ("--set-string #1", 1, 1)
    # Defaults have no origin; a deleted default remembers the null that deleted it.
    assert "/dflt" not in where and "/m/z" not in where
    assert merged.values["dflt"] == 3 and "keep" not in merged.values
    assert (merged.deleted["/keep"].source, merged.deleted["/keep"].key_line) == ("mine.yaml", 4)


def test_sources_are_not_modified() -> None:
    base = _source("base.yaml", "m: {a: [1]}\n")
    merge.merge([base], ["m.a[1]=2,m.b=3"], defaults={"m": {"c": 1}})
    assert base.data == {"m": {"a": [1]}}
