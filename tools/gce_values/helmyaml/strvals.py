"""Helm's ``--set`` and ``--set-string`` grammar (pkg/strvals), ported, with the origin of what it sets."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gce_values import pointer as ptr
from gce_values.errors import InputError
from gce_values.helmyaml.loaded import MAX_DEPTH
from gce_values.helmyaml.origins import Origin, Tracker
from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# strvals limits (Helm 3.10+; they also keep hostile --set input from exhausting memory).
MAX_INDEX = 65536
MAX_NESTED_NAME_LEVEL = 30


def apply(data: dict[str, Any], tracker: Tracker, set_values: Sequence[str], set_strings: Sequence[str]) -> None:
    """Every --set, then every --set-string, into ``data`` (named ``--set #N`` in messages), as Helm does."""
    for index, expression in enumerate(set_values, start=1):
        SetParser(expression, f"--set #{index}", data, tracker, as_string=False).parse()
    for index, expression in enumerate(set_strings, start=1):
        SetParser(expression, f"--set-string #{index}", data, tracker, as_string=True).parse()


def typed_value(text: str, as_string: bool) -> Any:
    """strvals typedVal: --set knows true/false/null (any case) and int64 without a leading 0."""
    if as_string:
        return text
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0":
        body = text[1:] if text[0] in "+-" else text
        if body.isdigit() and body.isascii() and len(body) <= 19:  # longer cannot be an int64
            number = int(text)
            if -(2**63) <= number < 2**63:
                return number
    return text


class _StrvalsError(Exception):
    """A --set expression Helm refuses."""


class _EndOfInput(Exception):
    """The expression ended (Helm's io.EOF)."""


class SetParser:
    """A port of Helm's strvals parser that also records the origin of what it sets.

    Its quirks are Helm's: keys split on ``.`` and ``[``, values on ``,``; a backslash escapes the next
    character; ``{a,b}`` is a list; ``a=`` is the empty string; indexing into a non-list, or keying
    into a non-map (including a ``null`` from a file), is an error.
    """

    def __init__(self, text: str, name: str, data: dict[str, Any], tracker: Tracker, as_string: bool) -> None:
        self.text = text
        self.at = 0
        self.name = name
        self.data = data
        self.tracker = tracker
        self.as_string = as_string
        self.origin = Origin(name, 1, 1, 1, 1)

    def parse(self) -> None:
        try:
            while True:
                start = self.at
                self.origin = Origin(self.name, 1, start + 1, 1, start + 1)
                try:
                    self._key(self.data, ptr.ROOT, 0)
                except _EndOfInput:
                    return
        except _StrvalsError as error:
            # The position, never the text: what follows a separator may be a credential.
            raise InputError(
                f"Helm cannot parse this expression at character {self.at}: {error}", source=self.name
            ) from None

    # Reading.
    def _read(self) -> str | None:
        if self.at >= len(self.text):
            return None
        char = self.text[self.at]
        self.at += 1
        return char

    def _until(self, stops: str) -> tuple[str, str | None]:
        """Characters up to one of ``stops`` (consumed and returned), honouring backslash escapes."""
        out: list[str] = []
        while True:
            char = self._read()
            if char is None:
                return "".join(out), None
            if char in stops:
                return "".join(out), char
            if char == "\\":
                escaped = self._read()
                if escaped is None:
                    return "".join(out), None
                out.append(escaped)
            else:
                out.append(char)

    # Recording.
    def _set(self, data: dict[str, Any], pointer: str, key: str, value: Any) -> None:
        if not key:
            return
        child = ptr.child(pointer, key)
        old = data.get(key)
        data[key] = value
        self.tracker.replace(child, old, value, self.origin)

    def _set_container(self, data: dict[str, Any], pointer: str, key: str, value: Any, created: bool) -> None:
        """Put back a map or list this expression extended; untouched members keep their origins."""
        if not key:
            return
        data[key] = value
        child = ptr.child(pointer, key)
        if created or child not in self.tracker.origins:
            self.tracker.origins[child] = self.origin

    # Grammar.
    def _key(self, data: dict[str, Any], pointer: str, level: int) -> None:
        key, last = self._until("=[,.")
        if last is None:
            if not key:
                raise _EndOfInput
            raise _StrvalsError("a key with no value (no = after it)")
        created = key not in data
        child = ptr.child(pointer, key)
        if last == "[":
            index = self._index()
            existing = data.get(key, [])
            if not isinstance(existing, list):
                raise _StrvalsError("the key before [ is not a list, so it cannot take an index")
            items = list(existing)
            try:
                items = self._list_item(items, index, child, level)
            finally:
                self._set_container(data, pointer, key, items, created)
            return
        if last == "=":
            value, at_end = self._value()
            self._set(data, pointer, key, value)
            if at_end:
                raise _EndOfInput
            return
        if last == ",":
            self._set(data, pointer, key, "")
            raise _StrvalsError("a key with no value (an expression cannot end with ,)")
        level += 1
        if level > MAX_NESTED_NAME_LEVEL:
            raise _StrvalsError(f"a key may be nested at most {MAX_NESTED_NAME_LEVEL} levels deep")
        inner = data.get(key, {})
        if not isinstance(inner, dict):
            raise _StrvalsError("the key before . is not a map, so it cannot take a .key")
        ended = False
        try:
            self._key(inner, child, level)
        except _EndOfInput:
            ended = True
        if not inner:  # Helm 3.8 says so even at the end of the expression (`a.`); later versions do not
            raise _StrvalsError("a key map with no value")
        self._set_container(data, pointer, key, inner, created)
        if ended:
            raise _EndOfInput

    def _index(self) -> int:
        text, last = self._until("]")
        if last is None:
            raise _StrvalsError("error parsing index: the expression ends before ]")
        if not re.fullmatch(r"[-+]?[0-9]+", text):
            raise _StrvalsError("error parsing index: not a number")
        if len(text.lstrip("+-").lstrip("0")) > 18:
            raise _StrvalsError(f"error parsing index: a number of {len(text)} digits is out of range")
        return int(text)

    def _set_index(self, items: list[Any], index: int, value: Any, pointer: str) -> list[Any]:
        if index < 0:
            raise _StrvalsError(f"negative {index} index not allowed")
        if index > MAX_INDEX:
            raise _StrvalsError(f"index of {index} is greater than maximum supported index of {MAX_INDEX}")
        if len(items) <= index:
            items.extend([None] * (index + 1 - len(items)))
        old = items[index]
        items[index] = value
        child = ptr.child(pointer, index)
        if old is value:
            self.tracker.origins.setdefault(child, self.origin)
        else:
            self.tracker.replace(child, old, value, self.origin)
        return items

    def _list_item(self, items: list[Any], index: int, pointer: str, level: int) -> list[Any]:
        if index < 0:
            raise _StrvalsError(f"negative {index} index not allowed")
        if pointer.count("/") > MAX_DEPTH:  # Helm has no limit for lists in lists; a file has this one
            raise _StrvalsError(f"lists are nested more than {MAX_DEPTH} levels deep")
        rest, last = self._until("[.=")
        if rest:
            raise _StrvalsError("unexpected data at the end of an array index")
        if last is None:
            raise _EndOfInput
        if last == "=":
            value, _ = self._value()
            return self._set_index(items, index, value, pointer)
        if last == "[":
            next_index = self._index()
            nested: list[Any] = []
            if len(items) > index and items[index] is not None:
                if not isinstance(items[index], list):
                    raise _StrvalsError(f"item {index} is not a list, so it cannot take an index")
                nested = list(items[index])
            nested = self._list_item(nested, next_index, ptr.child(pointer, index), level)
            return self._set_index(items, index, nested, pointer)
        inner: dict[str, Any] = {}
        if len(items) > index:
            if isinstance(items[index], dict):
                inner = items[index]
            else:
                items[index] = inner
        self._key(inner, ptr.child(pointer, index), level)
        return self._set_index(items, index, inner, pointer)

    def _value(self) -> tuple[Any, bool]:
        """A value after ``=`` and whether the expression ended right at the ``=``.

        ``{a,b}`` is a list; anything else runs to the next unescaped comma.
        """
        if self.at >= len(self.text):
            return "", True
        if self.text[self.at] == "{":
            self.at += 1
            items = []
            while True:
                text, last = self._until(",}")
                if last is None:
                    raise _StrvalsError("list must terminate with '}'")
                items.append(typed_value(text, self.as_string))
                if last == "}":
                    if self.at < len(self.text) and self.text[self.at] == ",":
                        self.at += 1
                    return items, False
        text, _ = self._until(",")
        return typed_value(text, self.as_string), False
