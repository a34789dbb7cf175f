"""The `runwatch` argument parser, assembled from the `Command` each command module declares.

A command module declares its name, help, options (`configure`) and what runs it (`run`); the
registry in `tui/cli/commands.py` lists them. Nothing here imports a command module.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, TextIO

EXIT_CODES = """\
exit codes:
  0    success
  1    `tail --until-done`: a followed run failed, crashed or was killed
  2    bad usage, or a root, run, option or file at fault (the message names it)
  130  interrupted (Ctrl-C)"""

ROOT_HELP = "directory of runs (default: $RUNWATCH_DIR, else ./runs)"
RUN_HELP = ("a run: project/id, entity/project/id (W&B's run.path; a run logged with an entity "
            "is found under that entity only, one logged without under any), id, name, "
            "project/name, or its directory")
# W&B's spelling of what JSON has no number for (wandb/util.py make_safe_for_json)
JSON_FLOATS = 'NaN and infinities as the strings "NaN", "Infinity", "-Infinity"'

MAIN_DESCRIPTION = """\
Experiment tracking in the terminal. `runwatch [ROOT]` opens the live full-screen view of
every run under ROOT (when stdout is not a terminal it runs `runwatch tail` instead)."""

MAIN_EXAMPLES = f"""\
examples:
  runwatch                          watch ./runs (or $RUNWATCH_DIR) full-screen
  runwatch demo                     a simulated sweep, to see what it looks like
  runwatch tail --until-done        follow in CI; exit 1 if a run fails
  runwatch ls -f 'state:finished lr<=1e-3'
  runwatch show brisk-otter-7
  runwatch export my-project -o history.csv
  runwatch tag brisk-otter-7 +baseline -draft

{EXIT_CODES}

Run `runwatch COMMAND --help` for a command's options and examples."""

# What a command's output is, which decides how `main` guards the terminal:
#   "text"  stdout and stderr both pass through logger.textsafe.TerminalWriter;
#   "data"  stdout is handed over raw (exports are byte-exact to a file or pipe; the command
#           escapes for a terminal itself), stderr is guarded;
#   "app"   nothing is wrapped: Textual draws on the terminal (the demo).
Output = Literal["text", "data", "app"]


class Command(NamedTuple):
    """One `runwatch NAME` subcommand: its help, its options, and the function that runs it.
    (A NamedTuple, not a dataclass: dataclasses loads inspect and ast, ~10 ms of each start.)"""

    name: str
    summary: str  # one line, in `runwatch --help`
    examples: str  # indented lines, in `runwatch NAME --help`
    configure: Callable[[argparse.ArgumentParser], None]  # adds the command's arguments
    run: Callable[[argparse.Namespace, TextIO], int]  # returns the exit code
    description: str = ""  # longer help; the summary when empty
    output: Output = "text"
    # Options taken before free words (`tag RUN -draft`: "-draft" is a word, not an option);
    # set `words` to the options the command has, flags apart from those that take a value.
    words: bool = False
    flags: tuple[str, ...] = ()
    valued: tuple[str, ...] = ()


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written where they fit; a line wider than the terminal
    is wrapped at spaces (the terminal cut "full-screen" as "full" / "-screen" at 80 columns):
    prose refilled as a paragraph, an example's or exit code's meaning under its own column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=_columns() - 2)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        paragraph: list[str] = []
        for line in [*text.splitlines(), ""]:
            if line[:1].strip() and not (line.endswith(":") and len(line) < 24):  # prose, not "examples:"
                paragraph.append(line)
                continue
            if paragraph and max(map(len, paragraph)) > width:
                out.extend(_wrap(" ".join(paragraph), width, ""))
            else:
                out.extend(paragraph)
            paragraph = []
            out.extend([line] if len(line) <= width else _wrap_row(line, width))
        return "\n".join(indent + line for line in out[:-1])

    def _split_lines(self, text: str, width: int) -> list[str]:
        # argparse's own, but no break after a hyphen: "read-" / "only" read as two words.
        return _wrap(" ".join(text.split()), width, "")


