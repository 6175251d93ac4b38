"""Make the chart's worker provider visible where the endpoint looks providers up.

The endpoint builds the provider named in the user config template with
``getattr(parsl.providers, type)`` (globus_compute_endpoint/endpoint/config/dispatch.py), so a
provider of the chart's own must be an attribute of ``parsl.providers``. The chart mounts this file
and gce_release_provider.py into the endpoint container and puts their directory on PYTHONPATH;
Python imports ``sitecustomize`` at start-up in every process there, including the user endpoint
processes the endpoint starts, which load the template.

Nothing is imported here: the provider is added when (and only if) a process imports
``parsl.providers``, so other Python programs in the container start as fast as before.

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


class _RegisteringLoader(importlib.abc.Loader):
    """Runs parsl.providers' own loader, then adds the chart's provider to the module."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        from gce_release_provider import ReleaseKubernetesProvider

        setattr(module, PROVIDER, ReleaseKubernetesProvider)


class _ParslProvidersFinder(importlib.abc.MetaPathFinder):
    """Finds parsl.providers as usual and wraps its loader; steps aside for every other module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "parsl.providers":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _RegisteringLoader(spec.loader)
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


sys.meta_path.insert(0, _ParslProvidersFinder())
_held = _relay_fd()
if _held is not None:
    atexit.register(_wait_for_log_relay, _held)
