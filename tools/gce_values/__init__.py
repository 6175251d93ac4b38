"""gce-values: create, validate and render confs for the globus-compute-endpoint Helm chart.

The package is built in layers, lowest first (LAYERS). A module may import from its own layer and
the layers below it, never from one above, not even inside a function: tests/test_layout.py checks
every import statement against this order, so a loop between packages cannot come back. A conf
travels sources -> helmyaml -> schema -> checks, and validator turns what the checks found into
report.Problem lines; report sits low because every layer that finds a problem makes one.
"""

__version__ = "0.1.0"

# Each layer names subpackages or top-level modules of gce_values ("__init__" is this file).
LAYERS: tuple[tuple[str, ...], ...] = (
    # Plain data and small helpers with no dependency outside this group.
    (
        "__init__",
        "records",
        "printable",
        "errors",
        "pointer",
        "jsontext",
        "pyyaml",
        "resources",
        "versions",
        "redact",
        "predecessors",
    ),
    ("sources",),  # read a path or stdin: size caps, BOM, decoding
    ("report",),  # Problem, its severities and the reporters that print problems
    ("helmyaml",),  # YAML read as Helm reads it, with positions; -f merging; the --set grammar
    ("schema",),  # the annotated schema, its quick checker and the jsonschema reference
    ("checks",),  # one module per check kind and their registry; the creds-file and secret scanners
    ("validator", "confdetect"),  # validate_sources: sources -> merged values -> problems; "is this a conf?"
    ("workflow",),  # what commands do besides validating: conf files, helm, slate, migration, builds
    ("cli",),  # the click group and commands (the only layer that imports click) and the fast path
)
