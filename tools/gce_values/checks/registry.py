"""Every check kind, in the order a validation runs them, each with the rule ids it reports.

Post-processing and tests key on these ids, never on message text. Schema violations also use the
JSON Schema keyword they break as their id, and x-rules the ids the schema gives them.
"""

from __future__ import annotations

from collections.abc import Callable

from gce_values.checks import (
    credsfile,
    exampleuuid,
    helm3limits,
    numbertext,
    oldcharts,
    schemacheck,
    secret,
    slatequotes,
    xrules,
    yamlnotes,
    yamlread,
)
from gce_values.checks.context import Run
from gce_values.records import Record


class Check(Record):
    name: str
    rules: tuple[str, ...]
    run: Callable[[Run], None]


# Credentials come before the schema: a value found to be one is then shown redacted.
CHECKS = tuple(
    Check(module.__name__.rsplit(".", 1)[-1], module.RULES, module.check)
    for module in (
        yamlread,
        yamlnotes,
        slatequotes,
        numbertext,
        secret,
        schemacheck,
        helm3limits,
        xrules,
        oldcharts,
        exampleuuid,
        credsfile,
    )
)
