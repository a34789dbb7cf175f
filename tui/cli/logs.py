"""`runwatch logs RUN [-f] [--grep PATTERN]`: a run's console output, escaped, followed live.

Headless: never imports Textual. Every line is printed through `terminal_text` (colours
dropped, any other escape sequence shown as text), so a script's output cannot drive the
terminal that reads it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import TextIO

from logger.reader import RootReader
from logger.streams import ConsoleFollower, OutputRenderer, terminal_text

from .common import EXIT_OK, CliError, open_run
from .parser import ROOT_HELP, RUN_HELP, Command

POLL_INTERVAL = 0.25
STREAMS = ("stdout", "stderr", "output", "note")  # output: both, written to one terminal


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("--root", help=ROOT_HELP)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing while the run is live")
    p.add_argument("--grep", metavar="PATTERN", help="only lines matching this regular expression")
    p.add_argument("--stream", choices=STREAMS, action="append", default=[],
                   help="only this stream (repeatable; default: all)")
    p.add_argument("--timestamps", action="store_true", help="start each line with its local time")


def run(args: argparse.Namespace, out: TextIO) -> int:
    try:
        pattern = re.compile(args.grep) if args.grep else None
    except re.error as exc:
        raise CliError(f"--grep {args.grep!r} is not a regular expression: {exc}") from None
    found, data = open_run(args.run, args.root)
    reader = RootReader(data.dir.parent.parent, meta=True)  # liveness only: from the snapshots on, no rows kept
    wanted = set(args.stream or STREAMS)
    follower, renderer = ConsoleFollower(data.dir), OutputRenderer()

    seen = [0]

    def show(lines: list[tuple[float, str, str]]) -> None:
        seen[0] += len(lines)
        for t, stream, text in lines:
            if stream not in wanted or (pattern is not None and not pattern.search(text)):
                continue
            stamp = time.strftime("%H:%M:%S ", time.localtime(t)) if args.timestamps else ""
            out.write(f"{stamp}{terminal_text(text)}\n")
        out.flush()

    while True:
        for chunk in follower.read_new():
            show(renderer.feed(chunk))
        if not args.follow or not _live(reader, data.dir, data.path):
            break
        time.sleep(POLL_INTERVAL)
    for chunk in follower.read_new():  # what came with the run's last write
        show(renderer.feed(chunk))
    show(renderer.unfinished())
    found.count_damage([data])  # those before the snapshots too, as show counts them
    if data.skipped_frames:  # what was in them is not printed: said, as show and tail say it
        print(f"runwatch: run {terminal_text(data.path)}: {data.skipped_frames} damaged frame(s) skipped "
              "while reading; the rest of the run reads normally", file=sys.stderr)
    if not seen[0]:
        print(f"runwatch: run {terminal_text(data.path)} has no console output stored (it ran with "
              "console='off', or wrote nothing)", file=sys.stderr)
    return EXIT_OK


def _live(reader: RootReader, run_dir: object, key: str) -> bool:
    reader.read_paths([str(run_dir)])
    reader.refresh_states()
    data = reader.runs.get(key)
    return data is not None and data.state == "running"


LOGS = Command("logs", "a run's console output (stdout and stderr), escaped; -f follows it", """\
  runwatch logs brisk-otter-7
  runwatch logs brisk-otter-7 -f
  runwatch logs brisk-otter-7 --grep 'Error|Traceback'
  runwatch logs brisk-otter-7 --stream stderr --timestamps""", configure, run,
               description="Print what a run's script wrote to stdout and stderr, as the terminal\n"
                           "showed it (progress bars at their last redraw). Colours are dropped and\n"
                           "every other escape sequence is printed as text.")
