"""Writing files without ever leaving a half-written, clobbered or briefly exposed one.

Every file gce-values writes goes through ``write_text``: the text goes to a temporary file in the
target's directory, created with its final permissions from the first instant (so a credentials
file is never world-readable, not even for a moment), flushed to disk, and only then moved into
place. An existing file is replaced only when the user said ``--force``; on any failure or
interrupt the original stays as it was and the temporary file is removed.

A target that exists and is not a regular file (``/dev/null``, a named pipe, a terminal) is written
into, as a shell's ``>`` would, never renamed over: replacing ``/dev/null`` with a regular file, as
root, breaks every program on the machine. Credentials are never written to such a target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
from pathlib import Path

from gce_values.errors import InputError

# Permissions of a conf (before the umask) and of a file holding credentials.
CONF_MODE = 0o644
SECRET_MODE = 0o600

# Errors from os.link meaning "this filesystem cannot hard-link", not "the target exists".
_NO_LINK_ERRNOS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS})


def refuse_existing(path: Path, force: bool) -> None:
    """Fail early, before any work or prompt, when ``path`` exists and ``force`` is not set.

    A device or a pipe (``-o /dev/null``) is written into, not overwritten: it needs no --force.
    """
    if not force and os.path.lexists(path) and not _is_special(path):
        raise InputError(f"{path}: already exists; use --force to overwrite it")


def write_text(path: Path, text: str, *, force: bool, mode: int = CONF_MODE) -> None:
    """Atomically write ``text`` to ``path`` with permissions ``mode`` (less the umask).

    When replacing a file (``force``), the new file is never more open than the old one was.
    """
    refuse_existing(path, force)
    if _is_special(path):
        _write_into(path, text, mode)
        return
    directory = path.parent if str(path.parent) else Path(".")
    if force and path.exists():
        mode &= path.stat().st_mode & 0o777
    temp = _create_temp(directory, path.name, mode)
    try:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _move_into_place(temp, path, force)
    except OSError as exc:
        _remove_quietly(temp)
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        _remove_quietly(temp)
        raise
    _sync_directory(directory)


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is something other than a regular file or a directory."""
    import stat

    try:
        kind = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(kind) or stat.S_ISDIR(kind))


def _write_into(path: Path, text: str, mode: int) -> None:
    """Write into an existing device or pipe (no temporary file, no rename, nothing created)."""
    if mode == SECRET_MODE:
        raise InputError(f"{path}: not a regular file; credentials are written only to a file of their own")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _create_temp(directory: Path, name: str, mode: int) -> Path:
    """A new, empty temporary file beside the target, created with ``mode`` (O_EXCL: never reused)."""
    for _ in range(100):
        temp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"{directory / name}: cannot write: {exc.strerror or exc}") from exc
        os.close(fd)
        return temp
    raise InputError(f"{directory / name}: cannot create a temporary file in {directory}")


def _move_into_place(temp: Path, path: Path, force: bool) -> None:
    """Rename ``temp`` to ``path``; without ``force``, never replace a file that appeared meanwhile."""
    if force:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)
    except FileExistsError:
        raise InputError(f"{path}: already exists; use --force to overwrite it") from None
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
        if os.path.lexists(path):
            raise InputError(f"{path}: already exists; use --force to overwrite it") from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _sync_directory(directory: Path) -> None:
    """Persist the rename itself (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def emit(text: str, target: str, *, force: bool, mode: int = CONF_MODE) -> None:
    """Write ``text`` to the file ``target``, or to standard output when ``target`` is ``-``."""
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_text(Path(target), text, force=force, mode=mode)
