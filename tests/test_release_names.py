"""One source for where a release goes, and the README's install commands are the rehearsed ones.

tools/release/publish.py derives the image and chart locations from the chart's default
image.repository, so the chart never names an image the release did not push; the README's Install
section shows exactly the commands tests/release runs (tests/release/commands.py), with the real names.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from release.commands import USER_COMMANDS, render
from support.paths import REPO_ROOT

PUBLISH = REPO_ROOT / "tools" / "release" / "publish.py"
README = REPO_ROOT / "README.md"
# The first word of a line in the README's Install section that is a command a user types.
COMMAND_WORDS = ("helm", "pip", "gce-values", "cosign")


def _publish() -> ModuleType:
    spec = importlib.util.spec_from_file_location("publish", PUBLISH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


publish = _publish()


def real_names() -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, str(PUBLISH), "names"], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def test_the_image_goes_where_the_chart_looks_for_it() -> None:
    schema = yaml.safe_load((REPO_ROOT / "schema" / "values.schema.yaml").read_text(encoding="utf-8"))
    default = schema["properties"]["image"]["properties"]["repository"]["default"]
    values = yaml.safe_load((REPO_ROOT / "chart" / "globus-compute-endpoint" / "values.yaml").read_text())
    chart = yaml.safe_load((REPO_ROOT / "chart" / "globus-compute-endpoint" / "Chart.yaml").read_text())
    names = real_names()
    assert names["image"] == default == values["image"]["repository"]
    assert names["image-tag"] == chart["appVersion"]
    assert names["chart-version"] == chart["version"]
    assert names["registry"] == default.split("/", 1)[0]
    assert names["chart-oci"] == f"oci://{default.rsplit('/', 1)[0]}/charts"


@given(st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?(:[1-9][0-9]{0,4})?", fullmatch=True))
def test_a_registry_of_its_own_swaps_only_the_host(host: str) -> None:
    # The rehearsal's registry receives the same paths as the real one.
    real, other = publish.names(), publish.names(host)
    for key in ("image", "chart-oci"):
        assert other[key] == real[key].replace(real["registry"], host, 1)
    assert other["registry"] == host


def install_commands() -> list[str]:
    """The command lines (indented code) of the README's Install section."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Install\n(.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Install' section"
    lines = [line.strip() for line in match.group(1).splitlines() if line.startswith("    ")]
    return [line for line in lines if line.split(" ", 1)[0] in COMMAND_WORDS]


def test_the_install_section_comes_first() -> None:
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert headings[0] == "Install"


def test_every_install_command_in_the_readme_is_one_the_rehearsal_runs() -> None:
    rehearsed = {render(template, real_names()) for template in USER_COMMANDS}
    shown = install_commands()
    # cosign verify needs Sigstore's services; the README says the rehearsal cannot run it.
    not_rehearsed = [line for line in shown if line not in rehearsed and not line.startswith("cosign verify ")]
    assert not not_rehearsed, f"README install commands the rehearsal does not run: {not_rehearsed}"
    missing = rehearsed - set(shown)
    assert not missing, f"rehearsed commands the README's Install section does not show: {missing}"


@settings(deadline=None)
@given(
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}/[a-z0-9._-]{1,30}", fullmatch=True),
    st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
)
def test_the_readme_cosign_command_is_the_one_the_release_notes_give(repository: str, digest: str) -> None:
    # The notes fill in what the README cannot know: the repository a release is made in, and its digest.
    (shown,) = [line for line in install_commands() if line.startswith("cosign verify ")]
    notes = publish.notes(repository, digest)
    (given,) = [line.strip() for line in notes.splitlines() if line.strip().startswith("cosign verify ")]
    assert given.replace(digest, "DIGEST").replace(f"github.com/{repository}/", "github.com/OWNER/NAME/") == shown
    argv = shlex.split(given)
    names = real_names()
    assert argv[2] == f"{names['image']}@{digest}"
    identity = argv[argv.index("--certificate-identity") + 1]
    assert (
        identity == f"https://github.com/{repository}/.github/workflows/release.yml@refs/tags/v{names['chart-version']}"
    )


@pytest.mark.parametrize("bad", ["", "owner", "owner/name/extra", "-owner/name", "owner/na me"])
def test_notes_refuse_a_repository_that_is_not_owner_and_name(bad: str) -> None:
    with pytest.raises(publish.PublishError, match="not a GitHub owner/name"):
        publish.notes(bad, "sha256:" + "0" * 64)


def test_a_release_build_names_its_own_schema_asset(tmp_path: Path) -> None:
    # Only the staged copy of a release names the repository; the checkout stays as it is.
    root = publish._staged(tmp_path, "some-owner/some-repo")
    chart = REPO_ROOT / "chart" / "globus-compute-endpoint"
    released = json.loads((root / "chart" / "globus-compute-endpoint" / "conf.schema.json").read_text(encoding="utf-8"))
    checkout = json.loads((chart / "conf.schema.json").read_text(encoding="utf-8"))
    version = publish.versions()[0]
    assert (
        released.pop("$id") == f"https://github.com/some-owner/some-repo/releases/download/v{version}/conf.schema.json"
    )
    checkout.pop("$id")
    assert released == checkout, "the release's schema differs from the checkout's only in where it lives"
    assert "annotations" not in yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("hint_file", ["tools/gce_values/cli/commands/smoke.py", "README.md"])
def test_hints_name_the_distribution_that_is_published(hint_file: str) -> None:
    # pyproject's name is what PyPI gets; every `pip install` hint must use it.
    project = re.search(r'^name = "([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert project is not None
    text = (REPO_ROOT / hint_file).read_text(encoding="utf-8")
    hinted = re.findall(r"pip install '?([a-z][\w.-]*)(?:\[\w+\])?'?", text)
    assert project.group(1) in hinted
    others = {name for name in hinted if name.startswith("gce") and name != project.group(1)}
    assert not others
