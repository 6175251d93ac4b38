"""What the chart's service accounts may and may not do, and how to ask the cluster about it.

One table (``service_account_checks``) states the intended rights. The live tests ask the cluster
each question with `kubectl auth can-i --as=...`; the unit tests answer the same questions from the
chart's rendered Roles and RoleBindings, so the table cannot drift from the chart unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Obj = Mapping[str, Any]


class CanIError(RuntimeError):
    """`kubectl auth can-i` gave no yes/no answer (an error, or a resource type the server does not know)."""


@dataclass(frozen=True)
class AccessCheck:
    """One question: may this service account do this, and what the answer should be."""

    sa_namespace: str
    sa_name: str
    verb: str
    resource: str
    namespace: str
    expected: bool
    group: str = ""
    subresource: str = ""
    name: str = ""

    @property
    def user(self) -> str:
        """The user name Kubernetes gives the service account (what `--as` takes)."""
        return f"system:serviceaccount:{self.sa_namespace}:{self.sa_name}"

    @property
    def resource_arg(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def kubectl_args(self) -> list[str]:
        what = f"{self.resource_arg}/{self.name}" if self.name else self.resource_arg
        args = ["auth", "can-i", self.verb, what, "--namespace", self.namespace, f"--as={self.user}"]
        if self.subresource:
            args.append(f"--subresource={self.subresource}")
        return args

    def __str__(self) -> str:
        what = self.resource_arg + (f"/{self.subresource}" if self.subresource else "")
        what += f" {self.name!r}" if self.name else ""
        should = "may" if self.expected else "may not"
        return f"{self.sa_namespace}/{self.sa_name} {should} {self.verb} {what} in namespace {self.namespace}"


def parse_can_i(returncode: int, stdout: str, stderr: str) -> bool:
    """The answer of `kubectl auth can-i`: it prints "yes" (exit 0) or "no[ - reason]" (exit 1).

    Anything else is an error, not a "no": a failed impersonation or a misspelt resource would
    otherwise pass every check that expects a refusal.
    """
    if "doesn't have a resource type" in stderr:
        raise CanIError(f"kubectl auth can-i: {stderr.strip()}")
    answer = stdout.strip().split(" ", 1)[0] if stdout.strip() else ""
    if answer == "yes" and returncode == 0:
        return True
    if answer == "no" and returncode == 1:
        return False
    raise CanIError(f"kubectl auth can-i gave no yes/no answer (exit {returncode}): {stderr.strip() or stdout.strip()}")


def other_namespace(*taken: str) -> str:
    """A namespace the release has nothing to do with (it need not exist for `auth can-i`)."""
    return next(ns for ns in ("default", "kube-system", "kube-public") if ns not in taken)


def service_account_checks(
    release_namespace: str, endpoint_sa: str, worker_namespace: str, worker_sa: str, owner: str, keys: str
) -> list[AccessCheck]:
    """The intended rights: the endpoint creates, reads and deletes pods in the worker namespace
    (Parsl's KubernetesProvider addresses its pods by name, it never lists or watches), reads the
    release's owner ConfigMap and patches the workers' keys Secret (both by name), and can do nothing
    else; worker pods, which run users' functions, have no rights at all."""
    elsewhere = sorted({release_namespace, other_namespace(release_namespace, worker_namespace)} - {worker_namespace})

    def endpoint(
        verb: str,
        resource: str,
        namespace: str,
        expected: bool,
        *,
        group: str = "",
        subresource: str = "",
        name: str = "",
    ) -> AccessCheck:
        return AccessCheck(
            release_namespace, endpoint_sa, verb, resource, namespace, expected, group, subresource, name
        )

    def worker(verb: str, resource: str, namespace: str) -> AccessCheck:
        return AccessCheck(worker_namespace, worker_sa, verb, resource, namespace, False)

    return [
        *(endpoint(verb, "pods", worker_namespace, True) for verb in ("create", "get", "delete")),
        *(endpoint(verb, "pods", worker_namespace, False) for verb in ("list", "watch", "patch")),
        endpoint("create", "pods", worker_namespace, False, subresource="exec"),
        *(endpoint("create", "pods", namespace, False) for namespace in elsewhere),
        endpoint("get", "configmaps", worker_namespace, True, name=owner),
        endpoint("patch", "secrets", worker_namespace, True, name=keys),
        endpoint("get", "secrets", worker_namespace, False, name=keys),
        endpoint("patch", "secrets", worker_namespace, False, name=f"{keys}-other"),
        endpoint("create", "secrets", worker_namespace, False),
        endpoint("get", "secrets", release_namespace, False),
        endpoint("list", "secrets", worker_namespace, False),
        endpoint("update", "configmaps", release_namespace, False),
        endpoint("create", "deployments", release_namespace, False, group="apps"),
        endpoint("create", "rolebindings", worker_namespace, False, group="rbac.authorization.k8s.io"),
        worker("list", "pods", worker_namespace),
        worker("create", "pods", worker_namespace),
        worker("get", "secrets", worker_namespace),
    ]


def _rule_allows(rule: Obj, check: AccessCheck) -> bool:
    resource = f"{check.resource}/{check.subresource}" if check.subresource else check.resource

    def matches(values: Iterable[str], wanted: str) -> bool:
        return "*" in values or wanted in values

    names = rule.get("resourceNames") or []
    return (
        (not names or (bool(check.name) and check.name in names))
        and matches(rule.get("apiGroups") or [], check.group)
        and matches(rule.get("resources") or [], resource)
        and matches(rule.get("verbs") or [], check.verb)
    )


def rendered_rbac_allows(objects: Iterable[Obj], check: AccessCheck) -> bool:
    """Whether the given Roles and RoleBindings grant the check (namespaced RBAC only, as the chart uses).

    Rules limited to resourceNames never grant a request without a name, which is all these checks make.
    """
    objects = list(objects)
    roles = {
        (obj["metadata"]["namespace"], obj["metadata"]["name"]): obj.get("rules") or []
        for obj in objects
        if obj["kind"] == "Role"
    }
    for binding in objects:
        if binding["kind"] != "RoleBinding" or binding["metadata"]["namespace"] != check.namespace:
            continue
        if binding["roleRef"]["kind"] != "Role":
            raise ValueError(f"RoleBinding {binding['metadata']['name']} refers to a {binding['roleRef']['kind']}")
        subjects = binding.get("subjects") or []
        if not any(
            subject.get("kind") == "ServiceAccount"
            and subject.get("name") == check.sa_name
            # A service account subject without a namespace is the binding's own namespace's.
            and subject.get("namespace", check.namespace) == check.sa_namespace
            for subject in subjects
        ):
            continue
        rules = roles.get((check.namespace, binding["roleRef"]["name"]), [])
        if any(_rule_allows(rule, check) for rule in rules):
            return True
    return False
