"""Every rendered manifest is a valid Kubernetes object, strictly, on the oldest and newest versions.

Strict mode rejects unknown fields, which the API server would otherwise drop silently (a typo in
``securityContext`` would leave a pod less locked down than the template says).  1.25 is the oldest
Kubernetes a SLATE cluster runs; the newest is whatever kubernetes-validate ships.
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from support.chartrender import HELM_VERSIONS, VALUE_SETS, HelmRenderer


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


OLDEST_KUBERNETES = "1.25"
NEWEST_KUBERNETES = major_minor(kubernetes_validate.latest_version())
KUBERNETES_VERSIONS = sorted({OLDEST_KUBERNETES, NEWEST_KUBERNETES})


def test_newest_kubernetes_is_newer_than_oldest() -> None:
    # Guards the discovery above: the suite must check two different versions.
    assert tuple(map(int, NEWEST_KUBERNETES.split("."))) > tuple(map(int, OLDEST_KUBERNETES.split(".")))


@pytest.mark.parametrize("kube_version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_manifests_validate_strictly(chart: HelmRenderer, helm: str, set_name: str, kube_version: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    problems = []
    for doc in rendered.docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            used = kubernetes_validate.validate(doc, kube_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{where}: no schema for {doc.get('apiVersion')} {doc.get('kind')} ({exc})")
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            problems.append(f"{where}: {path}: {exc.message}")
        else:
            if used != kube_version:
                problems.append(f"{where}: validated against {used}, not {kube_version}")

    assert rendered.docs, "nothing rendered"
    assert not problems, "\n".join(problems)