def _wrap(text: str, width: int, indent: str) -> list[str]:
    import textwrap  # argparse loads it for any help; here only when a line is too wide

    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False) or [indent]


def _wrap_row(line: str, width: int) -> list[str]:
    """An indented row too wide: "  COMMAND   what it does" keeps its columns, the meaning
    wrapped under its own column (on the lines below where COMMAND leaves it under 24)."""
    body = line.lstrip()
    gap = body.find("  ")
    if gap < 0:
        return _wrap(body, width, line[: len(line) - len(body)] + "    ")
    head = line[: len(line) - len(body) + gap]
    column = len(head) + len(body[gap:]) - len(body[gap:].lstrip())
    meaning = body[gap:].strip()
    if width - column >= 24:
        rows = _wrap(meaning, width - column, "")
        return [line[:column] + rows[0], *(" " * column + row for row in rows[1:])]
    return [head, *_wrap(meaning, width, line[: len(line) - len(body)] + "      ")]


def _columns() -> int:
    """shutil.get_terminal_size().columns, as argparse asks it, without importing shutil
    (and the bz2 and lzma it loads: ~3 ms of every command's start)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _CommandParser(argparse.ArgumentParser):
    """A command's own parser: an argument it does not know is its error, shown with its own
    usage (argparse hands it up to the top level: `runwatch [ROOT] [--poll]`, as if the whole
    command line were wrong)."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        found, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return found, extras


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """The whole `runwatch` parser: the top level, and one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="runwatch", usage="runwatch [ROOT] [--poll]\n       runwatch COMMAND ...",
        description=MAIN_DESCRIPTION, epilog=MAIN_EXAMPLES, formatter_class=Formatter)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", prog="runwatch",
                                parser_class=_CommandParser)
    for command in commands:
        p = sub.add_parser(command.name, help=command.summary,
                           description=command.description or command.summary,
                           epilog=f"examples:\n{command.examples}\n\n{EXIT_CODES}",
                           formatter_class=Formatter)
        command.configure(p)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    """`runwatch [ROOT] [--poll]`: the full-screen app (or tail, when stdout is no terminal)."""
    parser = argparse.ArgumentParser(prog="runwatch", usage="runwatch [ROOT] [--poll] [--reset-view]",
                                     description=MAIN_DESCRIPTION, epilog=MAIN_EXAMPLES,
                                     formatter_class=Formatter)
    parser.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    parser.add_argument("--poll", action="store_true", help="poll instead of file events (network filesystems)")
    parser.add_argument("--reset-view", action="store_true",
                        help="forget the columns, sort, grouping, filter and charts remembered for ROOT")
    return parser


def words_last(argv: list[str], command: Command) -> list[str]:
    """`tag RUN -draft`: everything after the command but its own options is positional."""
    i = argv.index(command.name)
    head, rest = argv[: i + 1], argv[i + 1 :]
    options: list[str] = []
    positional: list[str] = []
    it = iter(rest)
    for token in it:
        if token in command.flags or token in ("-h", "--help"):
            options.append(token)
        elif token in command.valued:
            options += [token, next(it, "")]
        elif any(token.startswith(v + "=") for v in command.valued):
            options.append(token)
        elif token == "--":
            continue
        else:
            positional.append(token)
    return head + options + ["--"] + positional


# -- argument types ---------------------------------------------------------------------------
class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata costs ~10 ms at every start)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(f"runwatch {version()}")
        parser.exit()


def version() -> str:
    try:
        from importlib.metadata import version as installed

        return installed("runwatch")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        return "0.1.0"


def positive(what: str) -> Callable[[str], float]:
    """An argparse type: a finite number above 0, or a message naming what was expected."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
        return value

    return parse


seconds = positive("a number of seconds")
factor = positive("a number")  # how many times faster: 2, 0.5


def split_keys(values: list[str]) -> list[str]:
    """`-m loss,acc -m val/*` -> ["loss", "acc", "val/*"]."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]
