"""`validate --creds FILE`: an endpointUUID that is really the client ID of the credentials file."""

from __future__ import annotations

from gce_values.checks.context import Run
from gce_values.report import WARNING, Problem

RULES = ("creds-client-id", "endpoint-uuid-is-client-id")


def check(run: Run) -> None:
    if not run.creds_file:
        return
    from pathlib import Path

    from gce_values.checks import credentials

    creds_file = run.creds_file
    client = credentials.values_from_env_file(Path(creds_file)).get(credentials.CLIENT_ID)
    if not client:
        names = f"{credentials.CLIENT_ID} (or {credentials.LEGACY[credentials.CLIENT_ID]})"
        message = f"has no {names}, so endpointUUID cannot be compared with the client ID"
        run.problems.append(Problem(creds_file, 0, 0, "", "", WARNING, "creds-client-id", message, None))
        return
    uuid = run.merged.values.get("endpointUUID")
    if isinstance(uuid, str) and uuid.strip().lower() == client.strip().strip("\"'").lower():
        message = f"endpointUUID is the client ID from {creds_file}; the endpoint needs a UUID of its own"
        hint = "generate one: python3 -c 'import uuid; print(uuid.uuid4())' (or gce-values init)"
        where = run.facts.locate("/endpointUUID", False)
        run.add(where, "/endpointUUID", WARNING, "endpoint-uuid-is-client-id", message, hint)
