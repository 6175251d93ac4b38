"""Each benchmark owns one section of bench/results.md, between its markers, and leaves the rest alone."""

from __future__ import annotations

from pathlib import Path


def write_section(out: Path, markers: tuple[str, str], lines: list[str]) -> None:
    """Replace the text between ``markers`` in ``out`` with ``lines`` (append the section if it is new)."""
    section = "\n".join([markers[0], *lines, markers[1]])
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    start, end = old.find(markers[0]), old.find(markers[1])
    if start >= 0 and end > start:
        text = old[:start] + section + old[end + len(markers[1]) :]
    else:
        text = old.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text, encoding="utf-8")
