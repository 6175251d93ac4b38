"""Schema patterns as Helm's Go code matches them (RE2), for the reference and the quick checker alike."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def go_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled to behave like Go's RE2 (Helm's): ``$`` and ``\\z`` only at the very end."""
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            pair = pattern[index : index + 2]
            out.append(r"\Z" if pair == r"\z" and not in_class else pair)
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            index += 1
            for lead in ("^", "]"):
                if pattern[index : index + 1] == lead:
                    out.append(lead)
                    index += 1
            continue
        elif char == "$":
            char = r"\Z"
        out.append(char)
        index += 1
    return re.compile("".join(out), re.ASCII)
