"""The fast path of `gce-values validate`: confs are checked and reported without loading click.

Pre-commit hooks and CI jobs run `validate` on every commit, and importing click takes longer than
checking a conf. For the plain form

    gce-values validate [-q|--quiet] [--strict] [--only-confs] CONF...

this module runs the validator the full command runs (gce_values.validator.validate_sources) on each
CONF and prints what the full command prints: each problem as a text line, then ``CONF: valid`` or
``CONF: invalid, N errors`` (no summary with --quiet; one ``skipped N files ...`` line for the files
that --only-confs leaves alone), with the same exit code. Any other call -
another option, standard input, an unreadable file, problems for a terminal (click colours those),
output the terminal's encoding cannot take - returns None before printing anything, and the full
click command then handles the call from the start. tests/test_validate_fastpath.py runs both paths
and compares them byte for byte.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Sequence

_QUIET = frozenset({"-q", "--quiet"})
_STRICT = "--strict"
_ONLY_CONFS = "--only-confs"


def plain_validate(args: Sequence[str]) -> tuple[list[str], bool, bool, bool] | None:
    """The confs, --quiet, --strict and --only-confs of a plain `validate` call, or None for any other call."""
    if not args or args[0] != "validate":
        return None
    confs: list[str] = []
    quiet = strict = only_confs = False
    for arg in args[1:]:
        if arg in _QUIET:
            quiet = True
        elif arg == _STRICT:
            strict = True
        elif arg == _ONLY_CONFS:
            only_confs = True
        elif arg.startswith("-") or not _prints_as_is(arg):
            return None
        else:
            confs.append(arg)
    return (confs, quiet, strict, only_confs) if confs else None


def _prints_as_is(name: str) -> bool:
    """Whether click would print ``name`` unchanged: no control characters, encodable on stdout."""
    return name.isprintable() and (name.isascii() or _utf8_stdout())


def run(args: Sequence[str]) -> int | None:
    """Answer ``gce-values ARGS`` when it is a plain `validate` of confs in files; otherwise None."""
    call = plain_validate(args)
    if call is None or sys.stdout is None:
        return None
    confs, quiet, strict, only_confs = call
    from gce_values import report
    from gce_values.errors import InputError
    from gce_values.report.reporters import text_line
    from gce_values.sources import read_source
    from gce_values.validator import validate_sources

    lines: list[str] = []
    code = 0
    found = False
    skipped = 0
    for conf in confs:
        if not os.path.isfile(conf):
            return None  # a pipe such as <(...) can be read only once: the full command must be the one to read it
        try:
            name, text = read_source(conf)
            if only_confs and not _is_conf(text):
                skipped += 1
                continue
            problems = validate_sources([(name, text)]).problems
        except InputError:
            return None
        if strict:
            problems = report.strict(problems)
        lines.extend(text_line(problem) for problem in problems)
        found = found or bool(problems)
        if not quiet:
            lines.append(report.summary(name, problems))
        if any(problem.is_error for problem in problems):
            code = 1
    if skipped and not quiet:
        lines.append(report.skipped(skipped))
    output = "".join(line + "\n" for line in lines)
    if found and (sys.stdout.isatty() or not (output.isascii() or _utf8_stdout())):
        return None  # click colours problems for a terminal and re-encodes them for other encodings
    sys.stdout.write(output)
    sys.stdout.flush()
    return code


def _is_conf(text: str) -> bool:
    """--only-confs: whether ``text`` is a conf (confdetect is imported only for this option)."""
    from gce_values import confdetect
    from gce_values.schema import load

    return confdetect.is_conf(text, load())


def _utf8_stdout() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    return codecs.lookup(encoding).name == "utf-8"
