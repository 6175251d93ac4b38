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


def install_argv(slate: str, conf: str, group: str, cluster: str, *, version: str, dev: bool) -> list[str]:
    """`slate app install` of this chart from the SLATE catalog, pinned to ``version``.

    With ``--version`` the server installs that chart version or refuses; without it, it would
    install the newest version in its catalog, which need not be the chart the conf was checked
    against. ``dev`` picks the incubator catalog.
    """
    argv = [slate, "app", "install", resources.CHART_NAME, "--version", version]
    argv += ["--group", group, "--cluster", cluster, "--conf", conf]
    if dev:
        argv.append("--dev")
    return argv


def install_local_argv(slate: str, conf: str, group: str, cluster: str, chart_dir: str) -> list[str]:
    """`slate app install --local`: upload the chart directory this tool carries (an ad-hoc install).

    The SLATE API server accepts this only when its operator turned ``allowAdHocApps`` on; it is
    off by default (slateci/slate-client-server, src/slate_service.cpp and
    resources/chart/vars/values.yml), and the server then answers "Ad-hoc application
    installation is not permitted".
    """
    return [slate, "app", "install", "--local", chart_dir, "--group", group, "--cluster", cluster, "--conf", conf]


def secret_create_argv(name: str, group: str, cluster: str, env_file: str) -> list[str]:
    """The command that makes a SLATE secret from an env file (one key per line)."""
    return ["slate", "secret", "create", name, "--group", group, "--cluster", cluster, "--from-env-file", env_file]
