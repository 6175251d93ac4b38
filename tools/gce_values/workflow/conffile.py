"""Render a commented conf (the chart's values.yaml, or a user's conf) from the schema.

The chart's values.yaml is this rendering with the schema defaults; `gce-values init` renders the
same template with the user's answers and without the SLATE block (as `slate app get-conf` does).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

import jinja2
import yaml

from gce_values import resources
from gce_values.helmyaml.scalars import resolve_plain
from gce_values.schema import ValuesSchema

# 80 columns: the SLATE catalog's yamllint rules (line-length) apply to values.yaml.
_WIDTH = 80
_INDENT = "  "


@dataclass
class Entry:
    """One key of the conf: its comment lines and its value, inline or as an indented block."""

    key: str
    indent: str
    comment: list[str]
    inline: str
    block: list[str] = field(default_factory=list)
    blank_before: bool = False
    slate_start: bool = False
    slate_end: bool = False


def scalar_text(value: Any) -> str:
    """A value as one line of YAML in flow style (``""``, ``true``, ``'1'``, ``[]``, ``{}``).

    A string that Helm's YAML 1.1 would read as something else (``y``, ``on``, ``0o7``, ``1_000``,
    which PyYAML leaves plain) is quoted, so the conf means what was answered.
    """
    if isinstance(value, str) and value == "":
        return '""'
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    text = text.removesuffix("\n...\n").strip()
    if isinstance(value, str) and resolve_plain(text)[0] != "str":
        return json.dumps(value, ensure_ascii=False)
    return text


def _comment(node: dict[str, Any], width: int) -> list[str]:
    lines: list[str] = []
    description = " ".join(str(node.get("description", "")).split())
    if description:
        lines.extend(textwrap.wrap(description, width=width, break_on_hyphens=False))
    if "enum" in node:
        lines.append("Allowed: " + ", ".join(scalar_text(v) for v in node["enum"]))
    examples = [e for e in node.get("examples", []) if e != node.get("default")]
    if examples:
        example = "Example: " + scalar_text(examples[0])
        # A long example (an image digest) goes on a line of its own, to keep within the catalog's 80 columns.
        lines.extend([example] if len(example) <= width else ["Example:", "  " + scalar_text(examples[0])])
    return lines


def entries(schema: ValuesSchema, values: dict[str, Any], include_slate: bool) -> list[Entry]:
    """The conf's entries in schema order, with ``values`` (defaults plus answers) filled in."""
    out: list[Entry] = []
    _collect(schema.document, values, 0, include_slate, out)
    return out


def _collect(node: dict[str, Any], values: dict[str, Any], depth: int, include_slate: bool, out: list[Entry]) -> None:
    indent = _INDENT * depth
    for key, child in node.get("properties", {}).items():
        internal = bool(child.get("x-slate-internal"))
        if internal and not include_slate:
            continue
        value = values.get(key, child.get("default"))
        entry = Entry(
            key=key,
            indent=indent,
            comment=_comment(child, _WIDTH - len(indent) - 2),
            inline="",
            blank_before=depth == 0,
            slate_start=internal,
            slate_end=internal,
        )
        out.append(entry)
        if "properties" in child and not internal:
            _collect(child, value if isinstance(value, dict) else {}, depth + 1, include_slate, out)
        elif isinstance(value, (dict, list)) and value:
            dumped = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, indent=2)
            entry.block = [indent + _INDENT + line for line in dumped.splitlines()]
        else:
            entry.inline = " " + scalar_text(value)


def render(schema: ValuesSchema, values: dict[str, Any], include_slate: bool, schema_url: str | None = None) -> str:
    """The commented conf as text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.templates_dir())),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    text = env.get_template("values.yaml.j2").render(
        entries=entries(schema, values, include_slate), schema_url=schema_url
    )
    return text.rstrip("\n") + "\n"
