"""gce-values: create, validate and render confs for the globus-compute-endpoint Helm chart."""

__version__ = "0.1.0"
