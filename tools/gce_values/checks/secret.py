"""Credentials pasted into a conf (or given with --set): an error, and their text is redacted everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from gce_values.checks import secretscan
from gce_values.checks.context import Run
from gce_values.helmyaml.origins import Origin
from gce_values.records import TYPE_CHECKING
from gce_values.report import ERROR, WARNING
from gce_values.schema import formats

if TYPE_CHECKING:
    from typing import Any

SECRET = "secret"
SECRETS_UUID = "secrets-is-uuid"
SECRET_URL = "secret-in-url"
SECRET_COMMENT = "secret-in-comment"
RULES = (SECRET, SECRETS_UUID, SECRET_URL, SECRET_COMMENT)
_SECRETS = "/secrets"
_HINT = (
    "credentials belong in the SLATE secret named by `secrets` "
    "(slate secret create NAME --from-env-file FILE), never in the conf; "
    "if this file was shared or committed, rotate the credential"
)
# A worker variable can take its value from a Secret key instead, which Kubernetes resolves in the pod.
_WORKER_ENV = "/workerEnv/"
_WORKER_ENV_HINT = (
    "put it in a Secret in the worker namespace and refer to it: NAME: {secretKeyRef: {name: SECRET, key: KEY}}; "
    "if this file was shared or committed, rotate the credential"
)

_URL_HINT = (
    "if the password must reach the endpoint (a proxy, say), keep the conf private; otherwise drop "
    "user:password@ from the URL"
)


def check(run: Run) -> None:
    name = run.merged.values.get("secrets")
    if isinstance(name, str) and formats.is_uuid(name):
        where = run.facts.locate(_SECRETS, False)
        message = "holds a UUID, but it should name the SLATE secret that holds the credentials"
        hint = (
            "is this the client ID? put the client ID and secret in a SLATE secret "
            "(slate secret create globus-compute-creds --from-env-file client_creds.env) and name that here"
        )
        run.add(where, _SECRETS, WARNING, SECRETS_UUID, message, hint)
    for loaded, source in zip(run.loaded, run.inputs, strict=True):
        for finding in secretscan.scan(loaded.data, run.is_declared):
            _report(run, finding, source.origin(finding.pointer), loaded.data)
    if run.has_sets:  # credentials given with --set land in the merged values: find those there
        for finding in secretscan.scan(run.merged.values, run.is_declared):
            origin = run.merged.origins.get(finding.pointer)
            if origin is not None and origin.source.startswith("--set"):
                _report(run, finding, origin, None)


def _report(run: Run, finding: secretscan.Finding, origin: Origin, data: Any) -> None:
    where = (origin.source, origin.key_line, origin.key_column) if finding.at_key else origin[:3]
    run.facts.secret_pointers.add(finding.pointer)
    run.redact.add(finding.matched)
    place = "key" if finding.at_key else "value"
    if finding.what == secretscan.URL_PASSWORD:
        message = f"this {place} holds {finding.what}, which anyone who reads the conf can use"
        run.add(where, finding.pointer, WARNING, SECRET_URL, message, _URL_HINT, data)
        return
    hint = _WORKER_ENV_HINT if finding.pointer.startswith(_WORKER_ENV) else _HINT
    run.add(where, finding.pointer, ERROR, SECRET, f"this {place} looks like a credential: {finding.what}", hint, data)


def check_comments(run: Run, sources: Sequence[tuple[str, str]]) -> None:
    """Credentials in comments: Helm never reads them, but SLATE keeps the conf and shows it, so a warning
    at their line (a line whose value was reported already is left alone), and redacted everywhere."""
    for name, text in sources:
        if "#" not in text:
            continue
        reported = {p.line for p in run.problems if p.file == name and p.rule in (SECRET, SECRET_URL)}
        for number, line in enumerate(text.split("\n"), start=1):
            at = line.find("#")
            found = secretscan.scan_text(line[at:]) if at >= 0 and number not in reported else None
            if found:
                run.redact.add(found[1])
                message = f"this comment holds {found[0]}"
                run.add((name, number, at + 1), "", WARNING, SECRET_COMMENT, message, _HINT)
