"""Read a conf the way Helm reads a values file, and remember where every key and value is.

Helm 3 and Helm 4 both read values with sigs.k8s.io/yaml on top of go-yaml v2 (Helm 4.3: sigs.k8s.io/yaml
1.6 over go.yaml.in/yaml/v2), so scalars follow YAML 1.1 as go-yaml v2 implements it (helmyaml.scalars):
``yes``/``no``/``on``/``off``/``y``/``n`` are booleans, ``010`` is octal 8, ``08`` is 8,
``0o10``/``0x1F``/``0b101``/``1e3`` are numbers, underscores between digits are dropped, timestamps and
``12:30:45`` stay text, every number becomes a JSON (float64) number, keys become strings, and ``<<``
merges apply in order; helmyaml.goyaml holds go-yaml's escapes, timestamps and base64. The two differ
on documents: Helm 3 reads the first, Helm 4 splits the file at ``---`` lines and merges them all
(pkg/chart/v2/loader LoadValues), refusing directives and ``--- text`` lines. So this module reads the
first document and reports the rest, and those lines, as errors that name both versions. PyYAML's own
constructor differs on most of these, so this module builds the values itself from the parser's events
(libyaml's when available): one pass, no recursion, with limits on nesting depth, alias expansion and
the number of values so that hostile input fails fast.

The result (helmyaml.loaded.Loaded) is plain Python data plus a map from JSON pointer to the 1-based
line and column of each value and of its key, notes about scalars whose reading may surprise (used
for warnings), and the problems the parse itself finds (duplicate keys, out-of-order merges, extra
documents, directives).
"""

from __future__ import annotations

import re

from gce_values import pointer as ptr
from gce_values.errors import ALIAS_EXPANSION, PYTHON_TAG, TOO_DEEP, TOO_MANY_VALUES, InputError
from gce_values.helmyaml import goyaml
from gce_values.helmyaml.loaded import MAX_DEPTH, Issue, Loaded, Pos, ScalarNote
from gce_values.helmyaml.scalars import INT64_MAX, PLAIN_BOOLS, as_template_text, resolve_plain
from gce_values.records import TYPE_CHECKING, Record
from gce_values.report import ERROR, WARNING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    import yaml

MAX_ALIAS_NODES = 10_000
# Values (keys not counted) in one conf; the chart's whole values.yaml has fewer than 100.
MAX_VALUES = 20_000
# Integers beyond this lose precision in Helm, which turns every number into a float64.
_FLOAT64_EXACT = 2**53

_YAML_TAG = "tag:yaml.org,2002:"
_STR = _YAML_TAG + "str"
_BINARY = _YAML_TAG + "binary"
_MERGE = _YAML_TAG + "merge"
_TYPED_TAGS = {_YAML_TAG + name: name for name in ("bool", "int", "float", "null", "timestamp")}


# --- keys --------------------------------------------------------------------------------------------


def _json_number(kind: str, value: Any) -> Any:
    """Helm stores every number as a float64: big integers lose their last digits as they do there."""
    if kind == "int" and abs(value) > _FLOAT64_EXACT:
        return float(value)
    return value


def _float32_key(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 32), which sigs.k8s.io/yaml uses for float keys."""
    import math
    import struct  # only a float key needs it: not imported at start-up

    if math.isnan(value):
        return ".nan"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = math.copysign(math.inf, value)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for precision in range(1, 10):
        text = f"{single:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent_text = text.split("e")
    digits = mantissa.replace(".", "").lstrip("-").rstrip("0") or "0"
    exponent = int(exponent_text)
    sign = "-" if single < 0 else ""
    if exponent < -4 or exponent >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    point = exponent + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def key_string(value: Any) -> str | None:
    """The JSON key Helm makes of a YAML key; None for keys it rejects (null)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float32_key(value)
    return None


# --- the builder -----------------------------------------------------------------------------------


class _Node(Record):
    """A finished value: the data, how many values it holds (for alias limits), its scalar kind.

    ``height`` is how many levels of nesting it holds (0 for a scalar), so that an alias cannot
    nest the data deeper than the text could.
    """

    value: Any
    size: int
    kind: str
    line: int
    column: int
    height: int = 0


