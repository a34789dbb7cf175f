"""The `runwatch` command: the full-screen app, and the headless commands beside it.

Only `runwatch [ROOT]` and `runwatch demo` import Textual (lazily); `tail`, `ls`, `show`,
`export`, `tag`, `note` and `--help` never do, so they start fast anywhere.

Every headless command writes through logger.textsafe.TerminalWriter (stdout, and stderr
while it runs): whatever a renderer forgot to escape, no control character or escape
sequence from a file can reach the terminal. Exports to a file or pipe stay byte-exact.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TextIO

from logger.textsafe import safe_text, terminal_safe

from . import commands
from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError, root_path, setup_stdout
from .parser import Command, build_app_parser, words_last


def main(argv: list[str] | None = None) -> int:
    """The `runwatch` console script. Returns the exit code (see EXIT_CODES)."""
    setup_stdout()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args_list)
    except CliError as exc:
        print(f"runwatch: {exc}", file=terminal_safe(sys.stderr))
        return exc.code
    except SystemExit as exc:  # argparse after --help or a usage error; the demo on SIGTERM
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `runwatch tail | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not complain, and end quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK


def _not_a_typo(word: str | None) -> None:
    """`runwatch expor ...` would wait forever on (or open the app on) a directory named expor:
    a word that is no path and is close to a command is taken for a mistyped command (as git
    and pip do). A word far from every command is a root still, as an existing directory is."""
    if word is None or os.sep in word or os.path.exists(word):
        return
    import difflib  # only for a root that does not exist

    close = difflib.get_close_matches(word.lower(), commands.names(), n=1, cutoff=0.6)
    if close:
        raise CliError(f"{safe_text(repr(word))} is not a command or a directory; did you mean "
                       f"{close[0]!r}?\n(`runwatch ./{safe_text(word)}` watches a directory of that "
                       "name once it exists)")


def _dispatch(argv: list[str]) -> int:
    first = next((a for a in argv if not a.startswith("-")), None)
    command = commands.command_named(first)
    if command is None:
        _not_a_typo(first)  # before the app's parser, which would only say "unrecognized"
        if any(a in ("-h", "--help", "--version") for a in argv):
            commands.build_parser().parse_args(argv)  # prints help or version, exits 0
        app_args = build_app_parser().parse_args(argv)
        return run_app_or_tail(app_args.root, app_args.poll, app_args.reset_view)
    if command.words:
        argv = words_last(argv, command)
    before = argv[: argv.index(command.name)]  # `runwatch --help tail`: the whole help
    whole = any(a in ("-h", "--help", "--version") for a in before)
    args = (commands.build_parser() if whole else commands.parser_for(command)).parse_args(argv)
    return run_command(command, args)


def run_command(command: Command, args: argparse.Namespace) -> int:
    """Run `command` with its output guarded as its `output` says (see tui/cli/parser.py)."""
    if command.output == "app":
        return command.run(args, sys.stdout)
    out: TextIO = sys.stdout if command.output == "data" else terminal_safe(sys.stdout)
    with contextlib.redirect_stderr(terminal_safe(sys.stderr)):
        return command.run(args, out)


def run_app_or_tail(root_arg: str | None, poll: bool, reset_view: bool = False) -> int:
    root = root_path(root_arg)
    if not sys.stdout.isatty():
        print("runwatch: stdout is not a terminal; running `runwatch tail` instead "
              "(say `runwatch tail` to skip this note)", file=sys.stderr, flush=True)
        from ..tail import TailOptions
        from ..tail_follow import run_tail

        with contextlib.redirect_stderr(terminal_safe(sys.stderr)):
            return run_tail(root, TailOptions(), force_polling=poll or None)
    from ..app import run_app  # Textual: only here and in the demo

    return run_app(root, force_polling=poll or None, reset_view=reset_view)
