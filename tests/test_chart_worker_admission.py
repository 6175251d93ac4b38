"""The opt-in ValidatingAdmissionPolicy that limits the endpoint's pod creates to its worker shape.

Rendered by the real helm (3.8.1, the last 3, 4) and checked with kubernetes-validate --strict on 1.30
(the first Kubernetes with admissionregistration.k8s.io/v1 policies) and the newest it knows. What the
policy demands is compared with what the chart's provider is configured to send (its image, labels,
keys Secret, service account) and with the endpoint's own service account. Here the policy is only
rendered: no API server runs, so its CEL is not evaluated (that a pod of another shape is refused is
for a real control plane to show).
"""

from __future__ import annotations

import json
from typing import Any

import jinja2
import kubernetes_validate
import pytest
import yaml

from support.chartrender import HELM_VERSIONS, NAMESPACE, VALUE_SETS, HelmRenderer, Rendered, ValueSet

POLICY_KINDS = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
ENABLED = {"workerAdmissionPolicy": {"enabled": True}}
FIRST_KUBERNETES_WITH_V1_POLICIES = "1.30"
NEWEST_KUBERNETES = ".".join(kubernetes_validate.latest_version().split(".")[:2])


def with_policy(set_name: str, **more: Any) -> ValueSet:
    base = VALUE_SETS[set_name]
    return ValueSet(f"{set_name}-admission", base.files, {**base.overrides, **ENABLED, **more})


def policy_docs(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in rendered.docs if doc["kind"] in POLICY_KINDS}


def provider_settings(rendered: Rendered) -> dict[str, Any]:
    template = rendered.configmap["data"]["user_config_template.yaml.j2"]
    text = jinja2.Environment().from_string(template).render(_GC={"env": {"POD_IP": "10.42.0.15"}})
    settings: dict[str, Any] = yaml.safe_load(text)["engine"]["provider"]
    return settings


def variables(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy's variables that are constants (JSON is CEL's literal syntax for them)."""
    return {item["name"]: json.loads(item["expression"]) for item in policy["spec"]["variables"]}


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_off_by_default(chart: HelmRenderer, helm: str) -> None:
    for set_name in sorted(VALUE_SETS):
        assert policy_docs(chart.render_set(helm, VALUE_SETS[set_name])) == {}, set_name


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_never_rendered_for_slate(chart: HelmRenderer, helm: str) -> None:
    # The SLATE server sets SLATE.Instance.ID (and SLATE.Cluster); its groups may not create
    # cluster-scoped objects, so the policy stays out even when a conf asks for it.
    rendered = chart.render_set(helm, with_policy("slate-installed"))
    only_id = chart.render_set(helm, with_policy("default", SLATE={"Instance": {"ID": "instance_0f3a9c1b2d"}}))

    for render in (rendered, only_id):
        assert policy_docs(render) == {}
        assert all(doc["metadata"].get("namespace") for doc in render.docs), "a cluster-scoped object"


def named_secrets(provider: dict[str, Any]) -> set[str]:
    """The Secrets the provider's settings have its worker pods use, besides the keys."""
    names = {volume["secret"]["secretName"] for volume in provider.get("worker_volumes", []) if "secret" in volume}
    names |= {
        volume["csi"]["nodePublishSecretRef"]["name"]
        for volume in provider.get("worker_volumes", [])
        if "nodePublishSecretRef" in volume.get("csi", {})
    }
    names |= {
        source["secret"]["name"]
        for volume in provider.get("worker_volumes", [])
        for source in volume.get("projected", {}).get("sources", [])
        if "secret" in source
    }
    names |= {
        entry["valueFrom"]["secretKeyRef"]["name"]
        for entry in provider.get("worker_env", [])
        if "secretKeyRef" in entry.get("valueFrom", {})
    }
    return names


@pytest.mark.parametrize("set_name", ["default", "full", "no-rbac", "realwork"])
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_the_policy_demands_what_the_provider_sends(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = chart.render_set(helm, with_policy(set_name))
    docs = policy_docs(rendered)
    policy, binding = docs["ValidatingAdmissionPolicy"], docs["ValidatingAdmissionPolicyBinding"]
    provider = provider_settings(rendered)
    account = rendered.deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
    worker_namespace = provider["namespace"]
    demanded = variables(policy)

    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert policy["spec"]["failurePolicy"] == "Fail"
    # Only requests of the endpoint's own service account, only in the worker namespace...
    [condition] = policy["spec"]["matchConditions"]
    assert condition["expression"] == f'request.userInfo.username == "system:serviceaccount:{NAMESPACE}:{account}"'
    for selector in (policy["spec"]["matchConstraints"], binding["spec"]["matchResources"]):
        assert selector["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": worker_namespace}}
    assert policy["spec"]["matchConstraints"]["resourceRules"] == [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}
    ]
    # ...and of those only pods like the provider's: its image(s), labels, owner, Secrets and account.
    values = VALUE_SETS[set_name].values
    assert demanded["images"] == [values["workerImage"] or provider["image"], *values["workerChoices"]["images"]]
    assert demanded["labels"].items() <= provider["labels"].items()
    assert demanded["secrets"][0] == provider["worker_keys_secret"]
    assert set(demanded["secrets"]) == {provider["worker_keys_secret"], *named_secrets(provider)}
    assert demanded["serviceAccount"] == provider.get("service_account_name", "default")
    assert demanded["token"] is provider["automount_service_account_token"]
    assert demanded["pullSecrets"] == ([provider["secret"]] if provider.get("secret") else [])
    assert policy["spec"]["paramKind"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    assert binding["spec"]["paramRef"] == {
        "name": provider["owner_config_map"],
        "namespace": worker_namespace,
        "parameterNotFoundAction": "Deny",
    }
    assert all(rule["message"] for rule in policy["spec"]["validations"])


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_each_release_and_namespace_has_its_own_policy(chart: HelmRenderer, helm: str) -> None:
    # Cluster-scoped: two releases of one name in two namespaces must not share (or fight over) one.
    value_set = with_policy("default")
    names = {
        (
            release,
            policy_docs(chart.render_set(helm, value_set, release=release))["ValidatingAdmissionPolicy"]["metadata"][
                "name"
            ],
        )
        for release in ("gce-a", "gce-b")
    }
    assert len({name for _, name in names}) == 2
    assert all(name == f"{release}.{NAMESPACE}.gce-workers" for release, name in names)


@pytest.mark.parametrize("kube_version", sorted({FIRST_KUBERNETES_WITH_V1_POLICIES, NEWEST_KUBERNETES}))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_the_policy_is_valid_kubernetes(chart: HelmRenderer, helm: str, kube_version: str) -> None:
    for set_name in ("default", "full", "no-rbac", "realwork"):
        docs = policy_docs(chart.render_set(helm, with_policy(set_name)))
        assert set(docs) == POLICY_KINDS
        for doc in docs.values():
            assert kubernetes_validate.validate(doc, kube_version, strict=True) == kube_version
