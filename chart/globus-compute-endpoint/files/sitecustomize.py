"""Make the chart's worker provider and engine visible where the endpoint looks them up.

The endpoint builds the provider and the engine named in the user config template with
``getattr(parsl.providers, type)`` and ``getattr(globus_compute_endpoint.engines, type)``
(globus_compute_endpoint/endpoint/config/dispatch.py), so the chart's own must be attributes of
those modules. The chart mounts this file, gce_release_provider.py and gce_release_engine.py into
the endpoint container and puts their directory on PYTHONPATH; Python imports ``sitecustomize`` at
start-up in every process there, including the user endpoint processes the endpoint starts, which
load the template.

Nothing of Parsl or the endpoint is imported here: each class is added when (and only if) a process
imports its module, so other Python programs in the container start as fast as before.

It also keeps the endpoint's last log lines: a process that holds the entrypoint's engine-log FIFO
(descriptor GCE_LOG_RELAY_FD, which the endpoint inherits) waits at its exit until the relay has
copied what is left in the FIFO, since the kernel stops the relay as soon as the endpoint, the
pod's PID 1, has exited (entrypoint.sh, relay_engine_log).
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import os
import stat
import sys
import time
from collections.abc import Sequence
from types import ModuleType

PROVIDER = "ReleaseKubernetesProvider"
ENGINE = "ReleaseComputeEngine"


class _RegisteringLoader(importlib.abc.Loader):
    """Runs a module's own loader, then adds the chart's class to the module."""

    def __init__(self, loader: importlib.abc.Loader, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if self._name == "parsl.providers":
            from gce_release_provider import ReleaseKubernetesProvider

            setattr(module, PROVIDER, ReleaseKubernetesProvider)
        else:
            # Its own file: the engine module imports parsl.providers, whose loading imports the provider.
            from gce_release_engine import ReleaseComputeEngine

            setattr(module, ENGINE, ReleaseComputeEngine)


class _ModulesFinder(importlib.abc.MetaPathFinder):
    """Finds parsl.providers and globus_compute_endpoint.engines as usual and wraps their loaders;
    steps aside for every other module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in {"parsl.providers", "globus_compute_endpoint.engines"}:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RegisteringLoader(spec.loader, fullname)
        return spec


# How long a process waits at its exit for the relay to catch up, and then for its last write.
RELAY_CATCH_UP_SECONDS = 2.0
RELAY_WRITE_SECONDS = 0.1


def _relay_fd() -> int | None:
    """The inherited descriptor of the engine-log FIFO, if this process holds it."""
    fd_text, fifo = os.environ.get("GCE_LOG_RELAY_FD", ""), os.environ.get("GLOBUS_COMPUTE_LOG_PATH", "")
    if not fd_text.isdigit() or not fifo:
        return None
    try:
        held, named = os.fstat(int(fd_text)), os.stat(fifo)
    except OSError:
        return None
    if not stat.S_ISFIFO(held.st_mode) or (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
        return None
    return int(fd_text)


def _wait_for_log_relay(fd: int) -> None:
    """Wait (bounded) until nothing is left unread in the FIFO, then for the relay's last write."""
    import array
    import fcntl
    import termios

    unread = array.array("i", [0])
    deadline = time.monotonic() + RELAY_CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        try:
            fcntl.ioctl(fd, termios.FIONREAD, unread)
        except OSError:
            return
        if unread[0] == 0:
            break
        time.sleep(0.02)
    time.sleep(RELAY_WRITE_SECONDS)


sys.meta_path.insert(0, _ModulesFinder())
_held = _relay_fd()
if _held is not None:
    atexit.register(_wait_for_log_relay, _held)
