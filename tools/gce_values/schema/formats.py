"""The string formats the schema uses, checked as jsonschema's FormatChecker checks them.

The quick checker (fastcheck) needs them without importing jsonschema; the reference checks formats
with jsonschema itself, and tests compare the two.
"""

from __future__ import annotations

from collections.abc import Callable


def is_uuid(value: str) -> bool:
    """The uuid format as jsonschema checks it: parses, with the hyphens where the canonical form has them."""
    import uuid  # only when a value has this format: it takes as long to import as a conf takes to check

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return all(len(value) > i and value[i] == "-" for i in (8, 13, 18, 23))


FORMATS: dict[str, Callable[[str], bool]] = {"uuid": is_uuid}
