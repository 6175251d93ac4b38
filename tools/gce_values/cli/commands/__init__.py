"""One module per `gce-values` subcommand, imported lazily by gce_values.cli."""
