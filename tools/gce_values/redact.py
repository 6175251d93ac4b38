"""Take every credential out of a text, in whatever escaping the text shows it.

A value that looks like a credential is never shown on purpose, but its text can still reach a message
another way: inside a key quoted with ``repr()``, JSON-escaped, escaped for one line of output, as a
JSON pointer, or one line of a PEM block at a time. A Redactor knows all those spellings of every
secret and replaces each with ``<redacted>``.

It runs in time linear in the text: the spellings are indexed by their first few characters, and one
pass over the text looks up each position, taking the longest spelling that matches there, left to
right. So the result does not depend on the order in which secrets were found (or on hash order), and
thousands of secrets cost no more than one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from gce_values import jsontext
from gce_values import pointer as ptr
from gce_values.printable import one_line

REDACTED = "<redacted>"
# Shorter text is too likely to be a common word; secrets_scan finds nothing this short anyway.
MIN_LENGTH = 6
# A long enough run of one secret's characters is redacted on its own (a line of a PEM body, a clipped part).
_PIECE = r"[A-Za-z0-9+/]{16,}"
_PIECE_PREFIX = 12


def spellings(secret: str) -> set[str]:
    """The ways ``secret`` may appear in a message."""
    forms = {
        secret,
        jsontext.dumps(secret)[1:-1],
        jsontext.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        one_line(secret, len(secret)),
        ptr.escape(secret),
    }
    for line in secret.splitlines():
        forms.add(line.strip())
    for piece in _pieces().findall(secret):
        if _random_looking(piece):  # and its beginning, in case a message clipped it
            forms.update((piece, piece[:_PIECE_PREFIX]))
    return {form for form in forms if len(form) >= MIN_LENGTH}


@functools.cache
def _pieces() -> re.Pattern[str]:
    """Compiled when the first credential is found, not at every start-up."""
    return re.compile(_PIECE)


def _random_looking(piece: str) -> bool:
    return any(c.isdigit() for c in piece) and any(c.islower() for c in piece) and any(c.isupper() for c in piece)


class Redactor:
    """Replaces every spelling of the secrets it was given (see the module's docstring)."""

    __slots__ = ("_by_prefix", "_done", "_forms", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._forms: set[str] = set()
        # The forms by their first MIN_LENGTH characters, longest first; built when first needed.
        self._by_prefix: dict[str, list[str]] | None = None
        # Texts already redacted: problems repeat their hints and messages.
        self._done: dict[str, str] = {}
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret not in self._secrets:
                self._secrets.add(secret)
                self._forms.update(spellings(secret))
        self._by_prefix = None
        self._done.clear()

    def __bool__(self) -> bool:
        return bool(self._forms)

    def __call__(self, text: str) -> str:
        if not self._forms or len(text) < MIN_LENGTH:
            return text
        done = self._done.get(text)
        if done is None:
            done = self._done[text] = self._redact(text)
        return done

    def _index(self) -> dict[str, list[str]]:
        if self._by_prefix is None:
            by_prefix: dict[str, list[str]] = {}
            for form in sorted(self._forms, key=lambda form: (-len(form), form)):
                by_prefix.setdefault(form[:MIN_LENGTH], []).append(form)
            self._by_prefix = by_prefix
        return self._by_prefix

    def _redact(self, text: str) -> str:
        by_prefix = self._index()
        out: list[str] = []
        start = index = 0
        last = len(text) - MIN_LENGTH
        while index <= last:
            forms = by_prefix.get(text[index : index + MIN_LENGTH])
            if forms is not None:
                form = next((f for f in forms if text.startswith(f, index)), None)
                if form is not None:
                    out.append(text[start:index])
                    out.append(REDACTED)
                    index += len(form)
                    start = index
                    continue
            index += 1
        if not out:
            return text
        out.append(text[start:])
        return "".join(out)
