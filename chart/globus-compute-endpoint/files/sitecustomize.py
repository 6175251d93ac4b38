"""Make the chart's worker provider visible where the endpoint looks providers up.

The endpoint builds the provider named in the user config template with
``getattr(parsl.providers, type)`` (globus_compute_endpoint/endpoint/config/dispatch.py), so a
provider of the chart's own must be an attribute of ``parsl.providers``. The chart mounts this file
and gce_release_provider.py into the endpoint container and puts their directory on PYTHONPATH;
Python imports ``sitecustomize`` at start-up in every process there, including the user endpoint
processes the endpoint starts, which load the template.

Nothing is imported here: the provider is added when (and only if) a process imports
``parsl.providers``, so other Python programs in the container start as fast as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
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


sys.meta_path.insert(0, _ParslProvidersFinder())
