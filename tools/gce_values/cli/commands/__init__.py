"""The subcommands of `gce-values`: their registry and the exit codes they share.

Each command is a module here, imported only when it runs (see gce_values.cli.group).
"""

# name -> (module under gce_values.cli.commands, attribute, one-line help shown by --help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "completion": ("completion", "completion", "Print a shell completion script (bash, zsh or fish)."),
    "doctor": ("doctor", "doctor", "Before a plain-Helm install, check what only the cluster knows (needs kubectl)."),
    "init": ("init", "init", "Write a new, commented conf with a fresh endpoint UUID."),
    "install": ("install", "install", "Validate a conf, then install it with slate (or helm)."),
    "migrate": ("migrate", "migrate", "Convert a conf for a predecessor chart, reporting every change."),
    "render": ("render", "render", "Print the merged, validated conf, or helm's manifests of it."),
    "schema": ("schema_cmd", "schema", "Generate or check the files derived from the values schema."),
    "secret": ("secret", "secret", "Write or check the credentials env file (client_creds.env)."),
    "smoke": ("smoke", "smoke", "Run hello_world on a live endpoint and wait for its result."),
    "validate": ("validate", "validate", "Check confs against the chart's schema and rules, as Helm reads them."),
}

# Commands for maintainers of this project, left out of the list `gce-values --help` shows.
MAINTAINER_COMMANDS = frozenset({"schema"})

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (the conf is valid)
  1  the conf is invalid (or, with --strict, has warnings)
  2  usage error or unreadable input (missing file, not YAML, not a mapping)
  3  internal error (a bug: please report it)
  4  doctor: kubectl could not ask the cluster
  130 interrupted (Ctrl-C)
"""
