"""What `gce-values validate` means, without click: its flags, the checking of each conf, its output.

`validate` has two entry points: the click command (gce_values.cli.commands.validate) and the fast
path (gce_values.cli.fastpath), which answers a plain call before click is imported. Both read the
flags from here, check each unit with ``check`` and print exactly the lines ``lines`` returns, so
what one prints the other prints too; neither has a copy of the other's logic.
"""

from __future__ import annotations

from collections.abc import Sequence

from gce_values.records import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from gce_values.errors import InputError
    from gce_values.report import Problem

EXIT_VALID, EXIT_INVALID, EXIT_INPUT = 0, 1, 2


class Flag(Record):
    """An on/off option of `validate`: the click command declares it, the fast path recognises it."""

    dest: str
    decls: tuple[str, ...]
    help: str


QUIET = Flag("quiet", ("-q", "--quiet"), "Print only the problems, no summary.")
STRICT = Flag("strict", ("--strict",), "Treat warnings as errors.")
ONLY_CONFS = Flag(
    "only_confs",
    ("--only-confs",),
    "Skip CONFs that are not confs for this chart (no key only this chart has, no schema line "
    "of it): for hooks handed every YAML file of a repository. The pre-commit hook uses it.",
)
# The flags a plain call may carry (with CONF arguments and nothing else): the fast path's calls.
PLAIN_FLAGS = (QUIET, STRICT, ONLY_CONFS)


class Unit:
    """What is validated as one: a conf, or the -f files merged with --set."""

    __slots__ = ("input_error", "names", "paths", "problems", "skipped")

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.names: list[str] = []
        self.problems: list[Problem] = []
        self.input_error: InputError | None = None
        self.skipped = False

    @property
    def title(self) -> str:
        return " + ".join(self.names or self.paths) or "(chart defaults)"


def check(
    units: Sequence[Unit],
    *,
    strict: bool = False,
    only_confs: bool = False,
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str | None = None,
    creds_file: str | None = None,
) -> None:
    """Read and validate each unit, recording its problems (an unreadable one: its input error)."""
    from gce_values import report
    from gce_values.errors import NOT_UTF8, TOO_LARGE, InputError
    from gce_values.sources import read_source
    from gce_values.validator import validate_sources

    for unit in units:
        try:
            try:
                sources = [read_source(path) for path in unit.paths]
            except InputError as error:
                if only_confs and error.rule in (NOT_UTF8, TOO_LARGE):
                    unit.skipped = True  # a hook is handed every file: one that is no text is no conf
                    continue
                raise
            unit.names = [name for name, _ in sources]
            if only_confs and not _is_conf(sources[0][1]):
                unit.skipped = True
                continue
            result = validate_sources(sources, set_values, set_strings, release=release, creds_file=creds_file)
            unit.problems = report.strict(result.problems) if strict else result.problems
        except InputError as error:
            unit.input_error = error
            unit.problems = [_input_problem(error)]


def _is_conf(text: str) -> bool:
    """--only-confs: whether ``text`` is a conf (confdetect is imported only for this option)."""
    from gce_values import confdetect
    from gce_values.schema import load

    return confdetect.is_conf(text, load())


def _input_problem(error: InputError) -> Problem:
    from gce_values.report import ERROR, Problem

    return Problem(
        file=error.source or "gce-values",
        line=error.line or 0,
        column=error.column or 0,
        pointer="",
        key="",
        severity=ERROR,
        rule=error.rule,
        message=error.detail,
        hint=None,
    )


class Line(Record):
    """One line of output: its text, whether it goes to standard error, whether it reports a problem."""

    text: str
    err: bool = False
    problem: bool = False


def lines(units: Sequence[Unit], output_format: str, *, quiet: bool = False, style: bool = False) -> list[Line]:
    """Everything `validate` prints for ``units``, in order (``style``: ANSI colours for a terminal)."""
    from gce_values import report

    checked = [unit for unit in units if not unit.skipped]
    if output_format == "json":
        problems = [p for unit in checked for p in unit.problems]
        files = [name for unit in checked for name in (unit.names or unit.paths)]
        return [Line(text, problem=True) for text in report_lines(problems, "json", files, style)]
    out: list[Line] = []
    for unit in checked:
        to_stderr = unit.input_error is not None and output_format == "text"
        reported = report_lines(unit.problems, output_format, unit.names, style)
        out.extend(Line(text, to_stderr, True) for text in reported)
        if not quiet and unit.input_error is None:
            out.append(Line(report.summary(unit.title, unit.problems)))
    skipped = len(units) - len(checked)
    if skipped and not quiet and output_format == "text":
        out.append(Line(report.skipped(skipped)))
    return out


def report_lines(problems: Sequence[Problem], output_format: str, files: Sequence[str], style: bool) -> list[str]:
    """The reporter's lines for ``problems`` (``files``: the sources read; annotations point into the real ones)."""
    from gce_values.report.reporters import REPORTERS
    from gce_values.sources import STDIN_NAME

    real_files = frozenset(name for name in files if name != STDIN_NAME)
    return REPORTERS[output_format](problems, files, real_files, style)


def exit_code(units: Sequence[Unit]) -> int:
    if any(unit.input_error for unit in units):
        return EXIT_INPUT
    return EXIT_INVALID if any(p.is_error for unit in units for p in unit.problems) else EXIT_VALID
