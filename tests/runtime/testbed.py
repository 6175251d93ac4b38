"""The container engine of the runtime tests: installed, configured and given a base image by the tests.

A fresh machine (CI, or a new clone) has none of this, so the runtime tests set it up themselves:

- the Debian packages (podman, buildah, mmdebstrap, runc, uidmap, fuse-overlayfs, slirp4netns), installed
  with apt only when one is missing;
- a containers.conf of our own (``build/runtime/containers.conf``, passed as ``CONTAINERS_CONF``): runc,
  cgroupfs, file events and default ulimits this machine allows (crun refuses the hybrid cgroup layout,
  and podman's default ulimits are above the host's);
- a Debian bookworm base image with Python 3.11, made by mmdebstrap from the Debian mirror apt already
  uses (no container registry is reachable here) and imported into podman;
- the endpoint image, built from ``images/endpoint/Dockerfile`` on that base, with the host's pip
  configuration and CA bundle mounted into the build so that pip reaches PyPI the way the host does.

Everything this module writes lies under ``build/runtime/`` in the repository, or in podman's storage.
Run it directly to do the set-up by hand: ``python tests/runtime/testbed.py [--image]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / "build" / "runtime"
CONTAINERS_CONF = BUILD_DIR / "containers.conf"
IMAGE_CONTEXT = REPO_ROOT / "images" / "endpoint"
CHART_YAML = REPO_ROOT / "chart" / "globus-compute-endpoint" / "Chart.yaml"

DEBIAN_PACKAGES = ("podman", "buildah", "mmdebstrap", "runc", "uidmap", "fuse-overlayfs", "slirp4netns")
# Which program each package provides, to tell whether it is installed without asking dpkg.
_PACKAGE_PROGRAMS = {
    "podman": "podman",
    "buildah": "buildah",
    "mmdebstrap": "mmdebstrap",
    "runc": "runc",
    "uidmap": "newuidmap",
    "fuse-overlayfs": "fuse-overlayfs",
    "slirp4netns": "slirp4netns",
}

CONTAINERS_CONF_TEXT = """\
# Written by tests/runtime/testbed.py for the runtime tests (podman reads it through CONTAINERS_CONF).
[containers]
# At or below the host's own limits: podman's defaults are above what this kind of machine allows.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
# crun refuses the hybrid cgroup layout these machines have; runc does not.
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

DEBIAN_SUITE = "bookworm"
BASE_IMAGE = "localhost/gce-runtime-base:bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates", "bash")
IMAGE_REPOSITORY = "localhost/gce-runtime/globus-compute-endpoint"
# Part of every container and network namespace name a run makes: podman's storage is machine-wide, and
# two checkouts may run these tests at the same time.
RUN_ID = str(os.getpid())

# What pip uses on the host, mounted read-only over the same paths in the image build (HTTPS here goes
# through a proxy with its own CA, and /etc/pip.conf tells pip to trust it); only those that exist.
HOST_PIP_FILES = (Path("/etc/ssl/certs/ca-certificates.crt"), Path("/etc/pip.conf"))


class TestbedError(RuntimeError):
    """The container engine cannot be set up; the message says what is missing."""


