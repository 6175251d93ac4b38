"""A generated corpus of confs for the differential test against the real helm (3.8.1 and 4).

Every case is a conf (one or more files, as bytes) plus --set/--set-string expressions, built from the
SLATE blog post's five keys and one variation in one of these categories:

    bounds       each schema limit: just inside, on and just outside it (numbers, lengths, enums, patterns)
    spelling     YAML spellings of scalars on keys that take text (tags, versions, quantities, names)
    escape       double-quoted escapes, the ones go-yaml knows and the JSON-only ones it refuses
    directive    %YAML / %TAG directives and document markers
    documents    a second (third) YAML document, which Helm 3 ignores and Helm 4 merges
    merge        << merge keys, their order, lists of mappings, a quoted '<<'
    set          the --set / --set-string grammar: paths, lists, escapes, types
    control      control, separator and non-characters in the strings the chart renders
    huge         long lists, many keys, long keys and long values
    secret       credentials pasted into the conf in every spelling (their text must never be printed)
    keys         map keys that are numbers, booleans, huge integers or floats
    encoding     byte order marks and UTF-16/32

The corpus is deterministic (a fixed seed), so a failure names a case that can be run again by name.
``SECRET_TOKENS`` are the random-looking credentials planted in secret cases: no output may contain them.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gce_values.schema import ValuesSchema
from support.paths import SEED

# The seed conf's keys, each with its value as YAML text.
SEED_KEYS = {key: value if isinstance(value, str) else json.dumps(value) for key, value in SEED.items()}
UUID = "7a3c1e52-9b4d-4f0e-8c21-5d6e7f809a1b"
UUID2 = "0c9d8e7f-6a5b-4c3d-9e1f-2a3b4c5d6e7f"


@dataclass(frozen=True)
class Case:
    """One conf of the corpus: the files' bytes, the --set and --set-string expressions, planted secrets."""

    name: str
    category: str
    files: tuple[bytes, ...]
    sets: tuple[str, ...] = ()
    set_strings: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=())
    # "error" or "warning": an unquoted number the templates would write back as other text.
    silent: str | None = None

    @property
    def text(self) -> str:
        """The first file as text (for messages), undecodable bytes shown escaped."""
        return self.files[0].decode("utf-8", errors="backslashreplace") if self.files else ""


def conf(extra: str = "", **replace: str | None) -> str:
    """The seed conf with top-level keys replaced (``None`` drops a key) and ``extra`` YAML appended."""
    lines = []
    for key, value in SEED_KEYS.items():
        if key in replace:
            new = replace[key]
            if new is not None:
                lines.append(f"{key}:{new if new.startswith(chr(10)) else ' ' + new}\n")
        else:
            lines.append(f"{key}: {value}\n")
    lines.extend(f"{key}:{value if value.startswith(chr(10)) else ' ' + value}\n" for key, value in replace.items()
                 if key not in SEED_KEYS and value is not None)  # fmt: skip
    return "".join(lines) + extra


def nested(path: str, value: str) -> str:
    """``a.b.c`` and a YAML value as block mappings (``a:\\n  b:\\n    c: value``)."""
    parts = path.split(".")
    out = []
    for depth, part in enumerate(parts[:-1]):
        out.append("  " * depth + f"{part}:\n")
    out.append("  " * (len(parts) - 1) + f"{parts[-1]}: {value}\n")
    return "".join(out)


def _token(rng: random.Random, length: int = 44) -> str:
    """A random-looking credential (all three character classes), like a Globus client secret."""
    while True:
        text = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))
        if any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text):
            return text


_RNG = random.Random(16)
SECRET_TOKENS: tuple[str, ...] = tuple(_token(_RNG) for _ in range(12))


def _case(name: str, category: str, text: str | bytes, **kwargs: Any) -> Case:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return Case(name=f"{category}/{name}", category=category, files=(data,), **kwargs)


