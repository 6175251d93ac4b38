"""gce_values.workflow.fileio: no clobbering, atomic replacement, and permissions right from the first instant."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from gce_values.errors import InputError
from gce_values.workflow import fileio


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_writes_a_new_file(tmp_path: Path, umask_zero: None) -> None:
    target = tmp_path / "conf.yaml"
    fileio.write_text(target, "a: 1\n", force=False)
    assert target.read_text() == "a: 1\n"
    assert _mode(target) == fileio.CONF_MODE
    assert _leftovers(tmp_path) == []


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "conf.yaml"
    target.write_text("mine\n")
    with pytest.raises(InputError, match=r"already exists; use --force") as caught:
        fileio.write_text(target, "theirs\n", force=False)
    assert "\n" not in str(caught.value)
    assert target.read_text() == "mine\n"
    assert _leftovers(tmp_path) == []


def test_force_replaces(tmp_path: Path) -> None:
    target = tmp_path / "conf.yaml"
    target.write_text("old\n")
    fileio.write_text(target, "new\n", force=True)
    assert target.read_text() == "new\n"


def test_no_clobber_even_when_the_file_appears_after_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process creates the file between our existence check and our rename: it survives."""
    target = tmp_path / "conf.yaml"
    real_link = os.link

    def file_appears_first(src: Any, dst: Any) -> None:
        Path(dst).write_text("written meanwhile\n")
        real_link(src, dst)

    monkeypatch.setattr(os, "link", file_appears_first)
    with pytest.raises(InputError, match="already exists"):
        fileio.write_text(target, "ours\n", force=False)
    assert target.read_text() == "written meanwhile\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_rename_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool, failure: BaseException
) -> None:
    target = tmp_path / "conf.yaml"
    if force:
        target.write_text("original\n")

    def fail(*_args: Any) -> None:
        raise failure

    monkeypatch.setattr(os, "replace" if force else "link", fail)
    expected = InputError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        fileio.write_text(target, "replacement\n", force=force)
    if force:
        assert target.read_text() == "original\n"
    else:
        assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_failed_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "conf.yaml"
    target.write_text("original\n")

    def full_disk(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(InputError, match="No space left on device"):
        fileio.write_text(target, "replacement\n", force=True)
    assert target.read_text() == "original\n"
    assert _leftovers(tmp_path) == []


def test_secret_file_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_zero: None
) -> None:
    """Every file created on the way (the temp file too) is created 0600, and is 0600 when it is renamed."""
    created: list[tuple[str, int]] = []
    modes_at_rename: list[int] = []
    real_open, real_link = os.open, os.link

    def spying_open(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append((str(path), mode))
        return real_open(path, flags, mode, *args, **kwargs)

    def spying_link(src: Any, dst: Any) -> None:
        modes_at_rename.append(stat.S_IMODE(os.stat(src).st_mode))
        real_link(src, dst)

    monkeypatch.setattr(os, "open", spying_open)
    monkeypatch.setattr(os, "link", spying_link)
    target = tmp_path / "client_creds.env"
    fileio.write_text(target, "GLOBUS_COMPUTE_CLIENT_SECRET=x\n", force=False, mode=fileio.SECRET_MODE)
    assert created, "the file was not created through os.open"
    assert all(mode == 0o600 for _path, mode in created), created
    assert modes_at_rename == [0o600]
    assert _mode(target) == 0o600


def test_replacing_never_loosens_permissions(tmp_path: Path, umask_zero: None) -> None:
    target = tmp_path / "conf.yaml"
    target.write_text("old\n")
    target.chmod(0o600)
    fileio.write_text(target, "new\n", force=True)
    assert _mode(target) == 0o600


def test_unwritable_directory_is_a_one_line_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write") as caught:
        fileio.write_text(tmp_path / "missing-dir" / "conf.yaml", "a: 1\n", force=False)
    assert "\n" not in str(caught.value)


def test_emit_dash_writes_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fileio.emit("a: 1\n", "-", force=False)
    assert capsys.readouterr().out == "a: 1\n"
    assert list(tmp_path.iterdir()) == []


def _fifo_with_reader(tmp_path: Path) -> tuple[Path, list[bytes], Any]:
    """A named pipe and a thread that reads what is written into it."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return fifo, received, reader


def test_a_device_or_pipe_is_written_into_never_replaced(tmp_path: Path) -> None:
    """`-o /dev/null --force` as root once replaced /dev/null with a regular file; a pipe stands in for it here."""
    fifo, received, reader = _fifo_with_reader(tmp_path)
    fileio.write_text(fifo, "conf: text\n", force=True)
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "still the pipe, not a regular file renamed over it"
    assert received == [b"conf: text\n"]
    assert _leftovers(tmp_path) == []


def test_credentials_never_go_to_a_device_or_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        fileio.write_text(fifo, "GLOBUS_COMPUTE_CLIENT_SECRET=x\n", force=True, mode=fileio.SECRET_MODE)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_command_writing_to_a_pipe_leaves_it_a_pipe(tmp_path: Path) -> None:
    from support.cli import run
    from support.paths import REPO_ROOT

    fifo, received, reader = _fifo_with_reader(tmp_path)
    old = REPO_ROOT / "tests" / "fixtures" / "predecessor-confs" / "slate-0.1.6.yaml"
    ran = run("migrate", str(old), "-o", str(fifo), "--force")
    reader.join(timeout=10)
    assert ran.code == 1, ran.output  # the old defaults lack endpointUUID and secrets
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert b"maxBlocks: 4" in received[0]


def test_writing_into_dev_null_needs_no_force(tmp_path: Path) -> None:
    """`migrate -o /dev/null` (to see only the report) writes into the device: nothing is overwritten."""
    from support.cli import run
    from support.paths import REPO_ROOT

    old = REPO_ROOT / "tests" / "fixtures" / "predecessor-confs" / "slate-0.1.6.yaml"
    ran = run("migrate", str(old), "-o", os.devnull)
    assert "--force" not in ran.stderr, ran.stderr
    assert ran.code == 1, ran.output  # the report: the old defaults lack endpointUUID and secrets
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode), "still the device"
    existing = tmp_path / "my-conf.yaml"
    existing.write_text("kept: true\n")
    assert run("migrate", str(old), "-o", str(existing)).code == 2, "a regular file still needs --force"
    assert existing.read_text() == "kept: true\n"
