"""The client credentials env file (client_creds.env): reading, checking and writing it.

The file becomes a SLATE or Kubernetes secret (`slate secret create --from-env-file`, `kubectl create
secret generic --from-env-file`); both take each ``KEY=value`` line literally, so quotes, spaces and
Windows line endings end up inside the secret and the endpoint then fails to log in. Nothing here
ever puts a value into a message: a swapped ID and secret would otherwise print the secret.
"""

from __future__ import annotations

import difflib
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gce_values.errors import InputError
from gce_values.report import Problem
from gce_values.schema import load

CLIENT_ID = "GLOBUS_COMPUTE_CLIENT_ID"
CLIENT_SECRET = "GLOBUS_COMPUTE_CLIENT_SECRET"
LEGACY = {CLIENT_ID: "FUNCX_SDK_CLIENT_ID", CLIENT_SECRET: "FUNCX_SDK_CLIENT_SECRET"}
KNOWN_KEYS = (CLIENT_ID, CLIENT_SECRET, *LEGACY.values())

# What `slate secret create` accepts as a key (kubectl is stricter: an environment variable name).
_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Entry:
    """One ``KEY=value`` line."""

    line: int
    key: str
    value: str


def _comment_problem(value: str, what: str) -> str | None:
    """A `#` after a space: kubectl and slate take the whole rest of the line, comment included, as the value."""
    if re.search(r"\s#", value):
        return (
            f"the {what} is followed by a comment on its line; kubectl and slate would keep the comment as part "
            "of it: put comments on lines of their own"
        )
    return None


def client_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a Globus client ID, or None when it can."""
    if not value:
        return "the client ID is empty"
    if comment := _comment_problem(value, "client ID"):
        return comment
    if value != value.strip() or value.strip("\"'") != value:
        return "the client ID has spaces or quotes around it; they would become part of it"
    if not load().matches("uuid", value):
        return "the client ID is not a UUID (a UUID looks like 2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a3)"
    return None


def client_secret_problem(value: str) -> str | None:
    """Why ``value`` cannot be a Globus client secret, or None when it can."""
    if not value:
        return "the client secret is empty"
    if comment := _comment_problem(value, "client secret"):
        return comment
    if value != value.strip() or value.strip("\"'") != value:
        return "the client secret has spaces or quotes around it; they would become part of it"
    if any(ch in value for ch in "\r\n"):
        return "the client secret spans several lines"
    return None


def render(client_id: str, client_secret: str) -> str:
    """The env file's text, current key spelling only."""
    return f"{CLIENT_ID}={client_id}\n{CLIENT_SECRET}={client_secret}\n"


