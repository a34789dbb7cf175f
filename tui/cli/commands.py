"""Every `runwatch` subcommand, in the order `runwatch --help` lists them.

Adding one: write a module in tui/cli/ that declares a `Command` (its name, help, options
and run function; see tui/cli/parser.py), and add it to COMMANDS below. Nothing else.
"""

from __future__ import annotations

import argparse

from . import demo, edits, exec, export, logs, runs, sweeps, tail, top
from .parser import Command
from .parser import build_parser as _build

COMMANDS: tuple[Command, ...] = (
    tail.TAIL,
    runs.LS,
    runs.SHOW,
    logs.LOGS,
    top.TOP,
    export.EXPORT,
    edits.TAG,
    edits.NOTE,
    sweeps.SWEEP,
    sweeps.AGENT,
    demo.DEMO,
    exec.EXEC,
)


def command_named(name: str | None) -> Command | None:
    return next((command for command in COMMANDS if command.name == name), None)


def names() -> list[str]:
    return [command.name for command in COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    return _build(COMMANDS)
