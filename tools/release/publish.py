"""Publish a release: the one script the tag workflow runs and ``make release-rehearsal`` rehearses.

The names come from one place, the chart's default ``image.repository`` (schema/values.schema.yaml,
generated into values.yaml): the image is pushed there, and the chart goes to ``charts/`` beside it
(``oci://<registry>/<namespace>/charts/globus-compute-endpoint``). ``--registry`` swaps only the
host, so the rehearsal's registry receives the same paths the real one does.

Subcommands (stdlib only; run with the project's .venv python so ``build`` is there):
  names      print image=, chart= and the versions, as ``key=value`` lines (for $GITHUB_OUTPUT)
  assets     package the chart, build the wheel and sdist, copy conf.schema.json and tar the SLATE
             catalog folder, all into one folder: what the GitHub release and the package index get.
             They are built from a copy of this checkout whose Chart.yaml names the GitHub repository
             the release is made in (--repository), so conf.schema.json's URL, which `gce-values init`
             writes into every conf, is the release's own asset
  notes      the release notes: the image's digest and the exact `cosign verify` command
  push-chart ``helm registry login`` (password on stdin), then ``helm push`` of the packaged chart

usage: python3 tools/release/publish.py names [--registry HOST]
       python3 tools/release/publish.py assets --helm HELM --out DIR --repository OWNER/NAME
       python3 tools/release/publish.py notes --repository OWNER/NAME --digest sha256:...
       python3 tools/release/publish.py push-chart --helm HELM --chart TGZ --registry HOST
                 --username USER [--ca-file CA]   (password on stdin)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart" / "globus-compute-endpoint"
CHART_NAME = "globus-compute-endpoint"
CATALOG_TARBALL = "slate-catalog-globus-compute.tar.gz"
SCHEMA_ASSET = "conf.schema.json"
RELEASE_REPOSITORY_ANNOTATION = "gce-values/release-repository"  # read by gce_values.versions
GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
# What a staged copy of the checkout leaves out: tools, caches and earlier builds.
NOT_STAGED = shutil.ignore_patterns(
    ".git", ".venv", ".tools", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache", ".hypothesis"
)


class PublishError(RuntimeError):
    """A step failed; the message names it and shows the tool's own words."""