class _Frame:
    """A mapping or sequence being built."""

    __slots__ = (
        "anchor",
        "column",
        "data",
        "explicit",
        "height",
        "is_map",
        "key",
        "key_column",
        "key_is_merge",
        "key_line",
        "line",
        "pointer",
        "size",
    )

    def __init__(self, data: Any, pointer: str, anchor: str | None, line: int, column: int) -> None:
        self.data = data
        self.is_map = isinstance(data, dict)
        self.pointer = pointer
        self.anchor = anchor
        self.line = line
        self.column = column
        self.size = 1
        self.height = 1
        # Mappings only: the key read and waiting for its value.
        self.key: str | None = None
        self.key_line = 0
        self.key_column = 0
        self.key_is_merge = False
        # Mappings only: key -> line of its explicit (not merged) definition.
        self.explicit: dict[str, int] = {}


class _Builder:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        # The text, for the source of double-quoted scalars (only when one can hold an escape).
        self.text = text if "\\" in text else None
        self.positions: dict[str, Pos] = {}
        self.notes: list[ScalarNote] = []
        self.problems: list[Issue] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Node] = {}
        self.open_anchors: set[str] = set()
        # Whether each open collection is written in flow style ({...} or [...]).
        self.flows: list[bool] = []
        self.alias_nodes = 0
        self.values = 0
        self.root: _Node | None = None

    def fail(self, detail: str, line: int, column: int, rule: str = "") -> InputError:
        return InputError(detail, source=self.name, line=line, column=column, rule=rule)

    # Where the next value goes.
    def _next_pointer(self) -> str:
        frame = self.stack[-1]
        if frame.is_map:
            return ptr.child(frame.pointer, frame.key or "")
        return ptr.child(frame.pointer, len(frame.data))

    def _pointer_here(self) -> str:
        """The pointer of the scalar just read (its key set, its value not yet attached); only notes need it."""
        return self._next_pointer() if self.stack else ptr.ROOT

    def _expecting_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].is_map and self.stack[-1].key is None

    def start_map(self, event: Any) -> None:
        self.start(event, {})

    def start_seq(self, event: Any) -> None:
        self.start(event, [])

    def start(self, event: Any, data: Any) -> None:
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        self._check_tag(event.tag, line, column)
        if self._expecting_key():
            raise self.fail("a key must be a single value, not a list or mapping", line, column)
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep", line, column, TOO_DEEP)
        pointer = self._next_pointer() if self.stack else ptr.ROOT
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(data=data, pointer=pointer, anchor=event.anchor, line=line, column=column))
        self.flows.append(bool(event.flow_style))

    def end(self, event: Any) -> None:
        frame = self.stack.pop()
        self.flows.pop()
        node = _Node(frame.data, frame.size, "map" if frame.is_map else "seq", frame.line, frame.column, frame.height)
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = node
        self._attach(node)

    def scalar(self, event: Any) -> None:
        mark, tag = event.start_mark, event.tag
        line, column = mark.line + 1, mark.column + 1
        if tag is not None:
            self._check_tag(tag, line, column)
        at_key = self._expecting_key()
        if event.style == '"' and self.text is not None:
            self._check_escapes(event, line, column)
        plain = tag is None and event.implicit[0]
        if plain and "?" in event.value and self.flows and self.flows[-1]:
            self._reject_flow_question_mark(event.value, line, column)
        if at_key and ((plain and event.value == "<<") or tag == _MERGE):
            self._set_key("<<", line, column, is_merge=True)
            return
        kind, value = resolve_plain(event.value) if plain else self._scalar_value(event, line, column)
        node: _Node | None = None  # a key is not a value of its own
        if at_key:
            self._scalar_key(event.value, kind, value, line, column)
        else:
            node = self._scalar_node(kind, value, line, column)
        if event.anchor:
            self.anchors[event.anchor] = node if node is not None else _Node(value, 1, kind, line, column)
        self._note_surprise(event.value, kind, value, plain=plain, at_key=at_key)
        if node is not None:
            self._attach(node)

    def _reject_flow_question_mark(self, text: str, line: int, column: int) -> NoReturn:
        """go-yaml ends a plain scalar at ? in a flow collection (libyaml reads on), then fails on the rest."""
        raise self.fail(
            "not valid YAML: a ? inside a plain value in {...} or [...] ends the value for Helm; quote it",
            line,
            column + text.index("?") if "\n" not in text else column,
        )

    def _scalar_key(self, written: str, kind: str, value: Any, line: int, column: int) -> None:
        """A scalar read as a key: Helm's key text for it, or the error Helm would give."""
        text = key_string(value)
        if text is None:
            raise self.fail("a key must not be null", line, column)
        if kind == "int" and value > INT64_MAX:
            raise self.fail(
                f"Helm cannot use the number {written} as a key (integer keys stop at 2^63-1); quote it", line, column
            )
        self._set_key(text, line, column, is_merge=False)

    def _scalar_node(self, kind: str, value: Any, line: int, column: int) -> _Node:
        """A scalar read as a value: its node, numbers as JSON carries them, infinities and NaN refused."""
        node = _Node(_json_number(kind, value), 1, kind, line, column)
        _check_finite(node, self, line, column)
        return node

    def _note_surprise(self, written: str, kind: str, value: Any, *, plain: bool, at_key: bool) -> None:
        """A note when Helm reads ``written`` otherwise than its author likely meant (yaml-notes warnings)."""
        if plain and kind == "bool" and written not in PLAIN_BOOLS:
            self.notes.append(ScalarNote(self._pointer_here(), "bool-word", written, value, at_key=at_key))
        elif plain and kind == "int" and _is_octal_surprise(written, value):
            self.notes.append(ScalarNote(self._pointer_here(), "octal", written, value, at_key=at_key))
        elif plain and not at_key and kind in ("int", "float") and as_template_text(value) != written:
            self.notes.append(ScalarNote(self._pointer_here(), "number", written, value))
        elif not plain and kind == "str" and not at_key and value != "":
            unquoted_kind, unquoted = resolve_plain(value)
            if unquoted_kind != "str":
                self.notes.append(ScalarNote(self._pointer_here(), "quoted", value, unquoted))

    def alias(self, event: Any) -> None:
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(f"alias *{name} refers to the value that contains it", line, column)
        if name not in self.anchors:
            raise self.fail(f"alias *{name} has no anchor &{name} before it", line, column)
        node = self.anchors[name]
        self.alias_nodes += node.size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self.fail(f"aliases expand to more than {MAX_ALIAS_NODES} values", line, column, ALIAS_EXPANSION)
        if len(self.stack) + node.height > MAX_DEPTH:
            raise self.fail(
                f"nested more than {MAX_DEPTH} levels deep (through the alias *{name})", line, column, TOO_DEEP
            )
        if self._expecting_key():
            text = key_string(node.value) if node.kind not in ("map", "seq") else None
            if text is None:
                raise self.fail("a key must be a single value, not a list, mapping or null", line, column)
            self._set_key(text, line, column, is_merge=False)
            return
        if node.kind == "seq" and self.stack and self.stack[-1].key_is_merge and self.stack[-1].key is not None:
            # go-yaml merges a list of mappings written out, but not one behind an alias
            raise self.fail("a merge (<<) of an alias needs a mapping; the alias here is a list", line, column)
        _check_finite(node, self, line, column)
        self._attach(node._replace(line=line, column=column))

    def _check_escapes(self, event: Any, line: int, column: int) -> None:
        assert self.text is not None
        bad = goyaml.double_quoted_escapes(self.text[event.start_mark.index : event.end_mark.index])
        if bad is not None:
            hint = "; write / alone" if bad == "\\/" else ""
            raise self.fail(f"not valid YAML: {bad} is not an escape Helm's YAML reader knows{hint}", line, column)

    def _check_tag(self, tag: str | None, line: int, column: int) -> None:
        if tag and tag.startswith((_YAML_TAG + "python/", "!!python/")):
            raise self.fail("Python object tags (!!python/...) are not allowed in a conf", line, column, PYTHON_TAG)

    def _scalar_value(self, event: Any, line: int, column: int) -> tuple[str, Any]:
        """A quoted or tagged scalar's kind and value (plain ones are resolve_plain's)."""
        tag, text = event.tag, event.value
        if tag is None or tag in ("!", _STR):
            return "str", text
        if tag == _BINARY:
            decoded = goyaml.binary_text(text)
            if decoded is None:
                raise self.fail(
                    "a !!binary value is not valid base64 (Helm skips only line breaks in it)", line, column
                )
            return "str", decoded
        wanted = _TYPED_TAGS.get(tag)
        if wanted is None:
            return "str", text
        if wanted == "timestamp":
            if goyaml.timestamp_ok(text):
                return "str", text
            raise self.fail("a value tagged !!timestamp is not a timestamp", line, column)
        kind, value = resolve_plain(text)
        if kind == wanted:
            return kind, value
        if wanted == "float" and kind == "int":
            return "float", float(value)
        raise self.fail(f"a value tagged !!{wanted} is not {_ARTICLE[wanted]}", line, column)

    def _set_key(self, text: str, line: int, column: int, is_merge: bool) -> None:
        frame = self.stack[-1]
        if "\x85" in text:
            self.problems.append(
                Issue(
                    line=line,
                    column=column,
                    pointer=ptr.child(frame.pointer, text),
                    severity=ERROR,
                    rule="key-next-line",
                    message=(
                        "a key with a NEL character (U+0085, a line break to YAML): Helm 3 (the SLATE "
                        "server's) fails on the whole conf when it checks the schema, though Helm 4 reads it"
                    ),
                    hint="take the character out of the key",
                )
            )
        frame.key, frame.key_line, frame.key_column, frame.key_is_merge = text, line, column, is_merge

    def _attach(self, node: _Node) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(
                f"more than {MAX_VALUES} values, more than any conf needs; is it the right file?",
                node.line,
                node.column,
                TOO_MANY_VALUES,
            )
        if not self.stack:
            self.root = node
            self.positions[ptr.ROOT] = Pos(node.line, node.column, node.line, node.column)
            return
        frame = self.stack[-1]
        frame.size += node.size
        if node.height >= frame.height:
            frame.height = node.height + 1
        if not frame.is_map:
            pointer = ptr.child(frame.pointer, len(frame.data))
            frame.data.append(node.value)
            self.positions[pointer] = Pos(node.line, node.column, node.line, node.column)
            return
        key = frame.key
        assert key is not None, "a value always follows its key"
        frame.key = None
        if frame.key_is_merge:
            self._merge(frame, node)
            return
        pointer = ptr.child(frame.pointer, key)
        if key in frame.explicit:
            self.problems.append(
                Issue(
                    line=frame.key_line,
                    column=frame.key_column,
                    pointer=pointer,
                    severity=ERROR,
                    rule="duplicate-key",
                    message=f"duplicate key {key!r} at lines {frame.explicit[key]} and {frame.key_line}",
                    hint="Helm silently keeps the last one; delete the other",
                )
            )
        frame.explicit[key] = frame.key_line
        frame.data[key] = node.value
        self.positions[pointer] = Pos(node.line, node.column, frame.key_line, frame.key_column)

    def _merge(self, frame: _Frame, node: _Node) -> None:
        """``<<``: go-yaml v2 sets the merged keys in order, so they replace keys written before them."""
        line, column = frame.key_line, frame.key_column
        if isinstance(node.value, dict):
            sources = [node.value]
        elif isinstance(node.value, list) and all(isinstance(item, dict) for item in node.value):
            sources = list(reversed(node.value))
        else:
            raise self.fail("a merge (<<) needs a mapping or a list of mappings", line, column)
        for source in sources:
            for key, value in source.items():
                pointer = ptr.child(frame.pointer, key)
                if key in frame.explicit:
                    self.problems.append(
                        Issue(
                            line=line,
                            column=column,
                            pointer=pointer,
                            severity=WARNING,
                            rule="yaml-merge-order",
                            message=(
                                f"the merge (<<) replaces {key!r} written at line {frame.explicit[key]}: "
                                "Helm applies << in order, so what comes later wins"
                            ),
                            hint="write << before the keys it should not override",
                        )
                    )
                    del frame.explicit[key]
                frame.data[key] = value
                self.positions[pointer] = Pos(line, column, line, column)


