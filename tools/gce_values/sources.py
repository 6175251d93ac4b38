"""Read a conf from a path, standard input or a named pipe: size cap, BOM, UTF-8, and never a hang.

read_source(path) -> (display name, text); '-' is standard input; raises InputError
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
import time

from gce_values.errors import NOT_UTF8, TOO_LARGE, InputError

MAX_BYTES = 1024 * 1024
# How long a named pipe may stay without a writer before it is refused (a writer already waiting counts at once).
PIPE_WAIT_SECONDS = 0.5
STDIN_NAME = "<stdin>"


def read_source(path: str) -> tuple[str, str]:
    """The display name and text of a conf; ``-`` reads standard input. At most 1 MiB of UTF-8.

    A named pipe is read until its writer closes it, but one that no program opens for writing (and
    writes to) within ``PIPE_WAIT_SECONDS`` is refused rather than waited on forever.
    """
    if path == "-":
        name = STDIN_NAME
        if sys.stdin is None:
            raise InputError("there is no standard input to read", source=name)
        raw = _read_stdin(name)
    else:
        name = path
        if os.path.isdir(path):
            raise InputError("is a directory; give the conf file itself", source=name)
        raw = _read_path(path, name)
    if len(raw) > MAX_BYTES:
        raise InputError(
            "larger than 1 MiB, more than any conf needs; is it the right file?", source=name, rule=TOO_LARGE
        )
    return name, _decode(raw, name)


def _read_stdin(name: str) -> bytes:
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by an in-memory stream (tests, embedding)
        return bytes(sys.stdin.buffer.read(MAX_BYTES + 1) or b"")
    try:
        return _read_capped(fd, writer_wait=None)
    except OSError as error:
        raise InputError(f"cannot read it: {error.strerror or error}", source=name) from None


def _read_path(path: str, name: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("no such file", source=name) from None
    except PermissionError:
        raise InputError("permission denied", source=name) from None
    except OSError as error:
        raise InputError(f"cannot read it: {os.strerror(error.errno or 0)}", source=name) from None
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            return _read_capped(fd, writer_wait=PIPE_WAIT_SECONDS)
        os.set_blocking(fd, True)
        return _read_capped(fd, writer_wait=None)
    except _NoWriter:
        raise InputError(
            f"is a named pipe that nothing was written to within {PIPE_WAIT_SECONDS:g} s", source=name
        ) from None
    except OSError as error:
        raise InputError(f"cannot read it: {os.strerror(error.errno or 0)}", source=name) from None
    finally:
        os.close(fd)


class _NoWriter(Exception):
    """A named pipe stayed without a writer."""


def _read_capped(fd: int, writer_wait: float | None) -> bytes:
    """Up to MAX_BYTES + 1 bytes from ``fd`` (enough to tell a conf that is too big).

    With ``writer_wait`` (a non-blocking named pipe), an empty read means "no writer yet" until data
    arrives or a writer shows up, and after ``writer_wait`` seconds without one, _NoWriter.
    """
    chunks: list[bytes] = []
    size = 0
    writer_seen = writer_wait is None
    deadline = time.monotonic() + (writer_wait or 0)
    while size <= MAX_BYTES:
        try:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
        except BlockingIOError:  # a writer has it open but has not written yet: wait as long as it lives
            writer_seen = True
            _wait_readable(fd, None)
            continue
        if chunk:
            writer_seen = True
            chunks.append(chunk)
            size += len(chunk)
        elif writer_seen:
            break
        elif time.monotonic() >= deadline:
            raise _NoWriter
        elif _wait_readable(fd, deadline - time.monotonic()):
            time.sleep(0.01)  # readable with nothing to read: a writer came and went (or this OS says so early)
    return b"".join(chunks)


def _wait_readable(fd: int, timeout: float | None) -> bool:
    import select  # a shared library: loaded only for a pipe

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000))))


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise InputError("is UTF-32 text; save it as UTF-8", source=name)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Refused on purpose: Helm 3 reads UTF-16 with a byte-order mark, Helm 4 only some of it (it adds
        # a one-byte line break to text that does not end in one), and SLATE expects UTF-8.
        raise InputError(
            "is UTF-16 text, which Helm 3 reads but Helm 4 and SLATE may not; save it as UTF-8",
            source=name,
            rule=NOT_UTF8,
        )
    # The byte-order mark is dropped here rather than by the "utf-8-sig" codec, which is one more
    # module to import; error positions are then counted in the text after it, as an editor shows it.
    body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    if raw.startswith(codecs.BOM_UTF8) and body.startswith(codecs.BOM_UTF8):
        # go-yaml then loses count of where each key starts: Helm reads "ecrets" for "secrets".
        raise InputError(
            "starts with two byte-order marks, and Helm reads every key of it with a character cut off; "
            "save it as UTF-8 with one or none",
            source=name,
            line=1,
            column=1,
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        line_start = body.rfind(b"\n", 0, error.start) + 1
        column = len(body[line_start : error.start].decode("utf-8", errors="replace")) + 1
        detail = f"not UTF-8 text (byte 0x{body[error.start]:02x}); save it as UTF-8"
        raise InputError(detail, source=name, line=line, column=column) from None
