"""What the commands do besides validating: conf files, helm, slate, migration, generated files."""