def _check_finite(node: _Node, builder: _Builder, line: int, column: int) -> None:
    import math

    if node.kind == "float" and not math.isfinite(node.value):
        raise builder.fail(
            "infinity and NaN are not allowed: Helm turns values into JSON, which has neither", line, column
        )


_ARTICLE = {"bool": "a boolean", "int": "an integer", "float": "a number", "null": "null"}


def _is_octal_surprise(text: str, value: int) -> bool:
    """``010`` is 8 in YAML 1.1; say so when the decimal reading would differ."""
    digits = text.replace("_", "").lstrip("+-")
    if len(digits) < 2 or digits[0] != "0" or not digits[1].isdigit():
        return False
    return int(digits, 10) != abs(value)


def _parser(text: str) -> Any:
    from gce_values.pyyaml import yaml

    loader_class = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    return loader_class(text)


def _go_parser(text: str) -> Any:
    """PyYAML's pure-Python parser with go-yaml's extra escape (``\\'`` in double quotes is ``'``); its
    reader takes a byte-order mark inside the text as a character, as go-yaml does."""
    from gce_values.pyyaml import yaml

    loader = yaml.SafeLoader(text)
    loader.ESCAPE_REPLACEMENTS = {**yaml.SafeLoader.ESCAPE_REPLACEMENTS, "'": "'"}  # type: ignore[misc]
    return loader


