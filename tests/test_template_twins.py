"""Python written to do what a chart template does is held equal to the real template under real Helm.

gce_values.helmyaml.scalars.as_template_text is the twin of the chart's ``gce.scalarString``
(templates/_helpers.tpl): the checks use it to know what text a number in a conf becomes in a
manifest (yaml-notes "number", numbertext, quantity rules). Each names the other; this test renders
the real helper over generated numbers with Helm 3.8.1 and Helm 4 and compares every line.
gce_values.schema.nodes.go_string is Sprig's ``toString``, which the rule templates compare with;
gce_values.checks.quantities.reading is the chart's ``gce.quantity`` (templates/_rules.tpl, written
from quantities.TEMPLATE), which the quantityLessOrEqual rules compare with. (Whole rules, Python
check against template condition, are held by tests/test_rule_parity.py.)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gce_values.checks.quantities import reading
from gce_values.helmyaml.scalars import as_template_text
from gce_values.schema.nodes import go_string
from support.paths import CHART_DIR

EXAMPLES = int(os.environ.get("GCE_FUZZ_EXAMPLES", "15"))
HELMS = ["v3.8", "v4"]
# One comment line per value (the output must stay YAML), each text base64-encoded so no character hides.
PROBE = """\
{{- range .Values.numbers }}
# number <{{ include "gce.scalarString" . | b64enc }}>
{{- end }}
{{- range .Values.values }}
# value <{{ toString . | b64enc }}>
{{- end }}
{{- range .Values.quantities }}
# quantity <{{ include "gce.quantity" . | b64enc }}>
{{- end }}
"""

_NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.decimals(min_value=-1e7, max_value=1e7, places=3, allow_nan=False, allow_infinity=False).map(float),
    st.sampled_from([0.0, -0.0, 1e6, 999999.5, 1000000.5, 1e21, 1e-5, 0.0001, 123456789.0, 2.0**53 + 2]),
)


def _probe_chart(directory: Path) -> Path:
    """A chart holding the real _helpers.tpl and one template that prints the helper's text of each number."""
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text("apiVersion: v2\nname: twins\nversion: 0.1.0\n", encoding="utf-8")
    for helpers in ("_helpers.tpl", "_rules.tpl"):
        shutil.copy(CHART_DIR / "templates" / helpers, directory / "templates" / helpers)
    (directory / "templates" / "probe.txt").write_text(PROBE, encoding="utf-8")
    return directory


_VALUES = st.one_of(
    _NUMBERS,
    st.booleans(),
    st.none(),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
)


# Quantities in the grammar (sign, digits with at most one dot, a suffix), near misses, and numbers.
_SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "E-2", "e+18"]
_QUANTITIES = st.one_of(
    st.builds(
        "{}{}{}{}".format,
        st.sampled_from(["", "+", "-"]),
        st.from_regex(r"[0-9]{0,25}", fullmatch=True),
        st.sampled_from(["", ".", ".5", ".000000001", ".1234567891"]),
        st.sampled_from([*_SUFFIXES, "e999", "KB", "mi", " "]),
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
)


def _printed(output: str, label: str) -> list[str]:
    prefix = f"# {label} "
    return [
        base64.b64decode(line.removeprefix(prefix)).decode() for line in output.splitlines() if line.startswith(prefix)
    ]


def _template_nano(text: str) -> int | None:
    """gce.quantity's output (a sign and 28 digits of nano-units, or nothing) as the number it stands for."""
    return None if text == "" else int(text)


@pytest.mark.parametrize("version", HELMS)
def test_python_twins_print_what_the_templates_print(version: str, helm_bins: dict[str, Path], tmp_path: Path) -> None:
    """as_template_text is gce.scalarString for every number, go_string Sprig's toString for every value,
    and quantities.reading gce.quantity for every value a quantity key may hold."""
    chart = _probe_chart(tmp_path / "twins")
    values_file = tmp_path / "values.json"

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(_NUMBERS, max_size=30), st.lists(_VALUES, max_size=30), st.lists(_QUANTITIES, max_size=30))
    # Found here: past 10^18 units with digits below a nano-unit, the template read the cap (its rounding
    # step kept leading zeros); and the first number toString writes with an exponent.
    @example([], [1000000], ["1.1234567891Ei", "1000000000000000000.0000000001", "9223372036854775808"])
    def check(numbers: list[float], values: list[Any], quantities: list[Any]) -> None:
        # JSON text is YAML Helm reads: every value reaches the template as Helm reads it from a conf.
        data = {"numbers": numbers, "values": values, "quantities": quantities}
        values_file.write_text(json.dumps(data), encoding="utf-8")
        run = subprocess.run(
            [str(helm_bins[version]), "template", "twins", str(chart), "-f", str(values_file)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert _printed(run.stdout, "number") == [as_template_text(number) for number in numbers]
        assert _printed(run.stdout, "value") == [go_string(value) for value in values]
        assert [_template_nano(text) for text in _printed(run.stdout, "quantity")] == [reading(q) for q in quantities]

    check()
