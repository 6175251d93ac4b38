"""Validate a conf (or several merged like ``helm -f A -f B --set ...``): the API every command uses.

    validate_sources(sources, set_values=(), set_strings=(), release=None, creds_file=None,
                     include_defaults=True)  -> Result(values, problems)

The flow: each source's text is read as Helm reads YAML (helmyaml.reader; helmyaml.plainread
for plainly written confs, with the same result and without importing PyYAML or the full reader),
the sources are merged with --set over the chart defaults as Helm merges them (helmyaml.merge),
every check of checks.registry runs on the result, and checks.postprocess leaves one problem per
cause. A Result holds the merged values (what Helm would render with) and every Problem found,
sorted by source, line and column; each names the file (or ``--set #N``) that supplied the value.
Unusable input raises InputError instead (the CLI's exit code 2).
"""

from __future__ import annotations

from collections.abc import Sequence

from gce_values.checks import secret
from gce_values.checks.context import RELEASE_NAME, Facts, Run
from gce_values.checks.postprocess import finish
from gce_values.checks.registry import CHECKS
from gce_values.errors import InputError
from gce_values.helmyaml import merge, origins, plainread
from gce_values.helmyaml.loaded import Loaded
from gce_values.records import TYPE_CHECKING
from gce_values.report import ERROR, WARNING, Problem, sort_problems
from gce_values.schema import ValuesSchema, load

if TYPE_CHECKING:
    from typing import Any

__all__ = ["InputError", "Problem", "Result", "validate_sources"]

DEFAULTS_NAME = "(chart defaults)"


class Result:
    """The merged values and every problem found in them (a plain class: see report.Problem on start-up)."""

    __slots__ = ("problems", "values")

    def __init__(self, values: dict[str, Any], problems: list[Problem] | None = None) -> None:
        self.values = values
        self.problems = [] if problems is None else problems

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


_DEFAULTS: dict[int, tuple[ValuesSchema, dict[str, Any]]] = {}


def _defaults(schema: ValuesSchema) -> dict[str, Any]:
    cached = _DEFAULTS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, schema.defaults())
        _DEFAULTS[id(schema)] = cached
    return cached[1]


# --- the entry point ------------------------------------------------------------------------------------------


def _read(name: str, text: str) -> Loaded:
    """``text`` read by helmyaml.plainread when plainly written, else by the full reader (PyYAML)."""
    loaded = plainread.load(text, name)
    if loaded is None:
        from gce_values.helmyaml import reader

        loaded = reader.load(text, name)
    return loaded


def validate_sources(
    sources: Sequence[tuple[str, str]],
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    release: str | None = None,
    creds_file: str | None = None,
    include_defaults: bool = True,
    *,
    schema: ValuesSchema | None = None,
) -> Result:
    """Merge ``sources`` (display name, YAML text) over the chart defaults like ``helm -f``, then check.

    ``set_values``/``set_strings`` are --set/--set-string expressions (applied after all files, all
    --set before any --set-string, as Helm does); ``release`` is the Helm release name when installing
    with plain helm (otherwise the SLATE name is checked); ``creds_file`` is the credentials env file
    whose client ID endpointUUID must differ from. ``schema`` replaces the chart's schema (for tests).
    Raises InputError for input Helm could not use (bad YAML, not a mapping, bad --set syntax...).
    """
    values_schema = schema or load()
    # Helm's release name rule is Kubernetes' for names (its length limit is the releaseNameLength x-rule).
    if release is not None and not values_schema.matches("dnsSubdomain", release):
        raise InputError(
            f"{release!r} is not a valid Helm release name (lowercase letters, digits, '-' and '.')",
            source=RELEASE_NAME,
        )
    loaded = [_read(name, text) for name, text in sources]
    inputs = [origins.Source(item.name, item.data, item.positions) for item in loaded]
    defaults = _defaults(values_schema) if include_defaults else None
    # A --set expression Helm cannot parse raises InputError naming the position, never the text (which
    # may hold a credential).
    merged = merge.merge(inputs, set_values, set_strings, defaults=defaults)
    set_names = [f"--set #{i}" for i in range(1, len(set_values) + 1)]
    set_names += [f"--set-string #{i}" for i in range(1, len(set_strings) + 1)]
    order = [*(name for name, _ in sources), *set_names, RELEASE_NAME, *([creds_file] if creds_file else [])]
    facts = Facts(merged, fallback=order[0] if sources or set_names else DEFAULTS_NAME)
    run = Run(values_schema, loaded, inputs, merged, facts, release, creds_file, has_sets=bool(set_names))
    for check in CHECKS:
        check.run(run)
    secret.check_comments(run, sources)
    return Result(values=merged.values, problems=sort_problems(finish(run), order))
