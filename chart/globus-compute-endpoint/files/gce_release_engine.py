"""The chart's engine: GlobusComputeEngine with its workers' port range settable from YAML, and a
block error policy under which one lost worker pod does not end the engine.

- The endpoint builds the engine of the user config template from YAML, which has lists but no
  tuples, and Parsl's HighThroughputExecutor accepts ``worker_port_range`` only as a tuple. The chart
  pins that range so that the endpoint's NetworkPolicy can admit the workers to exactly those ports;
  this engine turns the list the template gives into the tuple Parsl wants.
- Parsl's default block error handler fails every task and stops the engine as soon as every block
  it has started so far has failed or gone missing: with the usual initBlocks of 0 that is the first
  worker pod the cluster deletes, evicts or loses with its node, before any replacement could start.
  This engine uses Parsl's windowed handler instead, which does so only when the last three blocks
  all failed (a worker image that does not pull, a refused pod create), and otherwise lets the
  engine's scaling start a replacement.

The chart ships this file beside sitecustomize.py, which makes it visible to the endpoint as
``globus_compute_endpoint.engines.ReleaseComputeEngine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from globus_compute_endpoint.engines.globus_compute import GlobusComputeEngine
from parsl.jobs.error_handlers import windowed_error_handler


class ReleaseComputeEngine(GlobusComputeEngine):  # type: ignore[misc]
    """GlobusComputeEngine with a list for ``worker_port_range`` and the windowed block error handler."""

    def __init__(self, *args: Any, worker_port_range: Sequence[int] | None = None, **kwargs: Any) -> None:
        if worker_port_range is not None:
            first, end = worker_port_range
            kwargs["worker_port_range"] = (int(first), int(end))
        kwargs.setdefault("block_error_handler", windowed_error_handler)
        super().__init__(*args, **kwargs)
