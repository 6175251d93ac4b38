"""Security posture of the rendered chart: checkov's Kubernetes checks, least-privilege RBAC, tokens.

checkov runs from its own virtual environment, named by $CHECKOV (the Makefile sets it).  A check
may be skipped only by a ``checkov.io/skipN: CKV_ID=reason`` annotation in a template, and every
skipped check must be explained in the "Security checks" section of the chart's docs/how-it-works.md.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from support.chartrender import HELM_VERSIONS, NAMESPACE, VALUE_SETS, HelmRenderer, Rendered, pod_spec
from support.checkov import checkov_executable, run_checkov
from support.paths import CHART_DIR

CHECKOV_SETS = ["default", "full", "user-credentials", "hardened", "no-rbac"]
CHECKOV_HELM = "v3"  # the SLATE server's Helm major version
SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")
CHECK_ID = re.compile(r"\bCKV2?_K8S_\d+\b")
# Skips that must disappear when the conf makes the check pass on its own (the "hardened" set).
CONDITIONAL_SKIPS = {"CKV_K8S_15", "CKV_K8S_40", "CKV2_K8S_6"}


@pytest.fixture(scope="module")
def checkov_reports(chart: HelmRenderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """One checkov run per value set over all its manifests in one file, two at a time."""
    checkov = checkov_executable()
    workdir = tmp_path_factory.mktemp("checkov")
    manifests = {}
    for name in CHECKOV_SETS:
        rendered = chart.render_set(CHECKOV_HELM, VALUE_SETS[name])
        assert rendered.ok, rendered.stderr
        manifests[name] = workdir / f"{name}.yaml"
        manifests[name].write_text(rendered.stdout, encoding="utf-8")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(manifests, pool.map(lambda path: run_checkov(checkov, path), manifests.values()), strict=True))


def skip_annotations(rendered: Rendered) -> dict[str, set[str]]:
    """check ID -> its reasons, from every object's checkov skip annotations."""
    skips: dict[str, set[str]] = {}
    for doc in rendered.docs:
        for key, value in (doc["metadata"].get("annotations") or {}).items():
            if SKIP_ANNOTATION.match(key):
                check_id, _, reason = value.partition("=")
                skips.setdefault(check_id, set()).add(reason)
    return skips


