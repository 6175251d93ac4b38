"""Fixtures of the live-cluster tests, and the skip that keeps them off runs that did not opt in.

The skip is applied at collection time, so a skipped test never sets up a fixture: nothing here may
touch a cluster unasked. Opted in (E2E_RUN=1, as `make e2e` sets it) without KUBECONFIG, the session
builds and starts a control plane of its own (tests/cluster) and runs inside its network namespace;
with KUBECONFIG, it uses that cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.controlplane import ControlPlane
from cluster.images import import_endpoint_image
from cluster.node import PAUSE_IMAGE
from cluster.processes import ClusterError
from e2e import manifests
from e2e.kube import CommandFailed, E2eCluster, Helm, Kubectl
from e2e.release import CHART, InstallRelease, Release, e2e_values
from e2e.settings import Credentials, E2eSettings, SettingsError, load_settings, skip_reason, split_image

# Every object a test creates by itself carries this label, so teardown finds it.
TEST_LABEL = "gce-e2e/test"
# Namespaces the tests create enforce Pod Security "restricted", and warn and audit at it too, so a
# pod or a pod template that falls short is refused, or named in a warning Helm prints.
RESTRICTED = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e as skipped, with how to run it, unless the run opted in."""
    reason = skip_reason(os.environ, config.getoption("kubeconfig", default=None))
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if E2E_DIR in item.path.resolve().parents:
            item.add_marker(marker)


@dataclasses.dataclass(frozen=True)
class BuiltCluster:
    """The control plane this session started, and the endpoint image imported into its node."""

    control_plane: ControlPlane
    endpoint_image: str