def _field(text: str, pattern: str, what: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise PublishError(f"no {what} in the chart")
    return match.group(1)


def default_repository() -> str:
    """The chart's default image.repository: the one source of where the image is published."""
    values = (CHART_DIR / "values.yaml").read_text(encoding="utf-8")
    return _field(values, r"^image:\n(?:(?:  #.*|\s*)\n)*?  repository: *(\S+)", "image.repository")


def versions() -> tuple[str, str]:
    """(chart version, appVersion) from Chart.yaml."""
    chart = (CHART_DIR / "Chart.yaml").read_text(encoding="utf-8")
    version = _field(chart, r"^version: *\"?([^\"\s]+)\"?", "version")
    return version, _field(chart, r"^appVersion: *\"?([^\"\s]+)\"?", "appVersion")


def names(registry: str | None = None) -> dict[str, str]:
    """Where this version goes: image repository and tag, chart OCI folder, versions."""
    repository = default_repository()
    host, _, path = repository.partition("/")
    if registry:
        host = registry
    namespace = path.rsplit("/", 1)[0]
    chart_version, app_version = versions()
    return {
        "registry": host,
        "image": f"{host}/{path}",
        "image-tag": app_version,
        "chart-oci": f"oci://{host}/{namespace}/charts",
        "chart-version": chart_version,
        "app-version": app_version,
    }


def _run(argv: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None, cwd: Path = REPO_ROOT) -> str:
    result = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, env=env, cwd=cwd, check=False, timeout=600
    )
    if result.returncode != 0:
        raise PublishError(f"{' '.join(argv[:3])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


def _staged(scratch: Path, repository: str) -> Path:
    """A copy of this checkout whose chart names ``repository``, its conf.schema.json regenerated."""
    if not GITHUB_REPOSITORY.fullmatch(repository):
        raise PublishError(f"--repository {repository!r} is not a GitHub owner/name")
    root = scratch / "tree"
    shutil.copytree(REPO_ROOT, root, ignore=NOT_STAGED, symlinks=True)
    chart_yaml = root / "chart" / CHART_NAME / "Chart.yaml"
    text = chart_yaml.read_text(encoding="utf-8")
    if re.search(r"^annotations:", text, re.MULTILINE):
        raise PublishError("Chart.yaml already has annotations: publish.py adds the release repository itself")
    chart_yaml.write_text(text + f'annotations:\n  {RELEASE_REPOSITORY_ANNOTATION}: "{repository}"\n', encoding="utf-8")
    # The staged copy's own package regenerates the staged chart's files (it finds them beside itself).
    _run(
        [sys.executable, "-c", "from gce_values.cli import console; console()", "schema", "build"],
        env={**os.environ, "PYTHONPATH": str(root / "tools")},
        cwd=root,
    )
    return root


def assets(helm: str, out: Path, repository: str) -> list[Path]:
    """Everything a release attaches or uploads, built for the release in ``repository`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    chart_version, _ = versions()
    with tempfile.TemporaryDirectory() as scratch:
        root = _staged(Path(scratch), repository)
        chart_dir = root / "chart" / CHART_NAME
        _run([helm, "package", str(chart_dir), "-d", str(out)])
        _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(root)], cwd=root)
        shutil.copyfile(chart_dir / SCHEMA_ASSET, out / SCHEMA_ASSET)
        catalog = Path(scratch) / "catalog"
        _run([sys.executable, str(root / "tools" / "export_slate_catalog.py"), str(chart_dir), str(catalog)])
        with tarfile.open(out / CATALOG_TARBALL, "w:gz") as tar:
            tar.add(catalog / "charts", arcname="charts")
    made = sorted(p for p in out.iterdir() if p.is_file())
    if not any(p.name == f"{CHART_NAME}-{chart_version}.tgz" for p in made):
        raise PublishError(f"helm package made no {CHART_NAME}-{chart_version}.tgz in {out}")
    return made


def notes(repository: str, digest: str) -> str:
    """The release notes: where the image is, and the one command that checks its signature."""
    if not GITHUB_REPOSITORY.fullmatch(repository):
        raise PublishError(f"--repository {repository!r} is not a GitHub owner/name")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise PublishError(f"--digest {digest!r} is not a sha256 image digest")
    place = names()
    identity = f"https://github.com/{repository}/.github/workflows/release.yml@refs/tags/v{place['chart-version']}"
    return (
        f"image.repository: {place['image']}\n"
        f"image.tag: {place['image-tag']}\n"
        f"image.digest: {digest}\n\n"
        "Verify the image's signature (keyless, made by this release's workflow):\n\n"
        f"    cosign verify {place['image']}@{digest} "
        "--certificate-oidc-issuer https://token.actions.githubusercontent.com "
        f"--certificate-identity {identity}\n"
    )


def helm_tls(helm: str, ca_file: str | None) -> tuple[list[str], dict[str, str]]:
    """Arguments and environment for helm's registry commands to trust ``ca_file``.

    Helm 3.8 pushes to OCI registries only with HELM_EXPERIMENTAL_OCI set (later versions ignore it),
    and its registry commands have no --ca-file: it trusts a private CA only through SSL_CERT_FILE.
    """
    env = {**os.environ, "HELM_EXPERIMENTAL_OCI": "1"}
    if not ca_file:
        return [], env
    if _run([helm, "version", "--short"]).startswith("v3.8."):
        return [], {**env, "SSL_CERT_FILE": ca_file}
    return ["--ca-file", ca_file], env


def push_chart(helm: str, chart: Path, registry: str, username: str, password: str, ca_file: str | None) -> str:
    """Log in and push; returns the chart's digest as the registry reports it."""
    tls, env = helm_tls(helm, ca_file)
    target = names(registry)["chart-oci"]
    _run(
        [helm, "registry", "login", registry, "--username", username, "--password-stdin", *tls],
        env=env,
        stdin=password,
    )
    output = _run([helm, "push", str(chart), target, *tls], env=env)
    digest = re.search(r"Digest: (sha256:[0-9a-f]{64})", output)
    if digest is None:
        raise PublishError(f"helm push to {target} reported no digest: {output.strip()}")
    return digest.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="publish.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    names_cmd = commands.add_parser("names")
    names_cmd.add_argument("--registry")
    assets_cmd = commands.add_parser("assets")
    assets_cmd.add_argument("--helm", required=True)
    assets_cmd.add_argument("--out", type=Path, required=True)
    assets_cmd.add_argument("--repository", required=True, help="the GitHub owner/name the release is made in")
    notes_cmd = commands.add_parser("notes")
    notes_cmd.add_argument("--repository", required=True)
    notes_cmd.add_argument("--digest", required=True)
    push_cmd = commands.add_parser("push-chart")
    push_cmd.add_argument("--helm", required=True)
    push_cmd.add_argument("--chart", type=Path, required=True)
    push_cmd.add_argument("--registry", required=True)
    push_cmd.add_argument("--username", required=True)
    push_cmd.add_argument("--ca-file")
    options = parser.parse_args(argv)
    try:
        if options.command == "names":
            for key, value in names(options.registry).items():
                print(f"{key}={value}")
        elif options.command == "assets":
            for path in assets(options.helm, options.out, options.repository):
                print(path)
        elif options.command == "notes":
            sys.stdout.write(notes(options.repository, options.digest))
        else:
            password = sys.stdin.read().strip()
            if not password:
                raise PublishError("push-chart: no password on stdin")
            digest = push_chart(
                options.helm, options.chart, options.registry, options.username, password, options.ca_file
            )
            print(f"chart-digest={digest}")
    except (PublishError, OSError) as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
