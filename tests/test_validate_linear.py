"""Linear time on big confs: 10,000 list items and 5,000 credential-like values each take under a second.

Two quadratic steps made such confs take 17 and 30 seconds where Helm takes 0.2: the quick schema check
compared every list item with every other (uniqueItems), and every problem was scrubbed of every
credential found. Each case below would take far longer than its bound if either came back, and the
larger conf must not take much more than ten times the smaller one.
"""

from __future__ import annotations

import gc
import random
import re
import string
import time
import uuid

import pytest

from gce_values.report.reporters import REPORTERS
from gce_values.validator import validate_sources
from support.paths import SEED_TEXT

BOUND_SECONDS = 1.0
_RNG = random.Random(16)
_UUIDS = [str(uuid.UUID(int=_RNG.getrandbits(128), version=4)) for _ in range(10_000)]


def _token() -> str:
    while True:
        text = "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(44))
        if any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text):
            return text


_TOKENS = [_token() for _ in range(5_000)]


def _admins(items: list[str]) -> str:
    rows = "".join(f"    - {item}\n" for item in items)
    return SEED_TEXT + f"endpoint:\n  subscriptionId: {_UUIDS[0]}\n  admins:\n{rows}"


def _timed(text: str, runs: int = 3) -> tuple[float, list[str]]:
    """CPU seconds to validate ``text`` and print its problems as text (the least of ``runs``), and the lines.

    CPU time of this process, not wall time, and the least of a few runs: other work on a shared 2-core
    machine only ever adds time, so the minimum is the measurement least disturbed by it.
    """
    best = float("inf")
    lines: list[str] = []
    # The objects the rest of the test session holds are frozen out of the collector's reach: a
    # full collection walks the whole heap, so in a long pytest run it grows with what other tests left.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(runs):
            started = time.process_time()
            result = validate_sources([("big.yaml", text)])
            lines = REPORTERS["text"](result.problems, ["big.yaml"], ["big.yaml"], False)
            best = min(best, time.process_time() - started)
    finally:
        gc.unfreeze()
    return best, lines


@pytest.fixture(autouse=True, scope="module")
def _warm() -> None:
    """Imports and the schema load once, outside the timings (they are start-up, not size)."""
    validate_sources([("warm.yaml", SEED_TEXT + "endpoint:\n  admins: [x, x]\n")])


def test_ten_thousand_list_items() -> None:
    seconds, lines = _timed(_admins(_UUIDS))
    assert lines == []
    assert seconds < BOUND_SECONDS, f"{seconds:.2f} s for 10,000 admins"


def test_ten_thousand_list_items_with_a_duplicate_and_a_bad_one() -> None:
    items = [*_UUIDS, _UUIDS[17]]
    items[5] = items[5].upper()
    seconds, lines = _timed(_admins(items))
    assert any("[uniqueItems" in line for line in lines)
    assert any("endpoint.admins[5]" in line and "uppercase" in line for line in lines)
    assert seconds < BOUND_SECONDS, f"{seconds:.2f} s for 10,001 admins with problems"


def test_five_thousand_credentials() -> None:
    text = SEED_TEXT + "userEnvironment:\n" + "".join(f"  V{i}: {token}\n" for i, token in enumerate(_TOKENS))
    seconds, lines = _timed(text)
    assert len([line for line in lines if "[secret " in line]) == len(_TOKENS)
    runs = set(re.findall(r"[A-Za-z0-9]{12,}", "\n".join(lines)))  # every run of a token's characters printed
    heads = {token[:12] for token in _TOKENS}
    assert not [run for run in runs if run in _TOKENS or any(run[i : i + 12] in heads for i in range(len(run) - 11))]
    assert seconds < BOUND_SECONDS, f"{seconds:.2f} s for 5,000 credential-like values"


def test_time_grows_linearly() -> None:
    small, _ = _timed(_admins(_UUIDS[:1_000]))
    large, _ = _timed(_admins(_UUIDS))
    assert large < 10 * small * 3, f"1,000 items {small:.3f} s, 10,000 items {large:.3f} s"
