"""The fast path of `gce-values validate`: valid confs are checked without loading click or jsonschema.

Most runs (pre-commit hooks, CI jobs, `install`) check confs that are valid, and importing click
and jsonschema takes longer than Helm needs to lint the chart. For the plain form

    gce-values validate [-q|--quiet] [--strict] [--only-confs] CONF...

this module runs the validator the full command runs (gce_values.validator.validate_sources) on each
CONF and, when none has any problem at all, prints what the full command prints (``CONF: valid`` per
conf, ``CONF: skipped, ...`` per file --only-confs leaves alone, nothing with --quiet) and exits 0.
Any other call - another option, standard input, an unreadable file, one warning or error - returns
None before printing anything, and the full click command then handles the call from the start, so
its output and exit code are the only ones a user ever sees for it.
tests/test_validate_fastpath.py runs both paths and compares them byte for byte.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Sequence

_QUIET = frozenset({"-q", "--quiet"})
_ONLY_CONFS = "--only-confs"
# With no problem to report, --strict (warnings count as errors) changes nothing.
_NO_EFFECT = frozenset({"--strict"})


def plain_validate(args: Sequence[str]) -> tuple[list[str], bool, bool] | None:
    """The confs, --quiet and --only-confs of a plain `validate` call, or None when the call is anything else."""
    if not args or args[0] != "validate":
        return None
    confs: list[str] = []
    quiet = only_confs = False
    for arg in args[1:]:
        if arg in _QUIET:
            quiet = True
        elif arg == _ONLY_CONFS:
            only_confs = True
        elif arg in _NO_EFFECT:
            continue
        elif arg.startswith("-") or not _prints_as_is(arg):
            return None
        else:
            confs.append(arg)
    return (confs, quiet, only_confs) if confs else None


def _prints_as_is(name: str) -> bool:
    """Whether click would print ``name`` unchanged: no control characters, encodable on stdout."""
    if not name.isprintable():
        return False
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    return name.isascii() or codecs.lookup(encoding).name == "utf-8"


def run(args: Sequence[str]) -> int | None:
    """Answer ``gce-values ARGS`` when it is a plain `validate` of valid confs; otherwise None."""
    call = plain_validate(args)
    if call is None or sys.stdout is None:
        return None
    confs, quiet, only_confs = call
    from gce_values import confdetect, report
    from gce_values.errors import InputError
    from gce_values.schema import load
    from gce_values.sources import read_source
    from gce_values.validator import validate_sources

    lines = []
    for conf in confs:
        if not os.path.isfile(conf):
            return None  # a pipe such as <(...) can be read only once: the full command must be the one to read it
        try:
            source = read_source(conf)
            if only_confs and not confdetect.is_conf(source[1], load()):
                lines.append(report.skipped(source[0]))
                continue
            if validate_sources([source]).problems:
                return None
        except InputError:
            return None
        lines.append(report.summary(source[0], []))
    if not quiet:
        for line in lines:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    return 0
