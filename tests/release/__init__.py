"""The release rehearsal (`make release-rehearsal`): what a tag publishes, installed from registries of our own."""
