"""Do the objects a conf names exist, with the keys read from them? Key names only, never values.

kubectl prints the names of an object's keys through a Go template, so no value of a Secret ever
reaches this process, let alone its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gce_values.report import Problem
from gce_values.workflow.doctor import findings
from gce_values.workflow.doctor.references import (
    ACCOUNT,
    CLAIM,
    CONFIG_MAP,
    RESOURCE,
    SECRET,
    Reference,
    credential_keys,
    references,
)
from gce_values.workflow.kubectl import Kubectl

# Prints a line "exists", then one line per key name of .data and .binaryData (values are never printed).
_KEY_NAMES = (
    '{{"exists\\n"}}{{range $k, $v := (index . "data")}}{{$k}}{{"\\n"}}{{end}}'
    '{{range $k, $v := (index . "binaryData")}}{{$k}}{{"\\n"}}{{end}}'
)

Found = tuple[bool, frozenset[str]] | str  # (exists, key names), or why it could not be read


def look_up(kubectl: Kubectl, kind: str, name: str, namespace: str) -> Found:
    """Whether the object exists and its key names; or kubectl's reason when it may not be read."""
    answer = kubectl.ask(
        "get", RESOURCE[kind], name, f"--namespace={namespace}", "--ignore-not-found", "--output=go-template",
        f"--template={_KEY_NAMES}",
    )  # fmt: skip
    if answer.code != 0:
        return answer.first_error
    lines = answer.stdout.splitlines()
    return (bool(lines) and lines[0] == "exists", frozenset(lines[1:]))


def check(kubectl: Kubectl, source: str, values: Mapping[str, Any], namespace: str) -> list[Problem]:
    """One finding per missing object or key the conf names (the credentials Secret's keys first)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], Found] = {}
    for ref in references(values, namespace):
        where = (ref.kind, ref.namespace, ref.name)
        if where not in seen:
            seen[where] = look_up(kubectl, ref.kind, ref.name, ref.namespace)
        problems.extend(_judge(ref, seen[where], source, values))
    return problems


def _judge(ref: Reference, found: Found, source: str, values: Mapping[str, Any]) -> list[Problem]:
    what = f"{ref.kind} {ref.namespace}/{ref.name} ({ref.used_by})"
    if isinstance(found, str):
        message = f"cannot check {what}: {found}"
        fix = f"ask for the right to get {RESOURCE[ref.kind]}s in namespace {ref.namespace}, or check it by hand"
        return [findings.finding(source, ref.pointer, message, fix, findings.NOT_CHECKED, warning=True)]
    exists, keys = found
    if not exists:
        message = f"{what} does not exist" + (" (it is marked optional)" if ref.optional else "")
        return [
            findings.finding(
                source, ref.pointer, message, _create_fix(ref, values), findings.MISSING_OBJECT, warning=ref.optional
            )
        ]
    if ref.pointer == "/secrets":
        return _credential_problems(ref, keys, source, values)
    return [
        findings.finding(
            source,
            ref.pointer,
            f"{what} has no key {key}; its keys: {_listed(keys)}",
            f"add the key {key} to {ref.kind} {ref.name}, or name a key it has at {ref.pointer}",
            findings.MISSING_KEY,
            warning=ref.optional,
        )
        for key in ref.keys
        if key not in keys
    ]


def _credential_problems(ref: Reference, keys: frozenset[str], source: str, values: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for what, names in credential_keys(values):
        if not keys.intersection(names):
            message = (
                f"credentials Secret {ref.namespace}/{ref.name} has no key for {what} ({' or '.join(names)}); "
                f"its keys: {_listed(keys)}"
            )
            fix = "recreate it: " + _credentials_command(ref, values)
            problems.append(findings.finding(source, ref.pointer, message, fix, findings.CREDENTIAL_KEYS))
    return problems


def _listed(keys: frozenset[str]) -> str:
    return ", ".join(sorted(keys)) if keys else "none"


def _credentials_command(ref: Reference, values: Mapping[str, Any]) -> str:
    if values.get("useUserCredentials") is True:
        source = "--from-file=storage.db=$HOME/.globus_compute/storage.db"
    else:
        source = "--from-env-file=client_creds.env (`gce-values secret create` writes that file)"
    return f"kubectl create secret generic {ref.name} --namespace={ref.namespace} {source}"


def _create_fix(ref: Reference, values: Mapping[str, Any]) -> str:
    """The command (or step) that makes the missing object, or the other way out: change the conf."""
    where = f"--namespace={ref.namespace}"
    if ref.pointer == "/secrets":
        return _credentials_command(ref, values)
    if ref.pointer == "/imagePullSecret":
        return (
            f"kubectl create secret docker-registry {ref.name} {where} --docker-server=REGISTRY "
            "--docker-username=USER --docker-password=PASSWORD"
        )
    other_way = f", or change {ref.pointer}"
    if ref.kind == ACCOUNT:
        return f"kubectl create serviceaccount {ref.name} {where}{other_way}"
    if ref.kind == CLAIM:
        return f"create the PersistentVolumeClaim {ref.name} (kubectl apply {where} -f claim.yaml){other_way}"
    keys = ref.keys or ("KEY",)
    literal = " ".join(f"--from-file={key}=FILE" for key in keys)
    if ref.kind == CONFIG_MAP:
        return f"kubectl create configmap {ref.name} {where} {literal}{other_way}"
    assert ref.kind == SECRET
    return f"kubectl create secret generic {ref.name} {where} {literal}{other_way}"
