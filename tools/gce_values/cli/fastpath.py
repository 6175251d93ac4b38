"""The fast path of `gce-values validate`: confs are checked and reported without loading click.

Pre-commit hooks and CI jobs run `validate` on every commit, and importing click takes longer than
checking a conf. A plain call, CONF arguments with only the flags of
gce_values.cli.validation.PLAIN_FLAGS, is answered here by the same functions the click command
calls (gce_values.cli.validation: check, lines, exit_code); this module only recognises the call and
writes the lines. Any other call - another option, standard input or a pipe, a name click would
print differently, problems for a terminal (click colours those), output a stream's encoding cannot
take - returns None before printing anything, and the full click command then handles the call
from the start.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Sequence

from gce_values.cli import validation

_FLAGS = {decl: flag.dest for flag in validation.PLAIN_FLAGS for decl in flag.decls}


def plain_validate(args: Sequence[str]) -> tuple[list[str], set[str]] | None:
    """The confs and the flags (by dest) of a plain `validate` call, or None for any other call."""
    if not args or args[0] != "validate":
        return None
    confs: list[str] = []
    flags: set[str] = set()
    for arg in args[1:]:
        if arg in _FLAGS:
            flags.add(_FLAGS[arg])
        elif arg.startswith("-") or not _prints_as_is(arg):
            return None
        else:
            confs.append(arg)
    return (confs, flags) if confs else None


def _prints_as_is(name: str) -> bool:
    """Whether click would print ``name`` unchanged: no control characters, encodable on stdout."""
    return name.isprintable() and (name.isascii() or _utf8(sys.stdout))


def run(args: Sequence[str]) -> int | None:
    """Answer ``gce-values ARGS`` when it is a plain `validate` of confs in files; otherwise None."""
    call = plain_validate(args)
    if call is None or sys.stdout is None or sys.stderr is None:
        return None
    confs, flags = call
    if not all(os.path.isfile(conf) for conf in confs):
        return None  # a pipe such as <(...) can be read only once: the full command must be the one to read it
    units = [validation.Unit([conf]) for conf in confs]
    validation.check(units, strict=validation.STRICT.dest in flags, only_confs=validation.ONLY_CONFS.dest in flags)
    lines = validation.lines(units, "text", quiet=validation.QUIET.dest in flags)
    if not all(_writes_as_is(line, sys.stderr if line.err else sys.stdout) for line in lines):
        return None
    for line in lines:
        (sys.stderr if line.err else sys.stdout).write(line.text + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return validation.exit_code(units)


def _writes_as_is(line: validation.Line, stream: object) -> bool:
    """Whether click would write ``line`` to ``stream`` unchanged (it colours problems for a terminal
    and re-encodes text a stream's encoding cannot take)."""
    if line.problem and getattr(stream, "isatty", lambda: False)():
        return False
    return line.text.isascii() or _utf8(stream)


def _utf8(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    return codecs.lookup(encoding).name == "utf-8"
