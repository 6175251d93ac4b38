"""What the charts this one replaces put in a conf that cannot work with endpoint 4.x.

Both `gce-values migrate` (which drops these) and `gce-values validate` (which warns about them in a
conf written by hand) read them from here, so the two know the same things.
"""

from __future__ import annotations

import re

# Endpoint images of the old charts, by repository (any registry prefix, any tag): they run an
# endpoint older than 4.x, which this chart's configuration does not fit.
OLD_ENDPOINT_IMAGES = {
    "compute/kube-endpoint": "the Globus chart's image (globus_compute_endpoint 0.7.x)",
    "funcx/kube-endpoint": "the funcX chart's image",
    "hub.opensciencegrid.org/slate/globus-compute": "the image of SLATE's globus-compute-endpoint 0.1.x chart",
}
OLD_IMAGE_TAG = "main-3.10"

_DOCKER_HUB_PREFIX = re.compile(r"^(docker\.io/|index\.docker\.io/|registry-1\.docker\.io/)")
PYTHON_IMAGE_RE = re.compile(r"^(docker\.io/)?(library/)?python(:[\w.-]+)?$")
ENDPOINT_PACKAGE_RE = re.compile(r"(globus-compute-endpoint|funcx-endpoint|funcx)\b", re.IGNORECASE)
PIP_ENDPOINT_ONLY_RE = re.compile(
    r"""^\s*(python3?\s+-m\s+)?pip3?\s+install(\s+-[-\w=]+)*\s+
        ["']?(globus-compute-endpoint|funcx-endpoint)([<>=!~]=?[\w.*]+(,[<>=!~]=?[\w.*]+)*)?["']?\s*$""",
    re.VERBOSE,
)


def old_endpoint_image(repository: str) -> str | None:
    """Which old chart's endpoint image ``repository`` is (with or without a tag), or None."""
    name = _DOCKER_HUB_PREFIX.sub("", repository.strip())
    name = re.sub(r"@sha256:[0-9a-f]+$", "", name)
    name = re.sub(r":[\w.-]+$", "", name)
    return OLD_ENDPOINT_IMAGES.get(name)


def installs_endpoint(worker_init: str) -> bool:
    """Whether a workerInit command installs globus-compute-endpoint or funcX (the worker image has it)."""
    return bool(re.search(r"\bpip3?\b|\binstall\b", worker_init)) and bool(ENDPOINT_PACKAGE_RE.search(worker_init))
