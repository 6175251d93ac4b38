"""Every command's --help, as a user reads it: ends with examples, names options alike, hides maintainer commands."""

from __future__ import annotations

import click
import pytest

from gce_values.cli.commands import COMMANDS, MAINTAINER_COMMANDS
from gce_values.cli.group import cli
from support.cli import run


def _command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [()]
    ctx = click.Context(cli)
    for name in COMMANDS:
        paths.append((name,))
        command = cli.get_command(ctx, name)
        if isinstance(command, click.Group):
            paths.extend((name, sub) for sub in command.list_commands(ctx))
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda path: " ".join(path) or "gce-values")
def test_help_ends_with_one_or_two_examples(path: tuple[str, ...]) -> None:
    ran = run(*path, "--help")
    assert ran.code == 0, ran.output
    lines = [line.strip() for line in ran.stdout.rstrip().splitlines()]
    assert "Examples:" in lines, ran.stdout
    after = [line for line in lines[len(lines) - lines[::-1].index("Examples:") :] if line]
    assert 1 <= len(after) <= 2, after
    assert any(line.startswith("gce-values ") for line in after), after
    assert "gce-values " + " ".join(path) in " ".join(after) or not path, "an example of this very command"


def test_maintainer_commands_are_not_in_the_users_list_but_still_work() -> None:
    listed = run("--help").stdout
    commands = listed.split("Commands:", 1)[1].split("Exit codes", 1)[0]
    for name in MAINTAINER_COMMANDS:
        assert f"  {name} " not in commands
        assert run(name, "--help").code == 0
    for name in set(COMMANDS) - MAINTAINER_COMMANDS:
        assert f"  {name} " in commands, name


def test_options_that_mean_the_same_are_named_the_same() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        commands = (
            [command.get_command(ctx, sub) for sub in command.list_commands(ctx)]
            if isinstance(command, click.Group)
            else [command]
        )
        for each in commands:
            assert each is not None
            for param in each.params:
                opts = set(param.opts)
                if param.name == "output_format":
                    assert "--format" in opts, (name, opts)
                assert not any("report-format" in opt for opt in opts)
                if param.name == "force":
                    assert opts == {"--force"}
                if param.name == "output":
                    assert opts == {"-o", "--output"}, (name, opts)
