"""Where things are in the repository, and the seed conf: the one place tests get them from.

Tests read nothing outside the repository; every path here is inside it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
TOOLS_DIR = REPO_ROOT / "tools"
SCHEMA_FILE = REPO_ROOT / "schema" / "values.schema.yaml"
CHART_NAME = "globus-compute-endpoint"
CHART_DIR = REPO_ROOT / "chart" / CHART_NAME
CI_DIR = CHART_DIR / "ci"
# The seed conf of the SLATE blog post: the five keys a user sets (a comment line, then the keys).
SEED_FILE = CI_DIR / "default-values.yaml"
# Its keys without the comment, so that a test's own lines start at line 6.
SEED_TEXT = "".join(
    line for line in SEED_FILE.read_text(encoding="utf-8").splitlines(keepends=True) if not line.startswith("#")
)
SEED: dict[str, object] = yaml.safe_load(SEED_TEXT)
