"""The chart's engine: GlobusComputeEngine with its workers' port range settable from YAML.

The endpoint builds the engine of the user config template from YAML, which has lists but no tuples,
and Parsl's HighThroughputExecutor accepts ``worker_port_range`` only as a tuple. The chart pins
that range so that the endpoint's NetworkPolicy can admit the workers to exactly those ports; this
engine turns the list the template gives into the tuple Parsl wants and changes nothing else. The
chart ships this file beside sitecustomize.py, which makes it visible to the endpoint as
``globus_compute_endpoint.engines.ReleaseComputeEngine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from globus_compute_endpoint.engines.globus_compute import GlobusComputeEngine


class ReleaseComputeEngine(GlobusComputeEngine):  # type: ignore[misc]
    """GlobusComputeEngine whose ``worker_port_range`` may be a list of two ports (first, end)."""

    def __init__(self, *args: Any, worker_port_range: Sequence[int] | None = None, **kwargs: Any) -> None:
        if worker_port_range is not None:
            first, end = worker_port_range
            kwargs["worker_port_range"] = (int(first), int(end))
        super().__init__(*args, **kwargs)
