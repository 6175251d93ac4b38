"""What the live-cluster tests are told by their environment, read and checked in one place.

The tests install into a real cluster, so they run only when asked to: `make e2e` sets E2E_RUN=1 and
KUBECONFIG. An exported KUBECONFIG alone (common on an operator's machine) must not make `make test`
install releases into whatever cluster it points at.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gce_values.schema import load

HOW_TO_RUN = "make e2e` (a control plane built here) or `make e2e KUBECONFIG=~/.kube/config"
DEFAULT_WORKER_IMAGE = "registry.k8s.io/pause:3.9"
DEFAULT_POD_TIMEOUT_SECONDS = 300.0
# Keys of the helm_bins fixture: the SLATE server's Helm 3.8, the last Helm 3, Helm 4.
HELM_VERSIONS = ("v3.8", "v3", "v4")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class SettingsError(ValueError):
    """An E2E_* variable has a value the tests cannot use; the message names it."""


@dataclass(frozen=True)
class ImageRef:
    """An image as the chart takes it: ``image.repository`` and ``image.tag``."""

    repository: str
    tag: str


@dataclass(frozen=True)
class Credentials:
    """A Globus client ID and secret; the secret is kept out of every repr and message."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class E2eSettings:
    """Everything the live-cluster tests take from their environment."""

    namespace: str | None
    image: ImageRef | None
    worker_image: str
    helm_version: str
    pod_timeout: float
    credentials: Credentials | None
    endpoint_uuid: str | None


def resolve_kubeconfig(env: Mapping[str, str], option: str | None) -> str:
    """The kubeconfig path the pytest-helm-charts fixtures will use: ``--kubeconfig``, else $KUBECONFIG."""
    return option or env.get("KUBECONFIG", "")


def skip_reason(env: Mapping[str, str], kubeconfig_option: str | None) -> str | None:
    """Why the live-cluster tests cannot run here, or None when they can.

    With E2E_RUN=1 and no KUBECONFIG they run against the control plane the tests build and start
    (tests/cluster), so only an opted-out run, or a KUBECONFIG that is not a file, is skipped.
    """
    how = f"run them with `{HOW_TO_RUN}`"
    if env.get("E2E_RUN") != "1":
        return f"live-cluster test, opt-in: {how} (or set E2E_RUN=1, and KUBECONFIG for a cluster of your own)"
    kubeconfig = resolve_kubeconfig(env, kubeconfig_option)
    if not kubeconfig:
        return None
    if not Path(kubeconfig).expanduser().is_file():
        return f"live-cluster test: KUBECONFIG {kubeconfig} is not a file (one path, not a list); {how}"
    return None


def split_image(ref: str) -> ImageRef:
    """Split ``repository:tag`` (the registry part may carry a port) for the chart's image values."""
    if "@" in ref:
        raise SettingsError(f"E2E_IMAGE={ref}: digests are not supported, the chart takes repository:tag")
    repository, sep, tag = ref.rpartition(":")
    if not sep or not repository or not tag or "/" in tag:
        raise SettingsError(f"E2E_IMAGE={ref}: expected repository:tag, e.g. gce-endpoint:dev")
    return ImageRef(repository, tag)


def credentials_from(env: Mapping[str, str]) -> Credentials | None:
    """The Globus client credentials for the hello-world test, when both are set."""
    if not credentials_given(env):
        return None
    client_id, client_secret = env["GLOBUS_COMPUTE_CLIENT_ID"], env["GLOBUS_COMPUTE_CLIENT_SECRET"]
    if not load().matches("uuid", client_id):
        raise SettingsError("GLOBUS_COMPUTE_CLIENT_ID is not a UUID")
    return Credentials(client_id, client_secret)


def credentials_given(env: Mapping[str, str]) -> bool:
    """Whether the hello-world test can run: both Globus client variables are set."""
    return bool(env.get("GLOBUS_COMPUTE_CLIENT_ID") and env.get("GLOBUS_COMPUTE_CLIENT_SECRET"))


def smoke_endpoint_uuid(settings: E2eSettings) -> str:
    """E2E_ENDPOINT_UUID, else a UUID derived from the client ID.

    The same for every run with the same credentials, so repeated runs reuse one endpoint registration
    in Globus Compute instead of adding a new one each time.
    """
    if settings.endpoint_uuid:
        return settings.endpoint_uuid
    if settings.credentials is None:
        raise SettingsError("the hello-world test needs GLOBUS_COMPUTE_CLIENT_ID and GLOBUS_COMPUTE_CLIENT_SECRET")
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gce-e2e:{settings.credentials.client_id.lower()}"))


def load_settings(env: Mapping[str, str]) -> E2eSettings:
    """Read and check the E2E_* variables; raises SettingsError naming the first bad one.

    The kubeconfig is not among them: pytest-helm-charts' kube_cluster fixture reads it.
    """
    namespace = env.get("E2E_NAMESPACE") or None
    if namespace is not None and not _DNS_LABEL.match(namespace):
        raise SettingsError(f"E2E_NAMESPACE={namespace}: not a Kubernetes namespace name")
    image_ref = env.get("E2E_IMAGE")
    helm_version = env.get("E2E_HELM", "v4")
    if helm_version not in HELM_VERSIONS:
        raise SettingsError(f"E2E_HELM={helm_version}: expected one of {', '.join(HELM_VERSIONS)}")
    raw_timeout = env.get("E2E_POD_TIMEOUT", str(DEFAULT_POD_TIMEOUT_SECONDS))
    try:
        pod_timeout = float(raw_timeout)
    except ValueError:
        raise SettingsError(f"E2E_POD_TIMEOUT={raw_timeout}: expected seconds") from None
    if not 0 < pod_timeout <= 3600:
        raise SettingsError(f"E2E_POD_TIMEOUT={raw_timeout}: expected 1 to 3600 seconds")
    endpoint_uuid = env.get("E2E_ENDPOINT_UUID") or None
    if endpoint_uuid is not None and not load().matches("uuid", endpoint_uuid):
        raise SettingsError(f"E2E_ENDPOINT_UUID={endpoint_uuid}: not a UUID")
    return E2eSettings(
        namespace=namespace,
        image=split_image(image_ref) if image_ref else None,
        worker_image=env.get("E2E_WORKER_IMAGE") or DEFAULT_WORKER_IMAGE,
        helm_version=helm_version,
        pod_timeout=pod_timeout,
        credentials=credentials_from(env),
        endpoint_uuid=endpoint_uuid,
    )
