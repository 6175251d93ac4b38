"""What a conf kept from the old charts that cannot work here: their endpoint images, a plain Python
worker image, a workerInit that pip-installs the endpoint (warnings; `gce-values migrate` drops them)."""

from __future__ import annotations

from gce_values import predecessors
from gce_values.checks.context import Run
from gce_values.report import WARNING

OLD_IMAGE = "old-endpoint-image"
PYTHON_WORKER_IMAGE = "python-worker-image"
WORKER_INIT_INSTALLS_ENDPOINT = "worker-init-installs-endpoint"
RULES = (OLD_IMAGE, PYTHON_WORKER_IMAGE, WORKER_INIT_INSTALLS_ENDPOINT)
_MIGRATE = "`gce-values migrate` converts a conf of the old charts"


def check(run: Run) -> None:
    values = run.merged.values
    image = values.get("image")
    repository = image.get("repository") if isinstance(image, dict) else None
    if isinstance(repository, str) and (which := predecessors.old_endpoint_image(repository)):
        run.add(
            run.facts.locate("/image/repository", False),
            "/image/repository",
            WARNING,
            OLD_IMAGE,
            f"{repository} is {which}: it runs an endpoint older than 4.x, which this chart's configuration "
            "does not fit",
            f"remove image.repository to run this chart's own image; {_MIGRATE}",
        )
    worker_image = values.get("workerImage")
    if isinstance(worker_image, str) and predecessors.PYTHON_IMAGE_RE.match(worker_image.strip()):
        run.add(
            run.facts.locate("/workerImage", False),
            "/workerImage",
            WARNING,
            PYTHON_WORKER_IMAGE,
            f"{worker_image} is a plain Python image without globus-compute-endpoint: workers cannot start on it",
            "leave workerImage empty to run workers on the endpoint's image (the matching version), "
            "or name an image that has this chart's globus-compute-endpoint version",
        )
    worker_init = values.get("workerInit")
    if isinstance(worker_init, str) and predecessors.installs_endpoint(worker_init):
        run.add(
            run.facts.locate("/workerInit", False),
            "/workerInit",
            WARNING,
            WORKER_INIT_INSTALLS_ENDPOINT,
            "installs globus-compute-endpoint (or funcX) in every worker pod: the worker image already has "
            "the matching version, and another one installed this way breaks the workers",
            f"remove that install from workerInit; {_MIGRATE}",
        )