# --- bounds ------------------------------------------------------------------------------------------------


def _yaml_scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _schema_leaves(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for key, sub in node.get("properties", {}).items():
        if not isinstance(sub, dict) or sub.get("x-slate-internal"):
            continue
        child = f"{path}.{key}" if path else key
        if "properties" in sub:
            yield from _schema_leaves(sub, child)
        else:
            yield child, sub


def _bound_values(node: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    types = node.get("type")
    types = set(types) if isinstance(types, list) else {types}
    for word in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if word in node:
            limit = node[word]
            yield f"{word}", limit
            yield f"{word}-1", limit - 1
            yield f"{word}+1", limit + 1
            if "number" in types:
                yield f"{word}-half", limit - 0.5
                yield f"{word}+tiny", limit + 0.001
    if "maxLength" in node:
        size = node["maxLength"]
        yield "maxLength", "a" * size
        yield "maxLength+1", "a" * (size + 1)
    if "enum" in node:
        for item in node["enum"]:
            yield f"enum-{item}", item
        yield "enum-miss", "nonesuch"
    if types == {"boolean"}:
        yield "bool-string", "true"
        yield "bool-int", 1
    if types == {"integer"}:
        yield "int-float", 1.5
        yield "int-float-whole", 2.0
        yield "int-string", "3"
    if types == {"array"}:
        yield "array-empty", []
        yield "array-scalar", "x"
    if types == {"object"}:
        yield "object-empty", {}
        yield "object-list", []
    yield "null", None


def bounds(schema: ValuesSchema) -> Iterator[Case]:
    for path, node in _schema_leaves(schema.document):
        for label, value in _bound_values(node):
            top, _, rest = path.partition(".")
            scalar = _yaml_scalar(value)
            if rest:
                text = conf(**{top: "\n" + "".join("  " + line for line in nested(rest, scalar).splitlines(True))})
            else:
                text = conf(**{top: scalar})
            yield _case(f"{path}={label}", "bounds", text)


_PATTERN_SAMPLES = {
    "Instance": ["MyEndpoint", "my_endpoint", "my-endpoint-", "-x", "a" * 29, "a" * 30, "a.b", "'007'", "'1e3'", "12"],
    "endpointUUID": [
        UUID.upper(),
        UUID[:-1],
        "{" + UUID + "}",
        UUID.replace("-", ""),
        UUID + "0",
        "urn:uuid:" + UUID,
        " " + UUID,
        UUID.replace("7a3c", "7g3c"),
    ],
    "secrets": ["Globus-Creds", "globus_creds", UUID, "creds.", "a" * 253, "a" * 254],
    "initMem": ["512MB", "512mi", "1.5Gi", "512", "0.5", "-1Gi", "1e3"],
    "endpoint.name": ["my endpoint", "_x", "x" * 64, "x" * 65, "é"],
    "endpoint.subscriptionId": [UUID.upper(), "{" + UUID + "}"],
    "image.repository": ["Repo/x", "repo:5000/x", "-x", "x y"],
    "workerImage": ["repo/x@sha256:" + "a" * 64, "x y", "UPPER/x"],
    "serviceAccountName": ["Sa", "sa-1", "sa..x"],
    "workerNamespace": ["Ns", "ns.x", "a" * 63, "a" * 64],
}


def patterns() -> Iterator[Case]:
    for path, samples in _PATTERN_SAMPLES.items():
        top, _, rest = path.partition(".")
        for index, sample in enumerate(samples):
            value = sample if sample.startswith("'") else _yaml_scalar(sample)
            if rest:
                text = conf(**{top: "\n" + "".join("  " + line for line in nested(rest, value).splitlines(True))})
            else:
                text = conf(**{top: value})
            yield _case(f"{path}#{index}", "bounds", text)
    for index, items in enumerate(
        [
            [UUID.upper()],
            [UUID, UUID2.upper()],
            ["{" + UUID + "}"],
            [UUID[:-1]],
            [UUID, UUID],
            [UUID.replace("-", "")],
        ]
    ):
        for key in ("admins", "allowedFunctions"):
            body = f"\n  subscriptionId: {UUID2}\n  {key}: {json.dumps(items)}"
            yield _case(f"endpoint.{key}#{index}", "bounds", conf(endpoint=body))


# --- spellings ------------------------------------------------------------------------------------------------

SPELLINGS = (
    "4.10", "4.19.0", "-1", "0x10", "010", "08", "1e3", "1_000", "yes", "on", "~", ".5", "0.0", "'0.0'",
    '"4.10"', "0", "1.0", "+1", "0o10", "12:30", "2001-12-14", ".5e999", "1e400", "'1e3'", '"0x1F"', "'007'",
    "1.10", "'1.10'", "100m", "0.5", "'0'", "0b11",
)  # fmt: skip
SPELLING_KEYS = (
    "image.tag",
    "Instance",
    "resources.requests.cpu",
    "resources.limits.cpu",
    "workerExtraResources.nvidia.com/gpu",
    "userEnvironment.VERSION",
    "nodeSelector.zone",
    "podAnnotations.example.org/v",
    "initMem",
    "endpoint.displayName",
)


# Plain numbers whose text the templates write back differently (4.10 -> 4.1, 0x10 -> 16, 1e3 -> 1000).
CHANGING_NUMBERS = frozenset(
    ("4.10", "0x10", "010", "08", "1e3", "1_000", ".5", "0.0", "1.0", "+1", "0o10", "1.10", "0b11")
)
# Keys that take text or a number: an identifier (an error when its text changes) or a quantity (a warning).
TEXT_KEYS = {"image.tag": "error", "Instance": "error"}
QUANTITY_KEYS = {"resources.requests.cpu": "warning", "resources.limits.cpu": "warning"}


def spellings() -> Iterator[Case]:
    for key in SPELLING_KEYS:
        for spelling in SPELLINGS:
            silent = {**TEXT_KEYS, **QUANTITY_KEYS}.get(key) if spelling in CHANGING_NUMBERS else None
            top, _, rest = key.partition(".")
            if top in ("workerExtraResources", "userEnvironment", "nodeSelector", "podAnnotations"):
                text = conf(**{top: f"\n  {rest}: {spelling}"})
            elif rest:
                text = conf(**{top: "\n" + "".join("  " + line for line in nested(rest, spelling).splitlines(True))})
            else:
                text = conf(**{top: spelling})
            yield _case(f"{key}={spelling}", "spelling", text, silent=silent)


# --- escapes, directives, documents, merges --------------------------------------------------------------------

ESCAPES = (
    "\\/", "\\x41", "\\u00e9", "\\U0001F600", "\\N", "\\_", "\\L", "\\P", "\\e", "\\a", "\\0", "\\t", "\\ ",
    "\\q", "\\'", '\\"', "\\\\", "\\b", "\\v", "\\f", "\\r", "\\x7f", "\\u0085", "\\uFFFE", "\\uD800", "\\x", "\\u12",
    "\\U00110000", "\\\t",
)  # fmt: skip


def escapes() -> Iterator[Case]:
    for index, escape in enumerate(ESCAPES):
        yield _case(f"displayName#{index}", "escape", conf(endpoint=f'\n  displayName: "a{escape}b"'))
        yield _case(f"env-key#{index}", "escape", conf(userEnvironment=f'\n  "A{escape}B": "x"'))
    yield _case("single-quoted-backslash", "escape", conf(endpoint="\n  displayName: 'a\\/b'"))
    yield _case("line-folding", "escape", conf(endpoint='\n  displayName: "a\n    b"'))
    yield _case("escaped-line-break", "escape", conf(endpoint='\n  displayName: "a\\\n    b"'))


DIRECTIVES = {
    "yaml-1.1": "%YAML 1.1\n---\n",
    "yaml-1.2": "%YAML 1.2\n---\n",
    "yaml-1.0": "%YAML 1.0\n---\n",
    "yaml-2.0": "%YAML 2.0\n---\n",
    "tag": "%TAG !e! tag:example.org,2000:\n---\n",
    "unknown": "%FOO bar\n---\n",
    "doc-start": "---\n",
    "doc-start-comment": "--- # conf\n",
    "doc-end": "",
}


def directives() -> Iterator[Case]:
    for name, head in DIRECTIVES.items():
        tail = "...\n" if name == "doc-end" else ""
        yield _case(name, "directive", head + conf() + tail)
    yield _case(
        "tagged-value", "directive", "%TAG !e! tag:example.org,2000:\n---\n" + conf(extra="workerInit: !e!x y\n")
    )


_SECOND_DOCS = {
    "same-key": "minBlocks: 1\n",
    "bad-type": "minBlocks: many\n",
    "unknown-key": "nonesuch: 1\n",
    "deep-merge": "endpoint:\n  debug: true\n",
    "bad-nested": "endpoint:\n  amqpPort: 1\n",
    "null": "secrets: null\n",
    "list": "- 1\n",
    "scalar": "hello\n",
    "empty": "",
    "comment": "# nothing\n",
    "bad-yaml": "a: [1\n",
    "bad-escape": 'a: "\\/"\n',
    "flow-on-marker": None,
    "bool-key": "endpoint:\n  y: 1\n",
    "secret": f"workerInit: {SECRET_TOKENS[0]}\n",
}


def documents() -> Iterator[Case]:
    for name, doc in _SECOND_DOCS.items():
        text = conf() + ("--- {minBlocks: 1}\n" if doc is None else "---\n" + doc)
        secrets = (SECRET_TOKENS[0],) if name == "secret" else ()
        yield _case(name, "documents", text, secrets=secrets)
    yield _case("three", "documents", conf() + "---\nminBlocks: 1\n---\nmaxBlocks: 0\n")
    yield _case("end-marker", "documents", conf() + "...\n---\nminBlocks: 2\n")
    yield _case("first-empty", "documents", "---\n---\n" + conf())
    yield _case("marker-in-block", "documents", conf(workerInit="|\n  echo a\n  ---\n  echo b"))


MERGES = {
    "map": "base: &b\n  debug: true\nendpoint:\n  <<: *b\n",
    "list-of-maps": "a: &a {debug: true}\nb: &b {public: true}\nendpoint:\n  <<: [*a, *b]\n",
    "alias-to-list": "a: &a [1, 2]\nendpoint:\n  <<: *a\n",
    "list-with-scalar": "a: &a {debug: true}\nendpoint:\n  <<: [*a, 5]\n",
    "scalar": "endpoint:\n  <<: 5\n",
    "inline-map": "endpoint:\n  <<: {debug: true}\n",
    "after-key": "a: &a {debug: true}\nendpoint:\n  debug: false\n  <<: *a\n",
    "before-key": "a: &a {debug: true}\nendpoint:\n  <<: *a\n  debug: false\n",
    "quoted-key": "endpoint:\n  '<<': {debug: true}\n",
    "double-quoted-key": 'endpoint:\n  "<<": {debug: true}\n',
    "tagged-merge": "a: &a {debug: true}\nendpoint:\n  !!merge <<: *a\n",
    "top-level": "a: &a {maxBlocks: 8}\n<<: *a\n",
    "quoted-top-level": "'<<': {maxBlocks: 8}\n",
    "nested-merge": "a: &a {debug: true}\nb: &b {<<: *a, public: true}\nendpoint:\n  <<: *b\n",
    "null-merge": "endpoint:\n  <<: ~\n",
}


def merges() -> Iterator[Case]:
    for name, extra in MERGES.items():
        yield _case(name, "merge", conf(extra=extra))


# --- --set ------------------------------------------------------------------------------------------------------

SETS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("tag-4.10", ("image.tag=4.10",), ()),
    ("tag-string-4.10", (), ("image.tag=4.10",)),
    ("tag-minus", ("image.tag=-1",), ()),
    ("tag-hex", ("image.tag=0x10",), ()),
    ("tag-1e3", ("image.tag=1e3",), ()),
    ("minBlocks-int", ("minBlocks=2",), ()),
    ("minBlocks-string", (), ("minBlocks=2",)),
    ("minBlocks-float", ("minBlocks=1.5",), ()),
    ("minBlocks-octal", ("minBlocks=010",), ()),
    ("minBlocks-null", ("minBlocks=null",), ()),
    ("bool-true", ("endpoint.debug=true",), ()),
    ("bool-yes", ("endpoint.debug=yes",), ()),
    ("list", (f"endpoint.admins={{{UUID},{UUID2}}}", f"endpoint.subscriptionId={UUID}"), ()),
    ("list-index", (f"endpoint.admins[0]={UUID}", f"endpoint.subscriptionId={UUID}"), ()),
    ("list-index-gap", (f"endpoint.admins[2]={UUID}", f"endpoint.subscriptionId={UUID}"), ()),
    ("list-upper", (f"endpoint.admins[0]={UUID.upper()}", f"endpoint.subscriptionId={UUID}"), ()),
    ("escaped-dot", ("userEnvironment.A\\.B=1",), ()),
    ("escaped-dot-resource", ("workerExtraResources.nvidia\\.com/gpu=1",), ()),
    ("escaped-comma", ("endpoint.displayName=a\\,b",), ()),
    ("comma-pairs", ("minBlocks=1,maxBlocks=3",), ()),
    ("unknown-key", ("nonesuch=1",), ()),
    ("slate-instance", ("SLATE.Instance=abc",), ()),
    ("slate-instance-id", ("SLATE.Instance.ID=abc",), ()),
    ("slate-cluster", ("SLATE.Cluster.Name=c1",), ()),
    ("slate-scalar", ("SLATE=abc",), ()),
    ("no-equals", ("minBlocks",), ()),
    ("empty-key", ("=1",), ()),
    ("unbalanced-brace", ("endpoint.admins={a",), ()),
    ("bad-index", ("endpoint.admins[x]=1",), ()),
    ("negative-index", ("endpoint.admins[-1]=1",), ()),
    ("big-index", ("endpoint.admins[300]=1",), ()),
    ("deep-name", (".".join(["a"] * 40) + "=1",), ()),
    ("instance-empty", ("Instance=",), ()),
    ("instance-number", ("Instance=12",), ()),
    ("instance-upper", ("Instance=Big",), ()),
    ("displayName-control", ("endpoint.displayName=a\x7fb",), ()),
    ("displayName-nel", ("endpoint.displayName=a\x85b",), ()),
    ("workerInit-newline", ("workerInit=echo a\necho b",), ()),
    ("secret-in-set", (f"workerInit={SECRET_TOKENS[1]}",), ()),
    ("secret-bad-syntax", (f"workerInit[={SECRET_TOKENS[2]}",), ()),
    ("secret-set-string", (), (f"userEnvironment.PASSWORD={SECRET_TOKENS[3]}",)),
    ("secret-no-equals", (f"{SECRET_TOKENS[4]}",), ()),
    ("uuid-in-secrets", (f"secrets={UUID}",), ()),
    ("cpu-zero-string", (), ("resources.limits.cpu=0.0",)),
    ("cpu-zero", ("resources.limits.cpu=0",), ()),
    ("big-int", ("maxIdleTime=9223372036854775808",), ()),
)


def sets() -> Iterator[Case]:
    for name, set_values, set_strings in SETS:
        secrets = tuple(token for token in SECRET_TOKENS if any(token in s for s in (*set_values, *set_strings)))
        yield Case(f"set/{name}", "set", (conf().encode(),), set_values, set_strings, secrets)


# --- control characters ------------------------------------------------------------------------------------------

CONTROL_CHARS = {
    "del": "\\x7f",
    "c1-80": "\\x80",
    "nel": "\\u0085",
    "csi": "\\x9b",
    "nbsp": "\\u00a0",
    "line-sep": "\\u2028",
    "para-sep": "\\u2029",
    "fffe": "\\uFFFE",
    "ffff": "\\uFFFF",
    "bom": "\\uFEFF",
    "esc": "\\e",
    "bell": "\\a",
    "nul": "\\0",
    "tab": "\\t",
    "cr": "\\r",
    "rtl-override": "\\u202E",
    "zwsp": "\\u200B",
}
CONTROL_PLACES: dict[str, Callable[[str], str]] = {
    "displayName": lambda s: conf(endpoint=f'\n  displayName: "a{s}b"'),
    "workerInit": lambda s: conf(workerInit=f'"echo a{s}b"'),
    "userEnvironment": lambda s: conf(userEnvironment=f'\n  NOTE: "a{s}b"'),
    "podAnnotations": lambda s: conf(podAnnotations=f'\n  example.org/note: "a{s}b"'),
    "workerAffinity": lambda s: conf(workerAffinity=f'\n  nodeAffinity:\n    description: "a{s}b"'),
    "nodeSelector": lambda s: conf(nodeSelector=f'\n  zone: "a{s}b"'),
    "tolerations": lambda s: conf(tolerations=f'\n  - key: "a{s}b"\n    operator: Exists'),
}


def controls() -> Iterator[Case]:
    for place, make in CONTROL_PLACES.items():
        for name, escape in CONTROL_CHARS.items():
            yield _case(f"{place}-{name}", "control", make(escape))
    for name, raw in {
        "del": "\x7f",
        "nel": "\x85",
        "c1": "\x9b",
        "tab": "\t",
        "fffe": "\ufffe",
        "bom": "\ufeff",
    }.items():
        yield _case(f"raw-{name}", "control", conf(endpoint=f"\n  displayName: a{raw}b"))
    yield _case("tab-indent", "control", conf(endpoint="\n\tdebug: true"))
    yield _case("tab-after-colon", "control", conf(minBlocks="\t1"))


# --- huge ------------------------------------------------------------------------------------------------------------


def _uuids(count: int, rng: random.Random) -> list[str]:
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def huge() -> Iterator[Case]:
    rng = random.Random(1600)
    many = _uuids(2000, rng)
    admins = "".join(f"\n    - {u}" for u in many)
    yield _case("admins-2000", "huge", conf(endpoint=f"\n  subscriptionId: {UUID}\n  admins:{admins}"))
    dup = "".join(f"\n    - {u}" for u in [*many[:999], many[0]])
    yield _case("admins-duplicate", "huge", conf(endpoint=f"\n  subscriptionId: {UUID}\n  admins:{dup}"))
    over = "".join(f"\n    - {u}" for u in _uuids(10_050, rng))
    yield _case("admins-10050", "huge", conf(endpoint=f"\n  subscriptionId: {UUID}\n  admins:{over}"))
    env = "".join(f"\n  VAR_{i}: value-{i}" for i in range(3000))
    yield _case("env-3000", "huge", conf(userEnvironment=env))
    for size in (1020, 1022, 1023, 1024, 1025, 2000):
        yield _case(f"long-key-{size}", "huge", conf(userEnvironment=f"\n  {'K' * size}: x"))
        yield _case(f"long-annotation-key-{size}", "huge", conf(podAnnotations=f"\n  {'k' * size}: x"))
    yield _case("long-unknown-key", "huge", conf(extra=f"{'k' * 1100}: 1\n"))
    for size in (8192, 8193, 100_000):
        yield _case(f"workerInit-{size}", "huge", conf(workerInit='"' + "x" * size + '"'))
    yield _case(
        "schema-deep",
        "huge",
        conf(
            workerAffinity="\n  nodeAffinity:\n"
            + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(89))
            + "  " * 91
            + "v: 1"
        ),
    )
    yield _case(
        "schema-too-deep",
        "huge",
        conf(
            workerAffinity="\n  nodeAffinity:\n"
            + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(109))
            + "  " * 111
            + "v: 1"
        ),
    )
    yield _case(
        "tolerations-500",
        "huge",
        conf(tolerations="".join(f"\n  - key: k{i}\n    operator: Exists" for i in range(500))),
    )