def _syntax_error(name: str, text: str, error: yaml.YAMLError) -> InputError:
    """A one-line message without PyYAML's excerpt of the line (it could show a secret)."""
    from gce_values.pyyaml import yaml

    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        if _tab_near(text, mark.index, mark.line):
            detail = "not valid YAML: a tab where YAML needs spaces (indent with spaces, never tabs)"
            return InputError(detail, source=name, line=mark.line + 1, column=mark.column + 1)
        glued = _glued_key(text, mark.line)
        if glued is not None:
            line, key = glued
            detail = f"not valid YAML: no space after the ':' of {key}; write '{key}: value'"
            return InputError(detail, source=name, line=line + 1, column=1)
        detail = f"not valid YAML: {error.problem}"
        if error.context:
            detail += f" ({error.context}"
            if error.context_mark is not None and error.context_mark.line != error.problem_mark.line:
                detail += f" at line {error.context_mark.line + 1}"
            detail += ")"
        return InputError(detail, source=name, line=mark.line + 1, column=mark.column + 1)
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "\0")
        return InputError(f"not valid YAML: character U+{code:04X} is not allowed", source=name, line=line)
    return InputError(f"not valid YAML: {type(error).__name__}", source=name)


# A line that starts with a key glued to its value (``minBlocks:0``): YAML reads it as one word.
_GLUED_KEY = r"\s*([A-Za-z_][A-Za-z0-9_.-]*):[^\s:/]"
# How many lines above an error a glued key is looked for (the parser notices it a line or two later).
_GLUED_LOOKBACK = 3