def read(path: Path) -> tuple[str, int]:
    """The file's text and permission bits; unreadable or non-text files are an InputError."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > _MAX_BYTES:
        raise InputError(f"{path}: larger than {_MAX_BYTES // 1024} KiB; not a credentials env file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; not a credentials env file") from None
    return text.removeprefix("\ufeff"), stat.S_IMODE(mode)


def values_from_env_file(path: Path) -> dict[str, str]:
    """The client ID and secret from an env file in either spelling (current spelling wins)."""
    text, _mode = read(path)
    entries = {entry.key: entry.value for entry in _entries(text)[0]}
    found = {}
    for current, legacy in LEGACY.items():
        if current in entries:
            found[current] = entries[current]
        elif legacy in entries:
            found[current] = entries[legacy]
    return found


def check(path: Path) -> list[Problem]:
    """Every problem of an existing credentials env file, in file order after the permission checks."""
    text, mode = read(path)
    problems = list(_permission_problems(str(path), mode))
    entries, malformed = _entries(text)
    name = str(path)
    for line, message in malformed:
        problems.append(_problem(name, line, "", severity="error", rule="env-line", message=message))
    problems.extend(_entry_problems(name, entries))
    return sorted(problems, key=lambda p: p.line)


def _entries(text: str) -> tuple[list[Entry], list[tuple[int, str]]]:
    """The ``KEY=value`` lines, and (line, reason) for lines that are not one."""
    entries: list[Entry] = []
    malformed: list[tuple[int, str]] = []
    crlf_seen = False
    for number, raw in enumerate(text.split("\n"), start=1):
        has_cr = raw.endswith("\r")
        if has_cr and not crlf_seen:
            malformed.append((number, "Windows line endings: each carriage return would end up in a value"))
        crlf_seen = crlf_seen or has_cr
        line = raw.removesuffix("\r").lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            malformed.append((number, "not KEY=value (no `=`)"))
        elif key.startswith("export "):
            malformed.append((number, "`export` is shell syntax; write KEY=value"))
        elif not _KEY_RE.match(key):
            malformed.append((number, "the key has characters other than letters, digits, `-`, `.` and `_`"))
        else:
            entries.append(Entry(number, key, value))
    return entries, malformed


def _permission_problems(name: str, mode: int) -> Iterator[Problem]:
    if mode & stat.S_IROTH:
        yield _problem(
            name,
            0,
            "",
            severity="error",
            rule="env-permissions",
            message="everyone on this machine can read it",
            hint="chmod 600",
        )
    elif mode & stat.S_IRGRP:
        yield _problem(
            name, 0, "", severity="warning", rule="env-permissions", message="its group can read it", hint="chmod 600"
        )


def _entry_problems(name: str, entries: list[Entry]) -> Iterator[Problem]:
    first_line: dict[str, int] = {}
    for entry in entries:
        if entry.key in first_line:
            yield _problem(
                name,
                entry.line,
                entry.key,
                severity="error",
                rule="env-duplicate",
                message=f"repeated (first on line {first_line[entry.key]}); kubectl refuses that",
                hint="keep one",
            )
            continue
        first_line[entry.key] = entry.line
        if entry.key not in KNOWN_KEYS:
            close = difflib.get_close_matches(entry.key.upper(), KNOWN_KEYS, n=1)
            hint = f"did you mean {close[0]}?" if close else None
            yield _problem(
                name,
                entry.line,
                entry.key,
                severity="warning",
                rule="env-unknown-key",
                message="not read by the chart",
                hint=hint,
            )
    by_key = {entry.key: entry for entry in reversed(entries)}  # the first of repeated keys
    for current, legacy, checker in (
        (CLIENT_ID, LEGACY[CLIENT_ID], client_id_problem),
        (CLIENT_SECRET, LEGACY[CLIENT_SECRET], client_secret_problem),
    ):
        chosen = by_key.get(current) or by_key.get(legacy)
        if chosen is None:
            yield _problem(
                name,
                0,
                current,
                severity="error",
                rule="env-missing-key",
                message=f"missing (nor is there its old spelling, {legacy})",
            )
            continue
        reason = checker(chosen.value)
        if reason:
            yield _problem(name, chosen.line, chosen.key, severity="error", rule="env-value", message=reason)
        if chosen.key == legacy:
            yield _problem(
                name,
                chosen.line,
                legacy,
                severity="warning",
                rule="env-legacy-key",
                message=f"the old spelling: this chart still reads it, but {current} is current "
                "(the endpoint itself ignores FUNCX_* since 4.6.0)",
                hint=f"rename it to {current}",
            )
        elif legacy in by_key and by_key[legacy].value != chosen.value:
            yield _problem(
                name,
                by_key[legacy].line,
                legacy,
                severity="warning",
                rule="env-conflicting-keys",
                message=f"differs from {current}; the chart uses {current}",
                hint=f"remove {legacy}",
            )


def _problem(
    name: str, line: int, key: str, *, severity: str, rule: str, message: str, hint: str | None = None
) -> Problem:
    return Problem(
        file=name,
        line=line,
        column=1 if line else 0,
        pointer="",
        key=key,
        severity=severity,
        rule=rule,
        message=message,
        hint=hint,
    )


def from_environment(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The client ID and secret from environment variables in either spelling (current spelling wins),
    and the old spellings that were used."""
    found: dict[str, str] = {}
    legacy_used = []
    for current, legacy in LEGACY.items():
        if environ.get(current):
            found[current] = environ[current]
        elif environ.get(legacy):
            found[current] = environ[legacy]
            legacy_used.append(legacy)
    return found, legacy_used
