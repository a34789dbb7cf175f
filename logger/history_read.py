"""A run's history read from its segments frame by frame: rows or pages, only the keys asked,
in memory bounded by a page (one frame of rows, ~200 steps of 8 scalars), not by the run.

    scan = HistoryScan(run_dir, keys=["loss"])
    for page in scan.pages():          # lists of W&B-shaped rows: _step, _timestamp, _runtime
        ...

The result equals what the reader's merged History gives (logger/history.py, multiwriter.py):
writers in (resume generation, segment name) order, rows sharing a step merged, later writes
winning. Whether steps ever go back is learnt first (logger/history_order.py): from each
writer's snapshot where it has one (a finished run: its first frames and last frames only),
else from a pass that decodes only steps (~0.25x of a full decode). If they never do (nearly
every run), rows stream: the decoded values dicts become the rows. If they do (a resume from
an older checkpoint), the rows must be re-ordered, and come from a History of the run, as
every other reader builds it. logger/history_table.py turns a scan into history()'s samples
and DataFrame columns.
"""

from __future__ import annotations

import warnings
from bisect import bisect_left
from collections.abc import Iterator
from itertools import chain, compress, islice, repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from . import events as ev
from .float_frames import FloatRows, FrameDecoder, event_count
from .history import History, increasing
from .history_build import as_flat, build_page, build_tuples, merge_steps
from .history_floats import HeldFrameDecoder, LogRows, history_rows
from .history_frames import FlatLog, Scalar, decode_flat, decode_rows, skipping
from .history_frames import segment_events as _segment_events
from .history_order import Writer, decode_steps, pick_writer, read_run
from .history_order import read_writers as _read_writers
from .history_seek import start_of_window
from .multiwriter import merge
from .segfile import RunwatchWarning
from .segment import StepLog

__all__ = ["CHUNK", "FlatLog", "HistoryScan", "Scalar", "StepLog", "read_writers"]

# Bytes read at a time by the scan's passes (six frames): 1 MiB (history_frames' CHUNK) left cache
# before its frames were checked and decoded (1M rows of 8 varying floats: 1.30x of the floor, 1.25x
# at 192 KiB, no page faults). The frame a read cuts is read again: ~1/12 more bytes, from the cache.
CHUNK = 3 << 16
_skipping = skipping  # tui's name for it
_decode_steps = decode_steps
_STEP, _TIME, _VALUES = attrgetter("step"), attrgetter("time"), attrgetter("values")
_GET_STEP, _GET_TIME = itemgetter("_step"), itemgetter("_timestamp")
_STEP_OF, _TIME_OF = itemgetter(1), itemgetter(2)  # of ("log", step, time, values)


def read_writers(run_dir: Path) -> list[Writer]:
    """Every segment that logged rows, in the order the merged history applies them."""
    return _read_writers(run_dir, CHUNK)


# -- pages of rows ---------------------------------------------------------------------------
Row = dict[str, Any]