def _line_text(text: str, line: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line] if line < len(lines) else ""


def _tab_near(text: str, index: int, line: int) -> bool:
    """Whether the error is at a tab, or on a line indented with one."""
    if 0 <= index < len(text) and text[index] == "\t":
        return True
    row = _line_text(text, line)
    return "\t" in row[: len(row) - len(row.lstrip(" \t"))]


def _glued_key(text: str, line: int) -> tuple[int, str] | None:
    """The 0-based line and key of a ``key:value`` (no space) at or just above ``line``."""
    rows = text.split("\n", line + 1)[: line + 1]
    for number in range(min(line, len(rows) - 1), max(-1, line - _GLUED_LOOKBACK - 1), -1):
        match = re.match(_GLUED_KEY, rows[number])
        if match:
            return number, match.group(1)
    return None


class _Directive(Record):
    line: int
    version: tuple[int, int] | None
    has_tags: bool


def load(text: str, name: str) -> Loaded:
    """Parse ``text`` (named ``name`` in messages) like Helm; raises InputError for unusable input.

    libyaml (fast) reads nearly every conf. Two things go-yaml reads and libyaml does not send the
    text to PyYAML's own parser instead, taught go-yaml's way: a ``\\'`` escape in double quotes, and a
    byte-order mark after the start (go-yaml reads it as a character of the text). Either way the text
    is parsed at most twice, so the time stays linear in its size whatever it holds.

    PyYAML is imported here, not with the module: confs the plain reader (helmyaml.plainread) takes
    never load it, and this module's records and scalar rules serve that reader too.
    """
    from gce_values.pyyaml import yaml

    if "\ufeff" in text[1:]:
        return _load_go_way(text, name)
    try:
        return _load(text, name)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        if mark is None or not goyaml.quote_escape_at(text, mark.line, mark.column):
            raise _syntax_error(name, text, error) from None
    except yaml.YAMLError as error:
        raise _syntax_error(name, text, error) from None
    return _load_go_way(text, name)


def _load_go_way(text: str, name: str) -> Loaded:
    from gce_values.pyyaml import yaml

    try:
        return _load(text, name, _go_parser)
    except yaml.YAMLError as error:
        raise _syntax_error(name, text, error) from None


