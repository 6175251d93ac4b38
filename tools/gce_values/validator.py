"""Validate a conf (or several merged like ``helm -f A -f B --set ...``): the API every command uses.

    validate_sources(sources, set_values=(), set_strings=(), release=None, creds_file=None,
                     include_defaults=True)  -> Result(values, problems)

A Result holds the merged values (what Helm would render with) and every Problem found, sorted by
source, line and column: YAML surprises and duplicate keys, credentials pasted into the conf, quotes
the SLATE server may drop, schema violations, the schema's cross-field rules (x-rules), and an
endpointUUID that is really the client ID. Each problem names the file (or ``--set #N``) that
supplied the value. Unusable input raises InputError instead (the CLI's exit code 2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from gce_values import pointer as ptr
from gce_values.checks import secretscan as secrets_scan
from gce_values.checks import xrules as rules
from gce_values.errors import InputError
from gce_values.helmyaml import merge, origins
from gce_values.helmyaml import reader as yamlpos
from gce_values.report import ERROR, WARNING, Problem, sort_problems
from gce_values.schema import ValuesSchema, load, nodes
from gce_values.schema import reference as schema_check

__all__ = ["InputError", "Problem", "Result", "validate_sources"]

DEFAULTS_NAME = "(chart defaults)"
RELEASE_NAME = "--release"
REDACTED = "<redacted>"
_MIN_REDACT = 6
# Helm's release name rule (its length limit is the schema's releaseNameLength rule).
_RELEASE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SHOW_MAX = 60


class Result:
    """The merged values and every problem found in them (a plain class: see report.Problem on start-up)."""

    __slots__ = ("problems", "values")

    def __init__(self, values: dict[str, Any], problems: list[Problem] | None = None) -> None:
        self.values = values
        self.problems = [] if problems is None else problems

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


# --- provenance and display -------------------------------------------------------------------------------


class _Facts:
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
        """The source, line and column to report a problem at ``pointer`` against."""
        deleted = self.merged.deleted.get(pointer)
        if deleted is not None:
            return deleted.source, deleted.key_line, deleted.key_column
        for candidate in ptr.ancestors(pointer):
            origin = self.merged.origins.get(candidate)
            if origin is None:
                continue
            if candidate == pointer and not at_key:
                return origin.source, origin.line, origin.column
            return origin.source, origin.key_line, origin.key_column
        return self.fallback, 0, 0

    def show(self, pointer: str, value: Any) -> str:
        if any(candidate in self.secret_pointers for candidate in ptr.ancestors(pointer)):
            return REDACTED
        return show_value(value)


def show_value(value: Any) -> str:
    """A value as a short piece of JSON (floats as Helm prints them, containers by kind)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = json.dumps(value, ensure_ascii=False)
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


# --- the checks -----------------------------------------------------------------------------------------------

_DEFAULTS: dict[int, tuple[ValuesSchema, dict[str, Any]]] = {}


def _defaults(schema: ValuesSchema) -> dict[str, Any]:
    cached = _DEFAULTS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, schema.defaults())
        _DEFAULTS[id(schema)] = cached
    return cached[1]


def _is_declared(document: dict[str, Any], pointer: str) -> bool:
    tokens = ptr.tokens(pointer)
    node = nodes.node_at(document, tokens[:-1])
    return bool(tokens) and node is not None and tokens[-1] in node.get("properties", {})


def _accepts(types: set[str] | None, kind: str) -> bool:
    if types is None:
        return True
    return kind in types or (kind == "integer" and "number" in types)


