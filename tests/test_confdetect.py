"""`validate --only-confs` tells confs for this chart from the other YAML files a hook is handed."""

from __future__ import annotations

import pytest

from gce_values import confdetect
from gce_values.schema import editor, load
from support.paths import SEED_TEXT, TESTS_DIR

PREDECESSORS = TESTS_DIR / "fixtures" / "predecessor-confs"

NOT_CONFS = {
    "pre-commit config": "repos:\n  - repo: https://example.org/x\n    rev: v1\n"
    "    hooks:\n      - id: gce-values-validate\n",
    "GitHub workflow": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "Kubernetes manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  minBlocks: '3'\n",
    "another chart's values": "replicaCount: 2\nimage:\n  repository: nginx\nresources: {}\nInstance: web\n",
    "a chart's values with affinity": "replicaCount: 1\naffinity: {}\ntolerations: []\n",
    "JupyterHub's values": "proxy:\n  secretToken: abc\nsingleuser:\n  memory:\n    limit: 1G\n",
    "a conf quoted inside a block scalar": "script: |\n  endpointUUID: x\n",
    "empty": "",
}
CONFS = {
    "the seed conf": SEED_TEXT,
    "a quoted key": '"endpointUUID": 7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57\n',
    "only the schema line and SLATE's keys": f"# yaml-language-server: $schema={editor.url()}\nInstance: x\n",
    "the SLATE 0.1.6 defaults": (PREDECESSORS / "slate-0.1.6.yaml").read_text(encoding="utf-8"),
    "the upstream 0.7.1 defaults": (PREDECESSORS / "upstream-0.7.1.yaml").read_text(encoding="utf-8"),
    "a typo beside a real key": "minBlok: 1\nmaxBlocks: 2\n",
}


@pytest.mark.parametrize("text", NOT_CONFS.values(), ids=NOT_CONFS.keys())
def test_other_yaml_is_not_taken_for_a_conf(text: str) -> None:
    assert not confdetect.is_conf(text, load())


@pytest.mark.parametrize("text", CONFS.values(), ids=CONFS.keys())
def test_confs_are_recognised(text: str) -> None:
    assert confdetect.is_conf(text, load())


def test_generic_helm_keys_do_not_count() -> None:
    own = set(confdetect.own_keys(load()))
    assert {"endpointUUID", "minBlocks", "workerInit", "funcXServiceAddress"} <= own
    assert not own & {"image", "resources", "replicaCount", "Instance", "secrets", "nodeSelector", "affinity", "proxy"}
