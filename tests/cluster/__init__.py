"""A real Kubernetes control plane and node, built from pinned Go modules and started by the tests."""
