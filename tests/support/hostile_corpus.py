"""The hostile-input corpus: broken, malicious and strange inputs for every command that reads a conf or env file.

Small text inputs are files in ``tests/hostile/``; big, binary and special ones (a 50 MB file, invalid
UTF-8, a FIFO, a symlink loop...) are made at test time by ``Case.make``. Each case says what every
command must make of it: the exit code and words of the message that names the problem. The commands
are the ones that read a conf (validate, render, install, migrate) or a credentials env file (secret
check, validate --creds, secret create --from-env); ``argv`` says how each is run on an input.
"""

from __future__ import annotations

import codecs
import os
import random
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gce_values.sources import MAX_BYTES
from support.cli import Ran
from support.paths import SEED, SEED_TEXT, TESTS_DIR

HOSTILE_DIR = TESTS_DIR / "hostile"
VALID_CONF = SEED_TEXT
# The client ID of the env files below is this conf's endpointUUID, so validate --creds has a warning to give.
GOOD_ENV = f"GLOBUS_COMPUTE_CLIENT_ID={SEED['endpointUUID']}\nGLOBUS_COMPUTE_CLIENT_SECRET=not-a-real-secret-value\n"

CONF_COMMANDS = ("validate", "render", "install", "migrate")
ENV_COMMANDS = ("secret-check", "validate-creds", "secret-create")
COMMANDS = CONF_COMMANDS + ENV_COMMANDS
STDIN = "-"
STDIN_NAME = "<stdin>"
# Where each command writes, when it writes (relative to the run's own directory).
OUTPUT_FILE = {"render": "rendered.yaml", "migrate": "migrated.yaml", "secret-create": "client_creds.env"}


def argv(command: str, target: str, run_dir: Path, good_conf: Path) -> list[str]:
    """The gce-values arguments that make ``command`` read ``target``."""
    out = str(run_dir / OUTPUT_FILE.get(command, "unused"))
    return {
        "validate": ["validate", target],
        "render": ["render", target, "-o", out],
        "install": ["install", target, "--dry-run", "--group", "g", "--cluster", "c", "--slate-bin", "/nonexistent"],
        "migrate": ["migrate", target, "-o", out],
        "secret-check": ["secret", "check", target],
        "validate-creds": ["validate", str(good_conf), "--creds", target],
        "secret-create": ["secret", "create", "--from-env", target, "-o", out],
    }[command]


def shown_name(command: str, target: str) -> str:
    """How the command names the input in its messages."""
    return STDIN_NAME if target == STDIN and command in CONF_COMMANDS else target


@dataclass(frozen=True)
class Expect:
    """What a command must do with an input: end with ``code``, and show what the kind of outcome shows.

    Each kind says where its message is and what it names, so a case's table reads as what the user
    sees: Unreadable (one line on standard error naming the input), UsageError (click's one ``Error:``
    line), Problem (a problem line naming the input), Report (a line of the command's report; when the
    code is not 0, the report names the input somewhere). A bare Expect has nothing to show.
    """

    code: int
    says: str | None = None

    def shows(self, ran: Ran, name: str) -> bool:
        return True


class Unreadable(Expect):
    def shows(self, ran: Ran, name: str) -> bool:
        lines = ran.stderr.splitlines()
        return len(lines) == 1 and name in lines[0] and str(self.says) in lines[0]


class UsageError(Expect):
    def shows(self, ran: Ran, name: str) -> bool:
        errors = [line for line in ran.stderr.splitlines() if line.startswith("Error:")]
        return len(errors) == 1 and str(self.says) in errors[0]


class Problem(Expect):
    def shows(self, ran: Ran, name: str) -> bool:
        return any(name in line and str(self.says) in line for line in ran.output.splitlines())


class Report(Expect):
    def shows(self, ran: Ran, name: str) -> bool:
        said = any(str(self.says) in line for line in ran.output.splitlines())
        return said and (self.code == 0 or name in ran.output)