class HistoryScan:
    """One read of a run's history (or one writer's): W&B-shaped rows in step order, with
    `keys` only those rows that hold every key (as `scan_history`; `any_key`: at least one, as
    History.rows), and only [min, max) steps."""

    def __init__(self, run_dir: Path, keys: list[str] | None = None, min_step: int | None = None,
                 max_step: int | None = None, writer: str | None = None, run_path: str = "",
                 any_key: bool = False, start: float | None = None, say: Any = None) -> None:
        self.any_key, self.say = any_key, say  # say(n): told of n damaged frames a read passed over
        self.skipped = [0]  # damaged frames the scan passed over (history_frames.segment_events)
        self.dir, self.writer, self.run_path = Path(run_dir), writer, run_path
        self.keys = keys
        self.window = (min_step, max_step)
        self._writers: list[Writer] | None = None
        self._history: History | None = None
        self._warned = False
        # _runtime's zero: the run's start (RunData.created_at, which a caller holding the run
        # passes), as W&B's counts from wandb.init; else what the first pass reads (`writers`)
        self.start: float | None = start

    @property
    def writers(self) -> list[Writer]:
        """The writers read, after the first pass (run on first use, so a scan made and
        never iterated reads nothing); `start` is then set."""
        if self._writers is None:
            writers, start = read_run(self.dir, CHUNK)
            if self.start is None:
                self.start = start
            if self.writer is not None:
                writers = [pick_writer(writers, self.writer, self.run_path)]
            self._writers = writers
        return self._writers

    @property
    def zero(self) -> float:
        """`_runtime`'s zero: `start` (0.0 where the run has no file: it has no rows either)."""
        if self.start is None:
            self.writers  # noqa: B018  (the first pass reads it)
        return self.start if self.start is not None else 0.0

    @property
    def streams(self) -> bool:
        """Whether steps never go back across the writers in order: rows stream."""
        writers = self.writers
        return all(w.ordered for w in writers) and all(
            a.last is not None and b.first is not None and a.last <= b.first
            for a, b in zip(writers, writers[1:]))

    @property
    def strict(self) -> bool:
        """Whether steps strictly rise across the writers in order: no two rows share a step."""
        writers = self.writers
        return all(w.strict for w in writers) and all(
            a.last is not None and b.first is not None and a.last < b.first for a, b in zip(writers, writers[1:]))

    def rows(self) -> Iterator[Row]:
        """Every row: a C-level chain over the pages, no Python frame per row."""
        return chain.from_iterable(self.pages())

    def pages(self) -> Iterator[list[Row]]:
        """Lists of rows, a frame or two of them at a time (or a History's rows in chunks).
        Without `keys`, rows are built as each frame is taken apart (`_logs(built=True)`), and
        frames of mostly held floats from their bytes (1M rows of 8 keys, 7 held: 1.14x of
        the floor where decoding them and adding the three keys took 1.40x)."""
        built = self.keys is None and self.streams
        return self._said(self._built_pages() if built and self.window == (None, None) else self._pages(built))

    def _said(self, pages: Iterator[list[Row]]) -> Iterator[list[Row]]:
        yield from pages
        if self.say is not None and self.skipped[0]:
            self.say(self.skipped[0])

    def _pages(self, built: bool) -> Iterator[list[Row]]:
        for steps, times, rows in self.chunks(built):
            page = self.selected(steps, times, rows)[2] if built else self._finish(steps, times, rows)
            del steps, times, rows  # no chunk held while the next is decoded
            if page:
                yield page
            del page

    def chunks(self, built: bool = False, columnar: bool = False) -> Iterator[tuple[list[int], list[float], Any]]:
        """(steps, times, values) of a chunk's rows in step order, merged where they share a
        step, before the window and `keys` (`_finish` applies them); `start` is then set.
        `built` (rows that stream only): the rows already hold `_step`, `_timestamp` and
        `_runtime`, as `build` puts them. `columnar` (export): a frame of float rows read from
        its bytes comes as its FloatRows (logger/float_frames.py) in place of the values."""
        self.skipped[0] = 0  # each pass counts what it passes over (history() may read twice)
        if not self.streams:
            yield from self._history_chunks()
            return
        hi = self.window[1]
        for steps, times, rows in self._in_order(built, columnar):
            yield steps, times, rows
            if hi is not None and steps[-1] >= hi:
                return  # steps never go back: nothing later is in the window (what is held back neither)

    def _in_order(self, built: bool, columnar: bool) -> Iterator[tuple[list[int], list[float], Any]]:
        """The pieces' rows, those at one step merged. A row is held back (`carry`), as the
        next piece's first may share its step; a FloatRows whole (`held`), then cut if so."""
        strict = self.strict
        carry: tuple[int, float, Row] | None = None  # the last row: the next may share its step
        held: FloatRows | None = None
        for steps, times, rows, rising in self._logs(built, columnar):
            if strict:
                yield steps, times, rows
                continue
            if held is not None:
                if held.steps[-1] < steps[0]:
                    yield held.steps, held.times, held
                else:  # rows at one step: the last row of the table merges with this piece's first
                    head, (last,) = held.cut(len(held.steps) - 1)
                    if head.steps:
                        yield head.steps, head.times, head
                    carry = (last.step, last.time, last.values)
                held = None
            if type(rows) is FloatRows:
                if (carry is None or carry[0] < steps[0]) and increasing(steps):
                    if carry is not None:
                        yield [carry[0]], [carry[1]], [carry[2]]
                    carry, held = None, rows
                    continue
                steps, times, rows = list(steps), list(times), rows.dicts()
            carry, steps, times, rows = self._merged(carry, steps, times, rows, rising, built)
            if steps:
                yield steps, times, rows
            del steps, times, rows
        if held is not None:
            yield held.steps, held.times, held
        if carry is not None:
            yield [carry[0]], [carry[1]], [carry[2]]

    def _built_pages(self) -> Iterator[list[Row]]:
        """`pages()` of built rows, no window: `_in_order`'s rows alone. A frame whose rows rise
        past the row held back comes as it is, no lists of its steps and times made (zip and
        lists were ~0.05x of the floor on 1M rows of 8 varying floats); any other piece
        through `_in_order`'s merge."""
        strict, start = self.strict, self.zero
        self.skipped[0] = 0
        carry: tuple[int, float, Row] | None = None  # the last row: the next may share its step
        pieces = (_pieces(w.path, True, False, skipped=self.skipped) for w in self.writers)
        for events in chain.from_iterable(pieces):
            if len(events) != 1 or type(events[0]) is not LogRows:
                for steps, times, rows, rising in self._piece_logs(events, True):
                    carry, rows = self._after(carry, steps, times, rows, rising, strict)
                    if rows:
                        yield rows
                    del rows
                del events
                continue
            logs = events[0].logs  # nearly every piece: one frame of flat rows, built here
            del events  # no chunk held while the next is decoded (history_frames)
            page, rising = build_page(logs, start)
            if strict or rising and (carry is None or carry[0] < logs[0][1]):
                if not strict:
                    if carry is not None:
                        page.insert(0, carry[2])
                    carry = (logs[-1][1], logs[-1][2], page.pop())
            else:
                carry, page = self._after(carry, list(map(_STEP_OF, logs)), list(map(_TIME_OF, logs)), page,
                                          rising, strict)
            del logs
            if page:
                yield page
            del page
        if carry is not None:
            yield [carry[2]]

    def _after(self, carry: tuple[int, float, Row] | None, steps: list[int], times: list[float], rows: list[Row],
               rising: bool, strict: bool) -> tuple[tuple[int, float, Row] | None, list[Row]]:
        """A piece's built rows after the row held back, merged (`_merged`) unless strict."""
        if strict:
            return carry, rows
        carry, _steps, _times, rows = self._merged(carry, steps, times, rows, rising, True)
        return carry, rows

    def _merged(self, carry: tuple[int, float, Row] | None, steps: list[int], times: list[float], rows: list[Row],
                rising: bool, built: bool) -> tuple[tuple[int, float, Row], list[int], list[float], list[Row]]:
        """A piece's rows after the row held back (`carry`), rows at one step merged, and its
        own last row held back in turn."""
        if carry is not None:
            rising = rising and carry[0] < steps[0]
            steps.insert(0, carry[0])
            times.insert(0, carry[1])
            rows.insert(0, carry[2])
        if not rising and not increasing(steps):
            steps, times, rows = merge_steps(steps, times, rows, built)
            if not increasing(steps):
                self._out_of_order(steps)
        return (steps.pop(), times.pop(), rows.pop()), steps, times, rows

    def _out_of_order(self, steps: list[int]) -> None:
        """A segment's snapshot said its steps only grew and its rows say otherwise (a damaged
        or edited file): say so once; the rows come as written."""
        if self._warned:
            return
        self._warned = True
        back = next(b for a, b in zip(steps, steps[1:]) if b <= a)
        warnings.warn(f"run {self.run_path or self.dir}: its steps go back (to {back}) where a snapshot "
                      "said they only grew; rows from there on are in the order written", RunwatchWarning,
                      stacklevel=3)

    def _logs(self, built: bool = False, columnar: bool = False) -> Iterator[tuple[list[int], list[float], Any, bool]]:
        """(steps, times, flat values, rising) of each piece's Log events, in file order (`rising`:
        its steps were seen to rise strictly as its rows were built; False: not known). `built`:
        each values dict with `_step`, `_timestamp`, `_runtime` too, put in as the piece is taken
        apart, frames of mostly held floats read from their bytes (logger/history_floats.py). `columnar`: each frame of float rows as its FloatRows."""
        for w in self.writers:
            at = self._window_start(w)
            if at is None:
                continue
            for events in _pieces(w.path, built, columnar, at, self.skipped):
                yield from self._piece_logs(events, built)
                del events  # no chunk held while the next is decoded (history_frames)

    def _window_start(self, w: Writer) -> int | None:
        """Where a writer's rows in the window begin: its frames before `min_step` are passed
        over where its steps never go back (logger/history_seek.py); None: none are in it."""
        lo = self.window[0]
        if lo is None or not w.ordered or w.first is None or w.first >= lo:
            return ev.HEADER_SIZE
        # _runtime's zero is the run's start, from the first pass: nothing passed over sets it
        return None if w.last is not None and w.last < lo else start_of_window(w.path, lo)

    def _piece_logs(self, events: list[Any], built: bool) -> Iterator[tuple[list[int], list[float], Any, bool]]:
        """`_logs` of one piece's events."""
        kinds, start = set(map(type, events)), self.zero
        if kinds == _FLOATS_ONLY:  # frames of float rows, read from their bytes
            for rows in events:
                yield rows.steps, rows.times, history_rows(rows, start) if built else rows, False
        elif kinds == _LOGROWS_ONLY:  # every other frame (built): its rows' dicts, the three keys put in
            for frame in events:
                logs = frame.logs
                rising = build_tuples(logs, start)
                _tags, steps, times, rows = zip(*logs)
                del logs
                yield list(steps), list(times), list(rows), rising
                del steps, times, rows
        elif kinds == _TUPLES_ONLY:  # nearly every other piece: transposed in one C-level pass
            if built:
                build_tuples(events, start)
            _tags, steps, times, rows = zip(*events)  # each tag checked "log" by the decoder
            del events
            yield list(steps), list(times), list(rows), False
        else:
            yield from self._flat_logs(events, built)

    def _flat_logs(self, events: list[Any], built: bool) -> Iterator[tuple[list[int], list[float], list[Row], bool]]:
        """A piece of other kinds (or of kinds side by side): its row events as flat values."""
        if not _WHOLE.isdisjoint(set(map(type, events))):
            events = list(chain.from_iterable(e.events() if type(e) in _WHOLE else (e,) for e in events))
        logs = [as_flat(e) for e in events if type(e) in _ROWS]
        del events
        if logs:
            steps, times, rows = list(map(_STEP, logs)), list(map(_TIME, logs)), list(map(_VALUES, logs))
            del logs
            yield steps, times, self.build(steps, times, rows) if built else rows, False

    def _finish(self, steps: list[int], times: list[float], rows: list[Row]) -> list[Row]:
        """The rows in the window (and with `keys`), as W&B's rows."""
        return self.build(*self.selected(steps, times, rows))

    def selected(self, steps: list[int], times: list[float], rows: list[Row]) -> tuple[list[int], list[float], list[Row]]:
        """The part of a chunk in [min_step, max_step) whose rows hold the keys asked for
        (every one, or any with `any_key`): C-level passes, one per key."""
        steps, times, rows = self.window_of(steps, times, rows)
        keys = self.keys
        if keys is None or not rows:
            return steps, times, rows
        masks = [list(map(dict.__contains__, rows, repeat(k))) for k in keys]
        mask = masks[0] if len(masks) == 1 else list(map(any if self.any_key else all, zip(*masks)))
        if all(mask):
            return steps, times, rows
        return list(compress(steps, mask)), list(compress(times, mask)), list(compress(rows, mask))

    def build(self, steps: list[int], times: list[float], rows: list[Row]) -> list[Row]:
        """Selected rows with `_step`, `_timestamp` and `_runtime` (and only `keys`)."""
        keys, start = self.keys, self.zero
        if keys is not None:
            return [{"_step": s, "_timestamp": t, "_runtime": t - start, **{k: r[k] for k in keys if k in r}}
                    for s, t, r in zip(steps, times, rows)]
        # The decoded dicts (each its own event's) become the rows: one loop, no dict per row.
        for s, t, r in zip(steps, times, rows):
            r["_step"] = s
            r["_timestamp"] = t
            r["_runtime"] = t - start
        return rows

    def window_of(self, steps: list[int], times: list[float], rows: list[Row]) -> tuple[list[int], list[float], list[Row]]:
        """The part of a chunk in [min_step, max_step)."""
        lo, hi = self.window
        if lo is not None or hi is not None:
            a = bisect_left(steps, lo) if lo is not None else 0
            b = bisect_left(steps, hi) if hi is not None else len(steps)
            return steps[a:b], times[a:b], rows[a:b]
        return steps, times, rows

    def _history_chunks(self) -> Iterator[tuple[list[int], list[float], list[Row]]]:
        """Steps that go back: the rows of a History of the run, as every reader builds it."""
        if self._history is None:
            histories = []
            for w in self.writers:
                h = History({})
                for events in _segment_events(w.path, ev.decode_batch, CHUNK, skipped=self.skipped):
                    h.add_logs([e for e in events if type(e) is ev.Log])
                if len(h):
                    histories.append(h)
            self._history = histories[0] if len(histories) == 1 else merge(histories, {})
        history = self._history
        history.start = self.zero
        rows = history.rows(self.keys, *self.window)
        while True:
            page = list(islice(rows, 4096))
            if not page:
                return
            yield list(map(_GET_STEP, page)), list(map(_GET_TIME, page)), page


_TUPLES_ONLY = {tuple}
_FLOATS_ONLY = {FloatRows}
_LOGROWS_ONLY = {LogRows}
_WHOLE = {FloatRows, LogRows}  # one object for a frame's rows
_ROWS = (StepLog, FlatLog, ev.Log, tuple)


def _pieces(path: Path, built: bool, columnar: bool, start: int = ev.HEADER_SIZE,
            skipped: list[int] | None = None) -> Iterator[list[Any]]:
    """A segment's events a chunk at a time (from the frame at `start`; damaged frames passed
    over counted in `skipped[0]`): frames of float rows as FloatRows where asked (`built`: of
    mostly held values only, logger/history_floats.py)."""
    if built:
        held = HeldFrameDecoder(decode_flat)
        return _segment_events(path, held, CHUNK, held.count, skipped=skipped, start=start)
    if columnar:
        return _segment_events(path, FrameDecoder(decode_flat), CHUNK, event_count, skipped=skipped, start=start)
    return _segment_events(path, decode_rows, CHUNK, skipped=skipped, start=start)
