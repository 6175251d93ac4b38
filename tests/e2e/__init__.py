"""Live-cluster tests of the chart (opt-in: `make e2e KUBECONFIG=...`) and their helpers.

The helpers that need no cluster (settings, manifests, access checks, waits) are unit-tested in
tests/test_e2e_helpers.py, so a mistake in them shows up in every `make test`, not only on a cluster.
"""