@dataclass(frozen=True)
class Case:
    """One hostile input and what each command must make of it.

    ``stdin`` is what standard input holds when the input is ``-``: bytes, or ``closed`` (no file
    descriptor 0 at all) or ``writer-dies`` (a pipe whose writer is killed halfway). ``needs_process``
    marks inputs given only to a separate, memory-limited process: those only a process can be given
    (a closed standard input, a file unreadable to its user when the tests run as root), and those
    that would hang or exhaust the test process itself if a limit of gce-values ever broke.
    """

    name: str
    make: Callable[[Path], str]
    outcomes: Mapping[str, Expect]
    stdin: bytes | str | None = None
    needs_process: bool = False

    def __post_init__(self) -> None:
        assert set(self.outcomes) == set(COMMANDS), self.name


# --- how inputs are made ---------------------------------------------------------------------------------------------


def _committed(filename: str) -> Callable[[Path], str]:
    """A file of tests/hostile/, copied so that its mode is the 0600 a user's credentials file has."""

    def make(directory: Path) -> str:
        target = directory / filename
        shutil.copyfile(HOSTILE_DIR / filename, target)
        target.chmod(0o600)
        return str(target)

    return make


def _written(filename: str, content: bytes | Callable[[], bytes]) -> Callable[[Path], str]:
    def make(directory: Path) -> str:
        target = directory / filename
        target.write_bytes(content() if callable(content) else content)
        target.chmod(0o600)
        return str(target)

    return make


