"""Merge -f files, --set and --set-string over the chart defaults exactly as Helm does, with provenance.

Helm (pkg/cli/values MergeValues, then chartutil.CoalesceValues):
  1. the -f files are merged in order: maps merge deeply, anything else (lists too) is replaced, and a
     later ``null`` replaces too;
  2. every --set is parsed into that result (strvals), then every --set-string, whatever their order
     on the command line;
  3. the chart defaults fill what the user did not give; a user ``null`` deletes a key that has a
     default, and stays ``null`` where there is no default to delete.

Alongside the values this keeps, for every JSON pointer the user supplied, the Origin (source name,
line, column) of the value that won, and where a ``null`` deleted a default, so that each problem can
name the file (or ``--set #N``) and position responsible.
"""

from __future__ import annotations

from collections.abc import Sequence

from gce_values import pointer as ptr
from gce_values.helmyaml.origins import Origin, Origins, Source, Tracker, clone
from gce_values.records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class Merged:
    """The merged values, who supplied each user value, and which defaults a ``null`` deleted."""

    __slots__ = ("deleted", "origins", "values")

    def __init__(self, values: dict[str, Any], origins: Origins | None = None) -> None:
        self.values = values
        self.origins = Origins() if origins is None else origins
        self.deleted: dict[str, Origin] = {}


def _merge_maps(base: dict[str, Any], new: dict[str, Any], pointer: str, source: Source, tracker: Tracker) -> None:
    """Helm's mergeMaps: ``new`` over ``base`` in place; maps merge, everything else is replaced."""
    for key, value in new.items():
        child = ptr.child(pointer, key)
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            tracker.origins[child] = source
            _merge_maps(old, value, child, source, tracker)
        else:
            base[key] = clone(value)
            tracker.replace(child, old, value, source)


def _coalesce(user: dict[str, Any], defaults: dict[str, Any], pointer: str, merged: Merged) -> None:
    """Helm's coalesce: defaults fill gaps; a user null deletes a defaulted key; user values win."""
    for key, default in defaults.items():
        if key not in user:
            user[key] = clone(default)
            continue
        value = user[key]
        if value is None:
            child = ptr.child(pointer, key)
            del user[key]
            origin = merged.origins.pop(child)
            if origin is not None:
                merged.deleted[child] = origin
        elif isinstance(value, dict) and isinstance(default, dict):
            _coalesce(value, default, ptr.child(pointer, key), merged)


def merge(
    sources: Sequence[Source],
    set_values: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    defaults: dict[str, Any] | None = None,
) -> Merged:
    """The values Helm renders with: files in order, then --set, then --set-string, over ``defaults``."""
    tracker = Tracker()
    user: dict[str, Any] = {}
    for source in sources:
        tracker.origins[ptr.ROOT] = source
        _merge_maps(user, source.data, ptr.ROOT, source, tracker)
    if set_values or set_strings:
        from gce_values.helmyaml import strvals  # only --set needs Helm's --set grammar

        strvals.apply(user, tracker, set_values, set_strings)
    merged = Merged(values=user, origins=tracker.origins)
    if defaults is not None:
        _coalesce(user, defaults, ptr.ROOT, merged)
    return merged
