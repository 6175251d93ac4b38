"""The SLATE client as gce-values uses it: the commands it runs or tells the user to run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gce_values import resources
from gce_values.schema import load
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


# What the SLATE client prints on stderr when the API server refuses an install ("Failed to install
# application APP: MESSAGE", exit 1), as the server words MESSAGE (slateci/slate-client-server).
NOT_IN_CATALOG = "Application not found"
AD_HOC_REFUSED = "Ad-hoc application installation is not permitted"
NAME_IN_USE = "Instance name is already in use"
NOT_AUTHORIZED = ("Not authorized", "unauthorized user")
UNKNOWN_PLACE = ("Invalid Group", "Invalid Cluster")


def failure_hint(output: str, *, version: str, group: str, cluster: str, dev: bool) -> str | None:
    """What to do next, for the cause a failed `slate app install` names in its ``output``."""
    if AD_HOC_REFUSED in output:
        return (
            "this SLATE server does not allow ad-hoc installs (--local): ask its operator to allow them, "
            f"install from the catalog once chart {version} is published there, or install with plain Helm (--helm)"
        )
    if NOT_IN_CATALOG in output:
        catalog = "incubator" if dev else "stable"
        other = "" if dev else "--dev (the incubator catalog, where new charts go first), "
        return (
            f"SLATE's {catalog} catalog has no {resources.CHART_NAME} {version} (not published there yet): try "
            f"{other}--local (uploads the chart this tool carries; most servers refuse it) or --helm (plain Helm)"
        )
    if NAME_IN_USE in output:
        return (
            f"an instance with this Instance already runs for group {group} on {cluster}: set another Instance "
            "in the conf, or remove the old one (slate instance list, then slate instance delete ID)"
        )
    if any(words in output for words in NOT_AUTHORIZED):
        return (
            f"SLATE did not let you install there: check you are logged in (slate whoami) and that group {group} "
            f"may use cluster {cluster} (slate cluster list-allowed-groups {cluster})"
        )
    if any(words in output for words in UNKNOWN_PLACE):
        return "check the names of your group and cluster: slate group list, slate cluster list"
    return None


def before_install(values: Mapping[str, Any], *, version: str, from_catalog: bool, dev: bool) -> list[str]:
    """What the user should know before an install runs: the parts it needs that may not be published yet."""
    notes = []
    if from_catalog:
        catalog = "incubator catalog (--dev)" if dev else "stable catalog"
        notes.append(
            f"SLATE installs {resources.CHART_NAME} {version} only once its {catalog} has that version; "
            "until it is published there (README, Status) SLATE answers 'Application not found': use --helm"
        )

    default_image = load().defaults()["image"]["repository"]
    image = values.get("image")
    if isinstance(image, Mapping) and image.get("repository") == default_image and not image.get("digest"):
        notes.append(
            f"the conf runs the default image {default_image}, which exists only once this project's release "
            "workflow has pushed it; until then build and push your own and set image.repository "
            "(README, The endpoint image)"
        )
    return notes