def _fifty_megabytes(directory: Path) -> str:
    """50 MB of well-formed YAML: only the size cap stops it, not a parse error."""
    target = directory / "fifty-megabytes.yaml"
    block = (b"# userEnvironment: {A: " + b"x" * 1000 + b"}\n") * 1024
    with open(target, "wb") as handle:
        handle.write(VALID_CONF.encode())
        for _ in range(50 * 1024 * 1024 // len(block) + 1):
            handle.write(block)
    target.chmod(0o600)
    return str(target)


def _directory(directory: Path) -> str:
    target = directory / "a-directory.yaml"
    target.mkdir()
    return str(target)


def _missing(directory: Path) -> str:
    return str(directory / "no-such-conf.yaml")


def _unreadable(directory: Path) -> str:
    target = directory / "unreadable.yaml"
    target.write_text(VALID_CONF, encoding="utf-8")
    target.chmod(0)
    return str(target)


def _symlink_loop(directory: Path) -> str:
    first, second = directory / "loop-a.yaml", directory / "loop-b.yaml"
    first.symlink_to(second)
    second.symlink_to(first)
    return str(first)


def _fifo(directory: Path) -> str:
    """A named pipe nobody ever writes to: a naive read blocks forever."""
    target = directory / "nobody-writes.fifo"
    os.mkfifo(target, 0o600)
    return str(target)


def _device(path: str) -> Callable[[Path], str]:
    def make(_directory: Path) -> str:
        return path

    return make


def _stdin(_directory: Path) -> str:
    return STDIN


def _deep_block_mappings() -> bytes:
    """Mappings nested by indentation, as deep as fits in the 1 MiB limit (about 1,400 levels)."""
    lines, size, depth = [], 0, 0
    while size + depth + 3 <= MAX_BYTES:
        lines.append(" " * depth + "k:\n")
        size += depth + 3
        depth += 1
    return "".join(lines).encode()


def _random_bytes() -> bytes:
    return random.Random(20240601).randbytes(64 * 1024)


def _hundred_thousand_keys() -> bytes:
    """100,000 environment variables, a valid conf but for their number, in flow style to fit in 1 MiB."""
    names = ",".join(f"K{index:x}: 1" for index in range(100_000))
    return (VALID_CONF + "userEnvironment: {" + names + "}\n").encode()


def _hundred_thousand_unknown_keys() -> bytes:
    return (VALID_CONF + "".join(f"k{index:x}: 1\n" for index in range(100_000))).encode()


# --- outcomes --------------------------------------------------------------------------------------------------------


def _outcomes(conf: Expect, env: Expect | Mapping[str, Expect], **overrides: Expect) -> dict[str, Expect]:
    """``conf`` for the conf commands, ``env`` for the env-file commands, then per-command overrides."""
    table = dict.fromkeys(CONF_COMMANDS, conf)
    table.update(env if isinstance(env, Mapping) else dict.fromkeys(ENV_COMMANDS, env))
    table.update({name.replace("_", "-"): expect for name, expect in overrides.items()})
    return table


# A conf given where an env file belongs: no KEY=value lines with the credentials.
CONF_AS_ENV = {
    "secret-check": Problem(
        1, "GLOBUS_COMPUTE_CLIENT_ID: missing (nor is there its old spelling, FUNCX_SDK_CLIENT_ID)"
    ),
    "validate-creds": Report(0, "has no GLOBUS_COMPUTE_CLIENT_ID"),
    "secret-create": Unreadable(2, "has no GLOBUS_COMPUTE_CLIENT_ID"),
}
# The env-file commands take - as a file name, and there is no file of that name.
DASH_AS_ENV = Unreadable(2, "No such file or directory")
NOT_A_MAPPING = Unreadable(2, "a conf must be a YAML mapping (key: value lines)")
NO_UUID = Problem(1, "endpointUUID is required")
NO_UUID_TO_MIGRATE = Report(1, "The old conf has no endpoint UUID")
VALID = Report(0, "valid")
RENDERED = Expect(0)
INSTALL_PRINTED = Report(0, "slate app install globus-compute-endpoint")
MIGRATED = Report(0, "migrated")
MIGRATED_INVALID = Report(1, "the new conf is not valid yet")
# A key that is not carried over is for the user to look at: exit 1, and the report says so.
MIGRATED_FOR_REVIEW = Report(1, "review before installing")
INSTALL_NEEDS_A_FILE = UsageError(2, "CONF must be a file")
TOO_BIG_FOR_ENV = Unreadable(2, "larger than 64 KiB; not a credentials env file")
NOT_UTF8_ENV = Unreadable(2, "not UTF-8 text; not a credentials env file")
NOT_REGULAR = Unreadable(2, "not a regular file")
VALID_EVERYWHERE = _outcomes(VALID, CONF_AS_ENV, render=RENDERED, install=INSTALL_PRINTED, migrate=MIGRATED)


def _invalid_conf(says: str, migrate: Expect = MIGRATED_INVALID) -> dict[str, Expect]:
    return _outcomes(Problem(1, says), CONF_AS_ENV, migrate=migrate)


def _unusable_conf(says: str, env: Expect | Mapping[str, Expect] = CONF_AS_ENV) -> dict[str, Expect]:
    return _outcomes(Unreadable(2, says), env)


def _env_file(check: Expect, creds: Expect, create: Expect, conf: Expect = NOT_A_MAPPING) -> dict[str, Expect]:
    return _outcomes(conf, {"secret-check": check, "validate-creds": creds, "secret-create": create})


def _stdin_outcomes(conf: Expect) -> dict[str, Expect]:
    return _outcomes(conf, DASH_AS_ENV, install=INSTALL_NEEDS_A_FILE)


# --- the corpus ------------------------------------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    # Text that is not quite what it seems.
    Case("empty", _written("empty.yaml", b""), _outcomes(NO_UUID, CONF_AS_ENV, migrate=NO_UUID_TO_MIGRATE)),
    Case(
        "comments-only",
        _committed("comments-only.yaml"),
        _outcomes(NO_UUID, CONF_AS_ENV, migrate=NO_UUID_TO_MIGRATE),
    ),
    Case(
        "multiple-documents",
        _committed("multiple-documents.yaml"),
        _invalid_conf("a second YAML document: Helm 3 (the SLATE server's) ignores it, Helm 4 merges it", MIGRATED),
    ),
    Case("top-level-list", _committed("top-level-list.yaml"), _unusable_conf("not a list")),
    Case("top-level-scalar", _committed("top-level-scalar.yaml"), _unusable_conf("not a single value")),
    Case(
        "tab-indentation",
        _committed("tab-indentation.yaml"),
        _unusable_conf("not valid YAML: a tab where YAML needs spaces (indent with spaces, never tabs)"),
    ),
    Case("duplicate-keys", _committed("duplicate-keys.yaml"), _invalid_conf("duplicate key 'minBlocks'", MIGRATED)),
    Case("unclosed-flow", _committed("unclosed-flow.yaml"), _unusable_conf("not valid YAML")),
    Case(
        "crlf-line-endings",
        _written("crlf.yaml", VALID_CONF.replace("\n", "\r\n").encode()),
        VALID_EVERYWHERE,
    ),
    # Encodings and bytes that are not text.
    Case(
        "utf8-byte-order-mark",
        _written("bom.yaml", codecs.BOM_UTF8 + VALID_CONF.encode()),
        VALID_EVERYWHERE,
    ),
    Case(
        "utf16",
        _written("utf16.yaml", VALID_CONF.encode("utf-16")),
        _unusable_conf(
            "is UTF-16 text, which Helm 3 reads but Helm 4 and SLATE may not; save it as UTF-8", NOT_UTF8_ENV
        ),
    ),
    Case(
        "utf16-without-byte-order-mark",
        _written("utf16le.yaml", VALID_CONF.encode("utf-16-le")),
        _unusable_conf("character U+0000 is not allowed"),
    ),
    Case(
        "utf32",
        _written("utf32.yaml", VALID_CONF.encode("utf-32")),
        _unusable_conf("is UTF-32 text; save it as UTF-8", NOT_UTF8_ENV),
    ),
    Case(
        "latin1",
        _written("latin1.yaml", b"Instance: caf\xe9\n"),
        _unusable_conf("not UTF-8 text (byte 0xe9)", NOT_UTF8_ENV),
    ),
    Case(
        "random-bytes",
        _written("random.bin", _random_bytes),
        _unusable_conf("not UTF-8 text", NOT_UTF8_ENV),
    ),
    Case(
        "nul-bytes",
        _written("nul.yaml", VALID_CONF.encode() + b"workerInit: a\x00b\n"),
        _unusable_conf("character U+0000 is not allowed"),
    ),
    Case(
        "lone-surrogate-escape",
        _committed("lone-surrogate.yaml"),
        _unusable_conf("invalid Unicode character escape"),
    ),
    # Tags: executable, binary, custom, typed.
    Case("python-object-tag", _committed("python-object-tag.yaml"), _unusable_conf("Python object tags")),
    Case("python-name-tag", _committed("python-name-tag.yaml"), _unusable_conf("Python object tags")),
    Case("binary-tag", _committed("binary-tag.yaml"), VALID_EVERYWHERE),
    Case("custom-tags", _committed("custom-tags.yaml"), _invalid_conf("expected an integer", MIGRATED)),
    Case("set-tag", _committed("set-tag.yaml"), _invalid_conf("expected a list, got a mapping")),
    Case(
        "typed-tags-that-lie",
        _committed("timestamp-and-typed-tags.yaml"),
        _unusable_conf("a value tagged !!int is not an integer"),
    ),
    # Anchors, aliases and merges.
    Case("merge-keys", _committed("merge-keys.yaml"), VALID_EVERYWHERE),
    Case("merge-of-a-scalar", _committed("merge-of-a-scalar.yaml"), _unusable_conf("a merge (<<) needs a mapping")),
    Case(
        "alias-bomb",
        _committed("alias-bomb.yaml"),
        _unusable_conf("aliases expand to more than 10000 values"),
        needs_process=True,
    ),
    Case(
        "anchor-to-itself",
        _committed("anchor-to-itself.yaml"),
        _unusable_conf("alias *loop refers to the value that contains it"),
    ),
    Case("undefined-alias", _committed("undefined-alias.yaml"), _unusable_conf("has no anchor &nowhere")),
    # Numbers and keys.
    Case("nan", _committed("nan.yaml"), _unusable_conf("infinity and NaN are not allowed")),
    Case("infinity", _committed("infinity.yaml"), _unusable_conf("infinity and NaN are not allowed")),
    Case("huge-integers", _committed("huge-integers.yaml"), _invalid_conf("expected an integer")),
    Case(
        "five-thousand-digits",
        _written("digits.yaml", (VALID_CONF + f"maxBlocks: {'1' * 5000}\nmaxIdleTime: '{'2' * 5000}'\n").encode()),
        _invalid_conf("expected an integer"),
    ),
    Case("non-string-keys", _committed("non-string-keys.yaml"), _invalid_conf("unknown key '1'", MIGRATED_FOR_REVIEW)),
    Case("complex-key", _committed("complex-key.yaml"), _unusable_conf("a key must be a single value")),
    Case("newline-in-key", _committed("newline-in-key.yaml"), _invalid_conf("unknown key", MIGRATED_FOR_REVIEW)),
    Case(
        "terminal-escapes-in-key",
        _committed("terminal-escapes.yaml"),
        _invalid_conf("unknown key", MIGRATED_FOR_REVIEW),
    ),
    # Size and depth.
    Case(
        "deep-flow-sequences",
        _written("deep-flow.yaml", b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"),
        _unusable_conf("exceeded maximum nesting depth"),
    ),
    Case(
        "deep-flow-mappings",
        _written("deep-flow-map.yaml", b"a: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n"),
        _unusable_conf("nested more than 100 levels deep"),
    ),
    Case(
        "deep-block-sequences",
        _written("deep-block.yaml", b"a:\n" + b"- " * 10_000 + b"x\n"),
        _unusable_conf("nested more than 100 levels deep"),
    ),
    Case(
        "deep-block-mappings",
        _written("deep-block-map.yaml", _deep_block_mappings),
        _unusable_conf("nested more than 100 levels deep", TOO_BIG_FOR_ENV),
    ),
    Case(
        "deep-through-aliases",
        _committed("deep-through-aliases.yaml"),
        _unusable_conf("nested more than 100 levels deep (through the alias *l0)"),
    ),
    Case(
        "nested-lists-in-user-environment",
        _committed("nested-lists-in-user-environment.yaml"),
        _invalid_conf("expected a string, a number or a boolean, got a list"),
    ),
    Case(
        "fifty-megabytes",
        _fifty_megabytes,
        _unusable_conf("larger than 1 MiB", TOO_BIG_FOR_ENV),
    ),
    Case(
        "one-megabyte-value",
        _written("long-value.yaml", (VALID_CONF + "workerInit: " + "x" * 1_000_000 + "\n").encode()),
        _outcomes(Problem(1, "is 1000000 characters long"), TOO_BIG_FOR_ENV, migrate=MIGRATED_INVALID),
    ),
    Case(
        "one-megabyte-key",
        _written("long-key.yaml", (VALID_CONF + "? " + "k" * 1_000_000 + "\n: 1\n").encode()),
        _outcomes(Problem(1, "unknown key 'kkkk"), TOO_BIG_FOR_ENV, migrate=MIGRATED_FOR_REVIEW),
    ),
    Case(
        "one-megabyte-plain-key",
        _written("long-plain-key.yaml", (VALID_CONF + "k" * 1_000_000 + ": 1\n").encode()),
        _unusable_conf("could not find expected ':'", TOO_BIG_FOR_ENV),
    ),
    Case(
        "hundred-thousand-keys",
        _written("many-keys.yaml", _hundred_thousand_keys),
        _unusable_conf("more than 20000 values", TOO_BIG_FOR_ENV),
    ),
    Case(
        "hundred-thousand-unknown-keys",
        _written("many-unknown-keys.yaml", _hundred_thousand_unknown_keys),
        _unusable_conf("more than 20000 values", TOO_BIG_FOR_ENV),
    ),
    # Not a readable regular file.
    Case("directory", _directory, _unusable_conf("is a directory", NOT_REGULAR)),
    Case("missing-file", _missing, _unusable_conf("no such file", Unreadable(2, "No such file or directory"))),
    Case(
        "unreadable-file",
        _unreadable,
        _unusable_conf("permission denied", Unreadable(2, "Permission denied")),
        needs_process=True,
    ),
    Case(
        "symlink-loop",
        _symlink_loop,
        _unusable_conf("Too many levels of symbolic links", Unreadable(2, "Too many levels of symbolic links")),
    ),
    Case(
        "fifo-without-writer",
        _fifo,
        _unusable_conf("is a named pipe that nothing was written to", NOT_REGULAR),
        needs_process=True,
    ),
    Case(
        "endless-device",
        _device("/dev/zero"),
        _unusable_conf("larger than 1 MiB", NOT_REGULAR),
        needs_process=True,
    ),
    Case("null-device", _device("/dev/null"), _outcomes(NO_UUID, NOT_REGULAR, migrate=NO_UUID_TO_MIGRATE)),
    # Standard input.
    Case(
        "stdin-empty",
        _stdin,
        _stdin_outcomes(NO_UUID) | {"migrate": NO_UUID_TO_MIGRATE},
        stdin=b"",
    ),
    Case("stdin-binary", _stdin, _stdin_outcomes(Unreadable(2, "not UTF-8 text")), stdin=_random_bytes()),
    Case(
        "stdin-closed",
        _stdin,
        _stdin_outcomes(Unreadable(2, "there is no standard input to read")),
        stdin="closed",
        needs_process=True,
    ),
    Case(
        "stdin-writer-dies",
        _stdin,
        _stdin_outcomes(Unreadable(2, "not valid YAML")),
        stdin="writer-dies",
        needs_process=True,
    ),
    # Env files (and the same files given as confs).
    Case(
        "env-good",
        _committed("good.env"),
        _env_file(Report(0, "ok"), Report(0, "is the client ID from"), Report(0, "wrote")),
    ),
    Case(
        "env-export-lines",
        _committed("export-lines.env"),
        _env_file(Problem(1, "`export` is shell syntax"), CONF_AS_ENV["validate-creds"], CONF_AS_ENV["secret-create"]),
    ),
    Case(
        "env-quoted-values",
        _committed("quoted-values.env"),
        _env_file(
            Problem(1, "has spaces or quotes around it"),
            Report(0, "is the client ID from"),
            Problem(1, "has spaces or quotes around it"),
        ),
    ),
    Case(
        "env-no-equals",
        _committed("no-equals.env"),
        _env_file(
            Problem(1, "not KEY=value"),
            CONF_AS_ENV["validate-creds"],
            CONF_AS_ENV["secret-create"],
            conf=Unreadable(2, "mapping values are not allowed"),
        ),
    ),
    Case(
        "env-secret-only",
        _committed("secret-only.env"),
        _env_file(CONF_AS_ENV["secret-check"], CONF_AS_ENV["validate-creds"], CONF_AS_ENV["secret-create"]),
    ),
    Case(
        "env-crlf",
        _written("crlf.env", GOOD_ENV.replace("\n", "\r\n").encode()),
        _env_file(Problem(1, "Windows line endings"), Report(0, "is the client ID from"), Report(0, "wrote")),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"


def materialize(case: Case, directory: Path) -> str:
    """Create the case's input under ``directory`` (once); the command-line argument that names it."""
    directory.mkdir(parents=True, exist_ok=True)
    return case.make(directory)
