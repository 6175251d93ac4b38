"""What Helm 3's schema check cannot take, although Helm 4 takes it: checked on the merged values.

Helm 3 (3.8.1 on the SLATE server) checks values against the chart's schema by turning them into
JSON, the JSON into YAML and that YAML back into data (sigs.k8s.io/yaml over go-yaml v2). That round
trip fails, and with it the install, on:
  - text holding DEL, a C1 control other than NEL, U+FFFE or U+FFFF: Go's JSON writes them as they
    are, and go-yaml refuses to read them;
  - a key whose JSON spelling (quotes, escapes, and Go's \\u003c for ``<``, ``>`` and ``&``) is longer
    than 1,024 characters, go-yaml's limit for a key in a flow mapping;
  - a key named ``<<``, which the YAML re-reading takes for a merge key: Helm 3 refuses it when its
    value is not a mapping, and otherwise checks merged values other than those it renders.
Helm 4 checks the values as data and renders all of these. Each finding names both versions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from gce_values import pointer as ptr
from gce_values.checks.context import Run
from gce_values.records import TYPE_CHECKING, Record
from gce_values.report import ERROR, WARNING

if TYPE_CHECKING:
    from typing import Any

UNREADABLE_TEXT = "helm3-unreadable-text"
LONG_KEY = "helm3-long-key"
MERGE_KEY = "helm3-merge-key"
RULES = (UNREADABLE_TEXT, LONG_KEY, MERGE_KEY)
MAX_KEY_JSON = 1024
# Text Helm 3's schema check cannot take. Only DEL of it is ASCII, so nearly every conf is cleared
# without the pattern, which is compiled (and cached by re) for the first text that needs it.
_HELM3_UNCHECKABLE = "[\x7f-\x84\x86-\x9f\ufffe\uffff]"
# Go's JSON writes a character as at most 6 (\u003c): shorter keys cannot reach the limit.
_SHORT_KEY = (MAX_KEY_JSON - 2) // 6


@functools.cache
def _go_json_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What Go's JSON writes longer than one character: <, >, & and the line separators; quotes,
    backslashes and control characters. Compiled only for a key long enough to need them."""
    return re.compile("[<>&\u2028\u2029]"), re.compile('["\\\\\x00-\x1f]')


def _uncheckable_character(text: str) -> re.Match[str] | None:
    """The first character of ``text`` that Helm 3's schema check cannot take, if any."""
    if text.isascii() and "\x7f" not in text:
        return None
    return re.search(_HELM3_UNCHECKABLE, text)


class Finding(Record):
    pointer: str
    at_key: bool
    rule: str
    severity: str
    message: str
    hint: str | None


def go_json_length(key: str) -> int:
    """How many characters Go's json.Marshal writes for ``key``, quotes included."""
    longer, escaped = _go_json_patterns()
    length = len(key) + 2
    length += 5 * len(longer.findall(key))
    for match in escaped.finditer(key):
        length += 1 if match.group(0) in '"\\\b\f\n\r\t' else 5
    return length


def _text_finding(pointer: str, text: str, at_key: bool) -> Finding | None:
    found = _uncheckable_character(text)
    if found is None:
        return None
    from gce_values.schema.patternwords import char_name

    place = "key" if at_key else "text"
    return Finding(
        pointer,
        at_key,
        UNREADABLE_TEXT,
        ERROR,
        f"this {place} contains {char_name(found.group(0))}: Helm 3 (the SLATE server's) refuses the conf "
        "in its schema check, Helm 4 would take it",
        "remove the character (it is invisible in most editors; it often comes from copying text)",
    )


_REFUSES = "schema check and refuses the conf"


def check(run: Run) -> None:
    for finding in findings(run.merged.values):
        where = run.facts.locate(finding.pointer, finding.at_key)
        run.add(where, finding.pointer, finding.severity, finding.rule, finding.message, finding.hint)


def _may_have_findings(values: Any) -> bool:
    """Whether any key or text could be a finding: one pass with no pointers and one pattern search.

    Nearly every conf has none, and building a pointer for each of its values was most of this check's
    time on a batch of confs.
    """
    texts: list[str] = []
    stack: list[Any] = [values]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in node:
                if key == "<<" or len(key) > _SHORT_KEY:
                    return True
            texts.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            texts.append(node)
    return _uncheckable_character("\n".join(texts)) is not None


def findings(values: Any) -> Iterator[Finding]:
    """Every finding in ``values``, depth first, in the order of the data."""
    if not _may_have_findings(values):
        return
    stack: list[tuple[str, Any]] = [(ptr.ROOT, values)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, dict):
            children = []
            for key, value in node.items():
                child = ptr.child(pointer, key)
                found = _text_finding(child, key, at_key=True)
                if found:
                    yield found
                if len(key) > _SHORT_KEY and go_json_length(key) > MAX_KEY_JSON:
                    yield Finding(
                        child,
                        True,
                        LONG_KEY,
                        ERROR,
                        f"this key is {len(key)} characters long: Helm 3 (the SLATE server's) cannot check keys "
                        "longer than about 1,020 characters and refuses the conf, Helm 4 would take it",
                        "shorten the key",
                    )
                if key == "<<":
                    merges = isinstance(value, dict)
                    yield Finding(
                        child,
                        True,
                        MERGE_KEY,
                        WARNING if merges else ERROR,
                        "a key named <<: Helm 3 (the SLATE server's) reads it back as a YAML merge key in its "
                        + ("schema check, so it checks other values than it renders" if merges else _REFUSES)
                        + "; Helm 4 keeps it as a key",
                        "rename the key",
                    )
                children.append((child, value))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(ptr.child(pointer, index), item) for index, item in enumerate(node)]))
        elif isinstance(node, str):
            found = _text_finding(pointer, node, at_key=False)
            if found:
                yield found