@pytest.fixture(scope="session")
def built_cluster(pytestconfig: pytest.Config) -> Iterator[BuiltCluster | None]:
    """Without KUBECONFIG: build and start the control plane, import the endpoint image, and move this
    thread (and so every helm and kubectl the tests run) into its network namespace until the end."""
    if pytestconfig.getoption("kubeconfig", default=None) or os.environ.get("KUBECONFIG"):
        yield None
        return
    try:
        with ControlPlane() as control_plane:
            assert control_plane.node is not None
            image = import_endpoint_image(control_plane.node)
            with control_plane.network():
                yield BuiltCluster(control_plane, image)
    except ClusterError as exc:
        pytest.fail(f"the test control plane: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def e2e_settings(built_cluster: BuiltCluster | None) -> E2eSettings:
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        pytest.fail(str(exc), pytrace=False)
    if built_cluster is None:
        return settings
    # The node has exactly these images and no registry: the endpoint image the tests built, and the
    # pause image for the stand-in workers.
    return dataclasses.replace(settings, image=split_image(built_cluster.endpoint_image), worker_image=PAUSE_IMAGE)


@pytest.fixture(scope="module")
def kube_config(pytestconfig: pytest.Config, built_cluster: BuiltCluster | None) -> str:
    """pytest-helm-charts' kubeconfig: the built control plane's admin, else --kubeconfig or KUBECONFIG."""
    if built_cluster is not None:
        assert built_cluster.control_plane.kubeconfigs is not None
        return str(built_cluster.control_plane.kubeconfigs.admin)
    return str(pytestconfig.getoption("kubeconfig", default=None) or os.environ["KUBECONFIG"])


@pytest.fixture(scope="session")
def kubectl_bin(built_cluster: BuiltCluster | None) -> Path:
    """kubectl from $KUBECTL or PATH (the one built with the control plane when it is ours); missing,
    it fails the test (the run asked for a cluster)."""
    if built_cluster is not None:
        return built_cluster.control_plane.bin_dir / "kubectl"
    configured = os.environ.get("KUBECTL")
    found = configured or shutil.which("kubectl")
    if not found or not os.access(found, os.X_OK):
        pytest.fail(
            f"kubectl not found ({'$KUBECTL=' + configured if configured else 'not on PATH'}); "
            "install it or set KUBECTL=/path/to/kubectl",
            pytrace=False,
        )
    return Path(found)


@pytest.fixture(scope="module")
def cluster(kube_cluster: Any, helm_bins: dict[str, Path], e2e_settings: E2eSettings, kubectl_bin: Path) -> E2eCluster:
    """pytest-helm-charts' cluster (from KUBECONFIG) with kubectl and the project's helm pointed at it.

    kubectl and helm get the kubeconfig path expanded: unlike pykube, they do not expand ``~``.
    """
    kubeconfig = Path(kube_cluster.kube_config_path).expanduser()
    return E2eCluster(
        settings=e2e_settings,
        kubectl=Kubectl(kubectl_bin, kubeconfig),
        helm=Helm(helm_bins[e2e_settings.helm_version], kubeconfig),
    )


def random_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(cluster: E2eCluster, namespace_factory_function_scope: Any) -> str:
    """E2E_NAMESPACE as given (never created or deleted: on SLATE it is the group's), else a fresh
    namespace that pytest-helm-charts deletes after the test (waiting at most two minutes)."""
    if cluster.settings.namespace:
        return cluster.settings.namespace
    name = random_name("gce-e2e")
    namespace_factory_function_scope(name, extra_metadata={"labels": RESTRICTED})
    return name


@pytest.fixture(params=["same", "separate"])
def worker_namespace(request: pytest.FixtureRequest, cluster: E2eCluster, namespace: str) -> str:
    """The worker pods' namespace: the release's own, or a second one (the chart's workerNamespace)."""
    if request.param == "same":
        return namespace
    if cluster.settings.namespace:
        pytest.skip("a separate worker namespace needs a second namespace; E2E_NAMESPACE (SLATE) gives one")
    name = random_name("gce-e2e-workers")
    request.getfixturevalue("namespace_factory_function_scope")(name, extra_metadata={"labels": RESTRICTED})
    return name


@pytest.fixture
def run_labels() -> dict[str, str]:
    """Labels for the pods and secrets a test creates by itself, so teardown can find and delete them."""
    return {TEST_LABEL: random_name("run")}


def _remove_release(cluster: E2eCluster, release: Release) -> None:
    """Uninstall; the worker pods go with the release's owner ConfigMap (Kubernetes' garbage collector)."""
    if cluster.helm.is_installed(release.name, release.namespace):
        cluster.helm.uninstall(release.name, release.namespace)


@contextlib.contextmanager
def release_installer(
    cluster: E2eCluster, namespace: str, run_labels: dict[str, str], values_dir: Path
) -> Iterator[InstallRelease]:
    """Install the chart; afterwards uninstall every release still there and delete what the test made.

    Teardown tries every step even when one fails, each bounded by a timeout, and then reports all
    failures at once. (A context manager, so that a module's tests can share one release.)
    """
    installed: list[Release] = []
    helm, kubectl = cluster.helm, cluster.kubectl

    def install(
        worker_namespace: str | None = None,
        endpoint_uuid: str | None = None,
        credentials: Credentials | None = None,
        extra_values: dict[str, Any] | None = None,
    ) -> Release:
        name = random_name("gce-e2e")
        release = Release(name, namespace, endpoint_uuid or str(uuid.uuid4()), secret_name=f"{name}-credentials")
        installed.append(release)  # from here on, teardown cleans up after it
        if credentials is not None:
            kubectl.create(manifests.credentials_secret(release.secret_name, namespace, credentials, run_labels))
        values_file = values_dir / f"{name}.yaml"
        values = {
            **e2e_values(cluster.settings, release.endpoint_uuid, release.secret_name, worker_namespace),
            **(extra_values or {}),
        }
        values_file.write_text(yaml.safe_dump(values), encoding="utf-8")
        helm.install(name, CHART, namespace, values_file)
        release.objects = manifests.parse_objects(helm.manifest(name, namespace))
        return release

    try:
        yield install
    finally:
        _clean_up(cluster, namespace, run_labels, installed)


def _clean_up(cluster: E2eCluster, namespace: str, run_labels: dict[str, str], installed: list[Release]) -> None:
    if not installed:
        return
    errors: list[str] = []
    namespaces = {namespace}
    for release in installed:
        namespaces.update(manifests.namespaces_of(release.objects, release.namespace))
        try:
            _remove_release(cluster, release)
        except CommandFailed as exc:
            errors.append(str(exc))
    selector = ",".join(f"{key}={value}" for key, value in run_labels.items())
    for ns in sorted(namespaces):
        try:
            cluster.kubectl.delete("pods,secrets", ns, selector, wait=False)
        except CommandFailed as exc:
            errors.append(str(exc))
    if not cluster.settings.namespace:
        # Namespaces made for this test alone: their pods go at once, so the namespace's deletion, which
        # waits for them, does not sit out the endpoint pod's grace period (40 s a test).
        for ns in sorted(namespaces):
            force = ["delete", "pods", "--all", f"--namespace={ns}", "--grace-period=0", "--force", "--wait=false"]
            cluster.kubectl.run(*force, check=False)
    if errors:
        pytest.fail("cleanup after the test failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def install_release(
    cluster: E2eCluster, namespace: str, run_labels: dict[str, str], tmp_path: Path
) -> Iterator[InstallRelease]:
    """Install the chart under a fresh release name; the test's releases go when it ends."""
    with release_installer(cluster, namespace, run_labels, tmp_path) as install:
        yield install
