"""Say in words why a string does not match its schema pattern, instead of printing the regex.

``explain(text, pattern)`` looks at what is wrong with the text itself: a control character, braces or
``urn:uuid:`` around a UUID, a UUID one digit short, uppercase letters where only lowercase are taken,
a character no part of the pattern allows (a space, ``_``), a dash at the start or the end. It works
from the pattern's character classes, so a new pattern in the schema needs no code here; when nothing
specific can be said, it says the text is not in the expected form and the caller shows the schema's
examples.
"""

from __future__ import annotations

import re

# Patterns are compiled (and cached by re) on first use: only a message about a pattern needs them.
# Invisible characters worth naming (checks.helm3limits says which of them Helm 3 cannot take).
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ufffe\uffff]"
_UUID_PATTERN = r"\{8\}-.*\{4\}-.*\{12\}"
_HEX_GROUPS = (8, 4, 4, 4, 12)
_CLASS = r"\[(?:\\.|[^\]\\])+\]"
_ESCAPE = r"\\."
_NAMES = {" ": "a space", "\t": "a tab", "_": "'_'", ".": "'.'", "-": "'-'", "/": "'/'", ":": "':'"}

# Characters a message names before it counts the rest ("and 2 more").
_NAMED_AT_MOST = 8


def char_name(char: str) -> str:
    """A character as a message shows it: ``a space``, ``'_'``, ``U+007F (DELETE)``."""
    if char in _NAMES:
        return _NAMES[char]
    if char.isprintable():
        return repr(char)
    import unicodedata  # only for a message about an invisible character

    name = unicodedata.name(char, "")
    if not name and unicodedata.category(char) == "Cc":
        name = {"\x7f": "DELETE", "\x85": "NEXT LINE"}.get(char, "a control character")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _allowed_chars(pattern: str) -> tuple[list[re.Pattern[str]], set[str]]:
    """The pattern's character classes (compiled) and the literal characters written outside them."""
    classes = [re.compile(match.group(0)) for match in re.finditer(_CLASS, pattern)]
    rest = re.sub(_CLASS, "", pattern)
    literals = {match.group(0)[1] for match in re.finditer(_ESCAPE, rest) if not match.group(0)[1].isalnum()}
    rest = re.sub(_ESCAPE, "", rest)
    literals.update(ch for ch in rest if ch not in "^$()|?*+{},0123456789")
    return classes, literals


def _allowed(char: str, classes: list[re.Pattern[str]], literals: set[str]) -> bool:
    return char in literals or any(cls.fullmatch(char) for cls in classes)


def _uuid_problem(text: str, lowercase_only: bool) -> str | None:
    stripped = text.strip()
    if stripped != text:
        return "has spaces around the UUID"
    if stripped.startswith("{") and stripped.endswith("}"):
        return "has braces around the UUID; write it without { }"
    if stripped.lower().startswith("urn:uuid:"):
        return "starts with urn:uuid:; write the UUID alone"
    bad = sorted({ch for ch in stripped if ch not in "0123456789abcdefABCDEF-"})
    if bad:
        named = ", ".join(char_name(ch) for ch in bad[:_NAMED_AT_MOST])
        more = f" and {len(bad) - _NAMED_AT_MOST} more" if len(bad) > _NAMED_AT_MOST else ""
        return f"has {named}{more}, which a UUID does not (hex digits and '-' only)"
    digits = len(stripped.replace("-", ""))
    if digits != 32:
        off = 32 - digits
        amount = "one digit" if abs(off) == 1 else f"{abs(off)} digits"
        return f"has {digits} hex digits, {amount} {'short of' if off > 0 else 'more than'} a UUID's 32"
    groups = tuple(len(part) for part in stripped.split("-"))
    if groups != _HEX_GROUPS:
        return "is not in the 8-4-4-4-12 form of a UUID"
    if lowercase_only and stripped != stripped.lower():
        return (
            "has uppercase letters: Helm 3 (the SLATE server's) takes only lowercase UUIDs here, "
            "though Helm 4 takes both; write it in lowercase"
        )
    return None


def explain(text: str, pattern: str) -> str:
    """Why ``text`` does not match ``pattern``, in words (the text itself is not repeated)."""
    control = re.search(_CONTROL, text)
    if control:
        return f"contains {char_name(control.group(0))}"
    if re.search(_UUID_PATTERN, pattern):
        lowercase_only = "A-F" not in pattern and "a-f" in pattern
        found = _uuid_problem(text, lowercase_only)
        if found:
            return found
    if not text:
        return "is empty"
    classes, literals = _allowed_chars(pattern)
    if classes:
        bad = [ch for ch in dict.fromkeys(text) if not _allowed(ch, classes, literals)]
        upper = [ch for ch in bad if ch.isupper() and _allowed(ch.lower(), classes, literals)]
        if upper and len(upper) == len(bad):
            return "has uppercase letters; only lowercase ones are allowed"
        if bad:
            others = [char_name(ch) for ch in bad if ch not in upper][:3]
            names = (["uppercase letters"] if upper else []) + others
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            return f"has {listed}, which {'is' if len(names) == 1 and not upper else 'are'} not allowed here"
    for edge, where in ((text[0], "starts"), (text[-1], "ends")):
        if edge in "-._":
            return f"{where} with {char_name(edge)}"
    if ".." in text:
        return "has '..'"
    return "is not in the expected form"
