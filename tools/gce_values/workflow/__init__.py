"""What the commands do besides validating: conf files, credentials, helm, slate, migration, generated files."""
