"""What every check works on: the sources read, the merged values and where each came from.

A Run is made once per validation; each check (see gce_values.checks.registry) adds Problems to it,
located in the source that supplied the value and shown without repeating a credential.
"""

from __future__ import annotations

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.helmyaml import merge, origins
from gce_values.helmyaml.loaded import Loaded
from gce_values.records import TYPE_CHECKING
from gce_values.redact import REDACTED, Redactor
from gce_values.report import Problem
from gce_values.schema import ValuesSchema, nodes

if TYPE_CHECKING:
    from typing import Any

__all__ = ["REDACTED", "RELEASE_NAME", "Facts", "Run", "key_text", "show_value"]

RELEASE_NAME = "--release"
_SHOW_MAX = 60


class Facts:
    """Where each merged value came from, and how to show values without leaking credentials."""

    def __init__(self, merged: merge.Merged, fallback: str) -> None:
        self.merged = merged
        self.fallback = fallback
        self.secret_pointers: set[str] = set()

    def is_user(self, pointer: str) -> bool:
        """Whether the user gave this value (or deleted its default with null)."""
        return pointer in self.merged.origins or pointer in self.merged.deleted

    def source_of(self, pointer: str) -> str | None:
        origin = self.merged.origins.get(pointer)
        return origin.source if origin else None

    def was_deleted(self, pointer: str) -> bool:
        return pointer in self.merged.deleted

    def locate(self, pointer: str, at_key: bool) -> tuple[str, int, int]:
        """The source, line and column to report a problem at ``pointer`` against.

        A value the user did not write is reported at the key of the nearest mapping they did write,
        or, when that is the whole conf, at no line at all (its first line has nothing to do with it).
        """
        deleted = self.merged.deleted.get(pointer)
        if deleted is not None:
            return deleted.source, deleted.key_line, deleted.key_column
        for candidate in ptr.ancestors(pointer):
            origin = self.merged.origins.get(candidate)
            if origin is None:
                continue
            if candidate == ptr.ROOT and pointer != ptr.ROOT:
                return origin.source, 0, 0
            if candidate == pointer and not at_key:
                return origin.source, origin.line, origin.column
            return origin.source, origin.key_line, origin.key_column
        return self.fallback, 0, 0

    def show(self, pointer: str, value: Any) -> str:
        return REDACTED if self.hides(pointer) else show_value(value)

    def hides(self, pointer: str) -> bool:
        return any(candidate in self.secret_pointers for candidate in ptr.ancestors(pointer))


def show_value(value: Any) -> str:
    """A value as a short piece of JSON (floats as Helm prints them, containers by kind)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = jsontext.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 2] + '…"'


def key_text(pointer: str, data: Any) -> str:
    """The dotted key users see (``endpoint.admins[0]``), telling list indices from keys by the data."""
    flags = []
    node = data
    for token in ptr.tokens(pointer):
        is_index = isinstance(node, list)
        flags.append(is_index)
        if is_index and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict):
            node = node.get(token)
        else:
            node = None
    return ptr.dotted(pointer, flags)


class Run:
    """One validation: its inputs, the facts about the merged values, and the problems found so far."""

    def __init__(
        self,
        schema: ValuesSchema,
        loaded: list[Loaded],
        inputs: list[origins.Source],
        merged: merge.Merged,
        facts: Facts,
        release: str | None,
        creds_file: str | None,
        has_sets: bool,
    ) -> None:
        self.schema = schema
        self.document = schema.document
        self.loaded = loaded
        self.inputs = inputs
        self.merged = merged
        self.facts = facts
        self.release = release
        self.creds_file = creds_file
        self.has_sets = has_sets
        self.problems: list[Problem] = []
        # Every spelling of every credential found; postprocess takes them out of every problem.
        self.redact = Redactor()

    def add(
        self,
        where: tuple[str, int, int],
        pointer: str,
        severity: str,
        rule: str,
        message: str,
        hint: str | None = None,
        data: Any = None,
    ) -> None:
        """A problem at ``where``; its key is spelled from ``data`` (the merged values unless given)."""
        file, line, column = where
        key = key_text(pointer, self.merged.values if data is None else data) if pointer else ""
        self.problems.append(Problem(file, line, column, pointer, key, severity, rule, message, hint))

    def is_declared(self, pointer: str) -> bool:
        """Whether the schema names this key (a declared key holds a name, never a credential)."""
        tokens = ptr.tokens(pointer)
        node = nodes.node_at(self.document, tokens[:-1])
        return bool(tokens) and node is not None and tokens[-1] in node.get("properties", {})
