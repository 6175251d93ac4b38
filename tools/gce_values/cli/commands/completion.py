"""`gce-values completion bash|zsh|fish`: print a shell completion script."""

from __future__ import annotations

import click

from gce_values.cli.group import cli
from gce_values.cli.support import examples

PROG = "gce-values"
COMPLETE_VAR = "_GCE_VALUES_COMPLETE"


@click.command(
    epilog=examples(
        'eval "$(gce-values completion bash)"',
        "gce-values completion fish > ~/.config/fish/completions/gce-values.fish",
    )
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash: eval "$(gce-values completion bash)"   (e.g. in ~/.bashrc)
    zsh:  eval "$(gce-values completion zsh)"    (e.g. in ~/.zshrc)
    fish: gce-values completion fish > ~/.config/fish/completions/gce-values.fish
    """
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    if completion_class is None:
        raise click.UsageError(f"no completion support for {shell}")
    click.echo(completion_class(cli, {}, PROG, COMPLETE_VAR).source())
