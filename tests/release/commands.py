"""The install commands a user runs, one template each: the README shows them with the real names, the
rehearsal runs them with its own registry's (``names`` from tools/release/publish.py fills them in).

The rehearsal appends only what its throw-away setting needs after a command (a namespace, its CA, its
index URL); the command itself, as the README shows it, is the same.
"""

from __future__ import annotations

HELM_INSTALL = "helm install my-endpoint {chart-oci}/globus-compute-endpoint --version {chart-version} -f my-conf.yaml"
PIP_INSTALL = "pip install gce-values"
TOOL_VERSION = "gce-values --version"
INIT = "gce-values init -o my-conf.yaml"

USER_COMMANDS = (HELM_INSTALL, PIP_INSTALL, TOOL_VERSION, INIT)


def render(template: str, names: dict[str, str]) -> str:
    """The command for one set of release names (``{chart-oci}`` and the like)."""
    text = template
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text
