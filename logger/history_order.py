"""The order a run's history is read in: its writers (segments) in the merged history's order,
and whether steps ever go back, from a steps-only pass (values skipped, not built).

A writer's own snapshot (logger/snapshot.py) proves its steps never went back before it: a
writer stops leaving snapshots once a step goes back. So where a segment has one, the pass
reads only the segment's first frames (its start, its first step) and what follows the
snapshot; every other segment is read whole, as before.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from itertools import islice
from operator import attrgetter, lt
from pathlib import Path
from typing import Any

from . import events as ev
from .discover import segment_files
from .history_frames import CHUNK, Slow, fast_events, segment_events, skipping
from .segment import StepLog
from .snapshot import find_last

_INT64 = 2**63
HEAD = 64 * 1024  # bytes read at a time before a proven segment's first step
decode_steps = skipping({ev.Log: StepLog, ev.SegmentStart: ev.SegmentStart, ev.RunStart: ev.RunStart})
_LOGS = (StepLog, ev.Log)
_STEPS_ONLY = {StepLog}
_STEP = attrgetter("step")


class Writer:
    """One segment as the first pass saw it: its role, what it resumed, its steps' range."""

    __slots__ = ("path", "start", "follows", "rows", "ordered", "strict", "first", "last", "proven")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start: str | None = None  # the role its first SegmentStart names
        self.follows: list[str] | None = None
        self.rows, self.ordered = 0, True
        self.strict = True  # every step past the one before: no rows to merge
        self.first: int | None = None
        self.last: int | None = None
        self.proven = False  # its snapshot stood for its rows: pass two checks the order

    def note(self, events: list[Any]) -> None:
        kinds = set(map(type, events))
        if kinds == _STEPS_ONLY:  # nearly every chunk: C-level passes only
            steps = list(map(_STEP, events))
        else:
            steps = [e.step for e in events if type(e) in _LOGS]
            for e in events:
                kind = type(e)
                if kind is ev.SegmentStart and self.start is None:
                    self.start = e.role
                elif kind is ev.RunStart and e.follows:
                    self.follows = [f for f in e.follows if type(f) is str]
        if steps:
            self._steps(steps)

    def _steps(self, steps: list[int]) -> None:
        first, last = steps[0], steps[-1]
        if steps != sorted(steps):  # one C-level pass over what is nearly always sorted
            self.ordered = self.strict = False
            first, last = min(steps), max(steps)
        elif self.strict and (self.last is not None and first <= self.last
                              or not all(map(lt, steps, islice(steps, 1, None)))):
            self.strict = False  # rows at one step: pass two merges them
        if first < -_INT64 or last >= _INT64:
            self.ordered = False  # a step History drops: let History read the run
        if self.last is not None and steps[0] < self.last:
            self.ordered = False
        if self.first is None:
            self.first = steps[0]
        self.last = steps[-1]
        self.rows += len(steps)

    @property
    def role(self) -> str:
        return self.start if self.start is not None else "script"


def read_writer(path: Path, chunk: int = CHUNK) -> Writer:
    """One segment's writer: from its snapshot where one proves the order, else a full pass."""
    w = _proven(path, chunk)
    if w is None:
        w = Writer(path)
        for events in segment_events(path, decode_steps, chunk):
            w.note(events)
    return w


def _proven(path: Path, chunk: int) -> Writer | None:
    """The writer from its first frames, its last snapshot and what follows it; None where
    anything is odd (no snapshot, damage, a snapshot that its own frames contradict)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        found = find_last(fd, st.st_size) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        found = None
    finally:
        os.close(fd)
    if found is None:
        return None
    snap, w = found.snap, Writer(path)
    try:
        for events in _head(path, found.end, chunk):
            w.note(events)
        top = snap.max_step
        if bool(snap.rows) != bool(w.rows) or snap.rows and (
                top is None or not w.ordered or w.last is None or top < w.last or top >= _INT64):
            return None
        for _seq, event in found.meta:  # the last RunStart before the snapshot, as a full pass
            if type(event) is ev.RunStart and event.follows:
                w.follows = [f for f in event.follows if type(f) is str]
        if snap.rows:
            w.rows, w.last, w.strict = snap.rows, top, False
        for events in fast_events(path, decode_steps, chunk, found.end):
            w.note(events)
    except Slow:
        return None
    w.proven = True
    return w


def _head(path: Path, end: int, chunk: int) -> Iterator[list[Any]]:
    """The segment's events up to its first row (or to `end`), read HEAD bytes at a time."""
    for events in fast_events(path, decode_steps, min(chunk, HEAD), stop=end):
        yield events
        if any(type(e) in _LOGS for e in events):
            return


def generations(writers: list[Writer]) -> dict[str, int]:
    """As RunData: 0 for a segment that resumed nothing, else 1 + the latest it resumed."""
    follows = {w.path.name: w.follows for w in writers if w.follows is not None}
    out: dict[str, int] = {}

    def gen(name: str, depth: int = 0) -> int:
        if name not in out:
            before = follows.get(name, ())
            out[name] = 0 if depth > 64 or not before else 1 + max(
                (gen(b, depth + 1) for b in before if b != name), default=-1)
        return out[name]

    for name in follows:
        gen(name)
    return out


def read_writers(run_dir: Path, chunk: int = CHUNK) -> list[Writer]:
    """Every segment that logged rows, in the order the merged history applies them."""
    writers = [read_writer(path, chunk) for path in segment_files(run_dir)]
    generation = generations(writers)
    logged = [w for w in writers if w.rows]
    return sorted(logged, key=lambda w: (generation.get(w.path.name, 0), w.path.name))


def apart(writers: list[Writer]) -> bool:
    """Whether no step is logged by two of these writers (in read_writers' order, each one's
    steps past the one before's): then no two agree or differ at a step, with no row read."""
    return all(a.last is not None and b.first is not None and a.last < b.first
               for a, b in zip(writers, writers[1:]))


def pick_writer(writers: list[Writer], writer: str, run_path: str) -> Writer:
    """One writer by segment name, or by role ("rank 1") where one segment has it."""
    named = [w for w in writers if w.path.name == writer] or [w for w in writers if w.role == writer]
    if len(named) != 1:
        known = ", ".join(w.path.name for w in writers) or "none"
        raise KeyError(f"run {run_path}: no single writer {writer!r} (writers: {known})")
    return named[0]
