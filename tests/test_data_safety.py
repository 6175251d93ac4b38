"""Data safety across every command: files are replaced only atomically and with --force, secrets are never shown.

The commands that write (init, render -o, migrate -o, secret create) are run with a failure injected
at the rename, an interrupt (Ctrl-C) in the middle of the write, and input they refuse: the file that
was there keeps its bytes, no temporary file is left behind, and a new file appears only complete.
Then a recognisable fake client secret is planted wherever a user might put one (a credentials env
file, a conf's values and keys, --set, an old conf to migrate, the options of init) and every output
of every command (stdout, stderr, every format, every file written other than the credentials file
itself) is searched for it, for pieces of it and for its base64, JSON, URL and hex spellings.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.cli import Ran, run
from support.hostile_corpus import VALID_CONF

CLIENT_ID = "7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57"
# Shaped like a Globus client secret (44 characters of base64), so that it is recognisable as one.
SECRET = "Zq3Xv8Lm2Pk7Wd5Rt9Hs4Nf6Jb1Gc0Ye+Ua/Io-TxKw="
SECRET_ENV = f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={SECRET}\n"
OLD_CONF = "Instance: ci\nendpointUUID: 7d3e9b21-5c4a-4f8e-a1b6-0e2f9c8d4a57\nsecrets: creds\nmaxBlocks: 100\n"
ORIGINAL = b"# the user's own file, which must survive\nkeep: me\n"


# --- atomic writes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """A command that writes a file: how to run it so that it writes ``out``, and so that it refuses to."""

    name: str
    writes: Callable[[Path, Path], list[str]]
    refuses: Callable[[Path, Path], tuple[list[str], int]]


def _inputs(directory: Path) -> dict[str, Path]:
    files = {"conf": VALID_CONF, "old": OLD_CONF, "env": SECRET_ENV, "bad-env": "GLOBUS_COMPUTE_CLIENT_ID=x\n"}
    paths = {}
    for name, text in files.items():
        paths[name] = directory / f"input-{name}"
        paths[name].write_text(text, encoding="utf-8")
        paths[name].chmod(0o600)
    paths["bad-conf"] = directory / "input-bad-conf"
    paths["bad-conf"].write_text(VALID_CONF + "maxBlocks: -1\n", encoding="utf-8")
    paths["not-yaml"] = directory / "input-not-yaml"
    paths["not-yaml"].write_text("a: [\n", encoding="utf-8")
    return paths


WRITERS = (
    Writer(
        "init",
        lambda d, out: ["init", "-o", str(out), "--secret", "creds"],
        lambda d, out: (["init", "-o", str(out), "--secret", "creds", "--instance", "Not_Valid"], 2),
    ),
    Writer(
        "render",
        lambda d, out: ["render", str(_inputs(d)["conf"]), "-o", str(out)],
        lambda d, out: (["render", str(_inputs(d)["bad-conf"]), "-o", str(out)], 1),
    ),
    Writer(
        "migrate",
        lambda d, out: ["migrate", str(_inputs(d)["old"]), "-o", str(out)],
        lambda d, out: (["migrate", str(_inputs(d)["not-yaml"]), "-o", str(out)], 2),
    ),
    Writer(
        "secret-create",
        lambda d, out: ["secret", "create", "--from-env", str(_inputs(d)["env"]), "-o", str(out)],
        lambda d, out: (["secret", "create", "--from-env", str(_inputs(d)["bad-env"]), "-o", str(out)], 2),
    ),
)
WRITER_IDS = [writer.name for writer in WRITERS]


def _leftovers(directory: Path) -> list[str]:
    """Anything in the directory besides the inputs and the target: temporary files."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("input-") and p.name != "target")


def _target(directory: Path, existing: bool) -> Path:
    out = directory / "target"
    if existing:
        out.write_bytes(ORIGINAL)
    return out


