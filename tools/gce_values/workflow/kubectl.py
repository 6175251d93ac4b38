"""kubectl as `gce-values doctor` uses it: found like helm, run with a timeout, its failures told apart.

A plain-Helm user has kubectl and a kubeconfig; the doctor asks the cluster through them rather than
through a client library of its own, so it sees the cluster exactly as the user's other tools do.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from gce_values.errors import InputError
from gce_values.workflow import programs

ENV_VAR = "GCE_KUBECTL"
HOW_TO_GET = "install kubectl (https://kubernetes.io/docs/tasks/tools/) or name one with --kubectl or $GCE_KUBECTL"
TIMEOUT_SECONDS = 60
# A log line of kubectl's client library (`E1207 17:44:10.799342 ... memcache.go:381] ...`): kubectl
# says the same in a sentence of its own after them.
_KLOG = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d\d")
# What kubectl prints when it never got an answer from the API server (or was not let in at all).
_UNREACHABLE = (
    "Unable to connect to the server",
    "The connection to the server",
    "connection refused",
    "no such host",
    "i/o timeout",
    "context was not found",
    "no configuration has been provided",
    "error loading config file",
    "Unauthorized",
    "certificate signed by unknown authority",
    "the server has asked for the client to provide credentials",
)


class ClusterUnreachable(InputError):
    """kubectl could not ask the cluster at all (exit code 4): no server, no context, not logged in."""


def find(explicit: str | None = None) -> str:
    """The kubectl binary: --kubectl, $GCE_KUBECTL, then kubectl on PATH."""
    return programs.find("kubectl", ENV_VAR, explicit, (), HOW_TO_GET)


@dataclass(frozen=True)
class Answer:
    """What one kubectl call printed, and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def first_error(self) -> str:
        """kubectl's error in one line (the lines of a refusal joined), without its `error:` prefix."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if not line.startswith("Warning:") and not _KLOG.match(line)] or lines
        text = " ".join(errors) or f"kubectl exited with code {self.code}"
        return text.removeprefix("error: ")

    @property
    def warnings(self) -> list[str]:
        """The API server's warnings (`Warning: ...` lines), e.g. from Pod Security admission."""
        lines = (line.strip() for line in self.stderr.splitlines())
        return [line.removeprefix("Warning:").strip() for line in lines if line.startswith("Warning:")]


@dataclass(frozen=True)
class Kubectl:
    """kubectl with the user's choice of kubeconfig and context."""

    binary: str
    kubeconfig: str | None = None
    context: str | None = None

    def argv(self, args: Sequence[str]) -> list[str]:
        chosen = [f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []
        chosen += [f"--context={self.context}"] if self.context else []
        return [self.binary, *chosen, *args]

    def ask(self, *args: str, stdin: str | None = None) -> Answer:
        """Run kubectl; raise ClusterUnreachable when it got no answer from the cluster.

        ``stdin`` carries manifests (never shown in a process list or an error message).
        """
        argv = self.argv(args)
        try:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, text=True, check=False, timeout=TIMEOUT_SECONDS
            )
        except OSError as exc:
            raise programs.ProgramMissing(f"{self.binary}: cannot run: {exc.strerror or exc}") from exc
        except subprocess.TimeoutExpired:
            raise ClusterUnreachable(f"kubectl got no answer within {TIMEOUT_SECONDS}s: is the cluster up?") from None
        answer = Answer(done.returncode, done.stdout, done.stderr)
        if done.returncode != 0 and any(marker in done.stderr for marker in _UNREACHABLE):
            raise ClusterUnreachable(f"kubectl cannot ask the cluster: {answer.first_error}")
        return answer