def _load(text: str, name: str, make_parser: Callable[[str], Any] | None = None) -> Loaded:
    builder = _Builder(name, text)
    parser = (make_parser or _parser)(text)
    try:
        directive = _run(parser, builder)
        extra = _extra_document_line(parser)
    finally:
        parser.dispose()
    if directive is not None:
        builder.problems.append(_directive_issue(directive))
    builder.problems.extend(_separator_issues(text))
    if extra is not None and _has_content(text, extra):
        builder.problems.append(
            Issue(
                line=extra,
                column=1,
                pointer="",
                severity=ERROR,
                rule="extra-document",
                message=(
                    "a second YAML document: Helm 3 (the SLATE server's) ignores it, Helm 4 merges it over "
                    "the first, so the two would install different confs"
                ),
                hint="keep the conf in one document (remove this --- and merge what follows by hand)",
            )
        )
    root = builder.root
    data = {} if root is None or root.value is None else root.value
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else "a single value"
        raise InputError(
            f"a conf must be a YAML mapping (key: value lines), not {what}",
            source=name,
            line=root.line if root else None,
            column=root.column if root else None,
        )
    return Loaded(name=name, data=data, positions=builder.positions, notes=builder.notes, problems=builder.problems)


def _directive_issue(directive: _Directive) -> Issue:
    if directive.version not in (None, (1, 1)):
        major, minor = directive.version or (0, 0)
        message = f"%YAML {major}.{minor}: Helm 3 and Helm 4 read YAML 1.1 only and refuse it"
    else:
        message = "a directive (%YAML or %TAG): Helm 4 refuses a file that starts with one, though Helm 3 reads it"
    return Issue(directive.line, 1, "", ERROR, "yaml-directive", message, "remove the directive line")


def _separator_issues(text: str) -> list[Issue]:
    """Helm 4 splits a file into documents at lines that start with ---, and refuses such a line with
    anything but a comment after the dashes (Helm 3 reads ``--- {a: 1}`` as a document)."""
    if "---" not in text:
        return []
    issues = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("---"):
            rest = line[3:].strip()
            if rest and not rest.startswith("#"):
                issues.append(
                    Issue(
                        number,
                        1,
                        "",
                        ERROR,
                        "yaml-document-marker",
                        "a line that starts with --- and goes on: Helm 4 refuses it (it splits documents "
                        "at such lines), though Helm 3 reads it",
                        "put what follows the --- on the next line",
                    )
                )
    return issues


def _has_content(text: str, first_line: int) -> bool:
    """Whether the documents from ``first_line`` (1-based) on hold anything but markers and comments."""
    for line in text.split("\n")[first_line - 1 :]:
        stripped = line.strip()
        if stripped.startswith(("---", "...")):
            stripped = stripped[3:].strip()
        if stripped and not stripped.startswith("#"):
            return True
    return False


def _run(parser: Any, builder: _Builder) -> _Directive | None:
    """Feed the first document's events to the builder (by the event's class: this runs for every value);
    the first document's directive, if it has one."""
    from gce_values.pyyaml import yaml

    handlers = {
        yaml.ScalarEvent: builder.scalar,
        yaml.MappingStartEvent: builder.start_map,
        yaml.SequenceStartEvent: builder.start_seq,
        yaml.MappingEndEvent: builder.end,
        yaml.SequenceEndEvent: builder.end,
        yaml.AliasEvent: builder.alias,
    }
    directive = None
    check_event, get_event = parser.check_event, parser.get_event
    while check_event():
        event = get_event()
        handler = handlers.get(type(event))
        if handler is not None:
            handler(event)
        elif type(event) is yaml.DocumentEndEvent:
            return directive
        elif type(event) is yaml.DocumentStartEvent and (event.version or event.tags):
            line = int(event.start_mark.line) + 1 if event.start_mark else 1
            version = (int(event.version[0]), int(event.version[1])) if event.version else None
            directive = _Directive(line, version, bool(event.tags))
    return directive


def _extra_document_line(parser: Any) -> int | None:
    """The line where a second document starts, if there is one (errors after it do not matter)."""
    from gce_values.pyyaml import yaml

    try:
        if parser.check_event(yaml.DocumentStartEvent):
            return int(parser.peek_event().start_mark.line) + 1
    except yaml.YAMLError:
        return None
    return None
