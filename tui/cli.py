"""The `runwatch` command: the full-screen app, and the headless commands beside it.

Only `runwatch [ROOT]` and `runwatch demo` import Textual (lazily); `tail`, `ls`, `show`,
`export`, `tag`, `note` and `--help` never do, so they start fast anywhere.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime

from .cli_common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    root_path,
    setup_stdout,
)

EXIT_CODES = """\
exit codes:
  0    success
  1    `tail --until-done`: a followed run failed, crashed or was killed
  2    bad usage, or a root, run, option or file at fault (the message names it)
  130  interrupted (Ctrl-C)"""

ROOT_HELP = "directory of runs (default: $RUNWATCH_DIR, else ./runs)"
RUN_HELP = "a run: project/id, id, name, project/name, or its directory"

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

COMMANDS = ("tail", "ls", "show", "export", "tag", "note", "demo")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _sub(sub: argparse._SubParsersAction, name: str, summary: str, examples: str,
         description: str = "") -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=description or summary,
                          epilog=f"examples:\n{examples}\n\n{EXIT_CODES}", formatter_class=_Formatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runwatch", usage="runwatch [ROOT] [--poll]\n       runwatch COMMAND ...",
        description=MAIN_DESCRIPTION, epilog=MAIN_EXAMPLES, formatter_class=_Formatter)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", prog="runwatch")

    p = _sub(sub, "tail", "print events as lines (headless; for pipes, CI, other programs)", """\
  runwatch tail                         follow ./runs like tail -f
  runwatch tail runs -p cats -m loss,val/acc --every 5
  runwatch tail --json | jq .           one JSON object per line (schema: tui/tail.py)
  runwatch tail --no-follow --since 1h  what happened in the last hour, then exit
  runwatch tail -r brisk-otter-7 --until-done   wait for a run; exit 1 if it fails""",
             "Print every run start, logged step, state change (finished, failed with its\n"
             "error, killed, crashed), tag and note edit and artifact under ROOT, one per line.\n"
             "Without --no-follow it keeps following, like tail -f; it waits for a ROOT that\n"
             "does not exist yet.")
    p.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    p.add_argument("-p", "--project", action="append", default=[], help="only this project (repeatable)")
    p.add_argument("-r", "--run", action="append", default=[], metavar="RUN",
                   help="only this run: name, id or project/id (repeatable)")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="keys to print, comma-separated, globs allowed: loss,val/* (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--no-follow", action="store_true",
                      help="print what is on disk, then a line per run with its state, and exit")
    mode.add_argument("--until-done", action="store_true",
                      help="follow until every followed run has ended; exit 1 if any failed")
    p.add_argument("--every", type=_seconds, metavar="SECONDS",
                   help="at most one log line per run per interval (latest values win)")
    p.add_argument("--since", metavar="WHEN",
                   help="only events since a duration ago (90s, 10m, 2h, 1d) or a time "
                        "(14:30, 2026-11-27, 2026-11-27T14:30)")
    p.add_argument("--poll", action="store_true", help="poll instead of file events (network filesystems)")

    p = _sub(sub, "ls", "list runs: state, name, id, step, runtime, key metrics", """\
  runwatch ls
  runwatch ls runs -p cat-classification
  runwatch ls -f 'state:running'              the TUI's filter syntax
  runwatch ls -f 'lr<=1e-3 tag:baseline' -m loss,val/acc
  runwatch ls --json | jq -r .run""")
    p.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    p.add_argument("-f", "--filter", default="", metavar="FILTER",
                   help="the TUI's filter: lr<=1e-3 state:running tag:x name~re words")
    p.add_argument("-p", "--project", action="append", default=[], help="only this project (repeatable)")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="summary keys to show, comma-separated (default: the common ones)")
    p.add_argument("--json", action="store_true", help="one JSON object per run (schema: tui/tail.py)")

    p = _sub(sub, "show", "a run's metadata, config, summary, tags, notes, artifacts, files", """\
  runwatch show brisk-otter-7
  runwatch show cat-classification/3kq9x2ab --root /data/runs
  runwatch show runs/cat-classification/3kq9x2ab
  runwatch show brisk-otter-7 --json""")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--json", action="store_true", help="one JSON object")

    p = _sub(sub, "export", "a run's or a project's history as csv, jsonl or parquet", """\
  runwatch export brisk-otter-7                   csv on stdout
  runwatch export brisk-otter-7 -o run.jsonl      format from the suffix
  runwatch export cat-classification --format parquet -o cats.parquet
  runwatch export brisk-otter-7 -m loss,val/acc""",
             "Columns: _step,_timestamp,_runtime,<keys...>; one row per step. A PROJECT goes\n"
             "into one file with `run` (project/id) and `name` columns first. parquet needs\n"
             "pyarrow: pip install 'runwatch[parquet]'.")
    p.add_argument("target", metavar="RUN|PROJECT", help=RUN_HELP + "; or a project name")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("-f", "--format", choices=("csv", "jsonl", "parquet"),
                   help="default: from -o's suffix, else csv")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="only these keys, comma-separated")

    p = _sub(sub, "tag", "add (+tag) or remove (-tag) a run's tags", """\
  runwatch tag brisk-otter-7 +baseline -draft
  runwatch tag brisk-otter-7 best                  (a bare word adds)
  runwatch tag brisk-otter-7                       print its tags""",
             "Saved as a new editor segment in the run's directory, exactly as the TUI does;\n"
             "the training script's files are never touched.")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("changes", nargs="*", metavar="+TAG|-TAG", help="tags to add or remove")

    p = _sub(sub, "note", "set (or --append to) a run's notes", """\
  runwatch note brisk-otter-7 "lr too high: diverged at step 3k"
  runwatch note brisk-otter-7 --append "rerun with warmup"
  git log -1 --format=%B | runwatch note brisk-otter-7 -
  runwatch note brisk-otter-7 ""                   clear the notes""")
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("--append", action="store_true", help="add a line to the notes instead of replacing them")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("text", nargs="*", metavar="TEXT", help="the notes; - reads them from stdin")

    p = _sub(sub, "demo", "a simulated sweep, live in the app (or with tail, --headless)", """\
  runwatch demo                     a sweep in a fresh temporary directory, full-screen
  runwatch demo ./demo-runs         keep the runs afterwards
  runwatch demo --headless          the same sweep printed by tail""",
             "Starts a small sweep (different learning rates, batch sizes, optimizers and\n"
             "seeds; one run fails, one never ends, the rest finish in 30-90 s) written by\n"
             "real logger processes, and opens the app on it. Quitting stops the sweep.")
    p.add_argument("root", nargs="?", metavar="ROOT", help="where to write (default: a fresh temporary directory)")
    p.add_argument("--headless", action="store_true", help="print with tail instead of the app")
    p.add_argument("--speed", type=_factor, default=1.0, help="run the sweep this many times faster")
    p.add_argument("--stop-after", type=_seconds, metavar="SECONDS", help="stop the demo after this long")
    p.add_argument("--poll", action="store_true", help=argparse.SUPPRESS)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runwatch", usage="runwatch [ROOT] [--poll]",
                                     description=MAIN_DESCRIPTION, epilog=MAIN_EXAMPLES,
                                     formatter_class=_Formatter)
    parser.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    parser.add_argument("--poll", action="store_true", help="poll instead of file events (network filesystems)")
    return parser


# -- argument helpers ----------------------------------------------------------------------
class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata costs ~10 ms at every start)."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        print(f"runwatch {_version()}")
        parser.exit()


def _positive(what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
        return value

    return parse


_seconds = _positive("a number of seconds")
_factor = _positive("a number")  # how many times faster: 2, 0.5


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float | None = None) -> float:
    """`--since`: a duration ago (90, 90s, 10m, 1h30m, 2d) or a local time or date."""
    now = time.time() if now is None else now
    s = text.strip().lower()
    if not s:
        raise CliError("--since '': use a duration (90s, 10m, 2h, 1d) or a time "
                       "(14:30, 2026-11-27, 2026-11-27T14:30)")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return now - float(s)
    if s and _DURATION.sub("", s).strip() == "":
        return now - sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(s))
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", s):
        parts = [int(x) for x in s.split(":")]
        day = datetime.fromtimestamp(now)
        at = day.replace(hour=parts[0], minute=parts[1], second=parts[2] if len(parts) > 2 else 0,
                         microsecond=0)
        t = at.timestamp()
        return t - 86400 if t > now else t  # 23:00 at 01:00 means yesterday evening
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CliError(f"--since {text!r}: use a duration (90s, 10m, 2h, 1d) or a time "
                       "(14:30, 2026-11-27, 2026-11-27T14:30)") from None
    return dt.timestamp()


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _protect(argv: list[str], command: str, flags: tuple[str, ...], valued: tuple[str, ...]) -> list[str]:
    """`tag RUN -draft`: everything after the command but its own options is positional."""
    i = argv.index(command)
    head, rest = argv[: i + 1], argv[i + 1 :]
    options: list[str] = []
    positional: list[str] = []
    it = iter(rest)
    for token in it:
        if token in flags or token in ("-h", "--help"):
            options.append(token)
        elif token in valued:
            options += [token, next(it, "")]
        elif any(token.startswith(v + "=") for v in valued):
            options.append(token)
        elif token == "--":
            continue
        else:
            positional.append(token)
    return head + options + ["--"] + positional


# -- running a command ---------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """The `runwatch` console script. Returns the exit code (see EXIT_CODES)."""
    setup_stdout()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(args_list)
    except CliError as exc:
        print(f"runwatch: {exc}", file=sys.stderr)
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


def _not_a_typo(root: str | None) -> None:
    """`runwatch lss` would wait forever for a directory named lss: say what was meant."""
    if root is None or os.path.exists(root) or os.sep in root:
        return
    close = difflib.get_close_matches(root, COMMANDS, n=1, cutoff=0.6)
    if close:
        raise CliError(f"{root!r} is neither a command nor a directory; did you mean "
                       f"`runwatch {close[0]}`? (`runwatch ./{root}` watches a directory of "
                       "that name once it exists)")


def _dispatch(argv: list[str]) -> int:
    first = next((a for a in argv if not a.startswith("-")), None)
    if first == "logs":  # tui/cli_logs.py: its own parser and command
        return __import__("tui.cli_logs", fromlist=["main"]).main(argv)
    wants_help = any(a in ("-h", "--help", "--version") for a in argv)
    if first not in COMMANDS:
        if wants_help:
            build_parser().parse_args(argv)  # prints help or version, exits 0
        app_args = build_app_parser().parse_args(argv)
        _not_a_typo(app_args.root)
        return run_app_or_tail(app_args.root, app_args.poll)
    if first == "tag":
        argv = _protect(argv, "tag", (), ("--root",))
    elif first == "note":
        argv = _protect(argv, "note", ("--append",), ("--root",))
    args = build_parser().parse_args(argv)
    out = sys.stdout
    if args.command == "tail":
        return cmd_tail(args)
    if args.command == "ls":
        from .cli_runs import cmd_ls

        return cmd_ls(root_path(args.root), args.filter, args.project, _split(args.metrics),
                      args.json, out)
    if args.command == "show":
        from .cli_runs import cmd_show

        return cmd_show(args.run, args.root, args.json, out)
    if args.command == "export":
        from .cli_export import cmd_export

        return cmd_export(args.target, args.root, args.format, args.output, _split(args.metrics), out)
    if args.command == "tag":
        from .cli_runs import cmd_tag

        return cmd_tag(args.run, args.root, args.changes, out)
    if args.command == "note":
        from .cli_runs import cmd_note

        return cmd_note(args.run, args.root, args.text, args.append, out)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args.root, headless=args.headless or not sys.stdout.isatty(),
                        speed=args.speed, stop_after=args.stop_after, force_polling=args.poll or None)
    raise AssertionError(args.command)


def cmd_tail(args: argparse.Namespace) -> int:
    from .tail import TailOptions, run_tail

    options = TailOptions(
        projects=tuple(args.project), runs=tuple(args.run), metrics=tuple(_split(args.metrics)),
        json=args.json, follow=not args.no_follow, until_done=args.until_done, every=args.every,
        since=parse_since(args.since) if args.since is not None else None,
    )
    return run_tail(root_path(args.root), options, force_polling=args.poll or None)


def run_app_or_tail(root_arg: str | None, poll: bool) -> int:
    root = root_path(root_arg)
    if not sys.stdout.isatty():
        print("runwatch: stdout is not a terminal; running `runwatch tail` instead "
              "(say `runwatch tail` to skip this note)", file=sys.stderr, flush=True)
        from .tail import TailOptions, run_tail

        return run_tail(root, TailOptions(), force_polling=poll or None)
    from .app import run_app  # Textual: only here and in the demo

    return run_app(root, force_polling=poll or None)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("runwatch")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        return "0.1.0"
