"""Hypothesis strategies for confs of the chart, written as YAML text the way users write them.

The confs start from the blog post's seed and change a few values to spellings drawn from the schema
itself (defaults, examples, enum members, bounds and one past them, lengths past the limit) and from
the YAML 1.1 spellings that trip users up (``yes``, ``010``, ``"1"``...), plus unknown and removed
keys. They stay within what Helm checks too: no credentials, no duplicate keys, and no ``null`` for a
group of settings (Helm's templates then fail on nil, which is the chart's business, not its schema's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from gce_values.schema import ValuesSchema
from support.paths import SEED_TEXT

# The seed conf's keys and their YAML text, as written in the seed file.
SEED = dict(line.split(": ", 1) for line in SEED_TEXT.splitlines())
UUID = "0b9d6a3e-2f1c-4e5d-9a8b-7c6d5e4f3a2b"
# Numbers YAML 1.1 reads with a text other than theirs (010 is 8, 08 is 8, 1e1 is 10): on a key whose
# text the SLATE server may unquote (x-slate-coerce) gce-values refuses them and Helm does not, on
# purpose (README, "What validate checks"), so they are not generated for such a key.
_TEXT_CHANGING_NUMBERS = frozenset({"010", "08", "0x1F", "1e3", "1e1", "0o7"})
# Spellings of the wrong type for almost any key (flow YAML).
WRONG_TYPES = ("yes", "off", "010", '"010"', "1.5", "-1", "x", '""', "[1, 2]", "{a: 1}", "0x1F", "1e3", "~")
MAP_KEYS = ("nvidia.com/gpu", "example.org/team", "kubernetes.io/arch", "HTTPS_PROXY", "Bad Key", "on", "-bad")
MAP_VALUES = ('"1"', "1", "x", "true", "[1]", "{a: 1}", "2Gi", '"0.5"', "~", '"2"', "ok")
EXTRA_KEYS = ("imagee", "replicaCount", "workerImageSecret", "instance", "maxBlock", "SLATE")


# Plain numbers Helm's YAML reads with another text: leading zeros, hex, octal, exponents.
_TEXT_CHANGING_NUMBER = re.compile(r"[-+]?(0[0-9]+|0[xXoObB][0-9a-fA-F]+|[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+)")


def _flow(value: Any) -> str:
    return json.dumps(value)


def _spellings(node: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Flow-YAML spellings for a value of this schema node: (likely right, near misses)."""
    good: list[str] = []
    near: list[str] = list(WRONG_TYPES)
    if "default" in node:
        good.append(_flow(node["default"]))
    good += [_flow(example) for example in node.get("examples", [])]
    good += [_flow(member) for member in node.get("enum", [])]
    kinds = node.get("type", [])
    kinds = kinds if isinstance(kinds, list) else [kinds]
    for bound in ("minimum", "maximum", "exclusiveMinimum"):
        if bound in node:
            limit = node[bound]
            good.append(_flow(limit) if bound != "exclusiveMinimum" else _flow(limit + 1))
            near += [_flow(limit - 1), _flow(limit + 1)]
    if "integer" in kinds or "number" in kinds:
        good += ["2", "1e1", "0o7"]
        near += ["0.5", "08"]
        if node.get("x-slate-coerce") is True:
            good = [word for word in good if word not in _TEXT_CHANGING_NUMBERS]
            near = [word for word in near if word not in _TEXT_CHANGING_NUMBERS]
    if "boolean" in kinds:
        good += ["true", "false", "yes", "no", "on", "Off", "y"]
        near.append('"true"')
    if "string" in kinds:
        good += ['"ok"', "abc"]
        near += ["Bad_Name", '"1"', '"-x-"', "a.b", "Ab"]
        if "maxLength" in node:
            good.append(_flow("a" * node["maxLength"]))
            near.append(_flow("a" * (node["maxLength"] + 1)))
    if "array" in kinds:
        good += ["[]", f"[{UUID}]"]
        near += [f"[{UUID}, {UUID}]", "[x]"]
    if node.get("x-text"):
        # An identifier (x-text) written as a number whose text Helm changes (010 -> "8", 1e1 -> "10")
        # is an error gce-values reports on purpose and Helm cannot see: no conf both should judge.
        good = [text for text in good if not _TEXT_CHANGING_NUMBER.fullmatch(text)]
        near = [text for text in near if not _TEXT_CHANGING_NUMBER.fullmatch(text)]
    return good or near, near


def _leaves(schema: ValuesSchema) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for path, node in schema.leaves():
        if "properties" not in node and path != ("SLATE",):
            yield path, node


def _emit(tree: dict[str, Any], indent: str = "") -> str:
    lines = ""
    for key, value in tree.items():
        name = json.dumps(key) if not key.replace("_", "").isalnum() else key
        if isinstance(value, dict):
            lines += f"{indent}{name}:" + (" {}\n" if not value else "\n" + _emit(value, indent + "  "))
        else:
            lines += f"{indent}{name}: {value}\n"
    return lines


@st.composite
def confs(draw: st.DrawFn, schema: ValuesSchema) -> str:
    """A conf as YAML text."""
    tree: dict[str, Any] = dict(SEED)
    leaves = list(_leaves(schema))
    for _ in range(draw(st.integers(0, 3))):
        path, node = draw(st.sampled_from(leaves))
        good, near = _spellings(node)
        spelling = draw(st.sampled_from(good if draw(st.integers(0, 9)) < 7 else near))
        if spelling == "~" and len(path) > 1:
            continue
        branch = tree
        for key in path[:-1]:
            branch = branch.setdefault(key, {})
        branch[path[-1]] = spelling
    if draw(st.integers(0, 3)) == 0:
        target = draw(st.sampled_from(("workerExtraResources", "nodeSelector", "podAnnotations", "userEnvironment")))
        key, value = draw(st.sampled_from(MAP_KEYS)), draw(st.sampled_from(MAP_VALUES))
        tree[target] = {key: value}
    if draw(st.integers(0, 5)) == 0:
        tree[draw(st.sampled_from(EXTRA_KEYS))] = draw(st.sampled_from(('"x"', "1", "{ID: y}")))
    return _emit(tree)
