"""Every command of ``mock-psp`` says what it does and shows an example, in its own --help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from mock_psp.cli import cli


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(cli)


def test_the_command_tree_is_read_whole():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"serve", "up", "merchant", "scenarios run", "clock", "namespace export"} <= names


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "mock-psp" for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path, command):
    assert (command.help or "").strip(), "no help text"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and "mock-psp" in result.output.split("Example", 1)[1], result.output
