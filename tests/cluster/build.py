"""Build the control plane's programs from the pinned Go module in ``tests/cluster/kube``.

``go build`` checks every module it downloads against ``go.sum``; the programs go into
``.tools/cluster/<key>/bin``, where the key is a digest of the module's files, so they are rebuilt
only when the pins (or the pause program) change. ``make cluster`` runs this; the live-cluster
fixture calls :func:`ensure_built` and so builds on first use.

Run directly: ``python3 tests/cluster/build.py`` prints the folder of the programs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = REPO_ROOT / "tests" / "cluster" / "kube"
CACHE_DIR = REPO_ROOT / ".tools" / "cluster"

KUBERNETES_VERSION = "v1.37.2"
# The commands of k8s.io/kubernetes, built at KUBERNETES_VERSION; each binary is named after its folder.
KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
)
PROGRAMS = (*KUBERNETES_COMMANDS, "etcd", "pause")
# What `kubectl version` and the API server's /version report (Kubernetes' own build sets these the
# same way); without them every component calls itself v0.0.0 and Helm's kubeVersion checks fail.
_VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


class BuildError(RuntimeError):
    """Go is missing or the build failed; the message says which and shows go's output."""


def module_key() -> str:
    """A digest of everything that decides what is built."""
    digest = hashlib.sha256()
    for path in sorted(MODULE_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".go", ".mod", ".sum"}:
            digest.update(path.relative_to(MODULE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(KUBERNETES_VERSION.encode())
    return digest.hexdigest()[:16]


def bin_dir() -> Path:
    return CACHE_DIR / module_key() / "bin"


def _ldflags() -> str:
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    values = {
        "gitVersion": KUBERNETES_VERSION,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    flags = ["-s", "-w"] + [f"-X {pkg}.{name}={value}" for pkg in _VERSION_PACKAGES for name, value in values.items()]
    return " ".join(flags)


def _go(args: list[str], env: dict[str, str]) -> None:
    go = shutil.which("go")
    if go is None:
        raise BuildError("go is not installed: the control plane is built from Go modules (Go 1.26 or later)")
    result = subprocess.run(
        [go, *args], cwd=MODULE_DIR, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise BuildError(f"go {' '.join(args[:2])} ... failed ({result.returncode}):\n{result.stderr[-6000:]}")


def ensure_built(log: bool = True) -> Path:
    """The folder holding every program, built first if this module key has none yet."""
    target = bin_dir()
    if all((target / name).is_file() for name in PROGRAMS):
        return target
    staging = target.with_name(f"bin.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = {**os.environ, "GOFLAGS": "-mod=readonly -trimpath -buildvcs=false", "GOTOOLCHAIN": "local"}
    started = time.monotonic()
    if log:
        print(f"cluster: building Kubernetes {KUBERNETES_VERSION} and etcd into {target}", file=sys.stderr, flush=True)
    commands = [f"k8s.io/kubernetes/cmd/{name}" for name in KUBERNETES_COMMANDS]
    _go(["build", f"-ldflags={_ldflags()}", "-o", f"{staging}/", *commands], env)
    _go(["build", "-ldflags=-s -w", "-o", str(staging / "etcd"), "go.etcd.io/etcd/server/v3"], env)
    _go(["build", "-ldflags=-s -w", "-o", str(staging / "pause"), "./pause"], {**env, "CGO_ENABLED": "0"})
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    (target.parent / "build-seconds").write_text(f"{time.monotonic() - started:.1f}\n", encoding="utf-8")
    if log:
        print(f"cluster: built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return target


def main() -> int:
    try:
        print(ensure_built())
    except BuildError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
