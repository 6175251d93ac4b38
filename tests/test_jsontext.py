"""Values in messages are written exactly as json.dumps writes them, with or without ensure_ascii."""

from __future__ import annotations

import json
import random

import pytest

from gce_values import jsontext

# Every character class json treats on its own: controls, quote, backslash, DEL, Latin-1, line and
# paragraph separators, a lone surrogate, BMP and astral characters.
AWKWARD = ["", " ", "a", '"', "\\", "\x00", "\x1f", "\x7f", "\x85", "é", "\u2028", "\u2029", "\ud800", "\uffff", "😀"]
VALUES = [
    None,
    True,
    False,
    0,
    -1,
    512,
    2**64,
    -(2**70),
    1.5,
    -0.0,
    1e21,
    float("inf"),
    float("nan"),
    "globus-compute-creds",
    "512Mi",
    "a b: c",
    "tab\there",
    'say "hi"',
    "C:\\path",
    "naïve",
    [1, "a"],
    {"k": "v"},
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_written_as_json_writes_it(value: object, ensure_ascii: bool) -> None:
    assert jsontext.dumps(value, ensure_ascii=ensure_ascii) == json.dumps(value, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_every_character_of_the_first_planes_is_written_as_json_writes_it(ensure_ascii: bool) -> None:
    for start in range(0, 0x20000, 256):
        text = "".join(map(chr, range(start, start + 256)))
        for piece in (text, *text):
            assert jsontext.dumps(piece, ensure_ascii=ensure_ascii) == json.dumps(piece, ensure_ascii=ensure_ascii)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_random_text_is_written_as_json_writes_it(ensure_ascii: bool) -> None:
    rng = random.Random(20261206)
    alphabet = [*AWKWARD, *"abcXYZ019 -_.:/"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        assert jsontext.dumps(text, ensure_ascii=ensure_ascii) == json.dumps(text, ensure_ascii=ensure_ascii)


def test_subclasses_of_int_and_str_are_left_to_json() -> None:
    class Level(int):
        def __repr__(self) -> str:
            return "Level()"

    assert jsontext.dumps(Level(3)) == json.dumps(Level(3)) == "3"
