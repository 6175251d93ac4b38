"""Read YAML values as Helm does (with positions), and merge files and --set expressions as Helm does."""
