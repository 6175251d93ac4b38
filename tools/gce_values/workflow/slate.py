"""The SLATE client as gce-values uses it: the commands it runs or tells the user to run."""

from __future__ import annotations

from gce_values import resources
from gce_values.workflow import programs

ENV_VAR = "GCE_SLATE"
HOW_TO_GET = (
    "install the SLATE client (https://slateci.io/docs/tools/) and log in, name it with --slate-bin or "
    "$GCE_SLATE, or install with plain Helm (--helm)"
)


def find(explicit: str | None = None) -> str:
    """The slate binary: --slate-bin, $GCE_SLATE, then `slate` on PATH."""
    return programs.find("slate", ENV_VAR, explicit, [], HOW_TO_GET)


def install_argv(slate: str, conf: str, group: str, cluster: str, dev: bool) -> list[str]:
    """`slate app install` of this chart with the user's conf (``--dev``: the incubator catalog)."""
    argv = [slate, "app", "install", resources.CHART_NAME, "--group", group, "--cluster", cluster, "--conf", conf]
    if dev:
        argv.append("--dev")
    return argv


def secret_create_argv(name: str, group: str, cluster: str, env_file: str) -> list[str]:
    """The command that makes a SLATE secret from an env file (one key per line)."""
    return ["slate", "secret", "create", name, "--group", group, "--cluster", cluster, "--from-env-file", env_file]
