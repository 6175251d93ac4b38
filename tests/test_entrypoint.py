"""The endpoint pod's entrypoint, run for real with /bin/sh against what the chart renders.

Every run goes through entrypoint_harness.Pod: the chart is rendered by the real helm, the
Deployment's command, env, mounts and probes and the ConfigMap's files are laid out the way the
kubelet lays them out, and the entrypoint runs unprivileged (setpriv) with the pinned
globus-compute-endpoint first on PATH. The dry-run switch (GCE_DRY_RUN=1) stops it just before the
exec; one test goes further and lets the real endpoint start, offline, in a network namespace of its
own. Every run also asserts that the client secret never reaches stdout or stderr.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.chartrender import proxy_env
from support.entrypoint_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENTRYPOINT_FILE,
    NAMESPACE,
    POD_IP,
    RELEASE,
    RUN_AS,
    SQLITE_MAGIC,
    Pod,
    PodSpec,
    assert_no_secret,
    chart_values,
    client_secret_keys,
    copy_environment,
    host_tool,
    linter_binary,
    pod_bin,
    reachable_bin,
    reachable_by_run_as,
    render_chart,
)
from support.paths import CHART_DIR, CI_DIR, REPO_ROOT, TESTS_DIR

CI_FILES = sorted(path.name for path in CI_DIR.glob("*.yaml"))
DEFAULT_CI = "default-values.yaml"
USER_CI = "user-credentials-values.yaml"
NETNS_RUNNER = TESTS_DIR / "support" / "entrypoint_netns_runner.py"
DOCKERFILE = REPO_ROOT / "images" / "endpoint" / "Dockerfile"

EX_USAGE, EX_CANTCREAT, EX_NOPERM, EX_CONFIG = 64, 73, 77, 78
STORAGE_DB = SQLITE_MAGIC + b"\x10\x00 saved tokens"
BOTH_EXPORTED = "exported credential variables: GLOBUS_COMPUTE_CLIENT_ID GLOBUS_COMPUTE_CLIENT_SECRET"
NONE_EXPORTED = "exported credential variables: none"
SPELLINGS = {
    "globus-compute": ("GLOBUS_COMPUTE_CLIENT_ID", "GLOBUS_COMPUTE_CLIENT_SECRET"),
    "funcx": ("FUNCX_SDK_CLIENT_ID", "FUNCX_SDK_CLIENT_SECRET"),
    "mixed": ("GLOBUS_COMPUTE_CLIENT_ID", "FUNCX_SDK_CLIENT_SECRET"),
}
DRY_RUN = {"GCE_DRY_RUN": "1"}

# A dummy kubeconfig: Parsl's KubernetesProvider loads one when it is built; nothing connects to it.
DUMMY_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
    "current-context": "offline",
    "users": [{"name": "offline", "user": {"token": "dummy"}}],
}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def host_tools() -> None:
    """Root, to run the entrypoint as other users, and util-linux's setpriv, unshare and mount."""
    if os.geteuid() != 0:
        pytest.fail("the entrypoint tests run it as other users via setpriv and need root", pytrace=False)
    for tool in ("setpriv", "unshare", "mount"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found on PATH; install util-linux", pytrace=False)


@pytest.fixture(scope="session")
def pod_specs(helm_bins: dict[str, Path]) -> Callable[[str], PodSpec]:
    """The pod the chart renders for a ci values file (helm 3, as on the SLATE server), cached."""
    cache: dict[str, PodSpec] = {}

    def spec(ci_file: str) -> PodSpec:
        if ci_file not in cache:
            cache[ci_file] = PodSpec.from_manifests(render_chart(helm_bins["v3"], CI_DIR / ci_file))
        return cache[ci_file]

    return spec


MakePod = Callable[..., Pod]


@pytest.fixture
def make_pod(host_tools: None, pod_specs: Callable[[str], PodSpec]) -> Iterator[MakePod]:
    """Build sandbox pods for a ci values file and a credentials secret; removed after the test."""
    pods: list[Pod] = []

    def make(
        ci_file: str = DEFAULT_CI, secret: Mapping[str, bytes] | None = None, *, default_secret: bool = True
    ) -> Pod:
        if secret is None and default_secret:
            secret = secret_for(ci_file)
        pod = Pod(pod_specs(ci_file), secret)
        pods.append(pod)
        return pod

    yield make
    for pod in pods:
        pod.cleanup()


def secret_for(ci_file: str) -> dict[str, bytes]:
    """The secret a user of this conf would have: client credentials, or saved user tokens."""
    if chart_values(CI_DIR / ci_file)["useClientCredentials"]:
        return client_secret_keys()
    return {"storage.db": STORAGE_DB}


def plant(path: Path, content: bytes, mode: int = 0o644) -> None:
    """Leave a file as an earlier run of the container (the pod's user) would have left it."""
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir()
            os.chown(parent, RUN_AS.pw_uid, RUN_AS.pw_gid)
    path.write_bytes(content)
    os.chown(path, RUN_AS.pw_uid, RUN_AS.pw_gid)
    path.chmod(mode)


def config_items(spec: PodSpec) -> set[str]:
    """The endpoint files the Deployment mounts from the ConfigMap into GCE_CONFIG_DIR."""
    (mount,) = [m for m in spec.mounts if m.path == spec.env["GCE_CONFIG_DIR"]]
    return {item["path"] for item in mount.volume["configMap"]["items"]}


def expected_command(values: Mapping[str, Any]) -> list[str]:
    endpoint = values["endpoint"]
    words = [
        "globus-compute-endpoint",
        "start",
        endpoint["name"],
        "--endpoint-uuid",
        values["endpointUUID"],
        "--log-to-console",
    ]
    return [*words, "--debug"] if endpoint["debug"] else words


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("gce-entrypoint: error: ")]