class _Collector:
    """Builds Problems for one validation run."""

    def __init__(self, schema: ValuesSchema, merged: merge.Merged, facts: _Facts) -> None:
        self.schema = schema
        self.document = schema.document
        self.merged = merged
        self.facts = facts
        self.problems: list[Problem] = []
        self.redact: set[str] = set()

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
        file, line, column = where
        key = key_text(pointer, self.merged.values if data is None else data) if pointer else ""
        self.problems.append(Problem(file, line, column, pointer, key, severity, rule, message, hint))

    def source_problems(self, loaded: yamlpos.Loaded, source: origins.Source) -> None:
        for problem in loaded.problems:
            key = key_text(problem.pointer, loaded.data) if problem.pointer else ""
            self.problems.append(problem._replace(key=key))
        for note in loaded.notes:
            self._note(note, source, loaded.data)
        for finding in secrets_scan.scan(loaded.data, lambda p: _is_declared(self.document, p)):
            self._secret(finding, source.origin(finding.pointer), loaded.data)

    def _note(self, note: yamlpos.ScalarNote, source: origins.Source, data: Any) -> None:
        origin = source.origin(note.pointer)
        where = (origin.source, origin.key_line, origin.key_column) if note.at_key else origin[:3]
        node = nodes.node_at(self.document, ptr.tokens(note.pointer))
        types = nodes.accepted_types(node)
        as_json = json.dumps(note.value)
        if note.kind == "bool-word":
            if note.at_key:
                message = f"the key {note.text} is read as the boolean {as_json}, so the key is {as_json!r}"
                self.add(where, note.pointer, WARNING, "yaml11-boolean", message, f'quote it ("{note.text}")', data)
            elif types is None or "string" in types:
                message = f"{note.text} is read as the boolean {as_json} (YAML 1.1, as Helm reads it)"
                hint = f'quote it ("{note.text}") if you mean the word'
                self.add(where, note.pointer, WARNING, "yaml11-boolean", message, hint, data)
        elif note.kind == "octal":
            decimal = int(note.text.replace("_", ""), 10)
            message = f"{note.text} is read as the octal number {note.value} (YAML 1.1, as Helm reads it)"
            hint = f'write {decimal} if you mean {decimal}, or quote it ("{note.text}") to keep the text'
            self.add(where, note.pointer, WARNING, "yaml11-octal", message, hint, data)
        elif note.kind == "quoted":
            self._slate_quotes(note, where, node, types, data)

    def _slate_quotes(
        self,
        note: yamlpos.ScalarNote,
        where: tuple[str, int, int],
        node: dict[str, Any] | None,
        types: set[str] | None,
        data: Any,
    ) -> None:
        unquoted_type = nodes.json_type(note.value)
        coerced = bool(node and node.get("x-slate-coerce") is True)
        if coerced and _accepts(types, "string") and _accepts(types, unquoted_type) and _same_text(note):
            return
        if note.value is None:
            read_as = "null, which deletes the key"
        else:
            read_as = f"{show_value(note.value)}, {nodes.type_name(unquoted_type)}"
        message = (
            f"{json.dumps(note.text)} may lose its quotes on SLATE (its server rewrites the conf); "
            f"Helm would then read {read_as}"
        )
        if types is not None and not _accepts(types, unquoted_type):
            hint = "this key does not accept that, so the install would fail there; use a form that is not a number"
        else:
            hint = "check that this key means the same thing either way"
        self.add(where, note.pointer, WARNING, "slate-quotes", message, hint, data)

    def _secret(self, finding: secrets_scan.Finding, origin: origins.Origin, data: Any) -> None:
        where = (origin.source, origin.key_line, origin.key_column) if finding.at_key else origin[:3]
        self.facts.secret_pointers.add(finding.pointer)
        self.redact.update(text for text in finding.matched if len(text) >= _MIN_REDACT)
        place = "key" if finding.at_key else "value"
        message = f"this {place} looks like a credential: {finding.what}"
        hint = (
            "credentials belong in the SLATE secret named by `secrets` "
            "(slate secret create NAME --from-env-file FILE), never in the conf; "
            "if this file was shared or committed, rotate the credential"
        )
        self.add(where, finding.pointer, ERROR, "secret", message, hint, data)

    def set_secrets(self) -> None:
        """Credentials given with --set land in the merged values; find those there."""
        for finding in secrets_scan.scan(self.merged.values, lambda p: _is_declared(self.document, p)):
            origin = self.merged.origins.get(finding.pointer)
            if origin is not None and origin.source.startswith("--set"):
                self._secret(finding, origin, None)

    def schema_problems(self) -> None:
        findings = schema_check.check(self.document, self.merged.values, self.facts, self.schema.removed())
        for finding in findings:
            where = self.facts.locate(finding.pointer, finding.at_key)
            self.add(where, finding.pointer, ERROR, finding.rule, finding.message, finding.hint)

    def rule_problems(self, release: str | None) -> None:
        ctx = rules.Context(values=self.merged.values, is_user=self.facts.is_user, release=release)
        for violation in rules.check(self.schema.rules(), ctx):
            rule = violation.rule
            where = (RELEASE_NAME, 0, 0) if violation.on_release else self.facts.locate(violation.pointer, True)
            self.add(where, violation.pointer, rule.severity, rule.id, rule.message, violation.hint)

    def creds_problems(self, creds_file: str) -> None:
        from pathlib import Path

        from gce_values.workflow import credentials

        client = credentials.values_from_env_file(Path(creds_file)).get(credentials.CLIENT_ID)
        if not client:
            names = f"{credentials.CLIENT_ID} (or {credentials.LEGACY[credentials.CLIENT_ID]})"
            message = f"has no {names}, so endpointUUID cannot be compared with the client ID"
            self.problems.append(Problem(creds_file, 0, 0, "", "", WARNING, "creds-client-id", message, None))
            return
        uuid = self.merged.values.get("endpointUUID")
        if isinstance(uuid, str) and uuid.strip().lower() == client.strip().strip("\"'").lower():
            message = f"endpointUUID is the client ID from {creds_file}; the endpoint needs a UUID of its own"
            hint = "generate one: python3 -c 'import uuid; print(uuid.uuid4())' (or gce-values init)"
            where = self.facts.locate("/endpointUUID", False)
            self.add(where, "/endpointUUID", WARNING, "endpoint-uuid-is-client-id", message, hint)

    def finish(self, order: Sequence[str]) -> list[Problem]:
        problems = _dedupe(_fold_yaml_notes(self.problems))
        if self.redact:
            problems = [_scrub(p, self.redact) for p in problems]
        return sort_problems(problems, order)


