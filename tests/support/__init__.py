"""Helpers shared by the tests: repository paths and the seed conf, the CLI runner, Helm renders and probes."""