# --- secrets ------------------------------------------------------------------------------------------

_PEM_BODY = "\n".join(SECRET_TOKENS[5][i : i + 16] + SECRET_TOKENS[6][i : i + 16] for i in range(0, 32, 16))
PEM = f"-----BEGIN PRIVATE KEY-----\n{_PEM_BODY}\n-----END PRIVATE KEY-----\n"


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "".join(pad + line + "\n" for line in text.splitlines())


def secrets() -> Iterator[Case]:
    t = SECRET_TOKENS
    pem_secrets = (t[5][:16], t[5][16:32], t[6][:16], t[6][16:32])
    yield _case("pem-in-workerInit", "secret", conf(workerInit=_block(PEM, 2)), secrets=pem_secrets)
    yield _case(
        "pem-under-useClientCredentials",
        "secret",
        conf(useClientCredentials="\n  key: " + _block(PEM, 4)),
        secrets=pem_secrets,
    )
    yield _case("pem-json-escaped", "secret", conf(workerInit=json.dumps(PEM)), secrets=pem_secrets)
    yield _case("pem-as-key", "secret", conf(userEnvironment=f"\n  {json.dumps(PEM)}: x"), secrets=pem_secrets)
    yield _case("token-displayName", "secret", conf(endpoint=f"\n  displayName: {t[7]}"), secrets=(t[7],))
    yield _case("token-tab-escaped", "secret", conf(endpoint=f'\n  displayName: "a\\t{t[7]}\\tb"'), secrets=(t[7],))
    yield _case("token-backslash", "secret", conf(endpoint=f'\n  displayName: "a\\\\{t[8]}\\\\b"'), secrets=(t[8],))
    yield _case("token-quote", "secret", conf(endpoint=f"\n  displayName: 'a\"{t[8]}\"b'"), secrets=(t[8],))
    yield _case("token-as-key", "secret", conf(userEnvironment=f"\n  {t[9]}: x"), secrets=(t[9],))
    yield _case("token-as-unknown-key", "secret", conf(extra=f"{t[9]}: x\n"), secrets=(t[9],))
    yield _case("token-as-instance", "secret", conf(Instance=t[10]), secrets=(t[10],))
    yield _case("token-as-uuid", "secret", conf(endpointUUID=t[10]), secrets=(t[10],))
    yield _case("token-as-number-key", "secret", conf(minBlocks=json.dumps(t[10])), secrets=(t[10],))
    yield _case("token-as-tag", "secret", conf(image=f"\n  tag: {t[11]}"), secrets=(t[11],))
    yield _case(
        "env-assignment",
        "secret",
        conf(workerInit=f'"export GLOBUS_COMPUTE_CLIENT_SECRET={t[11]}"'),
        secrets=(t[11],),
    )
    yield _case(
        "env-assignment-in-list",
        "secret",
        conf(tolerations=f'\n  - key: "GLOBUS_COMPUTE_CLIENT_SECRET={t[11]}"'),
        secrets=(t[11],),
    )
    yield _case(
        "password-key", "secret", conf(userEnvironment="\n  PASSWORD: hunter2hunter2"), secrets=("hunter2hunter2",)
    )
    yield _case("uuid-in-secrets", "secret", conf(secrets=UUID))
    yield _case("token-in-secrets", "secret", conf(secrets=t[1].lower()), secrets=(t[1].lower(),))
    yield _case("token-in-mapping-error", "secret", conf(endpoint=f"\n  name: {{a: {t[2]}}}"), secrets=(t[2],))
    yield _case("token-in-list-error", "secret", conf(secrets=f"[{t[3]}]"), secrets=(t[3],))
    yield _case("token-in-second-doc", "secret", conf() + f"---\nworkerInit: {t[4]}\n", secrets=(t[4],))
    many = "".join(f"\n  V{i}: {_token(random.Random(i), 41)}" for i in range(50))
    yield _case("tokens-50", "secret", conf(userEnvironment=many))
    yield _case("token-in-syntax-error", "secret", conf(extra=f"x: [{t[0]}\n"), secrets=(t[0],))
    yield _case("token-in-bad-escape", "secret", conf(extra=f'x: "{t[0]}\\/"\n'), secrets=(t[0],))


