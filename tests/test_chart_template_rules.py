"""Helm itself refuses a conf that breaks a cross-field rule, and renders the seed conf completely.

The rules come from the schema's ``x-rules`` (generated into templates/_rules.tpl); each rule of
severity error gets a conf that breaks it, built from its kind, so a new rule is tested as soon as
it is added (a new kind fails here until the test learns how to break it).
"""

from __future__ import annotations

from typing import Any

import pytest

from gce_values.schema import Rule, ValuesSchema, load, release_name
from support.chartrender import HELM_VERSIONS, VALUE_SETS, HelmRenderer, Rendered, load_yaml_file, pod_spec
from support.paths import SCHEMA_FILE, SEED_FILE

SCHEMA = load(SCHEMA_FILE)
ERROR_RULES = [rule for rule in SCHEMA.rules() if rule.severity == "error"]
WARNING_RULES = [rule for rule in SCHEMA.rules() if rule.severity == "warning"]
SEED_KEYS = {"Instance", "endpointUUID", "secrets", "useClientCredentials", "minBlocks"}
UUID = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def nested(dotted: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": value}}`` for ``"a.b"``."""
    keys = dotted.split(".")
    conf: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        conf = {key: conf}
    return conf


def merged(*confs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for conf in confs:
        for key, value in conf.items():
            out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def non_empty_value(schema: ValuesSchema, dotted: str) -> Any:
    """A valid, non-empty value for the key at ``dotted``."""
    node = schema.node(tuple(dotted.split("."))) or {}
    if node.get("type") == "array" and node.get("items", {}).get("format") == "uuid":
        return [UUID]
    pytest.fail(f"no non-empty example for {dotted}; teach non_empty_value", pytrace=False)


def violations(rule: Rule, schema: ValuesSchema) -> list[dict[str, Any]]:
    """Confs (overrides of the seed) that each break ``rule`` but satisfy the schema."""
    spec = rule.spec
    if rule.kind == "required":
        return [nested(rule.key, "")]
    if rule.kind == "exactlyOne":
        return [merged(*(nested(key, flag) for key in spec["keys"])) for flag in (False, True)]
    if rule.kind == "lessOrEqual":
        low, high = spec["keys"]
        high_node = schema.node(tuple(high.split("."))) or {}
        bound = high_node["default"]
        step = 1 if high_node.get("type") == "integer" else 0.5
        return [merged(nested(high, bound), nested(low, bound + step))]
    if rule.kind == "quantityLessOrEqual":
        low, high = spec["keys"]
        memory = "Mi" in (schema.node(tuple(high.split("."))) or {}).get("pattern", "")
        pairs = [("3Gi", "2048Mi"), ("1025Mi", "1Gi")] if memory else [("1500m", "1"), ("2", "1500m")]
        return [merged(nested(low, small), nested(high, large)) for small, large in pairs]
    if rule.kind == "forbiddenKeys":
        return [nested(rule.key, {key: "1"}) for key in spec["forbidden"]]
    if rule.kind == "requiredWhen":
        if "whenNonEmpty" in spec:
            trigger = nested(spec["whenNonEmpty"], non_empty_value(schema, spec["whenNonEmpty"]))
        elif "whenTrue" in spec:
            trigger = with_switched_on_requirements(nested(spec["whenTrue"], True), but=rule.key)
        else:
            trigger = nested(spec["whenFalse"], False)
        return [merged(trigger, nested(rule.key, ""))]
    if rule.kind in ("namesDefined", "uniqueNames"):
        return list_violations(rule)
    pytest.fail(f"rule {rule.id}: no violating conf known for kind {rule.kind!r}", pytrace=False)


def with_switched_on_requirements(conf: dict[str, Any], but: str = "") -> dict[str, Any]:
    """``conf`` with a UUID for every key a switch it turns on requires (but ``but``), as one writes them together."""
    for other in ERROR_RULES:
        switch = other.spec.get("whenTrue")
        if other.kind == "requiredWhen" and switch and other.key != but:
            node: Any = conf
            for part in switch.split("."):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            if node is True:
                conf = merged(conf, nested(other.key, UUID))
    return conf


def list_violations(rule: Rule) -> list[dict[str, Any]]:
    """A volume list and a mount list, each valid on its own, whose names or paths break the rule."""
    spec = rule.spec
    field = spec["field"]

    def item(value: str) -> dict[str, Any]:
        if rule.key == "workerVolumes":
            return {"name": value, "emptyDir": {"sizeLimit": "1Gi"}}
        if field == "mountPath":
            return {"name": "v", "mountPath": value}
        return {"name": value, "mountPath": f"/{value}"}

    volumes = {"workerVolumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}]}
    if rule.kind == "namesDefined":
        return [merged(volumes, nested(rule.key, [item("v"), item("undefined")]))]
    repeated = "/twice" if field == "mountPath" else "v"
    confs = [merged(volumes, nested(rule.key, [item(repeated), item(repeated)]))]
    confs += [merged(volumes, nested(rule.key, [item(str(name))])) for name in spec.get("reserved", [])]
    return confs


def error_cases() -> list[Any]:
    cases = []
    for rule in ERROR_RULES:
        if rule.kind == "releaseNameLength":
            continue
        for index, conf in enumerate(violations(rule, SCHEMA)):
            for helm in HELM_VERSIONS:
                cases.append(pytest.param(helm, rule, conf, id=f"{helm}-{rule.id}-{index}"))
    return cases


def test_every_rule_kind_is_covered() -> None:
    # A rule whose violation cannot be built would silently drop out of the parametrisation below.
    for rule in ERROR_RULES:
        if rule.kind != "releaseNameLength":
            assert violations(rule, SCHEMA), rule.id
    assert ERROR_RULES, "no x-rules of severity error in the schema"


@pytest.mark.parametrize(("helm", "rule", "conf"), error_cases())
def test_broken_rule_fails_the_render_naming_it(
    chart: HelmRenderer, helm: str, rule: Rule, conf: dict[str, Any]
) -> None:
    rendered = chart.template(helm, conf, files=(SEED_FILE,), release=release_name("rules"))

    assert not rendered.ok, f"helm {helm} rendered a conf that breaks {rule.id}: {conf}"
    assert f"[{rule.id}]" in rendered.stderr, rendered.stderr
    assert rule.message in " ".join(rendered.stderr.split()), rendered.stderr
    assert "values don't meet the specifications of the schema" not in rendered.stderr, (
        "the schema, not the rule, refused it"
    )


@pytest.mark.parametrize("rule", [r for r in ERROR_RULES if r.kind == "releaseNameLength"], ids=lambda r: r.id)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_overlong_release_name_is_refused(chart: HelmRenderer, helm: str, rule: Rule) -> None:
    # Helm checks the release name before it renders anything, with the same limit as the rule, so
    # the rule's own message shows only where Helm does not check (gce-values predicts it for SLATE).
    limit = int(rule.spec["max"])
    too_long = release_name("x" * (limit - len(release_name("x"))) + "xy")
    assert len(too_long) == limit + 1

    rendered = chart.template(helm, None, files=(SEED_FILE,), release=too_long)

    assert not rendered.ok
    assert f"[{rule.id}]" in rendered.stderr or (
        "release name" in rendered.stderr and f"longer than {limit}" in rendered.stderr
    ), rendered.stderr
    fits = chart.template(helm, None, files=(SEED_FILE,), release=too_long[:limit])
    assert fits.ok, fits.stderr


QUANTITY_RULES = [rule for rule in ERROR_RULES if rule.kind == "quantityLessOrEqual"]


@pytest.mark.parametrize("rule", QUANTITY_RULES, ids=lambda r: r.id)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_equal_quantities_in_other_units_pass(chart: HelmRenderer, helm: str, rule: Rule) -> None:
    # The template compares quantities, not strings: 1Gi is 1024Mi and 1 CPU is 1000m.
    low, high = rule.spec["keys"]
    memory = "Mi" in (SCHEMA.node(tuple(high.split("."))) or {}).get("pattern", "")
    conf = merged(nested(low, "1024Mi" if memory else "1000m"), nested(high, "1Gi" if memory else "1"))

    rendered = chart.template(helm, conf, files=(SEED_FILE,), release=release_name("units"))

    assert rendered.ok, rendered.stderr


def warning_value(when: dict[str, Any]) -> Any:
    """A value that makes one condition of a warning rule hold."""
    if when.get("notEmpty"):
        return "example"
    return when.get("equals", when.get("greaterThan", 0) + 1)


@pytest.mark.parametrize("rule", WARNING_RULES, ids=lambda r: r.id)
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_warning_rules_do_not_fail_the_render(chart: HelmRenderer, helm: str, rule: Rule) -> None:
    conf = with_switched_on_requirements(
        merged(*(nested(when["key"], warning_value(when)) for when in rule.spec["when"]))
    )

    rendered = chart.template(helm, conf, files=(SEED_FILE,), release=release_name("warn"))

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
