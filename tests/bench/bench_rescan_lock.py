"""How long the follower's rescans keep screens waiting for the reader's lock (issue 14).

    .venv/bin/python tests/bench/bench_rescan_lock.py                # 10,000 runs, reopened
    .venv/bin/python tests/bench/bench_rescan_lock.py --runs 1000

A store (tui/model/store.py, as the app runs it: RunStore.read in a thread) reopens a root
of finished runs listed from its rows cache (tui/model/row_cache.py), so its follower's
first rescans re-check every cached run's files (--cold: opens it with no cache, so they
stat every run's segments while the filler reads the histories). Meanwhile a probe thread asks for the
reader every 5 ms, as a screen's worker does (`store.with_runs`). Printed per rescan: its
time, the reading thread's longest hold of the lock in it, the longest a probe waited, and
the thread's CPU, the collector's runs (a probe waits for those too, lock or not) and
each thread's total hold; the
ratios are against the rescan's own time (the floor: 1.00x means a screen waited it whole).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tui import make_root  # noqa: E402  (the same generated roots, cached)

PROBE_EVERY = 0.005  # seconds between a probe's asks (a screen's worker asks far less often)


class TimedLock:
    """A Lock that records how long each hold lasted, with when it began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holds: list[tuple[float, float, str]] = []  # (start, seconds, thread)
        self._since = 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._since = time.perf_counter()
        return got

    def release(self) -> None:
        since = self._since
        self.holds.append((since, time.perf_counter() - since, threading.current_thread().name))
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _open(root: Path, until: Any, lock: TimedLock | None = None) -> Any:
    """A store reading `root` in a thread (as the app does) until `until(store)` holds."""
    from tui.model.store import RunStore

    store = RunStore(root, post=lambda views: store.apply(views))
    store.drawn.set()  # no screen to wait for
    if lock is not None:
        store._follower.lock = lock
    reader = threading.Thread(target=store.read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    while not until(store) and time.monotonic() < deadline:
        time.sleep(0.02)
    return store, reader


def _probe(store: Any, stop: threading.Event, waits: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        asked = time.perf_counter()
        store.with_runs((), lambda runs: None)
        waits.append((asked, time.perf_counter() - asked))
        stop.wait(PROBE_EVERY)


class Collections:
    """The cyclic collector's runs (start, seconds): they stop every thread, lock or not."""

    def __init__(self) -> None:
        self.runs: list[tuple[float, float]] = []
        self._began = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.runs.append((self._began, time.perf_counter() - self._began))

    def within(self, start: float, end: float) -> str:
        inside = [s for t, s in self.runs if start <= t < end]
        return f"{len(inside)} collections, {sum(inside) * 1000:.0f} ms"


def measure(root: Path, rescans: int, cold: bool) -> None:
    from tui.app import tune_gc
    from tui.follow import Follower

    tune_gc()  # the app's collector thresholds (run_app)
    collections = Collections()

    spans: list[tuple[float, float, float]] = []
    refresh = Follower.refresh

    def timed(self: Follower) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return refresh(self)
        finally:
            spans.append((start, time.perf_counter(), time.thread_time() - cpu))

    Follower.refresh = timed  # type: ignore[method-assign]
    if not cold:  # the first open reads every byte and writes the rows a reopen lists
        store, reader = _open(root, lambda s: s._ghosts.saved)
        store.stop()
        reader.join()
    lock, waits, stop = TimedLock(), list[tuple[float, float]](), threading.Event()
    spans.clear()
    store, reader = _open(root, lambda s: s.loaded, lock)
    probe = threading.Thread(target=_probe, args=(store, stop, waits), daemon=True)
    probe.start()
    reading = reader.name
    while len(spans) < rescans and reader.is_alive():
        time.sleep(0.02)
    stop.set()
    store.stop()
    probe.join()
    reader.join()
    print(f"  runs listed from cached rows at the reopen: {len(store.ghosts):,}")
    print(f"  {'rescan':<10} {'time':>9} {'its longest hold':>14} {'ratio':>7} "
          f"{'longest wait':>14} {'ratio':>7} {'holds':>7}")
    for i, (start, end, cpu) in enumerate(spans[:rescans]):
        inside_holds = [(s, who) for t, s, who in lock.holds if start <= t < end]
        holds = [s for s, who in inside_holds if who == reading]
        others = {who for _, who in inside_holds}
        others = {who: sum(s for s, w in inside_holds if w == who) for who in others}
        inside = [w for t, w in waits if start <= t < end]
        took, hold, wait = end - start, max(holds, default=0.0), max(inside, default=0.0)
        print(f"  {i + 1:<10} {took * 1000:>7.0f} ms {hold * 1000:>11.1f} ms {hold / took:>6.2f}x "
              f"{wait * 1000:>11.1f} ms {wait / took:>6.2f}x {len(holds):>7}")
        print(f"     its thread's CPU {cpu * 1000:.0f} ms; {collections.within(start, end)} "
              "in it; held by: " + ", ".join(f"{w} {t * 1000:.0f} ms" for w, t in sorted(others.items())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rescans", type=int, default=2, help="the follower's first rescans "
                        "(before the watch, and once it is in place)")
    parser.add_argument("--cold", action="store_true", help="no rows cache: every run read "
                        "(its rescans stat every segment; the filler reads meanwhile)")
    args = parser.parse_args()
    root = make_root(args.runs, 100, 4)
    xdg = Path(tempfile.mkdtemp(prefix="rw-bench-xdg-"))
    os.environ["XDG_CACHE_HOME"] = str(xdg)
    try:
        with open("/proc/loadavg") as f:
            print(f"{args.runs:,} runs " + ("opened cold" if args.cold else "reopened from the "
                  "rows cache") + f" (load {f.read().split()[0]})")
        measure(root, args.rescans, args.cold)
    finally:
        shutil.rmtree(xdg, ignore_errors=True)


if __name__ == "__main__":
    main()
