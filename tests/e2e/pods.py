"""Reading a pod's status: has its container exited, is it stuck, is it ready.

Live tests wait on pods; these functions turn the pod JSON into the answers those waits need and
into one-line summaries for timeout messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Obj = Mapping[str, Any]

# Waiting reasons that do not resolve by themselves: waiting out the timeout would only hide them.
STUCK_REASONS = frozenset({"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})


@dataclass(frozen=True)
class ContainerExit:
    """How a container's latest run ended; ``previous`` when it has already been restarted since."""

    exit_code: int
    reason: str
    message: str
    previous: bool


def container_status(pod: Obj, container: str) -> Obj | None:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return next((status for status in statuses if status.get("name") == container), None)


def container_exit(pod: Obj, container: str) -> ContainerExit | None:
    """The container's latest termination (current state first, then the last one), or None."""
    status = container_status(pod, container)
    if status is None:
        return None
    for key, previous in (("state", False), ("lastState", True)):
        terminated = (status.get(key) or {}).get("terminated")
        if terminated:
            return ContainerExit(
                exit_code=int(terminated.get("exitCode", -1)),
                reason=terminated.get("reason", ""),
                message=terminated.get("message", ""),
                previous=previous,
            )
    return None


def stuck_reason(pod: Obj) -> str | None:
    """Why a container of the pod cannot start without outside help (e.g. its image cannot be pulled)."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    for status in statuses:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in STUCK_REASONS:
            return f"container {status.get('name')}: {waiting['reason']}: {waiting.get('message', '')}".strip()
    return None


def is_ready(pod: Obj) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(cond.get("type") == "Ready" and cond.get("status") == "True" for cond in conditions)


def summary(pod: Obj) -> str:
    """One line: the pod's phase and each container's state, for messages when a wait runs out."""
    status = pod.get("status", {})
    parts = [f"pod {pod['metadata']['name']}: phase {status.get('phase', 'unknown')}"]
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        name = next(iter(state), "unknown")
        detail = (state.get(name) or {}).get("reason", "")
        parts.append(f"{container.get('name')} {name}{' (' + detail + ')' if detail else ''}")
    return "; ".join(parts)