def log(message: str) -> None:
    print(f"testbed: {message}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a set-up command; fail with its output when it fails."""
    result = subprocess.run(
        list(argv), capture_output=True, text=True, check=False, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise TestbedError(f"{' '.join(argv[:3])} ... failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def missing_packages() -> list[str]:
    return [package for package in DEBIAN_PACKAGES if shutil.which(_PACKAGE_PROGRAMS[package]) is None]


def install_packages() -> None:
    """apt-get install what is missing; nothing when all is there (apt is slow and needs the network)."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise TestbedError(f"missing Debian packages {', '.join(missing)}, and installing them needs root")
    if shutil.which("apt-get") is None:
        raise TestbedError(f"missing packages {', '.join(missing)} and no apt-get to install them")
    log(f"apt-get install {' '.join(DEBIAN_PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update"], timeout=600, env=env)
    run(["apt-get", "install", "-y", "--no-install-recommends", *DEBIAN_PACKAGES], timeout=900, env=env)


def write_containers_conf() -> Path:
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    if not CONTAINERS_CONF.is_file() or CONTAINERS_CONF.read_text(encoding="utf-8") != CONTAINERS_CONF_TEXT:
        CONTAINERS_CONF.write_text(CONTAINERS_CONF_TEXT, encoding="utf-8")
    return CONTAINERS_CONF


@dataclass(frozen=True)
class Podman:
    """The podman command line with this project's containers.conf."""

    binary: str
    conf: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.conf)}

    def argv(self, *args: str) -> list[str]:
        return [self.binary, *args]

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise TestbedError(f"podman {' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def image_exists(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0


def usable_podman() -> tuple[Podman | None, str]:
    """The podman here, if it runs a container; else None and why not (for a skip or failure message)."""
    binary = shutil.which("podman")
    if binary is None:
        return None, "podman is not installed"
    if os.geteuid() != 0:
        return None, "the runtime tests run podman as root, and this is not root"
    podman = Podman(binary, write_containers_conf())
    try:
        result = podman.run("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"podman info failed: {error}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"podman info failed: {last}"
    return podman, f"podman {result.stdout.strip()}"


def setup_podman() -> Podman:
    """Install and configure podman, or fail saying why."""
    install_packages()
    podman, reason = usable_podman()
    if podman is None:
        raise TestbedError(reason)
    return podman


def debian_mirrors() -> list[tuple[str, list[str], str]]:
    """(URI, suites, components) of the enabled Debian sources apt uses (deb822 .sources and .list files)."""
    sources: list[tuple[str, list[str], str]] = []
    directory = Path("/etc/apt/sources.list.d")
    for path in sorted(directory.glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
            if fields.get("enabled", "yes") == "no" or "deb" not in fields.get("types", "").split():
                continue
            for uri in fields.get("uris", "").split():
                sources.append((uri, fields.get("suites", "").split(), fields.get("components", "main")))
    for path in [Path("/etc/apt/sources.list"), *sorted(directory.glob("*.list"))]:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            words = re.sub(r"\[[^]]*\]", "", line).split()
            if len(words) >= 3 and words[0] == "deb":
                sources.append((words[1], [words[2]], " ".join(words[3:]) or "main"))
    return [(uri, suites, parts) for uri, suites, parts in sources if "debian" in uri and suites]


def mmdebstrap_mirror_lines() -> list[str]:
    """The bookworm entries of apt's sources, as one-line sources for mmdebstrap."""
    lines: list[str] = []
    for uri, suites, components in debian_mirrors():
        for suite in suites:
            if suite == DEBIAN_SUITE or suite.startswith(f"{DEBIAN_SUITE}-"):
                lines.append(f"deb {uri} {suite} {components}")
    if not lines:
        raise TestbedError(f"no Debian {DEBIAN_SUITE} source in /etc/apt/sources.list(.d) to build a base image from")
    return lines


def ensure_base_image(podman: Podman) -> str:
    """A Debian bookworm image with Python 3.11, made with mmdebstrap unless podman already has it."""
    if podman.image_exists(BASE_IMAGE):
        return BASE_IMAGE
    if shutil.which("mmdebstrap") is None:
        raise TestbedError("mmdebstrap is not installed")
    tarball = BUILD_DIR / "base.tar"
    tarball.unlink(missing_ok=True)
    started = time.monotonic()
    log(f"mmdebstrap {DEBIAN_SUITE} base image (a few minutes)")
    run(
        [
            "mmdebstrap",
            "--variant=minbase",
            "--include=" + ",".join(BASE_PACKAGES),
            DEBIAN_SUITE,
            str(tarball),
            *mmdebstrap_mirror_lines(),
        ],
        timeout=1200,
    )
    podman.run("import", "--change", 'CMD ["/bin/bash"]', str(tarball), BASE_IMAGE, timeout=600)
    tarball.unlink()
    log(f"base image {BASE_IMAGE} made in {time.monotonic() - started:.0f} s")
    return BASE_IMAGE


def app_version() -> str:
    match = re.search(r'^appVersion:\s*"?([^"\s]+)"?\s*$', CHART_YAML.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise TestbedError(f"no appVersion in {CHART_YAML}")
    return match.group(1)


def pip_build_mounts() -> list[str]:
    """podman build volume options that give pip in the build the host's CA bundle (HTTPS is proxied)."""
    mounts: list[str] = []
    for path in HOST_PIP_FILES:
        if path.is_file():
            mounts += ["--volume", f"{path}:{path}:ro"]
    return mounts


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    seconds: float
    reused: bool


def build_endpoint_image(podman: Podman, base: str, *, rebuild: bool = False) -> BuiltImage:
    """Build images/endpoint/Dockerfile on ``base``; reuse an image built from the same recipe.

    The tag carries a digest of the build context and the base image's ID, so a changed Dockerfile or
    lock builds anew, and an unchanged one is not rebuilt by every test run on the same machine.
    """
    base_id = podman.run("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    reference = f"{IMAGE_REPOSITORY}:{app_version()}-{context_digest(base_id)}"
    if not rebuild and podman.image_exists(reference):
        return BuiltImage(reference, 0.0, reused=True)
    started = time.monotonic()
    log(f"building {reference} on {base}")
    podman.run(
        "build",
        "--pull=never",
        "--layers=false",
        "--build-arg",
        f"BASE={base}",
        "--build-arg",
        f"GCE_VERSION={app_version()}",
        # The host's pip configuration and CA bundle, for pip in the build; not part of the image.
        *pip_build_mounts(),
        "--tag",
        reference,
        str(IMAGE_CONTEXT),
        timeout=1500,
    )
    return BuiltImage(reference, time.monotonic() - started, reused=False)


def context_digest(base_id: str) -> str:
    digest = hashlib.sha256(base_id.encode())
    for path in (IMAGE_CONTEXT / "Dockerfile", IMAGE_CONTEXT / "requirements.txt"):
        digest.update(str(path.relative_to(IMAGE_CONTEXT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", action="store_true", help="also build the endpoint image")
    options = parser.parse_args()
    try:
        podman = setup_podman()
        base = ensure_base_image(podman)
        print(base)
        if options.image:
            built = build_endpoint_image(podman, base)
            print(built.reference, f"{built.seconds:.0f}s", "reused" if built.reused else "built")
    except TestbedError as error:
        print(f"testbed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
