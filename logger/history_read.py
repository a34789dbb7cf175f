"""A run's history read from its segments frame by frame: rows or pages, only the keys asked,
in memory bounded by a page (about a MiB of frames), not by the run.

    scan = HistoryScan(run_dir, keys=["loss"])
    for page in scan.pages():          # lists of W&B-shaped rows: _step, _timestamp, _runtime
        ...

The result equals what the reader's merged History gives (logger/history.py, multiwriter.py):
writers in (resume generation, segment name) order, rows sharing a step merged, later writes
winning. A first pass decodes only each event's step (about 0.14x of a full decode, values are
skipped, not built) to learn whether steps ever go back. If they never do (nearly every run),
the second pass streams. If they do (a resume from an older checkpoint), the rows must be
re-ordered, and the pages come from a History of the run, as every other reader builds it.
"""

from __future__ import annotations

import os
import random
import stat
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator
from itertools import chain, compress, islice, repeat
from operator import attrgetter, lt, setitem, sub
from pathlib import Path
from typing import Any, Union, get_args

import msgspec

from . import events as ev
from .flat import flatten_into
from .history import History
from .multiwriter import merge
from .reader import segment_files
from .segment import DamagedFrame, SegmentReader, StepLog, clean_frames

CHUNK = 1 << 20  # bytes read at a time: ~7,000 steps of 8 scalars, one page
_INT64 = 2**63
Scalar = Union[int, float, str, bool, None, list[Any]]  # noqa: UP007 - msgspec needs a Union object


def _skipping(keep: dict[type, type]) -> Any:
    """A frame decoder for `list[AnyEvent]` that builds only the kinds in `keep` (their
    replacement types) and passes over every other event's fields without building them."""
    kinds = []
    for kind in get_args(ev.AnyEvent):
        tag = kind.__struct_config__.tag
        kinds.append(keep.get(kind) or msgspec.defstruct(
            f"Skip_{tag}", [], array_like=True, tag_field="k", tag=tag, gc=False))
    union: Any = Union.__getitem__(tuple(kinds))
    return msgspec.msgpack.Decoder(list[union]).decode


class FlatLog(msgspec.Struct, array_like=True, tag_field="k", tag="log", gc=False):
    """A Log event whose values are flat: string keys, no nested dict (media refs included:
    a frame with one fails to decode as this and is decoded as ev.Log instead)."""

    step: int
    time: float
    values: dict[str, Scalar]


_decode_steps = _skipping({ev.Log: StepLog, ev.SegmentStart: ev.SegmentStart, ev.RunStart: ev.RunStart})
_decode_rows = _skipping({ev.Log: FlatLog})
_LOGS = (StepLog, FlatLog, ev.Log)
_STEPS_ONLY = {StepLog}
_STEP, _TIME, _VALUES = attrgetter("step"), attrgetter("time"), attrgetter("values")


class _Slow(Exception):
    """The fast frame loop met something only SegmentReader handles (damage, a torn tail)."""


# -- reading frames -------------------------------------------------------------------------
def segment_events(path: Path, decode: Any) -> Iterator[list[Any]]:
    """The events of one segment, a chunk at a time, decoded by `decode`. Clean frames go
    through a tight loop; at the first anomaly the rest comes from SegmentReader (resync,
    skipped frames, torn tails: every reader's rules), with full events."""
    done = 0
    try:
        for events in _fast_events(path, decode):
            done += len(events)
            yield events
        return
    except _Slow:
        pass
    seg = SegmentReader(path)
    while True:
        before = seg.offset
        events = seg.read_new(CHUNK)
        if done:
            cut = min(done, len(events))
            done -= cut
            events = events[cut:]
        if events:
            yield events
        elif seg.offset == before:
            return


def _fast_events(path: Path, decode: Any) -> Iterator[list[Any]]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise _Slow from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Slow
        size = st.st_size
        try:
            ev.check_header(os.pread(fd, ev.HEADER_SIZE, 0), str(path))
        except ev.NewerFormatError:
            raise _Slow from None
        pos, data = ev.HEADER_SIZE, b""
        while pos + len(data) < size:
            data += os.pread(fd, max(CHUNK, _need(data)), pos + len(data))
            try:
                events, used = clean_frames(data, decode)
            except DamagedFrame:
                raise _Slow from None
            pos, data = pos + used, data[used:]
            yield events
        if data:
            raise _Slow  # an incomplete last frame: SegmentReader knows a torn tail from damage
    finally:
        os.close(fd)


def _need(data: bytes) -> int:
    if len(data) < ev.FRAME_HEAD_SIZE:
        return 0
    return ev.FRAME_HEAD_SIZE + ev.FRAME_HEAD.unpack_from(data, 0)[1] - len(data)