def _fold_yaml_notes(problems: list[Problem]) -> list[Problem]:
    """A YAML note about a value that is also an error becomes part of that error's hint (or goes)."""
    errors_at = {(p.file, p.pointer) for p in problems if p.is_error}
    problems = [p for p in problems if not (p.rule == "slate-quotes" and (p.file, p.pointer) in errors_at)]
    notes = {(p.file, p.pointer): p for p in problems if p.rule in ("yaml11-boolean", "yaml11-octal")}
    out = []
    folded: set[tuple[str, str]] = set()
    for problem in problems:
        note = notes.get((problem.file, problem.pointer))
        if problem.is_error and note is not None and problem.rule not in ("duplicate-key", "secret"):
            hint = f"{note.message}: {note.hint}" + (f"; {problem.hint}" if problem.hint else "")
            out.append(problem._replace(hint=hint))
            folded.add((note.file, note.pointer))
        else:
            out.append(problem)
    return [p for p in out if not (p.rule.startswith("yaml11-") and (p.file, p.pointer) in folded)]


def _same_text(note: yamlpos.ScalarNote) -> bool:
    """Whether the templates, turning the unquoted number back into a string, get the same text
    ("4.19" does; "1.10" becomes 1.1, "010" becomes 8 and "1e3" becomes 1000, which do not)."""
    value = note.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and value.is_integer():
        return False
    return str(value) == note.text


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """One problem per cause: a rule of kind required says more than the schema's `required`."""
    rule_pointers = {p.pointer for p in problems if p.rule != "required"}
    out, seen = [], set()
    for problem in problems:
        if problem.rule == "required" and problem.pointer in rule_pointers and problem.message.startswith("missing"):
            continue
        identity = (problem.file, problem.line, problem.column, problem.pointer, problem.rule, problem.message)
        if identity not in seen:
            seen.add(identity)
            out.append(problem)
    return out


def _scrub(problem: Problem, secrets: Iterable[str]) -> Problem:
    def clean(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED).replace(ptr.escape(secret), REDACTED)
        return text

    return problem._replace(
        pointer=clean(problem.pointer),
        key=clean(problem.key),
        message=clean(problem.message),
        hint=clean(problem.hint) if problem.hint else problem.hint,
    )


# --- the entry point ------------------------------------------------------------------------------------------


def validate_sources(
    sources: Sequence[tuple[str, str]],
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str | None = None,
    creds_file: str | None = None,
    include_defaults: bool = True,
    *,
    schema: ValuesSchema | None = None,
) -> Result:
    """Merge ``sources`` (display name, YAML text) over the chart defaults like ``helm -f``, then check.

    ``set_values``/``set_strings`` are --set/--set-string expressions (applied after all files, all
    --set before any --set-string, as Helm does); ``release`` is the Helm release name when installing
    with plain helm (otherwise the SLATE name is checked); ``creds_file`` is the credentials env file
    whose client ID endpointUUID must differ from. ``schema`` replaces the chart's schema (for tests).
    Raises InputError for input Helm could not use (bad YAML, not a mapping, bad --set syntax...).
    """
    if release is not None and not _RELEASE.fullmatch(release):
        raise InputError(
            f"{release!r} is not a valid Helm release name (lowercase letters, digits, '-' and '.')",
            source=RELEASE_NAME,
        )
    values_schema = schema or load()
    loaded = [yamlpos.load(text, name) for name, text in sources]
    inputs = [origins.Source(item.name, item.data, item.positions) for item in loaded]
    defaults = _defaults(values_schema) if include_defaults else None
    merged = merge.merge(inputs, set_values, set_strings, defaults=defaults)
    set_names = [f"--set #{i}" for i in range(1, len(set_values) + 1)]
    set_names += [f"--set-string #{i}" for i in range(1, len(set_strings) + 1)]
    order = [*(name for name, _ in sources), *set_names, RELEASE_NAME, *([creds_file] if creds_file else [])]
    facts = _Facts(merged, fallback=order[0] if sources or set_names else DEFAULTS_NAME)
    collector = _Collector(values_schema, merged, facts)
    for item, source in zip(loaded, inputs, strict=True):
        collector.source_problems(item, source)
    if set_names:
        collector.set_secrets()
    collector.schema_problems()
    collector.rule_problems(release)
    if creds_file:
        collector.creds_problems(creds_file)
    return Result(values=merged.values, problems=collector.finish(order))
