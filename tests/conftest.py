"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.chartrender import HelmRenderer
from support.paths import REPO_ROOT

# Environment variable -> (key in helm_bins, default path relative to the repo).
# `make test` sets the variables; the defaults are where `make setup` puts the
# binaries, so a plain `.venv/bin/pytest` after `make setup` works too.
_HELM_LOCATIONS = {
    "HELM38": ("v3.8", ".tools/bin/helm38"),
    "HELM3": ("v3", ".tools/bin/helm3"),
    "HELM4": ("v4", ".tools/bin/helm4"),
}


@pytest.fixture(scope="session")
def helm_bins() -> dict[str, Path]:
    """Paths of the real helm binaries: ``{"v3.8": ..., "v3": ..., "v4": ...}``.

    The chart must work with the SLATE server's Helm 3.8.1, the last Helm 3
    and current Helm 4, so tests run against all three.  A missing binary fails the test
    rather than skipping it: silently skipping would let the chart go
    untested against Helm.
    """
    bins: dict[str, Path] = {}
    missing: list[str] = []
    for env_var, (key, default) in _HELM_LOCATIONS.items():
        value = os.environ.get(env_var)
        path = Path(value) if value else REPO_ROOT / default
        if not (path.is_file() and os.access(path, os.X_OK)):
            source = f"${env_var}" if value else f"default, ${env_var} unset"
            missing.append(f"{path} ({source})")
        bins[key] = path
    if missing:
        pytest.fail(
            "helm binary not found or not executable: "
            + "; ".join(missing)
            + ". Run `make setup` (or `make test`), which installs them.",
            pytrace=False,
        )
    return bins


@pytest.fixture(scope="session")
def chart(helm_bins: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> HelmRenderer:
    """The chart rendered by the real helm binaries; each distinct render runs once per session."""
    return HelmRenderer(helm_bins, tmp_path_factory.mktemp("helm-values"))


@pytest.fixture(scope="session")
def probe_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway chart (no defaults) whose only output is ``.Values`` as JSON: how helm reads values."""
    from support.helmprobe import write_probe_chart

    return write_probe_chart(tmp_path_factory.mktemp("probe-chart"))


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """No umask: whatever mode a file is created with is the mode it gets, so nothing hides a loose mode."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)
