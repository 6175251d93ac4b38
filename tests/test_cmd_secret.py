"""`gce-values secret create|check`: the credentials env file, its permissions, and that secrets stay secret."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from support.cli import run, run_on_terminal

CLIENT_ID = "6b0c2d3e-1f2a-4b5c-8d9e-0a1b2c3d4e5f"
# A planted secret: it must never show up in anything gce-values prints.
PLANTED = "PlantedS3cret+/Value=="
GOOD_ENV = f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}\n"
NO_CREDS_ENV: dict[str, str | None] = {"GLOBUS_COMPUTE_CLIENT_ID": None, "GLOBUS_COMPUTE_CLIENT_SECRET": None}


def _env_file(tmp_path: Path, text: str, mode: int = 0o600, name: str = "in.env") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- secret create -----------------------------------------------------------------------------


def test_create_from_env_file_writes_0600_and_prints_both_commands(tmp_path: Path, umask_zero: None) -> None:
    source = _env_file(tmp_path, GOOD_ENV)
    out = tmp_path / "client_creds.env"
    ran = run(
        "secret", "create", "-o", str(out), "--from-env", str(source),
        "--name", "atlas-creds", "--group", "atlas", "--cluster", "uchicago",
    )  # fmt: skip
    assert ran.code == 0, ran.output
    assert _mode(out) == 0o600
    assert out.read_text() == GOOD_ENV
    lines = ran.stdout.splitlines()
    assert f"slate secret create atlas-creds --group atlas --cluster uchicago --from-env-file {out}" in lines
    assert f"kubectl create secret generic atlas-creds --from-env-file {out}" in lines
    assert PLANTED not in ran.output


def test_create_accepts_the_old_spelling_and_writes_the_current_one(tmp_path: Path) -> None:
    source = _env_file(tmp_path, f"FUNCX_SDK_CLIENT_ID={CLIENT_ID}\nFUNCX_SDK_CLIENT_SECRET={PLANTED}\n")
    out = tmp_path / "client_creds.env"
    ran = run("secret", "create", "-o", str(out), "--from-env", str(source))
    assert ran.code == 0, ran.output
    assert out.read_text() == GOOD_ENV
    assert "--group GROUP --cluster CLUSTER" in ran.stdout, "placeholders when group and cluster are not given"


def test_create_from_environment_variables(tmp_path: Path) -> None:
    out = tmp_path / "client_creds.env"
    ran = run(
        "secret",
        "create",
        "-o",
        str(out),
        env={"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": PLANTED},
    )
    assert ran.code == 0, ran.output
    assert out.read_text() == GOOD_ENV
    assert PLANTED not in ran.output


def test_create_makes_the_file_0600_from_its_first_instant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_zero: None
) -> None:
    """Under umask 0 every file the command creates is opened 0600; none is ever world-readable."""
    created_modes: list[int] = []
    real_open = os.open

    def spying_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created_modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    out = tmp_path / "client_creds.env"
    ran = run("secret", "create", "-o", str(out), "--from-env", str(_env_file(tmp_path, GOOD_ENV)))
    assert ran.code == 0, ran.output
    assert created_modes and all(mode == 0o600 for mode in created_modes), created_modes
    assert _mode(out) == 0o600


def test_create_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = _env_file(tmp_path, "KEEP=me\n", name="client_creds.env")
    source = _env_file(tmp_path, GOOD_ENV)
    ran = run("secret", "create", "-o", str(out), "--from-env", str(source))
    assert ran.code == 2
    assert "--force" in ran.stderr
    assert out.read_text() == "KEEP=me\n"
    forced = run("secret", "create", "-o", str(out), "--from-env", str(source), "--force")
    assert forced.code == 0, forced.output
    assert out.read_text() == GOOD_ENV
    assert _mode(out) == 0o600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"GLOBUS_COMPUTE_CLIENT_ID=not-a-uuid\nGLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}\n", "not a UUID"),
        (f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET=\n", "secret is empty"),
        (f'GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET="{PLANTED}"\n', "quotes"),
        # ID and secret swapped: the "ID" is the secret, and must not be printed either.
        (f"GLOBUS_COMPUTE_CLIENT_ID={PLANTED}\nGLOBUS_COMPUTE_CLIENT_SECRET={CLIENT_ID}\n", "not a UUID"),
    ],
)
def test_create_rejects_bad_values_with_exit_1_and_writes_nothing(tmp_path: Path, text: str, message: str) -> None:
    out = tmp_path / "client_creds.env"
    ran = run("secret", "create", "-o", str(out), "--from-env", str(_env_file(tmp_path, text)))
    assert ran.code == 1
    assert message in ran.stderr
    assert PLANTED not in ran.output
    assert not out.exists()


def test_create_without_values_or_terminal_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "client_creds.env"
    ran = run("secret", "create", "-o", str(out), env=NO_CREDS_ENV)
    assert ran.code == 2
    assert "--from-env" in ran.stderr
    assert not out.exists()


def test_create_never_writes_the_secret_to_stdout(tmp_path: Path) -> None:
    ran = run("secret", "create", "-o", "-", "--from-env", str(_env_file(tmp_path, GOOD_ENV)))
    assert ran.code == 2
    assert PLANTED not in ran.output


def test_create_missing_from_env_file_is_exit_2(tmp_path: Path) -> None:
    ran = run("secret", "create", "-o", str(tmp_path / "out.env"), "--from-env", str(tmp_path / "absent.env"))
    assert ran.code == 2
    assert "absent.env" in ran.stderr


def test_create_prompts_on_a_terminal_without_echoing_the_secret(tmp_path: Path) -> None:
    code, shown = run_on_terminal(
        ["secret", "create"],
        # Answer only once the whole prompt is shown, as a person would: click prints the prompt's
        # last character after the terminal's echo is off.
        [("Client ID (a UUID): ", "not-a-uuid"), ("Client ID (a UUID): ", CLIENT_ID), ("(not shown): ", PLANTED)],
        cwd=tmp_path,
        env={"GLOBUS_COMPUTE_CLIENT_ID": "", "GLOBUS_COMPUTE_CLIENT_SECRET": ""},
    )
    assert code == 0, shown
    assert "not a UUID" in shown, "a bad client ID is explained and asked again"
    assert PLANTED not in shown, "the terminal showed the secret"
    out = tmp_path / "client_creds.env"
    assert out.read_text() == GOOD_ENV
    assert _mode(out) == 0o600


# --- secret check ------------------------------------------------------------------------------


def test_check_accepts_a_good_file(tmp_path: Path) -> None:
    ran = run("secret", "check", str(_env_file(tmp_path, GOOD_ENV)))
    assert ran.code == 0, ran.output
    assert ran.stdout.strip().endswith(": ok")


def test_check_fails_a_world_readable_file_and_warns_on_group_readable(tmp_path: Path) -> None:
    world = run("secret", "check", str(_env_file(tmp_path, GOOD_ENV, 0o644, "world.env")))
    assert world.code == 1
    assert "everyone on this machine can read it" in world.stdout and "error" in world.stdout
    group = run("secret", "check", str(_env_file(tmp_path, GOOD_ENV, 0o640, "group.env")))
    assert group.code == 0
    assert "its group can read it" in group.stdout and "warning" in group.stdout
    assert run("secret", "check", "--strict", str(tmp_path / "group.env")).code == 1


def test_check_accepts_the_old_spelling_with_a_note(tmp_path: Path) -> None:
    text = f"FUNCX_SDK_CLIENT_ID={CLIENT_ID}\nFUNCX_SDK_CLIENT_SECRET={PLANTED}\n"
    ran = run("secret", "check", str(_env_file(tmp_path, text)))
    assert ran.code == 0, ran.output
    assert "GLOBUS_COMPUTE_CLIENT_ID is current" in ran.stdout
    assert "GLOBUS_COMPUTE_CLIENT_SECRET is current" in ran.stdout
    assert PLANTED not in ran.output


def test_check_reports_each_problem_on_its_line(tmp_path: Path) -> None:
    text = (
        "# credentials for the endpoint\n"
        f"GLOBUS_COMPUTE_CLIENT_ID={PLANTED}\n"  # line 2: the secret pasted as the ID
        "export GLOBUS_COMPUTE_CLIENT_SECRET=x\n"  # line 3: shell syntax
        "just some words\n"  # line 4: no '='
        "GLOBUS_COMPUTE_CLIENT_SCRET=typo\n"  # line 5: unknown key
        f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\n"  # line 6: repeated
    )
    path = _env_file(tmp_path, text)
    ran = run("secret", "check", str(path))
    assert ran.code == 1
    by_line: dict[str, str] = {}
    for line in ran.stdout.splitlines():
        if line.startswith(f"{path}:"):
            number = line.removeprefix(f"{path}:").split(":")[0]
            by_line[number] = by_line.get(number, "") + line
    assert "not a UUID" in by_line["2"]
    assert "`export`" in by_line["3"]
    assert "no `=`" in by_line["4"]
    assert "did you mean GLOBUS_COMPUTE_CLIENT_SECRET" in by_line["5"] and "warning" in by_line["5"]
    assert "repeated (first on line 2)" in by_line["6"]
    assert (
        "GLOBUS_COMPUTE_CLIENT_SECRET: missing (nor is there its old spelling, FUNCX_SDK_CLIENT_SECRET)" in ran.stdout
    )
    assert PLANTED not in ran.output
    for line in ran.stdout.splitlines():
        key = line.split(": ")[2] if line.count(": ") >= 2 else ""
        if key.isupper():
            assert line.count(key) == 1, f"the key is named twice: {line}"


def test_check_catches_windows_line_endings(tmp_path: Path) -> None:
    ran = run("secret", "check", str(_env_file(tmp_path, GOOD_ENV.replace("\n", "\r\n"))))
    assert ran.code == 1
    assert "Windows line endings" in ran.stdout


@pytest.mark.parametrize("output_format", ["json", "github"])
def test_check_machine_formats_never_contain_the_secret(tmp_path: Path, output_format: str) -> None:
    text = f"GLOBUS_COMPUTE_CLIENT_ID={PLANTED}\nGLOBUS_COMPUTE_CLIENT_SECRET= {PLANTED}\nOTHER={PLANTED}\n"
    path = _env_file(tmp_path, text, 0o644)
    ran = run("secret", "check", "--format", output_format, str(path))
    assert ran.code == 1
    assert PLANTED not in ran.output
    if output_format == "json":
        document = json.loads(ran.stdout)
        assert document["valid"] is False
        rules = {problem["rule"] for problem in document["problems"]}
        assert {"env-permissions", "env-value", "env-unknown-key"} <= rules
    else:
        assert all(line.startswith(("::error ", "::warning ")) for line in ran.stdout.splitlines())


def test_check_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    missing = run("secret", "check", str(tmp_path / "absent.env"))
    assert missing.code == 2
    assert "absent.env" in missing.stderr
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert run("secret", "check", str(binary)).code == 2


@pytest.mark.parametrize("key", ["GLOBUS_COMPUTE_CLIENT_SECRET", "GLOBUS_COMPUTE_CLIENT_ID", "FUNCX_SDK_CLIENT_SECRET"])
def test_check_refuses_a_comment_after_a_value(tmp_path: Path, key: str) -> None:
    """kubectl's and slate's env files keep ` # my secret` in the value: the endpoint would fail to log in."""
    lines = {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, "GLOBUS_COMPUTE_CLIENT_SECRET": PLANTED}
    if key.startswith("FUNCX"):
        lines = {"GLOBUS_COMPUTE_CLIENT_ID": CLIENT_ID, key: PLANTED}
    text = "".join(f"{k}={v}{' # my secret' if k == key else ''}\n" for k, v in lines.items())
    ran = run("secret", "check", str(_env_file(tmp_path, text)))
    assert ran.code == 1, ran.output
    assert "comment" in ran.stdout and "lines of their own" in ran.stdout
    assert PLANTED not in ran.output


def test_create_takes_the_blogs_funcx_variables_from_the_environment(tmp_path: Path) -> None:
    """The SLATE blog's FUNCX_SDK_* names, which smoke and secret check accept, work for create too."""
    out = tmp_path / "client_creds.env"
    env = {"FUNCX_SDK_CLIENT_ID": CLIENT_ID, "FUNCX_SDK_CLIENT_SECRET": PLANTED}
    ran = run(
        "secret",
        "create",
        "-o",
        str(out),
        env={**env, "GLOBUS_COMPUTE_CLIENT_ID": None, "GLOBUS_COMPUTE_CLIENT_SECRET": None},
    )
    assert ran.code == 0, ran.output
    assert out.read_text() == f"GLOBUS_COMPUTE_CLIENT_ID={CLIENT_ID}\nGLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}\n"
    assert "old spelling" in ran.stderr
    assert PLANTED not in ran.output


def test_the_example_in_a_client_id_error_is_not_taken_for_the_users_value(tmp_path: Path) -> None:
    ran = run(
        "secret",
        "check",
        str(_env_file(tmp_path, f"GLOBUS_COMPUTE_CLIENT_ID=abc\nGLOBUS_COMPUTE_CLIENT_SECRET={PLANTED}\n")),
    )
    assert "a UUID looks like" in ran.stdout
    assert "it looks like" not in ran.stdout
