"""Helm itself refuses a conf that breaks a cross-field rule, and renders the seed conf completely.

The rules come from the schema's ``x-rules`` (generated into templates/_rules.tpl); each rule gets the
confs its kind gives as examples (gce_values.checks.rulekinds): those that break it make Helm fail
naming the rule (an error) or still render (a warning), those that keep it at its edge render. So a
new rule, and a new kind, is tested as soon as it is added.
"""

from __future__ import annotations

from typing import Any

import pytest

from gce_values.checks import xrules
from gce_values.checks.rulekind import Example
from gce_values.schema import Rule, load, release_name
from support.chartrender import HELM_VERSIONS, VALUE_SETS, HelmRenderer, Rendered, load_yaml_file, pod_spec
from support.paths import SCHEMA_FILE, SEED_FILE

SCHEMA = load(SCHEMA_FILE)
SEED_KEYS = {"Instance", "endpointUUID", "secrets", "useClientCredentials", "minBlocks"}


def examples(which: str) -> list[Any]:
    """(helm, rule, example) for every example of every rule, its kind's ``breaking`` or ``keeping`` ones."""
    cases = []
    for rule in SCHEMA.rules():
        for index, example in enumerate(getattr(xrules.kind_of(rule), which)(rule, SCHEMA)):
            for helm in HELM_VERSIONS:
                cases.append(pytest.param(helm, rule, example, id=f"{helm}-{rule.id}-{index}"))
    return cases


def render(chart: HelmRenderer, helm: str, example: Example) -> Rendered:
    release = example.release or release_name("rules")
    return chart.template(helm, example.values or None, files=(SEED_FILE,), release=release)


def test_every_rule_has_an_example_that_breaks_it() -> None:
    # A rule without one would silently drop out of the parametrisation below.
    for rule in SCHEMA.rules():
        assert xrules.kind_of(rule).breaking(rule, SCHEMA), rule.id
    assert any(rule.severity == "error" for rule in SCHEMA.rules()), "no x-rules of severity error in the schema"


@pytest.mark.parametrize(("helm", "rule", "example"), examples("breaking"))
def test_a_broken_error_rule_fails_the_render_naming_it_and_a_warning_does_not(
    chart: HelmRenderer, helm: str, rule: Rule, example: Example
) -> None:
    rendered = render(chart, helm, example)

    if rule.severity == "warning":
        assert rendered.ok, rendered.stderr
        return
    assert not rendered.ok, f"helm {helm} rendered a conf that breaks {rule.id}: {example}"
    if xrules.kind_of(rule).on_release and "release name" in rendered.stderr:
        # Helm checks the release name itself before it renders anything, with the rule's limit, so the
        # rule's own message shows only where Helm does not check (gce-values predicts it for SLATE).
        assert "longer than" in rendered.stderr, rendered.stderr
        return
    assert f"[{rule.id}]" in rendered.stderr, rendered.stderr
    assert rule.message in " ".join(rendered.stderr.split()), rendered.stderr
    assert "values don't meet the specifications of the schema" not in rendered.stderr, (
        "the schema, not the rule, refused it"
    )


@pytest.mark.parametrize(("helm", "rule", "example"), examples("keeping"))
def test_a_rule_kept_at_its_edge_renders(chart: HelmRenderer, helm: str, rule: Rule, example: Example) -> None:
    # For instance quantities equal in other units: the template compares quantities, not strings.
    rendered = render(chart, helm, example)

    assert rendered.ok, rendered.stderr


# --- the seed conf --------------------------------------------------------------------------------


def test_ci_default_values_is_the_seed_conf() -> None:
    # The blog post's five keys; everything else must come from the chart's defaults.
    assert set(load_yaml_file(SEED_FILE)) == SEED_KEYS


def expected_objects(release: str) -> set[tuple[str, str]]:
    return {
        ("ConfigMap", release),
        ("Deployment", release),
        ("ServiceAccount", release),
        ("ServiceAccount", f"{release}-worker"),
        ("Role", f"{release}-workers"),
        ("RoleBinding", f"{release}-workers"),
        ("ConfigMap", f"{release}-workers"),
        ("Secret", f"{release}-worker-keys"),
        ("NetworkPolicy", release),
        ("NetworkPolicy", f"{release}-workers"),
    }


def dangling_references(rendered: Rendered) -> list[str]:
    """References between rendered objects that point at nothing rendered."""
    objects = {(doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"]): doc for doc in rendered.docs}
    problems = []
    for workload in rendered.workloads():
        namespace = workload["metadata"]["namespace"]
        spec = pod_spec(workload)
        if ("ServiceAccount", namespace, spec["serviceAccountName"]) not in objects:
            problems.append(f"{workload['kind']}: service account {spec['serviceAccountName']}")
        for volume in spec["volumes"]:
            if "configMap" not in volume:
                continue
            configmap = objects.get(("ConfigMap", namespace, volume["configMap"]["name"]))
            missing = [
                item["key"]
                for item in volume["configMap"].get("items", [])
                if configmap and item["key"] not in configmap["data"]
            ]
            if configmap is None or missing:
                problems.append(f"{workload['kind']}: volume {volume['name']} lacks {missing or 'its ConfigMap'}")
    for binding in rendered.of_kind("RoleBinding"):
        namespace = binding["metadata"]["namespace"]
        if ("Role", namespace, binding["roleRef"]["name"]) not in objects:
            problems.append(
                f"RoleBinding {binding['metadata']['name']}: role {binding['roleRef']['name']} in {namespace}"
            )
        for subject in binding["subjects"]:
            if ("ServiceAccount", subject["namespace"], subject["name"]) not in objects:
                problems.append(f"RoleBinding {binding['metadata']['name']}: subject {subject['name']}")
    return problems


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_seed_conf_renders_the_complete_endpoint(chart: HelmRenderer, helm: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS["default"])

    assert rendered.ok, rendered.stderr
    assert rendered.kind_names() == expected_objects(rendered.release)
    assert not dangling_references(rendered)


@pytest.mark.parametrize("set_name", sorted(set(VALUE_SETS) - {"no-rbac"}))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_rendered_objects_reference_each_other(chart: HelmRenderer, helm: str, set_name: str) -> None:
    assert not dangling_references(chart.render_set(helm, VALUE_SETS[set_name]))


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_without_rbac_the_endpoint_uses_the_given_account(chart: HelmRenderer, helm: str) -> None:
    value_set = VALUE_SETS["no-rbac"]
    rendered = chart.render_set(helm, value_set)

    assert pod_spec(rendered.deployment)["serviceAccountName"] == value_set.values["serviceAccountName"]
    assert not [name for kind, name in rendered.kind_names() if kind in {"Role", "RoleBinding"}]
    assert ("ServiceAccount", rendered.release) not in rendered.kind_names()