# -- the run's writers, and whether its steps ever go back ----------------------------------
class _Writer:
    """One segment as the first pass saw it: its role, what it resumed, its steps' range."""

    __slots__ = ("path", "start", "follows", "rows", "ordered", "strict", "first", "last")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start: str | None = None  # the role its first SegmentStart names
        self.follows: list[str] | None = None
        self.rows, self.ordered = 0, True
        self.strict = True  # every step past the one before: no rows to merge
        self.first: int | None = None
        self.last: int | None = None

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
        if not steps:
            return
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


def _generations(writers: list[_Writer]) -> dict[str, int]:
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


def read_writers(run_dir: Path) -> list[_Writer]:
    """Every segment that logged rows, in the order the merged history applies them."""
    writers = []
    for path in segment_files(run_dir):
        w = _Writer(path)
        for events in segment_events(path, _decode_steps):
            w.note(events)
        writers.append(w)
    generation = _generations(writers)
    logged = [w for w in writers if w.rows]
    return sorted(logged, key=lambda w: (generation.get(w.path.name, 0), w.path.name))


def pick_writer(writers: list[_Writer], writer: str, run_path: str) -> _Writer:
    """One writer by segment name, or by role ("rank 1") where one segment has it."""
    named = [w for w in writers if w.path.name == writer] or [w for w in writers if w.role == writer]
    if len(named) != 1:
        known = ", ".join(w.path.name for w in writers) or "none"
        raise KeyError(f"run {run_path}: no single writer {writer!r} (writers: {known})")
    return named[0]


# -- pages of rows ---------------------------------------------------------------------------
Row = dict[str, Any]


class HistoryScan:
    """One read of a run's history (or one writer's): W&B-shaped rows in step order, with
    `keys` only those rows that hold every key (as `scan_history`; `any_key`: at least one, as
    History.rows), and only [min, max) steps."""

    def __init__(self, run_dir: Path, keys: list[str] | None = None, min_step: int | None = None,
                 max_step: int | None = None, writer: str | None = None, run_path: str = "",
                 any_key: bool = False) -> None:
        self.any_key = any_key
        self.dir, self.writer, self.run_path = Path(run_dir), writer, run_path
        self.keys = keys
        self.window = (min_step, max_step)
        self._writers: list[_Writer] | None = None
        self._history: History | None = None

    @property
    def writers(self) -> list[_Writer]:
        """The writers read, after the first pass (run on first use, so a scan made and
        never iterated reads nothing)."""
        if self._writers is None:
            writers = read_writers(self.dir)
            if self.writer is not None:
                writers = [pick_writer(writers, self.writer, self.run_path)]
            self._writers = writers
        return self._writers

    @property
    def streams(self) -> bool:
        """Whether steps never go back across the writers in order: rows stream."""
        writers = self.writers
        return all(w.ordered for w in writers) and all(
            a.last is not None and b.first is not None and a.last <= b.first
            for a, b in zip(writers, writers[1:]))

    def rows(self) -> Iterator[Row]:
        """Every row: a C-level chain over the pages, no Python frame per row."""
        return chain.from_iterable(self.pages())

    def pages(self) -> Iterator[list[Row]]:
        """Lists of rows, a chunk of frames at a time (or a History's rows in chunks)."""
        if not self.streams:
            yield from self._history_pages()
            return
        start: float | None = None
        carry: tuple[int, float, Row] | None = None  # the last row: the next may share its step
        writers = self.writers
        strict = all(w.strict for w in writers) and all(
            a.last is not None and b.first is not None and a.last < b.first for a, b in zip(writers, writers[1:]))
        lo, hi = self.window
        for events in self._logs():
            steps, times, rows = list(map(_STEP, events)), list(map(_TIME, events)), list(map(_VALUES, events))
            if start is None:
                start = times[0]
            if strict:  # no two rows share a step: each chunk is its page as it is
                page = self._finish(steps, times, rows, start)
                if page:
                    yield page
                if hi is not None and steps[-1] >= hi:
                    return
                continue
            if carry is not None:
                steps.insert(0, carry[0])
                times.insert(0, carry[1])
                rows.insert(0, carry[2])
            if not all(map(lt, steps, islice(steps, 1, None))):
                steps, times, rows = _merge_steps(steps, times, rows)
            carry = (steps.pop(), times.pop(), rows.pop())
            page = self._finish(steps, times, rows, start)
            if page:
                yield page
            if hi is not None and carry[0] >= hi:
                return  # steps never go back: nothing later is in the window
        if carry is not None and start is not None:
            page = self._finish([carry[0]], [carry[1]], [carry[2]], start)
            if page:
                yield page

    def _logs(self) -> Iterator[list[Any]]:
        """Each chunk's Log events, with flat values (what FlatLog could not hold, flattened)."""
        for w in self.writers:
            for events in segment_events(w.path, _decode_rows):
                kinds = set(map(type, events))
                if kinds != {FlatLog}:
                    events = [e for e in events if type(e) in _LOGS]
                    if ev.Log in kinds:
                        events = [e if type(e) is FlatLog else _flat_log(e) for e in events]
                if events:
                    yield events

    def _finish(self, steps: list[int], times: list[float], rows: list[Row], start: float) -> list[Row]:
        """The rows in the window, with `_step`, `_timestamp` and `_runtime` (and only `keys`)."""
        lo, hi = self.window
        if lo is not None or hi is not None:
            a = bisect_left(steps, lo) if lo is not None else 0
            b = bisect_left(steps, hi) if hi is not None else len(steps)
            steps, times, rows = steps[a:b], times[a:b], rows[a:b]
        keys = self.keys
        if keys is not None and self.any_key:
            return [{"_step": s, "_timestamp": t, "_runtime": t - start, **{k: r[k] for k in keys if k in r}}
                    for s, t, r in zip(steps, times, rows) if any(k in r for k in keys)]
        if keys is not None:
            return [{"_step": s, "_timestamp": t, "_runtime": t - start, **{k: r[k] for k in keys}}
                    for s, t, r in zip(steps, times, rows) if all(k in r for k in keys)]
        # The decoded dicts become the rows: three C-level passes instead of a dict per row.
        deque(map(setitem, rows, repeat("_step"), steps), 0)
        deque(map(setitem, rows, repeat("_timestamp"), times), 0)
        deque(map(setitem, rows, repeat("_runtime"), map(sub, times, repeat(start))), 0)
        return rows

    def _history_pages(self) -> Iterator[list[Row]]:
        """Steps that go back: the rows of a History of the run, as every reader builds it."""
        if self._history is None:
            histories = []
            for w in self.writers:
                h = History({})
                for events in segment_events(w.path, ev.decode_batch):
                    h.add_logs([e for e in events if type(e) is ev.Log])
                if len(h):
                    histories.append(h)
            self._history = histories[0] if len(histories) == 1 else merge(histories, {})
        keys = self.keys
        rows = self._history.rows(keys, *self.window)
        if keys is not None and not self.any_key:
            rows = (r for r in rows if all(k in r for k in keys))
        while True:
            page = list(islice(rows, 4096))
            if not page:
                return
            yield page