# --- the script itself --------------------------------------------------------------------------


def test_configmap_carries_entrypoint_verbatim(pod_specs: Callable[[str], PodSpec]) -> None:
    # The pod runs the ConfigMap's copy; templating must not alter a byte of the script.
    assert pod_specs(DEFAULT_CI).configmap["entrypoint.sh"] == ENTRYPOINT_FILE.read_text(encoding="utf-8")


def test_entrypoint_is_shellcheck_clean() -> None:
    shellcheck = linter_binary("SHELLCHECK", "shellcheck")
    # Every optional check too, except SC2310 (functions in conditions): is_uuid is a pure test.
    result = subprocess.run(
        [shellcheck, "--shell=sh", "--enable=all", "--exclude=SC2310", "--format=gcc", str(ENTRYPOINT_FILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- (a) the dry run: layout, command, credentials, and the endpoint's own loader ---------------


@pytest.mark.parametrize("ci_file", CI_FILES)
def test_dry_run_lays_out_endpoint_dir(make_pod: MakePod, ci_file: str) -> None:
    values = chart_values(CI_DIR / ci_file)
    client_mode = values["useClientCredentials"]
    pod = make_pod(ci_file)
    # What an earlier run of this container left in the pod's emptyDir before it crashed.
    for stale in ("daemon.pid", "endpoint.json", "config.py", "user_environment.yaml"):
        plant(pod.endpoint_dir / stale, b"HTTPS_PROXY: stale\n" if stale.endswith(".yaml") else b"stale\n")
    if not client_mode:
        plant(pod.state_dir / "storage.db", b"an older copy", mode=0o644)

    result = pod.run(env=DRY_RUN)

    assert result.returncode == 0, result.stderr
    command, exported = result.stdout.splitlines()
    assert command.split() == expected_command(values)
    assert exported == (BOTH_EXPORTED if client_mode else NONE_EXPORTED)
    configmap_files = config_items(pod.spec)
    assert sorted(path.name for path in pod.endpoint_dir.iterdir()) == sorted(configmap_files)
    for name in configmap_files:
        copied = pod.endpoint_dir / name
        assert copied.read_text(encoding="utf-8") == pod.spec.configmap[name]
        assert_private_to_pod_user(copied, 0o600)
    assert_private_to_pod_user(pod.endpoint_dir, 0o700)
    if not client_mode:
        storage_db = pod.state_dir / "storage.db"
        assert storage_db.read_bytes() == STORAGE_DB
        assert_private_to_pod_user(storage_db, 0o600)


def assert_private_to_pod_user(path: Path, mode: int) -> None:
    info = path.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (RUN_AS.pw_uid, mode), f"{path}: {oct(info.st_mode)}"


# Run in the pod's environment (its PYTHONPATH makes the chart's provider visible, as in the pod): what
# `globus-compute-endpoint start` loads from the laid-out directory, and what it renders and loads for
# each user endpoint process when tasks arrive. Prints what the tests check, as JSON.
LOAD_LAID_OUT = """
import json, pwd, os, sys, uuid
from pathlib import Path
from globus_compute_endpoint.endpoint.config import CoreEndpointConfig, UserEndpointConfig
from globus_compute_endpoint.endpoint.config.utils import (
    get_config, load_config_yaml, load_user_config_schema, load_user_config_template, render_config_user_template,
)
from globus_compute_endpoint.endpoint.endpoint import Endpoint
from globus_compute_endpoint.endpoint.identity_mapper import MappedPosixIdentity

endpoint_dir = Path(sys.argv[1])
core = get_config(endpoint_dir)
assert isinstance(core, CoreEndpointConfig)
template_path = Endpoint.user_config_template_path(endpoint_dir, core)
schema_path = Endpoint.user_config_schema_path(endpoint_dir, core)
identity = MappedPosixIdentity(
    local_user_record=pwd.getpwuid(os.getuid()), matched_identity=uuid.UUID(int=0), globus_identity_candidates=[]
)
rendered = render_config_user_template(
    core, load_user_config_template(template_path), template_path, identity,
    load_user_config_schema(schema_path), {}, {},
)
user = load_config_yaml(rendered)
assert isinstance(user, UserEndpointConfig)
executor = user.engine.executor
provider = executor.provider
print(json.dumps({
    "display_name": core.display_name,
    "provider": type(provider).__name__,
    "image": provider.image,
    "namespace": provider.namespace,
    "max_blocks": provider.max_blocks,
    "address": executor.address,
    "encrypted": executor.encrypted,
}))
user.engine.shutdown()
"""


@pytest.mark.parametrize("ci_file", CI_FILES)
def test_endpoint_loads_what_was_laid_out(make_pod: MakePod, ci_file: str, tmp_path: Path) -> None:
    values = chart_values(CI_DIR / ci_file)
    pod = make_pod(ci_file)
    assert pod.run(env=DRY_RUN).returncode == 0
    # The Kubernetes client reads a kubeconfig when the provider is made; a dummy one lets it load offline.
    kubeconfig = tmp_path / ".kube" / "config"
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(yaml.safe_dump(DUMMY_KUBECONFIG), encoding="utf-8")
    env = pod.environment({"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)})

    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_LAID_OUT, str(pod.endpoint_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert loaded.returncode == 0, loaded.stderr
    result = json.loads(loaded.stdout.splitlines()[-1])
    assert result["display_name"] == (values["endpoint"]["displayName"] or RELEASE)
    # The chart's own provider, found through the PYTHONPATH the Deployment sets.
    assert result["provider"] == "ReleaseKubernetesProvider"
    assert result["image"] == (values["workerImage"] or default_image(values))
    assert result["namespace"] == (values["workerNamespace"] or NAMESPACE)
    assert result["max_blocks"] == values["maxBlocks"]
    assert result["address"] == POD_IP
    assert result["encrypted"] is True
    environment_file = pod.endpoint_dir / "user_environment.yaml"
    # The proxy, and userEnvironment over it.
    expected_env = {**proxy_env(values), **{key: str(value) for key, value in values["userEnvironment"].items()}}
    if expected_env:
        # Read as the endpoint reads it for the user endpoint process.
        loaded_env = yaml.safe_load(environment_file.read_text(encoding="utf-8").strip())
        assert {key: str(value) for key, value in loaded_env.items()} == expected_env
    else:
        assert not environment_file.exists()


def default_image(values: Mapping[str, Any]) -> str:
    app_version = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["appVersion"]
    return f"{values['image']['repository']}:{values['image']['tag'] or app_version}"


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_either_spelling_reaches_endpoint_as_globus_compute_variables(make_pod: MakePod, spelling: str) -> None:
    id_key, secret_key = SPELLINGS[spelling]
    pod = make_pod(secret=client_secret_keys(id_key, secret_key))
    # Old-spelling variables on the container itself must not reach the endpoint either.
    result = pod.run(env={**DRY_RUN, "FUNCX_SDK_CLIENT_ID": CLIENT_ID, "FUNCX_SDK_CLIENT_SECRET": "old"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == BOTH_EXPORTED
    assert f"secret keys {id_key} and {secret_key}" in result.stderr


def test_credential_files_with_line_ends_are_accepted(make_pod: MakePod) -> None:
    # echo > file, or an env file saved on Windows: the values are trimmed, not rejected.
    secret = {
        "GLOBUS_COMPUTE_CLIENT_ID": f"  {CLIENT_ID}\r\n".encode(),
        "GLOBUS_COMPUTE_CLIENT_SECRET": f"{CLIENT_SECRET}\n".encode(),
    }
    result = make_pod(secret=secret).run(env=DRY_RUN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == BOTH_EXPORTED


def test_user_tokens_mode_passes_no_client_variables(make_pod: MakePod) -> None:
    # With client variables set the endpoint would log in as the client, not with the saved tokens.
    pod = make_pod(USER_CI)
    result = pod.run(env={**DRY_RUN, "GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": "x"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == NONE_EXPORTED


def test_entrypoint_needs_only_tools_the_image_checks(make_pod: MakePod) -> None:
    # The image's build fails unless these tools exist; the entrypoint and its probes must not need
    # any other. Run them with a PATH of exactly those tools (plus the endpoint).
    match = re.search(r"for tool in ([a-z0-9 ]+); do", DOCKERFILE.read_text(encoding="utf-8"))
    assert match, "the Dockerfile no longer checks the tools the entrypoint needs"
    tools_dir = Path(tempfile.mkdtemp(prefix="gce-tools-"))
    try:
        tools_dir.chmod(0o755)
        for tool in [*match.group(1).split(), "globus-compute-endpoint"]:
            found = shutil.which(tool, path=f"{pod_bin()}:/usr/local/bin:/usr/bin:/bin")
            assert found, f"{tool} is not on this machine"
            (tools_dir / tool).symlink_to(found)
        pod = make_pod()
        path_env = {"PATH": str(tools_dir)}
        started = pod.run(env={**DRY_RUN, **path_env})
        assert started.returncode == 0, started.stderr
        plant(pod.endpoint_dir / "daemon.pid", b"1\n")
        plant(pod.endpoint_dir / "endpoint.json", b"{}\n")
        for probe in pod.spec.probes.values():
            result = pod.run(probe, env=path_env)
            assert result.returncode == 0, result.stderr
    finally:
        shutil.rmtree(tools_dir)


# --- (c) the real endpoint, started by the entrypoint, offline ---------------------------------


@pytest.mark.parametrize("spelling", ["globus-compute", "funcx"])
def test_real_endpoint_start_asks_globus_auth_not_a_person(make_pod: MakePod, spelling: str) -> None:
    """Started for real, the endpoint's first request is the client-credentials grant.

    Without mapped credentials it would print a login URL and wait for a code instead. The endpoint
    runs in a network namespace with nothing but a refusing proxy, which only sees the host name.
    """
    pod = make_pod(secret=client_secret_keys(*SPELLINGS[spelling]))
    staging = Path(tempfile.mkdtemp(prefix="gce-netns-"))
    try:
        spec = {
            "argv": pod.command(),
            "env": pod.environment(),
            "cwd": pod.translate(pod.spec.working_dir),
            "uid": RUN_AS.pw_uid,
            "gid": RUN_AS.pw_gid,
            "deadline_seconds": 30,
            "staging": str(staging),
        }
        result = subprocess.run(
            [host_tool("unshare"), "--mount", "--net", "--", sys.executable, str(NETNS_RUNNER)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=False,
            timeout=150,
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    output = report["stdout"] + report["stderr"]
    assert_no_secret(output, json.dumps(report["requests"]))
    first_request = report["requests"][0].split()[:2] if report["requests"] else None
    assert first_request == ["CONNECT", "auth.globus.org:443"], output[-3000:]
    assert "Please authenticate" not in output
    assert "Authorization Code" not in output
    # The entrypoint exec'd the endpoint: the process started is the endpoint's interpreter, not a
    # shell, and the SIGTERM the kubelet would send stops it.
    assert report["program"] == os.path.realpath(sys.executable), report
    assert not report["exited_by_itself"], output
    assert report["stopped_by_sigterm"], output


# --- (d) every refusal: exit code, one clear message, nothing started ---------------------------


@dataclass(frozen=True)
class Refusal:
    """A broken setup, and what the entrypoint must say about it."""

    code: int
    message: tuple[str, ...]
    ci_file: str = DEFAULT_CI
    secret: Mapping[str, bytes] | None = None
    no_secret: bool = False
    env: Callable[[Pod], dict[str, str | None]] = field(default=lambda pod: {})
    prepare: Callable[[Pod], None] = field(default=lambda pod: None)
    as_root: bool = False
    setpriv_options: tuple[str, ...] = ()
    run_as_unknown_user: bool = False


def _unknown_id() -> int:
    candidate = 40000
    while True:
        try:
            pwd.getpwuid(candidate)
        except KeyError:
            return candidate
        candidate += 1


def _remove_config_item(name: str) -> Callable[[Pod], None]:
    def prepare(pod: Pod) -> None:
        (pod.config_dir / name).unlink()

    return prepare


def _lock_secret_file(name: str) -> Callable[[Pod], None]:
    def prepare(pod: Pod) -> None:
        (pod.secret_dir / name).resolve().chmod(0o400)

    return prepare


def entrypoint_argv(pod: Pod, *words: str) -> tuple[str, ...]:
    """The container's command line (sh and the script) with other arguments in place of ``start``."""
    assert pod.spec.argv[-1] == "start"
    return (*pod.spec.argv[:-1], *words)


ENV_FILE_AS_ONE_KEY = f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={CLIENT_SECRET}\n".encode()

REFUSALS = {
    "root": Refusal(EX_NOPERM, ("refusing to run as root", "podSecurity.runAsUser"), as_root=True),
    "capabilities": Refusal(
        EX_NOPERM,
        ("refusing to run with Linux capabilities", "capabilities.drop"),
        setpriv_options=("--inh-caps=+setuid", "--ambient-caps=+setuid"),
    ),
    "user-without-passwd-entry": Refusal(EX_CONFIG, ("no entry in the image's /etc/passwd",), run_as_unknown_user=True),
    "no-secret": Refusal(
        EX_CONFIG, ("no client ID", "found keys: none", "--from-env-file client_creds.env"), no_secret=True
    ),
    "no-client-id": Refusal(
        EX_CONFIG,
        ("no client ID", "GLOBUS_COMPUTE_CLIENT_ID or FUNCX_SDK_CLIENT_ID", "found keys: GLOBUS_COMPUTE_CLIENT_SECRET"),
        secret={"GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_SECRET.encode()},
    ),
    "blank-client-id": Refusal(
        EX_CONFIG,
        ("no client ID",),
        secret={"GLOBUS_COMPUTE_CLIENT_ID": b" \n", "GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_SECRET.encode()},
    ),
    "no-client-secret": Refusal(
        EX_CONFIG,
        ("no client secret", "found keys: GLOBUS_COMPUTE_CLIENT_ID"),
        secret={"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID.encode()},
    ),
    "env-file-as-one-key": Refusal(
        EX_CONFIG,
        ("'client_creds.env'", "--from-file", "--from-env-file client_creds.env"),
        secret={"client_creds.env": ENV_FILE_AS_ONE_KEY},
    ),
    "client-id-not-uuid": Refusal(
        EX_CONFIG,
        ("client ID in the credentials secret (key GLOBUS_COMPUTE_CLIENT_ID) is not a UUID", "swapped"),
        # The ID and the secret swapped: the message must not show the ID's value, the secret.
        secret={"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_SECRET.encode(), "GLOBUS_COMPUTE_CLIENT_SECRET": CLIENT_ID.encode()},
    ),
    "endpoint-uuid-is-client-id": Refusal(
        EX_CONFIG, ("endpointUUID equals the client ID",), env=lambda pod: {"GCE_ENDPOINT_UUID": CLIENT_ID.upper()}
    ),
    "endpoint-uuid-empty": Refusal(
        EX_CONFIG, ("GCE_ENDPOINT_UUID is not set",), env=lambda pod: {"GCE_ENDPOINT_UUID": ""}
    ),
    "endpoint-uuid-malformed": Refusal(
        EX_CONFIG,
        ("endpointUUID 'my-endpoint' is not a UUID", "gce-values init"),
        env=lambda pod: {"GCE_ENDPOINT_UUID": "my-endpoint"},
    ),
    "endpoint-name-escapes": Refusal(
        EX_CONFIG, ("endpoint name '../x' is not valid",), env=lambda pod: {"GCE_ENDPOINT_NAME": "../x"}
    ),
    "config-template-missing": Refusal(
        EX_CONFIG,
        ("user_config_template.yaml.j2 is missing", "ConfigMap"),
        prepare=_remove_config_item("user_config_template.yaml.j2"),
    ),
    "unknown-mode": Refusal(
        EX_CONFIG, ("must be client or user, not 'token'",), env=lambda pod: {"GCE_CREDENTIALS_MODE": "token"}
    ),
    "no-storage-db": Refusal(
        EX_CONFIG, ("no storage.db", "--from-file storage.db="), ci_file=USER_CI, secret={"other": b"x"}
    ),
    "storage-db-not-sqlite": Refusal(
        EX_CONFIG, ("not an SQLite database",), ci_file=USER_CI, secret={"storage.db": ENV_FILE_AS_ONE_KEY}
    ),
    "secret-unreadable": Refusal(
        EX_CONFIG,
        ("GLOBUS_COMPUTE_CLIENT_ID is not readable by user", "podSecurity.runAsGroup"),
        prepare=_lock_secret_file("GLOBUS_COMPUTE_CLIENT_ID"),
    ),
    "state-dir-read-only": Refusal(
        EX_CANTCREAT,
        ("cannot write the endpoint's state directory", "writable volume"),
        env=lambda pod: {"GLOBUS_COMPUTE_USER_DIR": str(pod.config_dir / "state")},
    ),
    "endpoint-not-installed": Refusal(
        EX_CONFIG,
        ("globus-compute-endpoint is not installed in this image",),
        env=lambda pod: {"PATH": "/usr/bin:/bin"},
    ),
}

USAGE_ERRORS = {
    "no-command": (),
    "unknown-command": ("stop",),
    "start-with-arguments": ("start", "--debug"),
    "probe-without-kind": ("probe",),
    "probe-unknown-kind": ("probe", "sideways"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refuses_broken_setup_with_clear_message(make_pod: MakePod, name: str) -> None:
    case = REFUSALS[name]
    pod = make_pod(case.ci_file, case.secret, default_secret=not case.no_secret)
    case.prepare(pod)
    run_as = _unknown_id() if case.run_as_unknown_user else RUN_AS.pw_uid
    # The dry-run switch is on, so a check that failed to fire could never start the endpoint.
    result = pod.run(
        env={**DRY_RUN, **case.env(pod)},
        as_root=case.as_root,
        setpriv_options=case.setpriv_options,
        uid=run_as,
        gid=run_as if case.run_as_unknown_user else RUN_AS.pw_gid,
    )
    assert result.returncode == case.code, result.stderr
    (error,) = error_lines(result.stderr)
    for fragment in case.message:
        assert fragment in error
    assert result.stdout == ""
    assert not pod.endpoint_dir.exists()
    assert not (pod.state_dir / "storage.db").exists()


@pytest.mark.parametrize("name", sorted(USAGE_ERRORS))
def test_bad_usage_exits_64(make_pod: MakePod, name: str) -> None:
    pod = make_pod()
    result = pod.run(entrypoint_argv(pod, *USAGE_ERRORS[name]), env=DRY_RUN)
    assert result.returncode == EX_USAGE, result.stderr
    (error,) = error_lines(result.stderr)
    assert "usage: entrypoint.sh start | entrypoint.sh probe live|ready" in error
    assert not pod.endpoint_dir.exists()


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2F0BD7F3-3A94-4E38-9A0C-4A50F29FD2A3", True),  # upper case is still a UUID
        ("2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2a", False),  # one digit short
        ("2f0bd7f3-3a94-4e38-9a0c4a50-f29fd2a3", False),  # a dash out of place
        ("{7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57}", False),  # braces
        ("2f0bd7f3-3a94-4e38-9a0c-4a50f29fd2ag", False),  # not hex
        ("7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57\n7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57", False),  # two lines
        ("------------------------------------", False),  # the shape, without digits
    ],
)
def test_checks_endpoint_uuid_shape(make_pod: MakePod, value: str, accepted: bool) -> None:
    result = make_pod().run(env={**DRY_RUN, "GCE_ENDPOINT_UUID": value})
    assert result.returncode == (0 if accepted else EX_CONFIG), result.stderr
    if not accepted:
        # One line, whatever the value holds.
        (error,) = result.stderr.splitlines()
        assert error.startswith("gce-entrypoint: error: endpointUUID '")
        assert "is not a UUID" in error


# --- the probes, as the Deployment runs them ------------------------------------------------------

PROBE_STATES = {
    # state: (daemon.pid age in seconds or None, endpoint.json present, live passes, ready passes)
    "not-started": (None, False, False, False),
    "running-unregistered": (0, False, True, False),
    "running-registered": (5, True, True, True),
    "hung": (200, True, False, False),
}


@pytest.mark.parametrize("state", sorted(PROBE_STATES))
def test_probes_follow_the_endpoint_state(make_pod: MakePod, state: str) -> None:
    pid_age, registered, live, ready = PROBE_STATES[state]
    pod = make_pod()
    pod.state_dir.mkdir()
    os.chown(pod.state_dir, RUN_AS.pw_uid, RUN_AS.pw_gid)
    if pid_age is not None:
        pid_file = pod.endpoint_dir / "daemon.pid"
        plant(pid_file, b"7\n")
        moment = time.time() - pid_age
        os.utime(pid_file, (moment, moment))
    if registered:
        plant(pod.endpoint_dir / "endpoint.json", b'{"endpoint_id": "x"}\n')
    assert set(pod.spec.probes) == {"startupProbe", "livenessProbe", "readinessProbe"}
    for kind, probe in pod.spec.probes.items():
        passes = ready if probe[-1] == "ready" else live
        result = pod.run(probe)
        assert result.returncode == (0 if passes else 1), f"{kind}: {result.stderr}"
        assert (result.stderr == "") == passes, f"{kind}: {result.stderr}"


def test_probe_rejects_a_bad_stale_setting(make_pod: MakePod) -> None:
    pod = make_pod()
    result = pod.run(pod.spec.probes["livenessProbe"], env={"GCE_PID_STALE_SECONDS": "1m"})
    assert result.returncode == EX_CONFIG
    assert "GCE_PID_STALE_SECONDS must be a whole number of seconds, not '1m'" in result.stderr


# --- (e) a clone anywhere ----------------------------------------------------------------------


def test_a_clone_in_a_private_directory_still_runs_the_endpoint_as_the_pod_user(host_tools: None) -> None:
    """A clone under a 0700 directory (root's home, `mktemp -d`) is out of the pod user's reach.

    The harness must then hand the entrypoint a reachable copy of the environment, or every entrypoint
    test fails with "globus-compute-endpoint is not installed in this image".
    """
    private = Path(tempfile.mkdtemp(prefix="gce-private-"))
    try:
        private.chmod(0o700)
        clone_env = copy_environment(Path(sys.prefix), private / "clone" / ".venv")
        endpoint = clone_env / "bin" / "globus-compute-endpoint"
        assert not reachable_by_run_as(endpoint), "the private clone should be out of the pod user's reach"
        runnable = reachable_bin(clone_env)
        try:
            assert runnable != clone_env / "bin"
            home = runnable.parent.parent / "home"
            home.mkdir(mode=0o777)
            home.chmod(0o777)
            ran = subprocess.run(
                [host_tool("setpriv"), f"--reuid={RUN_AS.pw_uid}", f"--regid={RUN_AS.pw_gid}", "--clear-groups",
                 "--", str(runnable / "globus-compute-endpoint"), "version"],
                capture_output=True, text=True, check=False, timeout=60, cwd="/",
                env={"HOME": str(home), "PATH": f"{runnable}:/usr/bin:/bin"},
            )  # fmt: skip
        finally:
            shutil.rmtree(runnable.parent.parent)
    finally:
        shutil.rmtree(private)
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"\d+\.\d+\.\d+", ran.stdout), ran.stdout
