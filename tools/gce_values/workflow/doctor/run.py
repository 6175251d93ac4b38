"""Every doctor check, in the order an install meets them: namespaces, the objects the conf names,
the pods' admission, the user's rights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gce_values.report import Problem
from gce_values.workflow import helm
from gce_values.workflow.doctor import admission, findings, objects, podshapes, references, rights
from gce_values.workflow.kubectl import ClusterUnreachable, Kubectl


def missing_namespaces(kubectl: Kubectl, source: str, values: Mapping[str, Any], namespace: str) -> list[Problem]:
    """A finding for each namespace of the release that does not exist (one the user may not read is let pass).

    The first question to the cluster: any answer but an object, nothing or a refusal means kubectl
    cannot ask it at all (a kubeconfig it cannot read, say), and nothing else would be worth asking.
    """
    problems = []
    endpoint_ns, worker_ns = references.namespaces(values, namespace)
    for name, pointer in sorted(
        {(endpoint_ns, ""), (worker_ns, "/workerNamespace" if worker_ns != endpoint_ns else "")}
    ):
        answer = kubectl.ask("get", "namespace", name, "--ignore-not-found", "--output=name")
        if answer.code != 0 and "(Forbidden)" not in answer.stderr:
            raise ClusterUnreachable(f"kubectl cannot ask the cluster: {answer.first_error}")
        if answer.code == 0 and not answer.stdout.strip():
            message = f"namespace {name} does not exist"
            fix = f"kubectl create namespace {name} (or ask the cluster's administrator)"
            problems.append(findings.finding(source, pointer, message, fix, findings.MISSING_OBJECT))
    return problems


def diagnose(
    kubectl: Kubectl, helm_path: str, source: str, values: dict[str, Any], namespace: str, release: str
) -> list[Problem]:
    """All findings for installing ``values`` as ``release`` into ``namespace``; nothing is changed.

    When a namespace is missing, nothing else can be asked of it, so that is the only finding.
    """
    problems = missing_namespaces(kubectl, source, values, namespace)
    if problems:
        return problems
    problems = objects.check(kubectl, source, values, namespace)
    rendered = podshapes.documents(helm.template(helm_path, release, namespace, values))
    problems += admission.check(kubectl, source, rendered)
    problems += rights.check(kubectl, source, rendered, namespace)
    return problems
