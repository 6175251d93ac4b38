"""validate knows what migrate knows: what the old charts put in a conf that cannot work with endpoint 4.x.

A conf written by hand from the old charts' READMEs (or an old conf only partly edited) must not pass
`validate --strict` with their endpoint images, a plain Python worker image, or a workerInit that
pip-installs the endpoint in every worker; and each warning points at `gce-values migrate` or the fix.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gce_values import predecessors
from gce_values.validator import validate_sources
from support.cli import run
from support.paths import SEED, SEED_TEXT

OLD_REPOSITORIES = sorted(predecessors.OLD_ENDPOINT_IMAGES)
SEED_UUID = str(SEED["endpointUUID"])


def _rules(extra: str) -> dict[str, str]:
    result = validate_sources([("conf.yaml", SEED_TEXT + extra)])
    assert result.ok, result.errors
    return {p.rule: f"{p.message}; {p.hint}" for p in result.warnings}


@settings(max_examples=40, deadline=None)
@given(
    repository=st.sampled_from(OLD_REPOSITORIES),
    registry=st.sampled_from(["", "docker.io/"]),
    tag=st.sampled_from(["", ":main-3.10", ":0.0.1", ":2.2.0-python3.9"]),
)
def test_an_old_charts_endpoint_image_is_warned_about(repository: str, registry: str, tag: str) -> None:
    if repository.startswith("hub.") and registry:
        registry = ""  # a registry host of its own
    line = _rules(f"image:\n  repository: {registry}{repository}{tag}\n")["old-endpoint-image"]
    assert "older than 4.x" in line and "gce-values migrate" in line


def test_images_of_this_chart_and_users_pass_without_a_warning() -> None:
    for repository in ("hub.opensciencegrid.org/slate/globus-compute-endpoint", "registry.example.org/me/endpoint"):
        assert "old-endpoint-image" not in _rules(f"image:\n  repository: {repository}\n")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["python", "python:3.10", "python:3.11-slim", "docker.io/library/python:3.12"]))
def test_a_plain_python_worker_image_is_warned_about(image: str) -> None:
    line = _rules(f"workerImage: {image}\n")["python-worker-image"]
    assert "without globus-compute-endpoint" in line and "leave workerImage empty" in line


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(
        [
            "pip install globus-compute-endpoint>=2.0.0",
            "pip install globus-compute-endpoint",
            "python3 -m pip install --user funcx-endpoint==1.0.5",
            "apt-get update && pip3 install numpy globus-compute-endpoint",
        ]
    )
)
def test_a_worker_init_that_installs_the_endpoint_is_warned_about(command: str) -> None:
    line = _rules(f"workerInit: {command!r}\n")["worker-init-installs-endpoint"]
    assert "remove that install" in line


def test_a_worker_init_of_other_packages_passes() -> None:
    assert "worker-init-installs-endpoint" not in _rules("workerInit: pip install numpy scipy\n")


def test_strict_refuses_the_old_charts_defaults(tmp_path: Path) -> None:
    """The blog's conf with the old chart's worker settings: valid for Helm, refused with --strict."""
    conf = tmp_path / "my-conf"
    conf.write_text(SEED_TEXT + "workerImage: python:3.10\nworkerInit: pip install globus-compute-endpoint>=2.0.0\n")
    plain = run("validate", str(conf))
    assert plain.code == 0 and "python-worker-image" in plain.output
    strict = run("validate", "--strict", str(conf))
    assert strict.code == 1
    assert "python-worker-image" in strict.output and "worker-init-installs-endpoint" in strict.output


def test_an_empty_secrets_is_one_error_that_says_what_to_put_there() -> None:
    result = validate_sources([("conf.yaml", SEED_TEXT.replace("secrets: ", "secrets: #"))])
    errors = [p for p in result.errors if p.key == "secrets"]
    assert len(errors) == 1, errors
    assert "null deletes it" in errors[0].message
    assert errors[0].hint and "slate secret create" in errors[0].hint


# --- an endpoint UUID copied from the documentation -----------------------------------------------


def _documented_examples() -> list[str]:
    from gce_values.schema import load

    return [str(example) for example in load().properties["endpointUUID"]["examples"]]


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from(
        ["00000000-0000-0000-0000-000000000000", "FFFFFFFF-ffff-ffff-ffff-ffffffffffff", *_documented_examples()]
    ),
    st.sampled_from(["", "'", '"']),
)
def test_a_documented_or_placeholder_uuid_is_warned_about(uuid: str, quote: str) -> None:
    """Two endpoints that copied one UUID collide: the example of the README's values table, the nil UUID."""
    conf = SEED_TEXT.replace(SEED_UUID, f"{quote}{uuid}{quote}")
    result = validate_sources([("conf.yaml", conf)])
    assert result.ok
    (warning,) = [p for p in result.warnings if p.rule == "example-uuid"]
    assert warning.key == "endpointUUID" and "gce-values init" in (warning.hint or "")


@settings(max_examples=50, deadline=None)
@given(st.uuids(version=4))
def test_a_uuid_of_ones_own_is_not_warned_about(uuid: object) -> None:
    result = validate_sources([("conf.yaml", SEED_TEXT.replace(SEED_UUID, str(uuid)))])
    assert "example-uuid" not in {p.rule for p in result.problems}
