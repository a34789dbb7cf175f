"""Every `runwatch` subcommand, in the order `runwatch --help` lists them.

Adding one: write a module in tui/cli/ that declares a `Command` (its name, help, options
and run function; see tui/cli/parser.py), and add a line for it to REGISTRY below. Nothing else.

The registry names modules, not Commands: `runwatch tail` imports tail's module alone (not
the SDK that `tag` needs, nor the sampler `top` needs), so each command starts as fast as
what it uses allows. `COMMANDS` (every Command) imports them all: the full `--help` and tests.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from .parser import Command
from .parser import build_parser as _build

# (command name, its module under tui/cli/, the Command's name in that module)
REGISTRY: tuple[tuple[str, str, str], ...] = (
    ("tail", "tail", "TAIL"),
    ("ls", "runs", "LS"),
    ("show", "runs", "SHOW"),
    ("logs", "logs", "LOGS"),
    ("top", "top", "TOP"),
    ("export", "export", "EXPORT"),
    ("tag", "edits", "TAG"),
    ("note", "edits", "NOTE"),
    ("sweep", "sweeps", "SWEEP"),
    ("agent", "sweeps", "AGENT"),
    ("demo", "demo", "DEMO"),
    ("exec", "exec", "EXEC"),
)


def _load(module: str, attr: str) -> Command:
    command: Command = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
    return command


def __getattr__(name: str) -> Any:
    """`COMMANDS`: every registered Command, their modules imported (PEP 562: only when asked)."""
    if name == "COMMANDS":
        return tuple(_load(module, attr) for _, module, attr in REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _assigned() -> tuple[Command, ...] | None:
    """COMMANDS when something set it on this module (a test adding a command), else None."""
    got: tuple[Command, ...] | None = globals().get("COMMANDS")
    return got


def command_named(name: str | None) -> Command | None:
    """The command called `name`, its module alone imported; None when there is none."""
    assigned = _assigned()
    if assigned is not None:
        return next((command for command in assigned if command.name == name), None)
    entry = next((e for e in REGISTRY if e[0] == name), None)
    return _load(entry[1], entry[2]) if entry is not None else None


def names() -> list[str]:
    assigned = _assigned()
    return [c.name for c in assigned] if assigned is not None else [e[0] for e in REGISTRY]


def build_parser() -> argparse.ArgumentParser:
    """The whole parser: what `runwatch --help` prints (every command's module imported)."""
    assigned = _assigned()
    return _build(assigned if assigned is not None else __getattr__("COMMANDS"))


def parser_for(command: Command) -> argparse.ArgumentParser:
    """A parser that knows `command` alone: enough to run it, or print its own --help."""
    return _build((command,))
