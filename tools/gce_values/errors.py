"""Errors that mean "the user's input cannot be used", as opposed to "the conf is invalid".

The CLI turns an InputError into its one-line message and exit code 2; a problem with the values
themselves is a Problem in a Result instead, and never an exception.
"""

from __future__ import annotations

from gce_values.printable import one_line

_LONGEST_TEXT = 1000
UNREADABLE = "unreadable-input"
# Input Helm would read but gce-values refuses on purpose (README: "What validate checks that Helm does not").
TOO_LARGE = "too-large"
TOO_DEEP = "too-deep"
TOO_MANY_VALUES = "too-many-values"
ALIAS_EXPANSION = "alias-expansion"
PYTHON_TAG = "python-tag"
NOT_UTF8 = "not-utf8"
LIMITS = (TOO_LARGE, TOO_DEEP, TOO_MANY_VALUES, ALIAS_EXPANSION, PYTHON_TAG, NOT_UTF8)


class InputError(Exception):
    """Unreadable or unusable input (missing file, not YAML, not a mapping, too big...): exit code 2.

    ``str(error)`` is one line (control characters escaped, long text clipped) that starts with the
    source (and line:column when known) and never contains a secret; ``source``, ``line``, ``column``
    and ``detail`` give the parts separately. ``rule`` tells the kind apart for programs (UNREADABLE, or
    one of the limits in LIMITS that gce-values sets beyond Helm's).
    """

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        rule: str = "",
    ) -> None:
        self.rule = rule or UNREADABLE
        self.detail = " ".join(detail.split())
        self.source = source
        self.line = line
        self.column = column
        super().__init__(self._text())

    def _text(self) -> str:
        detail = one_line(self.detail, _LONGEST_TEXT)
        if self.source is None:
            return detail
        where = one_line(self.source, _LONGEST_TEXT)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {detail}"
