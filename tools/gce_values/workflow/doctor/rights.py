"""May the installing user create what the chart renders? Asked with `kubectl auth can-i`.

Helm reads each object before it creates it, so both verbs are asked, per kind and namespace. A
Role is created only by someone who holds every right it grants (or may escalate roles), so its
rules are asked too: RBAC refuses a Role that gives more than its creator has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gce_values.report import Problem
from gce_values.workflow.doctor import findings
from gce_values.workflow.kubectl import ClusterUnreachable, Kubectl

INSTALL_VERBS = ("get", "create")
# The chart's cluster-scoped kinds (workerAdmissionPolicy).
CLUSTER_KINDS = frozenset({"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"})
RBAC_GROUP = "rbac.authorization.k8s.io"
_CONCURRENT_CALLS = 4
# The chart's objects that exist only with rbacEnabled (an administrator can prepare the account instead).
_RBAC_KINDS = frozenset({"ServiceAccount", "Role", "RoleBinding"})


@dataclass(frozen=True)
class Question:
    """One `kubectl auth can-i` question, and the chart object that makes it worth asking."""

    verb: str
    resource: str
    namespace: str
    name: str
    because: str
    grants: bool = False  # asked because the chart's Role grants it (RBAC: only who holds a right may grant it)


def resource_of(kind: str, api_version: str) -> str:
    """kubectl's TYPE.GROUP for a kind: plural, lowercase, with the API group (none for the core group)."""
    lowered = kind.lower()
    plural = lowered[:-1] + "ies" if lowered.endswith("y") else lowered + "s"
    group = api_version.rpartition("/")[0]
    return f"{plural}.{group}" if group else plural


def questions(objects: Iterable[Mapping[str, Any]], namespace: str) -> list[Question]:
    """What to ask for the rendered objects: get and create of each kind in each namespace (cluster-wide
    for cluster-scoped kinds), and each right a Role grants, in its namespace."""
    asked: dict[tuple[str, str, str, str], Question] = {}
    for obj in objects:
        kind, metadata = str(obj.get("kind")), obj.get("metadata") or {}
        resource = resource_of(kind, str(obj.get("apiVersion", "")))
        where = "" if kind in CLUSTER_KINDS else str(metadata.get("namespace") or namespace)
        because = f"the chart's {kind} {metadata.get('name')}"
        for verb in INSTALL_VERBS:
            asked.setdefault((verb, resource, where, ""), Question(verb, resource, where, "", because))
        if kind == "Role":
            for question in _granted(obj, where or namespace, because):
                asked.setdefault((question.verb, question.resource, question.namespace, question.name), question)
    return list(asked.values())


def _granted(role: Mapping[str, Any], namespace: str, because: str) -> Iterable[Question]:
    for rule in role.get("rules") or []:
        for group in rule.get("apiGroups") or [""]:
            for plural in rule.get("resources") or []:
                resource = f"{plural}.{group}" if group else plural
                for verb in rule.get("verbs") or []:
                    for name in rule.get("resourceNames") or [""]:
                        yield Question(verb, resource, namespace, name, f"{because} grants it", grants=True)


def _can_i(kubectl: Kubectl, question: Question) -> bool:
    target = f"{question.resource}/{question.name}" if question.name else question.resource
    scope = [f"--namespace={question.namespace}"] if question.namespace else ["--all-namespaces"]
    answer = kubectl.ask("auth", "can-i", question.verb, target, *scope)
    said = answer.stdout.strip().split()[:1]
    if said not in (["yes"], ["no"]):
        raise ClusterUnreachable(f"kubectl cannot ask the cluster: {answer.first_error}")
    return said == ["yes"]


def check(kubectl: Kubectl, source: str, objects: list[dict[str, Any]], namespace: str) -> list[Problem]:
    """One finding per right the user lacks: to install an object, or to grant what the chart's Role grants."""
    asked = questions(objects, namespace)
    escalate = {q.namespace for q in asked if q.grants}
    with ThreadPoolExecutor(max_workers=_CONCURRENT_CALLS) as pool:
        answers = list(pool.map(lambda q: _can_i(kubectl, q), asked))
        may_escalate = dict(
            zip(
                sorted(escalate),
                pool.map(
                    lambda ns: _can_i(kubectl, Question("escalate", f"roles.{RBAC_GROUP}", ns, "", "")),
                    sorted(escalate),
                ),
                strict=True,
            )
        )
    problems = []
    for question, allowed in zip(asked, answers, strict=True):
        if allowed or (question.grants and may_escalate.get(question.namespace)):
            continue
        problems.append(_finding(question, source))
    return problems


def _finding(question: Question, source: str) -> Problem:
    target = f"{question.resource} {question.name}" if question.name else question.resource
    where = f"in namespace {question.namespace}" if question.namespace else "cluster-wide"
    if question.grants:
        message = f"you may not {question.verb} {target} {where}, so you may not create a Role that grants it"
        message += f" ({question.because})"
    else:
        message = f"you may not {question.verb} {target} {where} ({question.because})"
    rbac = any(question.because.startswith(f"the chart's {kind} ") for kind in _RBAC_KINDS) or question.grants
    if rbac:
        fix = (
            "ask the namespace's administrator for that right, or to prepare the endpoint's account: then set "
            "rbacEnabled: false and serviceAccountName"
        )
        return findings.finding(source, "/rbacEnabled", message, fix, findings.NOT_ALLOWED)
    if question.resource.startswith("validatingadmissionpolic"):
        fix = "cluster administrators only: ask one to install, or set workerAdmissionPolicy.enabled: false"
        return findings.finding(source, "/workerAdmissionPolicy/enabled", message, fix, findings.NOT_ALLOWED)
    scope = question.namespace or "the cluster"
    fix = f"ask the administrator of {scope} for the right to {question.verb} {question.resource}"
    return findings.finding(source, "", message, fix, findings.NOT_ALLOWED)
