"""`runwatch demo`: its options. The sweep and its workers are tui/demo.py."""

from __future__ import annotations

import argparse
from typing import TextIO

from .parser import Command, factor, seconds


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", nargs="?", metavar="ROOT", help="where to write (default: a fresh temporary directory)")
    p.add_argument("--headless", action="store_true", help="print with tail instead of the app")
    p.add_argument("--speed", type=factor, default=1.0, help="run the sweep this many times faster")
    p.add_argument("--stop-after", type=seconds, metavar="SECONDS", help="stop the demo after this long")
    p.add_argument("--poll", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from ..demo import run_demo

    return run_demo(args.root, headless=args.headless or not out.isatty(),
                    speed=args.speed, stop_after=args.stop_after, force_polling=args.poll or None)


DEMO = Command("demo", "a simulated sweep, live in the app (or with tail, --headless)", """\
  runwatch demo                     a sweep in a fresh temporary directory, full-screen
  runwatch demo ./demo-runs         keep the runs afterwards
  runwatch demo --headless          the same sweep printed by tail""", configure, run,
               description="Starts a small sweep (different learning rates, batch sizes, optimizers and\n"
                           "seeds; one run fails, one never ends, the rest finish in 30-90 s) written by\n"
                           "real logger processes, and opens the app on it. Quitting stops the sweep.",
               output="app")
