"""PyYAML, imported without compiling the regular expressions it makes at import time.

Importing PyYAML compiles the patterns of its pure-Python reader, resolver and constructor; the
reader's alone (every printable Unicode range) takes 4 ms, a tenth of a whole `validate` run, and
gce-values uses none of them: it reads YAML through libyaml's event parser and resolves scalars
itself (gce_values.helmyaml.reader). So while PyYAML is imported, ``re.compile`` hands out patterns
that compile when first used; anything that does use one gets it compiled then. bench/results.md
states the saving. Import PyYAML from here (``from gce_values.pyyaml import yaml``) so that
whichever module loads it first loads it this way.
"""

from __future__ import annotations

import re

from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class _OnFirstUse:
    """A compiled pattern, compiled the first time anything asks it for something."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: Any, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = _compile(*self._args)
        return getattr(self._compiled, name)


_compile = re.compile


def _on_first_use(pattern: Any, flags: int = 0) -> Any:
    return _OnFirstUse(pattern, flags)


re.compile = _on_first_use
try:
    import yaml
finally:
    re.compile = _compile

__all__ = ["yaml"]
