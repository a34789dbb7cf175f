"""The index cache's save at 10,000 runs (logger/index_save.py): a cold save (every entry and
listing made, each listing checked against its decoding), a warm one (everything reused, as
after appends), and the check alone, walked in Python (index.same) against the one a save
uses (index._same_fast). CPU seconds, best of --repeat; no asserts.

    .venv/bin/python tests/bench/bench_index_save.py [--runs 10000] [--repeat 3]

The root is bench_tui.make_root's (runs x 100 steps x 4, cached under /tmp); the index goes
to a temporary XDG_CACHE_HOME. The floor: the index encoded once (msgspec), as a save does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rw-bench-index-")

from bench_tui import make_root  # noqa: E402

from logger import index, index_save  # noqa: E402
from logger.reader import RootReader  # noqa: E402


def cpu(fn: Any) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def scanned(root: Path) -> RootReader:
    """A cold meta reader of `root`, its index not saved yet (and none on disk)."""
    for old in Path(os.environ["XDG_CACHE_HOME"]).glob("runwatch/index-*"):
        old.unlink()
    reader = RootReader(root, meta=True)
    reader.scan(save=False)
    return reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = make_root(args.runs, 100, 4)
    cold, warm, floor = [], [], []
    for _ in range(args.repeat):
        reader = scanned(root)
        cold.append(cpu(lambda r=reader: index_save.save(r, now=True)))
        cached = reader._index
        assert cached is not None
        floor.append(cpu(lambda c=cached: index._encoder.encode(
            index.Index(index.VERSION, "", "", c.entries, c.runs))))  # type: ignore[arg-type]
        reader._index_dirty = True  # due again, nothing changed: every entry and listing reused
        warm.append(cpu(lambda r=reader: index_save.save(r, now=True)))
    made = []
    for run in reader.runs.values():
        derived, summary = run.listing()
        sizes = {index.key(n): s.offset for n, s in run.segments.items()}
        got = index.listing_data(sizes, derived, summary)
        if got is not None:
            made.append((index._listing_decoder.decode(got[0]), got[1]))
    walked = min(cpu(lambda: [index.same(a, b) for a, b in made]) for _ in range(args.repeat))
    fast = min(cpu(lambda: [index._same_fast(a, b) for a, b in made]) for _ in range(args.repeat))
    base = min(floor)
    print(f"index save, {len(reader.runs):,} runs (CPU seconds, best of {args.repeat}; floor: the "
          f"index encoded once, {base:.3f} s)")
    for name, value in (("cold save (every entry and listing made)", min(cold)),
                        ("warm save (all reused: what appends cost)", min(warm)),
                        ("listing check, walked (index.same)", walked),
                        ("listing check, pickled first (index._same_fast)", fast)):
        print(f"  {name:<50} {value:7.3f} s  {value / base:6.2f}x")
    print(f"  the check pickled first / walked: {fast / walked:.2f}x")


if __name__ == "__main__":
    main()
