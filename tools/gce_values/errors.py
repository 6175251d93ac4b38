"""Errors that mean "the user's input cannot be used", as opposed to "the conf is invalid".

The CLI turns an InputError into its one-line message and exit code 2; a problem with the values
themselves is a Problem in a Result instead, and never an exception.
"""

from __future__ import annotations

from gce_values.printable import one_line

_LONGEST_TEXT = 1000


class InputError(Exception):
    """Unreadable or unusable input (missing file, not YAML, not a mapping, too big...): exit code 2.

    ``str(error)`` is one line (control characters escaped, long text clipped) that starts with the
    source (and line:column when known) and never contains a secret; ``source``, ``line``, ``column``
    and ``detail`` give the parts separately.
    """

    def __init__(
        self, detail: str, *, source: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
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
