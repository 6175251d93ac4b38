"""gce-values and the real helm agree on which generated confs the chart accepts.

helm checks values.schema.json and the chart's rule templates when it renders; gce-values checks the
same schema and x-rules. On confs within what both check (see conf_strategies), `gce-values validate`
says "valid" exactly when `helm template` renders the chart.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from gce_values.errors import InputError
from gce_values.schema import load
from gce_values.validator import validate_sources
from support.helmprobe import helm_template
from support.paths import CHART_DIR
from support.strategies import confs

RELEASE = "gce-diff"
# What gce-values checks and Helm does not: the generator avoids these, and this makes sure of it.
GCE_ONLY = {"secret", "duplicate-key"}
# Checks Helm does not make that generated spellings may still trip (README, "Checks Helm does not make"):
# Instance: 010 renders as "8" in Helm, and validate refuses it on purpose.
STRICTER = {"number-text-changed", "number-text-invalid"}


@pytest.mark.parametrize("version", ["v3.8", "v3", "v4"])
def test_gce_values_and_helm_agree(version: str, helm_bins: dict[str, Path]) -> None:
    helm = helm_bins[version]

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(conf=confs(load()))
    def agree(conf: str) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "conf.yaml"
            path.write_text(conf, encoding="utf-8")
            rendered = helm_template(helm, CHART_DIR, [path], release=RELEASE)
        try:
            result = validate_sources([("conf.yaml", conf)], release=RELEASE)
        except InputError as error:
            raise AssertionError(f"gce-values could not read a generated conf: {error}") from error
        assert not {p.rule for p in result.problems} & GCE_ONLY
        if rendered.ok and result.errors and {p.rule for p in result.errors} <= STRICTER:
            return
        problems = "\n".join(f"{p.line}:{p.column} {p.rule} {p.key}: {p.message}" for p in result.errors)
        assert result.ok == rendered.ok, (
            f"helm {version} {'renders' if rendered.ok else 'refuses'} this conf, gce-values "
            f"{'accepts' if result.ok else 'refuses'} it\n--- conf\n{conf}--- helm\n{rendered.stderr}"
            f"--- gce-values\n{problems}"
        )

    agree()
