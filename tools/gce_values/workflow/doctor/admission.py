"""Would the API server admit the release's pods? Asked with a server-side dry run of each pod.

A dry run goes through every admission step, Pod Security admission and the cluster's
ValidatingAdmissionPolicies among them, and stores nothing. A Deployment's pod template gets only
warnings from Pod Security admission, so the endpoint's pod is sent as a Pod of its own, in the
release's namespace; a worker pod, built by the chart's provider, in the workers' namespace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gce_values.report import Problem
from gce_values.workflow.doctor import findings, podshapes
from gce_values.workflow.kubectl import Answer, Kubectl

# Warnings about what the chart, not the conf, decides: the worker pods' names are Parsl's
# (`<release>-worker.<job id>`), whose dot the API server warns about for every worker pod.
CHART_NAMED = "metadata.name:"


def check(kubectl: Kubectl, source: str, objects: list[dict[str, Any]]) -> list[Problem]:
    """One finding per pod the API server refuses, and one per warning it gives."""
    problems: list[Problem] = []
    builders: list[tuple[str, str, Callable[[list[dict[str, Any]]], dict[str, Any]]]] = [
        ("the endpoint pod", "", podshapes.endpoint_pod),
        ("a worker pod", "/workerNamespace", podshapes.worker_pod),
    ]
    for what, pointer, build in builders:
        try:
            pod = build(objects)
        except podshapes.ShapeUnavailable as exc:
            message = f"{what} was not sent to the API server: {exc}"
            problems.append(findings.finding(source, pointer, message, None, findings.NOT_CHECKED, warning=True))
            continue
        problems.extend(_judge(what, pointer, _dry_run(kubectl, _without_account(pod)), source))
    return problems


def _without_account(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod without its service account, which the API server would look up: the release's own does
    not exist before the install, and one the conf names is looked for by the objects check (so a
    missing one is one finding, not two). Pod Security admission does not look at it."""
    spec = {key: value for key, value in pod["spec"].items() if key != "serviceAccountName"}
    return {**pod, "spec": spec}


def _dry_run(kubectl: Kubectl, pod: dict[str, Any]) -> tuple[str, Answer]:
    namespace = pod["metadata"]["namespace"]
    answer = kubectl.ask(
        "create", "--dry-run=server", f"--namespace={namespace}", "--filename=-", "--output=name",
        stdin=json.dumps(pod),
    )  # fmt: skip
    return namespace, answer


def _judge(what: str, pointer: str, asked: tuple[str, Answer], source: str) -> list[Problem]:
    namespace, answer = asked
    problems = [
        findings.finding(
            source,
            pointer,
            f"{what} in namespace {namespace}: the API server warns: {warning}",
            None,
            findings.POD_WARNING,
            warning=True,
        )
        for warning in answer.warnings
        if not warning.startswith(CHART_NAMED)
    ]
    if answer.code == 0:
        return problems
    reason = answer.first_error
    if 'cannot create resource "pods"' in reason:
        message = f"{what} not checked in namespace {namespace}: you may not create pods there ({reason})"
        fix = "ask for the right to create pods there, or run doctor as someone who has it"
        problems.append(findings.finding(source, pointer, message, fix, findings.NOT_CHECKED, warning=True))
        return problems
    problems.append(
        findings.finding(
            source, pointer, f"{what} would be refused in namespace {namespace}: {reason}", _fix(reason, namespace),
            findings.POD_REFUSED,
        )
    )  # fmt: skip
    return problems


def _fix(reason: str, namespace: str) -> str:
    if "PodSecurity" in reason:
        return (
            f"the Pod Security level of namespace {namespace} refuses the fields named: install into a namespace "
            "whose level admits them (kubectl get namespace -L pod-security.kubernetes.io/enforce), or ask its "
            "administrator"
        )
    if "ValidatingAdmissionPolicy" in reason or "admission webhook" in reason:
        return (
            f"a policy of the cluster refuses this pod in namespace {namespace}: change what it names in the conf, "
            "or ask the cluster's administrator"
        )
    return (
        f"change the conf so the pod meets what the cluster requires in namespace {namespace}, or ask its administrator"
    )