def readme_security_section() -> str:
    text = (CHART_DIR / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    match = re.search(r"^## Security checks\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "the chart's docs/how-it-works.md has no '## Security checks' section before the next section"
    return match.group(1)


# --- checkov -----------------------------------------------------------------------------------


@pytest.mark.parametrize("set_name", CHECKOV_SETS)
def test_checkov_finds_no_failed_checks(checkov_reports: dict[str, dict[str, Any]], set_name: str) -> None:
    report = checkov_reports[set_name]
    failed = [f"{c['check_id']} {c['check_name']} ({c['resource']})" for c in report["results"]["failed_checks"]]

    assert report["summary"]["resource_count"] > 0, "checkov scanned nothing"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("set_name", CHECKOV_SETS)
def test_checkov_skips_come_from_the_templates_with_reasons(
    chart: HelmRenderer, checkov_reports: dict[str, dict[str, Any]], set_name: str
) -> None:
    skipped = checkov_reports[set_name]["results"].get("skipped_checks", [])
    annotated = skip_annotations(chart.render_set(CHECKOV_HELM, VALUE_SETS[set_name]))

    assert skipped, "checkov skipped nothing: are the annotations still read?"
    assert {check["check_id"] for check in skipped} <= set(annotated)
    for check in skipped:
        assert check["check_result"]["suppress_comment"] in annotated[check["check_id"]], check["check_id"]
    for check_id, reasons in annotated.items():
        for reason in reasons:
            assert len(reason.split()) >= 5, f"{check_id}: {reason!r} is not a reason"


def test_readme_explains_every_skip(chart: HelmRenderer) -> None:
    skipped = set()
    for name in VALUE_SETS:
        for helm in HELM_VERSIONS:
            skipped |= set(skip_annotations(chart.render_set(helm, VALUE_SETS[name])))

    documented = set(CHECK_ID.findall(readme_security_section()))

    assert skipped, "no skips found: update this test and the README together"
    assert documented == skipped, f"README lists {sorted(documented)}, the templates skip {sorted(skipped)}"


@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_conditional_skips_vanish_when_the_conf_passes_the_check(chart: HelmRenderer, helm: str) -> None:
    defaults = set(skip_annotations(chart.render_set(helm, VALUE_SETS["default"])))
    # The NetworkPolicy is on by default; this set turns it off.
    permissive = set(skip_annotations(chart.render_set(helm, VALUE_SETS["user-credentials"])))
    hardened = set(skip_annotations(chart.render_set(helm, VALUE_SETS["hardened"])))

    assert defaults >= CONDITIONAL_SKIPS - {"CKV2_K8S_6"}
    assert "CKV2_K8S_6" not in defaults
    assert "CKV2_K8S_6" in permissive
    assert not hardened & CONDITIONAL_SKIPS


# --- RBAC --------------------------------------------------------------------------------------


def normalised_rules(role: dict[str, Any]) -> list[dict[str, list[str]]]:
    return sorted(
        ({key: sorted(value) for key, value in rule.items()} for rule in role["rules"]),
        key=lambda rule: json.dumps(rule, sort_keys=True),
    )


def expected_roles(release: str, worker_namespace: str, *, rbac: bool) -> dict[tuple[str, str], Any]:
    """(namespace, name) -> rules: exactly what the worker provider calls, nothing more."""
    roles: dict[tuple[str, str], Any] = {}
    if rbac:
        roles[(worker_namespace, f"{release}-workers")] = [
            # Parsl's KubernetesProvider creates, reads (status polling) and deletes its pods by name.
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get"]},
            # The provider reads the owner's uid, and patches the keys into the workers' Secret.
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [f"{release}-workers"], "verbs": ["get"]},
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [f"{release}-worker-keys"],
                "verbs": ["patch"],
            },
        ]
    return {key: normalised_rules({"rules": rules}) for key, rules in roles.items()}


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_roles_grant_exactly_what_is_needed(chart: HelmRenderer, helm: str, set_name: str) -> None:
    value_set = VALUE_SETS[set_name]
    rendered = chart.render_set(helm, value_set)
    roles = {
        (role["metadata"]["namespace"], role["metadata"]["name"]): normalised_rules(role)
        for role in rendered.of_kind("Role")
    }

    assert roles == expected_roles(
        value_set.release,
        value_set.worker_namespace,
        rbac=value_set.values["rbacEnabled"],
    )


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_no_role_reads_secrets_or_uses_wildcards(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    release = VALUE_SETS[set_name].release

    assert not [doc["kind"] for doc in rendered.docs if doc["kind"].startswith("Cluster")]
    for role in rendered.of_kind("Role"):
        for rule in role["rules"]:
            granted = {*rule.get("resources", []), *rule.get("verbs", []), *rule.get("apiGroups", [])}
            assert "*" not in granted, role["metadata"]["name"]
            assert not {"pods/exec", "pods/attach", "serviceaccounts/token"} & granted
            if "secrets" in rule["resources"]:
                # Writing the one keys Secret; never reading or creating any secret.
                assert rule["verbs"] == ["patch"] and rule["resourceNames"] == [f"{release}-worker-keys"]


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_roles_are_bound_only_to_this_release(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS[set_name])
    release = VALUE_SETS[set_name].release
    own_accounts = {(NAMESPACE, release)}

    for binding in rendered.of_kind("RoleBinding"):
        subjects = {(s["kind"], s["namespace"], s["name"]) for s in binding["subjects"]}
        assert subjects <= {("ServiceAccount", *account) for account in own_accounts}, binding["metadata"]["name"]
        assert binding["roleRef"]["kind"] == "Role"


# --- service account tokens ----------------------------------------------------------------------


@pytest.mark.parametrize("set_name", sorted(VALUE_SETS))
@pytest.mark.parametrize("helm", HELM_VERSIONS)
def test_token_mounted_only_where_the_api_is_used(chart: HelmRenderer, helm: str, set_name: str) -> None:
    rendered = chart.render_set(helm, VALUE_SETS[set_name])

    # Accounts never hand out their token by default (the workers' account included)...
    for account in rendered.of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False, account["metadata"]["name"]
    # ...only the endpoint (it starts the worker pods) asks for it.
    for workload in rendered.workloads():
        assert pod_spec(workload)["automountServiceAccountToken"] is True, workload["kind"]
    assert {w["kind"] for w in rendered.workloads()} == {"Deployment"}
