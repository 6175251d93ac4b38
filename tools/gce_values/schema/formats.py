"""The string formats the schema uses, checked as jsonschema's FormatChecker checks them.

The quick checker (fastcheck) needs them without importing jsonschema; the reference checks formats
with jsonschema itself, and tests compare the two.
"""

from __future__ import annotations

from collections.abc import Callable


def is_uuid(value: str) -> bool:
    """The uuid format as jsonschema checks it: ``uuid.UUID(value)`` parses, and the hyphens stand where
    the canonical form has them.

    The parse is uuid.UUID's own for a hex string, written out: importing uuid (and the platform module
    it loads) takes longer than checking a whole conf. tests/test_validate_fastcheck.py compares this
    with jsonschema's uuid format.
    """
    if not all(len(value) > i and value[i] == "-" for i in (8, 13, 18, 23)):
        return False
    digits = value.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    if len(digits) != 32:
        return False
    try:
        int(digits, 16)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {"uuid": is_uuid}