class _Flat(msgspec.Struct, gc=False):
    step: int
    time: float
    values: dict[str, Any]


def _flat_log(e: Any) -> _Flat:
    """A Log whose values nest (or have keys that are not strings) as W&B's "a.b" keys."""
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, {})
    return _Flat(e.step, e.time, flat)


def _merge_steps(steps: list[int], times: list[float], rows: list[Row]) -> tuple[list[int], list[float], list[Row]]:
    """Consecutive rows at one step as one row (commit=False across flushes, or a resume that
    went on at the step it stopped at): later values and the later time win."""
    keep = [True] * len(steps)
    last = 0
    for i in range(1, len(steps)):
        if steps[i] == steps[last]:
            merged = dict(rows[last])
            merged.update(rows[i])
            rows[last] = merged
            times[last] = times[i]
            keep[i] = False
        else:
            last = i
    return list(compress(steps, keep)), list(compress(times, keep)), list(compress(rows, keep))


# -- what history() and DataFrames take ------------------------------------------------------
def sampled_pages(scan: HistoryScan, samples: int) -> list[list[Row]]:
    """W&B's history(samples=N): N rows spread over the run, the first and last included,
    picked as ever (random.Random(0)). Rows are counted in one pass and only the picked ones
    kept in a second, so memory is bounded by `samples`, not by the run."""
    kept: list[list[Row]] = []
    n = 0
    for page in scan.pages():
        n += len(page)
        if not samples or n <= samples:
            kept.append(page)
        elif kept:
            kept = []
    if not samples or n <= samples:
        return kept
    wanted = [0, *sorted(random.Random(0).sample(range(1, n - 1), samples - 2)), n - 1]
    out: list[list[Row]] = []
    base = i = 0
    for page in scan.pages():
        end = base + len(page)
        j = bisect_left(wanted, end, i)
        if j > i:
            out.append([page[w - base] for w in wanted[i:j]])
        i, base = j, end
        if i == len(wanted):
            break
    return out


def frame_columns(pages: list[list[Row]], order: tuple[str, ...] | None = None) -> dict[str, list[Any]]:
    """Rows as columns for a DataFrame (None where a row lacks a key), each column gathered by
    C-level maps rather than a row at a time; `_step`, `_timestamp`, `_runtime` first."""
    if order is None:
        names = dict.fromkeys(chain.from_iterable(chain.from_iterable(pages)))
        order = (*(k for k in BASE if k in names), *(k for k in names if k not in BASE))
    return {k: list(chain.from_iterable(map(dict.get, page, repeat(k)) for page in pages)) for k in order}


BASE = ("_step", "_timestamp", "_runtime")