# --- keys and encodings --------------------------------------------------------------------------------

KEYS = ("9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "-9223372036854775808", "-9223372036854775809", "0x8000000000000000", "1e3", "1.5", "0.1", "true", "y",
        "~", ".inf", "2001-12-14", "'<<'")  # fmt: skip


def keys() -> Iterator[Case]:
    for index, key in enumerate(KEYS):
        yield _case(f"env#{index}", "keys", conf(userEnvironment=f"\n  {key}: x"))
        yield _case(f"schema#{index}", "keys", conf(workerAffinity=f"\n  nodeAffinity:\n    {key}: x"))
    for index, value in enumerate((".5e999", "-.5e999", "1e400", "1e308", "4.9e-324", "1e-400")):
        yield _case(f"float#{index}", "keys", conf(workerAffinity=f"\n  nodeAffinity:\n    x: {value}"))


def encodings() -> Iterator[Case]:
    text = conf()
    yield _case("utf8-bom", "encoding", b"\xef\xbb\xbf" + text.encode())
    yield _case("utf16-le-bom", "encoding", b"\xff\xfe" + text.encode("utf-16-le"))
    yield _case("utf16-be-bom", "encoding", b"\xfe\xff" + text.encode("utf-16-be"))
    yield _case("utf32-le-bom", "encoding", b"\xff\xfe\x00\x00" + text.encode("utf-32-le"))
    yield _case("latin1", "encoding", conf(endpoint="\n  displayName: caf\xe9").encode("latin-1"))
    yield _case("crlf", "encoding", text.replace("\n", "\r\n"))
    yield _case("cr-only", "encoding", text.replace("\n", "\r"))
    yield _case("no-final-newline", "encoding", text.rstrip("\n"))


def merged_files() -> Iterator[Case]:
    """Two -f files: null deletes, later wins, a bad second file."""
    base = conf().encode()
    for name, second in {
        "later-wins": "minBlocks: 2\n",
        "null-deletes": "endpoint:\n  name: null\n",
        "null-required": "secrets: null\n",
        "list-replaced": f"endpoint:\n  subscriptionId: {UUID}\n  admins: [{UUID2}]\n",
        "second-multi-doc": "minBlocks: 1\n---\nminBlocks: x\n",
        "second-empty": "",
    }.items():
        yield Case(f"files/{name}", "files", (base, second.encode()))


def generate(schema: ValuesSchema) -> list[Case]:
    """The whole corpus, in a fixed order; names are unique."""
    cases = [
        *bounds(schema),
        *patterns(),
        *spellings(),
        *escapes(),
        *directives(),
        *documents(),
        *merges(),
        *sets(),
        *controls(),
        *huge(),
        *secrets(),
        *keys(),
        *encodings(),
        *merged_files(),
    ]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "corpus case names must be unique"
    return cases


def categories(cases: Sequence[Case]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.category] = counts.get(case.category, 0) + 1
    return counts