@pytest.mark.parametrize("writer", WRITERS, ids=WRITER_IDS)
def test_writes_through_a_temporary_file_beside_the_target(
    writer: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new file is created under another name in the same directory, then linked (or renamed) into place."""
    out = _target(tmp_path, existing=False)
    args = writer.writes(tmp_path, out)
    created: list[Path] = []
    moved: list[tuple[Path, Path]] = []
    real_open, real_link, real_replace = os.open, os.link, os.replace

    def spying_open(path: Any, flags: int, *rest: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append(Path(path))
        return real_open(path, flags, *rest, **kwargs)

    def spying_link(src: Any, dst: Any, *rest: Any, **kwargs: Any) -> None:
        moved.append((Path(src), Path(dst)))
        real_link(src, dst, *rest, **kwargs)

    def spying_replace(src: Any, dst: Any, *rest: Any, **kwargs: Any) -> None:
        moved.append((Path(src), Path(dst)))
        real_replace(src, dst, *rest, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    monkeypatch.setattr(os, "link", spying_link)
    monkeypatch.setattr(os, "replace", spying_replace)
    ran = run(*args)
    assert ran.code in (0, 1), ran.output
    temporary = [path for path in created if path.parent == out.parent and path != out]
    assert len(temporary) == 1 and temporary[0].name.startswith(".target."), created
    assert moved == [(temporary[0], out)]
    assert out.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True], ids=["new-file", "forced-over-a-file"])
@pytest.mark.parametrize("writer", WRITERS, ids=WRITER_IDS)
def test_a_failed_rename_leaves_the_original_and_no_temporary_file(
    writer: Writer, force: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _target(tmp_path, existing=force)
    args = writer.writes(tmp_path, out) + (["--force"] if force else [])

    def disk_fails(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace" if force else "link", disk_fails)
    ran = run(*args)
    assert ran.code == 2, ran.output
    assert "Input/output error" in ran.stderr and len(ran.stderr.splitlines()) == 1, ran.stderr
    assert out.read_bytes() == ORIGINAL if force else not out.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["write", "fsync"])
@pytest.mark.parametrize("force", [False, True], ids=["new-file", "forced-over-a-file"])
@pytest.mark.parametrize("writer", WRITERS, ids=WRITER_IDS)
def test_an_interrupt_during_the_write_leaves_the_original_and_no_temporary_file(
    writer: Writer, force: bool, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (KeyboardInterrupt) halfway through writing the temporary file: exit 130, nothing changed."""
    out = _target(tmp_path, existing=force)
    args = writer.writes(tmp_path, out) + (["--force"] if force else [])
    real_open = open

    class InterruptedFile:
        """The temporary file, interrupted after half of what is written to it."""

        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> InterruptedFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            if where == "write":
                raise KeyboardInterrupt
            return len(text)

        def flush(self) -> None:
            self.handle.flush()

        def fileno(self) -> int:
            return int(self.handle.fileno())

    def interrupting_open(file: Any, mode: str = "r", *rest: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *rest, **kwargs)
        is_temporary = "w" in mode and Path(str(file)).name.startswith(".target.")
        return InterruptedFile(handle) if is_temporary else handle

    def interrupted_fsync(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.open", interrupting_open)
    if where == "fsync":
        monkeypatch.setattr(os, "fsync", interrupted_fsync)
    ran = run(*args)
    assert (ran.code, ran.stderr.split()) == (130, ["Interrupted."]), ran.output  # as a shell reports Ctrl-C
    assert out.read_bytes() == ORIGINAL if force else not out.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", WRITERS, ids=WRITER_IDS)
def test_refused_input_leaves_the_original_even_with_force(writer: Writer, tmp_path: Path) -> None:
    out = _target(tmp_path, existing=True)
    args, code = writer.refuses(tmp_path, out)
    ran = run(*args, "--force")
    assert ran.code == code, ran.output
    assert out.read_bytes() == ORIGINAL
    assert _leftovers(tmp_path) == []


# --- secrets are never shown ---------------------------------------------------------------------------------------


def leaked(text: str | bytes) -> list[str]:
    """The spellings of SECRET (whole, in pieces, encoded) that ``text`` contains."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    forms = {
        "as is": SECRET,
        "base64": base64.b64encode(SECRET.encode()).decode(),
        "base64 of the env line": base64.b64encode(f"GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}".encode()).decode()[8:],
        "JSON": json.dumps(SECRET)[1:-1],
        "URL-encoded": urllib.parse.quote(SECRET, safe=""),
        "hex": binascii.hexlify(SECRET.encode()).decode(),
    }
    forms |= {f"piece at {start}": SECRET[start : start + 12] for start in range(len(SECRET) - 11)}
    return [name for name, form in forms.items() if form in text]


def _written_files(directory: Path, *, besides: frozenset[Path]) -> dict[str, bytes]:
    return {
        str(path): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and path not in besides and not path.name.startswith("input-")
    }


def assert_nothing_leaked(ran: Ran, directory: Path, what: str, besides: frozenset[Path] = frozenset()) -> None:
    """Neither the output nor any file written in ``directory`` (but ``besides``) holds any form of SECRET."""
    assert ran.code in (0, 1, 2), f"{what}: {ran.output}"
    assert leaked(ran.stdout) == [], f"{what}: stdout: {ran.stdout}"
    assert leaked(ran.stderr) == [], f"{what}: stderr: {ran.stderr}"
    for name, content in _written_files(directory, besides=besides).items():
        assert leaked(content) == [], f"{what}: {name}"


FORMATS = ("text", "json", "github")
CONF_PLACEMENTS = {
    "workerInit-assignment": f"workerInit: export GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}\n",
    "userEnvironment-value": f"userEnvironment:\n  GLOBUS_COMPUTE_CLIENT_SECRET: {SECRET}\n",
    "userEnvironment-token": f"userEnvironment:\n  API_TOKEN: '{SECRET}'\n",
    "userEnvironment-key": f"userEnvironment:\n  '{SECRET}': x\n",
    "top-level-key": f"'{SECRET}': 1\n",
    "unknown-key": f"clientSecret: {SECRET}\n",
    "displayName": f"endpoint:\n  displayName: {SECRET}\n",
    "admins-list": f"endpoint:\n  admins: ['{SECRET}']\n",
    "image-tag": f"image:\n  tag: {SECRET}\n",
    "nodeSelector": f"nodeSelector:\n  team: {SECRET}\n",
    "Instance": f"Instance: {SECRET}\n",
    "endpointUUID": f"endpointUUID: {SECRET}\n",
    "secrets-name": f"secrets: {SECRET}\n",
}


def _conf_with(placement: str) -> str:
    """The valid conf with the placement's lines added, replacing a key of the same name."""
    extra = CONF_PLACEMENTS[placement]
    first_key = extra.split(":", 1)[0]
    kept = [line for line in VALID_CONF.splitlines(keepends=True) if not line.startswith(f"{first_key}:")]
    return "".join(kept) + extra


@pytest.mark.parametrize("placement", list(CONF_PLACEMENTS))
def test_a_secret_in_a_conf_is_never_shown(placement: str, tmp_path: Path) -> None:
    conf = tmp_path / "input-conf.yaml"
    conf.write_text(_conf_with(placement), encoding="utf-8")
    runs: list[list[str]] = []
    for output_format in FORMATS:
        runs += [
            ["validate", "--format", output_format, str(conf)],
            ["render", "--format", output_format, str(conf), "-o", str(tmp_path / f"rendered-{output_format}.yaml")],
            ["install", "--format", output_format, str(conf), "--dry-run", "--group", "g", "--cluster", "c"],
        ]
    for report_format in ("text", "json"):
        out = tmp_path / f"migrated-{report_format}.yaml"
        runs.append(["migrate", str(conf), "-o", str(out), "--format", report_format])
    for args in runs:
        ran = run(*args, env={"GCE_SLATE": "/nonexistent/slate"})
        assert ran.code != 0 or args[0] == "migrate", f"{args}: a conf with a credential is not valid: {ran.output}"
        assert_nothing_leaked(ran, tmp_path, " ".join(args[:3]))


SET_PLACEMENTS = (
    ("--set", f"workerInit=export GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}"),
    ("--set-string", f"userEnvironment.API_TOKEN={SECRET}"),
    ("--set", f"endpoint.displayName={SECRET}"),
    ("--set", f"userEnvironment.{SECRET.replace('/', '').replace('+', '').replace('=', '')}=x"),
    ("--set", f"userEnvironment.API_TOKEN:{SECRET}"),
    ("--set", f"userEnvironment.API_TOKEN={SECRET},"),
    ("--set-string", f"{SECRET}"),
)


@pytest.mark.parametrize(("option", "expression"), SET_PLACEMENTS)
def test_a_secret_given_with_set_is_never_shown(option: str, expression: str, tmp_path: Path) -> None:
    conf = tmp_path / "input-conf.yaml"
    conf.write_text(VALID_CONF, encoding="utf-8")
    for output_format in FORMATS:
        for command in ("validate", "render"):
            out = ["-o", str(tmp_path / f"rendered-{output_format}.yaml")] if command == "render" else []
            ran = run(command, "--format", output_format, str(conf), option, expression, *out)
            assert ran.code != 0, f"{command} {option} {expression}: {ran.output}"
            assert_nothing_leaked(ran, tmp_path, f"{command} --format {output_format} {option}")


ENV_FILES = {
    "good": SECRET_ENV,
    "quoted": f'GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET="{SECRET}"\n',
    "swapped": f"GLOBUS_COMPUTE_CLIENT_ID={SECRET}\nGLOBUS_COMPUTE_CLIENT_SECRET={CLIENT_ID}\n",
    "crlf": SECRET_ENV.replace("\n", "\r\n"),
    "repeated": SECRET_ENV + f"GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}x\n",
    "legacy-and-conflicting": SECRET_ENV + f"FUNCX_SDK_CLIENT_SECRET={SECRET[::-1]}\n",
    "misspelt-key": f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRT={SECRET}\n",
    "export": f"export GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}\nGLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\n",
    "bare-secret-line": f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\n{SECRET}\n",
    "trailing-space": f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={SECRET} \n",
}


@pytest.mark.parametrize("mode", [0o600, 0o644], ids=["private", "world-readable"])
@pytest.mark.parametrize("variant", list(ENV_FILES))
def test_a_secret_in_a_credentials_file_is_never_shown(variant: str, mode: int, tmp_path: Path) -> None:
    env = tmp_path / "input-creds.env"
    env.write_text(ENV_FILES[variant], encoding="utf-8")
    env.chmod(mode)
    conf = tmp_path / "input-conf.yaml"
    conf.write_text(VALID_CONF, encoding="utf-8")
    created = tmp_path / "client_creds.env"
    runs = [["secret", "check", "--format", output_format, str(env)] for output_format in FORMATS]
    runs += [["validate", "--format", output_format, str(conf), "--creds", str(env)] for output_format in FORMATS]
    runs.append(["secret", "create", "--from-env", str(env), "-o", str(created), "--force"])
    for args in runs:
        assert_nothing_leaked(run(*args), tmp_path, " ".join(args[:4]), besides=frozenset({created}))


def test_a_secret_in_the_environment_is_never_shown(tmp_path: Path) -> None:
    created = tmp_path / "client_creds.env"
    for client_id in (CLIENT_ID, "not-a-uuid", SECRET):
        ran = run(
            "secret",
            "create",
            "-o",
            str(created),
            "--force",
            env={"GLOBUS_COMPUTE_CLIENT_ID": client_id, "GLOBUS_COMPUTE_CLIENT_SECRET": SECRET},
        )
        assert_nothing_leaked(ran, tmp_path, f"secret create, client ID {client_id[:8]}", besides=frozenset({created}))


OLD_CONF_PLACEMENTS = {
    "service-address": f"funcXServiceAddress: https://compute.example.org/?token={SECRET}\n",
    "cli-args": f"endpointCLIargs: --debug --client-secret {SECRET}\n",
    "unknown-key": f"clientSecret: {SECRET}\n",
    "key-is-the-secret": f"'{SECRET}': 1\n",
    "worker-init": f"workerInit: export GLOBUS_COMPUTE_CLIENT_SECRET={SECRET}\n",
    "image": f"image:\n  repository: registry.example.org/{SECRET}\n  tag: x\n",
    "worker-image": f"workerImage: {SECRET}\n",
    "endpoint-uuid": f"endpointUUID: {SECRET}\n",
}


@pytest.mark.parametrize("placement", list(OLD_CONF_PLACEMENTS))
def test_a_secret_in_an_old_conf_is_never_shown_or_carried_over(placement: str, tmp_path: Path) -> None:
    old = tmp_path / "input-old.yaml"
    old.write_text(OLD_CONF + OLD_CONF_PLACEMENTS[placement], encoding="utf-8")
    for report_format in ("text", "json"):
        for target in ("-", str(tmp_path / f"migrated-{report_format}.yaml")):
            ran = run("migrate", str(old), "-o", target, "--format", report_format)
            assert ran.code in (0, 1), ran.output
            assert_nothing_leaked(ran, tmp_path, f"migrate -o {target} --format {report_format}")


@pytest.mark.parametrize("option", ["--endpoint-uuid", "--instance", "--secret"])
def test_a_secret_pasted_into_an_init_option_is_never_shown(option: str, tmp_path: Path) -> None:
    args = ["init", "-o", str(tmp_path / "my-conf.yaml"), option, SECRET]
    if option != "--secret":
        args += ["--secret", "creds"]
    ran = run(*args)
    assert ran.code == 2, ran.output
    assert_nothing_leaked(ran, tmp_path, f"init {option}")
