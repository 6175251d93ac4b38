"""The generated corpus (tests/support/helm_corpus.py) through helm 3.8.1, helm 4 and `gce-values validate`.

Done means, on every case: no conf that either Helm refuses is called valid without a warning (and one
that both refuse is not called valid at all); where the two Helm versions disagree and validate only
warns, it names both; no conf both Helm versions render is refused except by the documented extra
checks; no planted credential reaches any output (text, json, github, fast path) in any escaping; the
output is the same under another hash seed; every call takes under two seconds and none crashes.
The report of every disagreement: ``.venv/bin/python tests/support/corpus_check.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gce_values.schema import load
from support.corpus_check import KINDS, Outcome, classify, describe, run
from support.helm_corpus import categories, generate

CATEGORIES = (
    "bounds", "spelling", "escape", "directive", "documents", "merge", "set", "control", "huge", "secret", "keys",
    "encoding", "files",
)  # fmt: skip


@pytest.fixture(scope="module")
def outcomes(helm_bins: dict[str, Path]) -> list[Outcome]:
    return run(generate(load()), helm_bins["v3.8"], helm_bins["v4"])


def test_corpus_covers_every_category() -> None:
    counts = categories(generate(load()))
    assert set(counts) == set(CATEGORIES)
    assert sum(counts.values()) >= 500
    assert all(count >= 6 for count in counts.values()), counts


def test_the_two_helm_versions_disagree_somewhere(outcomes: list[Outcome]) -> None:
    """The corpus reaches the places where Helm 3.8.1 and Helm 4 differ (else it tests too little)."""
    differ = [o.case.name for o in outcomes if o.helm3.ok != o.helm4.ok]
    assert len(differ) >= 5, differ
    assert any(not o.helm3.ok and not o.helm4.ok for o in outcomes)


@pytest.mark.parametrize("kind", KINDS)
def test_no_disagreement(outcomes: list[Outcome], kind: str) -> None:
    found = [o for o in outcomes if kind in classify(o)]
    assert not found, f"{len(found)} confs ({kind}):\n" + "\n".join(describe(o) for o in found[:40])
