"""PyYAML imported through gce_values.pyyaml (its patterns compiled on first use) behaves as PyYAML does."""

from __future__ import annotations

import json
import subprocess
import sys

from support.paths import TOOLS_DIR

PROBE = r"""
import json, re, sys
from gce_values.pyyaml import yaml
out = {"re.compile restored": re.compile.__module__ == "re" and re.compile.__name__ == "compile"}
out["resolves"] = repr(yaml.safe_load("a: 2001-12-14\nb: yes\nc: 0x1F\nd: 1e3\ne: ~"))
out["C resolves"] = repr(yaml.load("a: 2001-12-14\nb: yes", Loader=yaml.CSafeLoader))
try:
    yaml.safe_load("a: \x07")
    out["pure reader refuses a control character"] = False
except yaml.reader.ReaderError:
    out["pure reader refuses a control character"] = True
print(json.dumps(out))
"""


def test_pyyaml_works_as_usual_after_the_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(TOOLS_DIR)},
        timeout=60,
    )
    assert json.loads(done.stdout) == {
        "re.compile restored": True,
        "resolves": "{'a': datetime.date(2001, 12, 14), 'b': True, 'c': 31, 'd': '1e3', 'e': None}",
        "C resolves": "{'a': datetime.date(2001, 12, 14), 'b': True}",
        "pure reader refuses a control character": True,
    }
