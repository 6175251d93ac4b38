"""Telling a conf for this chart from the other YAML files of a repository (`validate --only-confs`).

A pre-commit hook is handed every YAML file that changed: CI workflows, the pre-commit config itself,
Kubernetes manifests, other charts' values. A file is taken for a conf when its first lines carry
the editor schema line `init` and `migrate` write, or when one of its top-level keys is a key only
this chart (or one of its predecessors) has: endpointUUID, minBlocks, workerInit, ... Keys that any
Helm chart's values may have (image, resources, affinity, proxy, Instance, secrets, ...) do not count.
The check reads the text only; it does not parse YAML, so it costs next to nothing per file.
"""

from __future__ import annotations

import functools
import re

from gce_values import resources
from gce_values.schema import ValuesSchema

# Top-level keys of this chart's schema (and of its predecessors) that other values files use too.
GENERIC_KEYS = frozenset(
    {
        "Instance",
        "SLATE",
        "affinity",
        "cleanup",
        "endpoint",
        "image",
        "imagePullSecret",
        "instance",
        "logDir",
        "nameOverride",
        "networkPolicy",
        "nodeSelector",
        "podAnnotations",
        "podSecurity",
        "proxy",
        "rbacEnabled",
        "replicaCount",
        "resources",
        "secrets",
        "serviceAccountName",
        "tolerations",
        "workingDir",
    }
)
_MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*" + re.escape(resources.CHART_NAME), re.MULTILINE)


@functools.lru_cache(maxsize=4)
def _own_key_line(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A top-level `key:` line (plain or quoted key) for one of ``keys``."""
    names = "|".join(re.escape(key) for key in keys)
    return re.compile(rf"""^(["']?)({names})\1[ \t]*:(?:[ \t]|$)""", re.MULTILINE)


def own_keys(schema: ValuesSchema) -> tuple[str, ...]:
    """The top-level keys that mark a file as a conf for this chart or one of its predecessors."""
    known = [*schema.properties, *schema.removed()]
    return tuple(sorted({key for key in known if "." not in key and key not in GENERIC_KEYS}))


def is_conf(text: str, schema: ValuesSchema) -> bool:
    """Whether ``text`` is a conf for this chart (see the module's docstring for how that is told)."""
    head = "\n".join(text.splitlines()[:5])
    return bool(_MODELINE.search(head) or _own_key_line(own_keys(schema)).search(text))
