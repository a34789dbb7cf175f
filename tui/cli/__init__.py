"""The `runwatch` command line (`runwatch = "tui.cli:main"`): one module per command family.

    main.py      dispatch: the app, or a subcommand with its output guarded
    parser.py    the parser machinery, `Command`, argument types, help texts
    commands.py  the registry: every subcommand, one line each (its module imported when run)
    common.py    errors, the root, finding a run
    tail.py      tail's options (the engine: tui/tail.py)
    runs.py      ls, show          edits.py   tag, note
    export.py    export            demo.py    demo's options (the sweep: tui/demo.py)
    sweeps.py    sweep, agent      (the engine: logger/sweeps/)

None of them imports Textual: only the app (`runwatch [ROOT]`) and the demo load it, lazily.
A command imports its own module alone: `runwatch tail` never loads what `tag` or `top` need.
"""

from typing import Any

from .commands import build_parser
from .main import main
from .parser import Command
from .tail import parse_since

__all__ = ["COMMANDS", "Command", "build_parser", "main", "parse_since"]


def __getattr__(name: str) -> Any:
    """`COMMANDS`, every registered Command (their modules imported only when it is asked for)."""
    if name == "COMMANDS":
        from . import commands

        return commands.COMMANDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
