"""`runwatch tail`: its options, and `--since` read as a duration or a time.

The engine that turns a root's events into lines is tui/tail.py (the demo uses it too).
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from typing import TextIO

from .common import CliError, root_path
from .parser import JSON_FLOATS, ROOT_HELP, Command, seconds, split_keys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", metavar="ROOT", help=ROOT_HELP)
    p.add_argument("-p", "--project", action="append", default=[], help="only this project (repeatable)")
    p.add_argument("-r", "--run", action="append", default=[], metavar="RUN",
                   help="only this run: name, id or project/id (repeatable)")
    p.add_argument("-m", "--metrics", action="append", default=[], metavar="KEYS",
                   help="keys to print, comma-separated, globs allowed: loss,val/* (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per line; " + JSON_FLOATS)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--no-follow", action="store_true",
                      help="print what is on disk, then a line per run with its state, and exit")
    mode.add_argument("--until-done", action="store_true",
                      help="follow until every followed run has ended; exit 1 if any failed")
    p.add_argument("--fail-on-alert", type=alert_level, metavar="LEVEL",
                   help="with --until-done: exit 1 as soon as a run it waits for alerts at LEVEL "
                        "or above (INFO, WARN, ERROR)")
    p.add_argument("--every", type=seconds, metavar="SECONDS",
                   help="at most one log line per run per interval (latest values win)")
    p.add_argument("--since", metavar="WHEN",
                   help="only events since a duration ago (90s, 10m, 2h, 1d) or a time "
                        "(14:30, 2026-11-27, 2026-11-27T14:30)")
    p.add_argument("--system", action="store_true",
                   help="also print system samples (CPU, memory, per-GPU util, memory, temperature, power)")
    p.add_argument("--logs", action="store_true",
                   help="also print console lines (stdout, stderr) as the terminal showed them, escaped")
    p.add_argument("--poll", action="store_true", help="poll instead of file events (network filesystems)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..tail import TailOptions
    from ..tail_follow import run_tail

    if args.fail_on_alert is not None and not args.until_done:
        raise CliError(f"--fail-on-alert {args.fail_on_alert} needs --until-done: "
                       f"runwatch tail --until-done --fail-on-alert {args.fail_on_alert}")
    options = TailOptions(
        projects=tuple(args.project), runs=tuple(args.run), metrics=tuple(split_keys(args.metrics)),
        json=args.json, follow=not args.no_follow, until_done=args.until_done, every=args.every,
        since=parse_since(args.since) if args.since is not None else None, fail_on_alert=args.fail_on_alert,
        system=args.system, logs=args.logs,
    )
    return run_tail(root_path(args.root), options, force_polling=args.poll or None, out=out)


TAIL = Command("tail", "print events as lines (headless; for pipes, CI, other programs)", """\
  runwatch tail                         follow ./runs like tail -f
  runwatch tail runs -p cats -m loss,val/acc --every 5
  runwatch tail --json | jq .           one JSON object per line (schema: tui/tail.py)
  runwatch tail --no-follow --since 1h  what happened in the last hour, then exit
  runwatch tail -r brisk-otter-7 --until-done   wait for a run; exit 1 if it fails
  runwatch tail --until-done --fail-on-alert ERROR   ... or as soon as it alerts ERROR
  runwatch tail -r brisk-otter-7 --logs --system   its console and system samples too""",
               configure, run,
               description="Print every run start, logged step, state change (finished, failed with its\n"
                           "error, killed, crashed), tag and note edit, artifact and alert under ROOT, one per line.\n"
                           "Without --no-follow it keeps following, like tail -f; it waits for a ROOT that\n"
                           "does not exist yet.")


_LEVELS = {"INFO": "INFO", "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR"}


def alert_level(text: str) -> str:
    """An argparse type: W&B's alert level, any case ("warning" is WARN)."""
    level = _LEVELS.get(text.strip().upper())
    if level is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an alert level: use INFO, WARN or ERROR")
    return level


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SINCE_HELP = "use a duration (90s, 10m, 2h, 1d) or a time (14:30, 2026-11-27, 2026-11-27T14:30)"


def parse_since(text: str, now: float | None = None) -> float:
    """`--since`: a duration ago (90, 90s, 10m, 1h30m, 2d) or a local time or date."""
    now = time.time() if now is None else now
    s = text.strip().lower()
    if not s:
        raise CliError(f"--since '': {_SINCE_HELP}")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return now - float(s)
    if _DURATION.sub("", s).strip() == "":
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
        raise CliError(f"--since {text!r}: {_SINCE_HELP}") from None
    return dt.timestamp()
