"""The real `kubectl` and `helm`, run as subprocesses with a timeout on every call.

pytest-helm-charts' ``Cluster.kubectl`` has no timeout and splits its command on spaces; these small
wrappers add both, and an error that shows the command and its stderr (never its stdin, which may
carry a secret).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2e.access import AccessCheck, parse_can_i
from e2e.settings import E2eSettings

DEFAULT_TIMEOUT = 60.0


class CommandFailed(AssertionError):
    """A kubectl or helm call failed or timed out; reported by pytest as a test failure."""


def run_tool(
    argv: Sequence[str],
    timeout: float,
    stdin: str | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, bounded by ``timeout``; with ``check``, a non-zero exit raises CommandFailed."""
    shown = " ".join(argv)
    try:
        result = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        raise CommandFailed(f"timed out after {timeout:g}s: {shown}") from None
    if check and result.returncode != 0:
        raise CommandFailed(f"exit {result.returncode}: {shown}\n{result.stderr.strip()}")
    return result


@dataclass(frozen=True)
class Kubectl:
    """kubectl against one cluster."""

    binary: Path
    kubeconfig: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = DEFAULT_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        return run_tool([str(self.binary), f"--kubeconfig={self.kubeconfig}", *args], timeout, stdin, check)

    def get(self, *args: str) -> dict[str, Any]:
        """`kubectl get ... -o json`, parsed."""
        parsed: dict[str, Any] = json.loads(self.run("get", *args, "--output=json").stdout)
        return parsed

    def items(self, resources: Sequence[str], namespace: str, selector: str) -> list[dict[str, Any]]:
        """The objects of these resources in a namespace that match a label selector."""
        listed = self.get(",".join(resources), f"--namespace={namespace}", f"--selector={selector}")
        items: list[dict[str, Any]] = listed.get("items", [])
        return items

    def get_or_none(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        result = self.run("get", resource, name, f"--namespace={namespace}", "--ignore-not-found", "--output=json")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def create(self, manifest: dict[str, Any]) -> None:
        """Create one object. The manifest goes through stdin, so a secret never shows in a process list,
        and `create` (unlike `apply`) copies nothing of it into an annotation."""
        self.run("create", "--filename=-", stdin=json.dumps(manifest))

    def delete(self, resources: str, namespace: str, selector: str, wait: bool = True) -> None:
        """Delete what matches a label selector; with ``wait``, until it is gone (at most a minute)."""
        self.run(
            "delete",
            resources,
            f"--namespace={namespace}",
            f"--selector={selector}",
            "--ignore-not-found",
            f"--wait={str(wait).lower()}",
            "--timeout=60s",
            timeout=90,
        )

    def logs(self, namespace: str, pod: str, container: str, previous: bool) -> str:
        args = ["logs", pod, f"--namespace={namespace}", f"--container={container}", "--tail=200"]
        return self.run(*args, *(["--previous"] if previous else [])).stdout

    def can_i(self, check: AccessCheck) -> bool:
        result = self.run(*check.kubectl_args(), check=False)
        return parse_can_i(result.returncode, result.stdout, result.stderr)


@dataclass
class PodWatch:
    """`kubectl get pods --watch` in the background: every pod that matched while it ran, even one that
    is gone by the time the test looks, in the order the API server first showed each."""

    kubectl: Kubectl
    namespace: str
    selector: str
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    _process: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    def __enter__(self) -> PodWatch:
        argv = [str(self.kubectl.binary), f"--kubeconfig={self.kubectl.kubeconfig}", "get", "pods"]
        argv += [f"--namespace={self.namespace}", f"--selector={self.selector}", "--watch", "--output=json"]
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, args=(self._process,), daemon=True)
        self._reader.start()
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        """kubectl prints each object as indented JSON; a top-level one ends with a line '}'."""
        assert process.stdout is not None
        text = ""
        for line in process.stdout:
            text += line
            if line.rstrip("\n") == "}":
                pod = json.loads(text)
                text = ""
                self.seen.setdefault(pod["metadata"]["name"], pod)

    def pods(self) -> list[dict[str, Any]]:
        """The pods seen so far, first seen first (as each looked then)."""
        return list(self.seen.values())

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=30)


@dataclass(frozen=True)
class Helm:
    """The project's helm binary (from the helm_bins fixture) against one cluster."""

    binary: Path
    kubeconfig: Path

    def run(self, *args: str, check: bool = True, timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return run_tool([str(self.binary), f"--kubeconfig={self.kubeconfig}", *args], timeout, check=check)

    def install(self, release: str, chart: Path, namespace: str, values_file: Path) -> None:
        """`helm upgrade --install` without waiting for the pods (Helm 3 and 4 both default to not waiting)."""
        self.run(
            "upgrade",
            "--install",
            release,
            str(chart),
            f"--namespace={namespace}",
            f"--values={values_file}",
            "--timeout=2m",
            timeout=180,
        )

    def uninstall(self, release: str, namespace: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`helm uninstall` (the chart has no hooks: Kubernetes' garbage collector removes the workers)."""
        args = ["uninstall", release, f"--namespace={namespace}", "--timeout=4m"]
        return self.run(*args, check=check, timeout=300)

    def is_installed(self, release: str, namespace: str) -> bool:
        return self.run("status", release, f"--namespace={namespace}", check=False).returncode == 0

    def manifest(self, release: str, namespace: str) -> str:
        return self.run("get", "manifest", release, f"--namespace={namespace}").stdout


@dataclass(frozen=True)
class E2eCluster:
    """The cluster under test: the run's settings and the tools that talk to it."""

    settings: E2eSettings
    kubectl: Kubectl
    helm: Helm
