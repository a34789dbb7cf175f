"""`runwatch tail --no-follow`: what is on disk, streamed in memory bounded by a chunk per
segment, never the whole run.

Two passes over the segments. The first decodes every event but each Log's values (skipped,
not built: ~0.25x of a full decode), so every run's name, state and end are known before the
first line: labels line up and a run's end prints in its place. The second prints each run's
events merged across its segments by time, a chunk at a time, Log lines in bulk (Tail).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from itertools import chain, compress, islice, repeat
from operator import attrgetter, ge, le
from pathlib import Path
from typing import Any, get_args

from logger import events as ev
from logger.digest import STEP_MAX  # past it a History drops the row (History.dropped)
from logger.history_frames import CHUNK, segment_events
from logger.history_read import FlatLog, StepLog, _skipping
from logger.reader import RootReader
from logger.rundata import RunData
from logger.textsafe import safe_text

from .tail import Tail
from .tail_floats import FloatRows, FrameDecoder, event_count

_EVERY_KIND = {kind: kind for kind in get_args(ev.AnyEvent)}
META_DECODE = _skipping({**_EVERY_KIND, ev.Log: StepLog})
PRINT_DECODE = _skipping({**_EVERY_KIND, ev.Log: FlatLog})
_TIME = attrgetter("time")


class Rows:
    """Consecutive Log events of one segment, as columns: what tail prints them from."""

    __slots__ = ("steps", "times", "values")

    def __init__(self, steps: list[int], times: list[float], values: list[dict[str, Any]]) -> None:
        self.steps, self.times, self.values = steps, times, values

    def events(self) -> list[Any]:
        return list(map(FlatLog, self.steps, self.times, self.values))

    def cut(self, at: int) -> tuple[Rows, list[Any]]:
        """The rows before `at`, and those from it on as events."""
        rest = Rows(self.steps[at:], self.times[at:], self.values[at:]).events()
        return Rows(self.steps[:at], self.times[:at], self.values[:at]), rest

    def since(self, t: float) -> Rows:
        keep = list(map(ge, self.times, repeat(t)))
        return Rows(list(compress(self.steps, keep)), list(compress(self.times, keep)),
                    list(compress(self.values, keep)))


class Skips:
    """What a run's replay met that readers skip: damaged frames passed over (SegmentReader's
    count, as RunData.skipped_frames sums it) and rows whose step is past int64, which tail
    prints and `show`, the app and the API leave out (History.dropped)."""

    __slots__ = ("frames", "rows")

    def __init__(self) -> None:
        self.frames = [0]  # segment_events adds to it
        self.rows = 0

    def count_rows(self, steps: list[int]) -> None:
        if steps and max(steps) > STEP_MAX:  # one C-level pass a piece: nearly always no
            self.rows += sum(step > STEP_MAX for step in steps)

    def notes(self, run: RunData) -> list[str]:
        """What tail says on stderr at the end, in `show`'s words."""
        name = safe_text(run.path)
        out = []
        if self.frames[0]:
            out.append(f"runwatch: run {name}: {self.frames[0]} damaged frame(s) skipped while reading; "
                       "the rest of the run reads normally")
        if self.rows:
            out.append(f"runwatch: run {name}: {self.rows} row(s) with a step outside 64 bits, printed "
                       "(`runwatch show` counts them as dropped rows: a history cannot hold them)")
        return out


class _MetaReader(RootReader):
    """A RootReader whose segments skip Log values: runs' metadata and state, no history."""

    def _follow(self, path: Path) -> tuple[RunData, Any, bool] | None:
        found = super()._follow(path)
        if found is not None:
            found[1].decode = META_DECODE
        return found


def meta_reader(root: Path) -> RootReader:
    """A reader of every run under `root`: names, states, ends, no history; read a chunk per
    segment at a time, so memory stays bounded by the metadata (export and tail use it)."""
    reader = _MetaReader(root, keep_history=False)
    reader.scan(CHUNK)
    while reader.pending():
        reader.scan(CHUNK)
    return reader


def read_meta(root: Path) -> list[RunData]:
    """Every run under `root` with its name, state and end (see meta_reader)."""
    return list(meta_reader(root).runs.values())


def listing_reader(root: Path) -> RootReader:
    """A reader of every run under `root` as a listing reads it (RootReader's meta mode): each
    segment from its last snapshot on, or from the index cache, no rows kept; a finished run
    costs its first frame, its snapshot and its finish, where meta_reader decodes every frame
    (a quarter of the floor again). A chunk per segment at a time, as meta_reader."""
    reader = RootReader(root, keep_history=False, meta=True)
    reader.scan(CHUNK)
    while reader.pending():
        reader.scan(CHUNK)
    return reader


def replay(tail: Tail, root: Path) -> tuple[int, int, list[str]]:
    """Print every selected run's events, its end in its place, then its `latest` line:
    (runs under the root, runs selected, what was skipped as lines for stderr: Skips)."""
    since = tail.o.since
    listed = listing_reader(root).runs.values()
    runs = sorted((r for r in listed if tail.selected(r)), key=lambda r: r.created_at)
    for run in runs:
        tail._label_of(run)  # every label known now: the columns line up from the start
    shown = [r for r in runs if since is None or r.updated_at >= since]
    for run in runs:
        tail.state[run.path] = run.state
    notes: list[str] = []
    for run in shown:
        notes += _replay_run(tail, run, since).notes(run)
    for run in shown:
        tail._latest(run, replayed=True)
    tail.emit()
    return len(listed), len(runs), notes


def _replay_run(tail: Tail, run: RunData, since: float | None) -> Skips:
    ended = run.state != "running"
    end = run.finished_at or 0.0
    after: list[Any] = []  # events past the run's end (edits made later): after its state line
    skips = Skips()
    for batch in merged_by_time([seg.path for seg in run.segments.values()], skips.frames):
        if isinstance(batch, (Rows, FloatRows)):
            skips.count_rows(batch.steps)
            after += _print_rows(tail, run, batch, end if ended else None, since)
        else:
            skips.count_rows([e.step for e in batch if type(e) in _LOGS])  # FlatLog; ev.Log past damage
            if ended:
                cut = bisect_right(batch, end, key=_TIME)
                after += batch[cut:]
                batch = batch[:cut]
            tail._events(run, batch, since)
        tail.emit()
    tail._flush_run(run.path)
    if ended and (since is None or end >= since):
        tail._state_line(run)
    tail._events(run, after, since)
    tail._flush_run(run.path)
    tail.emit()
    return skips


def _print_rows(tail: Tail, run: RunData, rows: Rows | FloatRows, end: float | None,
                since: float | None) -> list[Any]:
    """Lines for a piece of rows up to the run's `end`; returns those past it, as events."""
    late: list[Any] = []
    if end is not None and rows.times and rows.times[-1] > end:  # in time order: the last is the latest
        rows, late = rows.cut(bisect_right(rows.times, end))
    if tail.o.every is not None:
        tail._events(run, rows.events(), since)
        return late
    if since is not None:
        rows = rows.since(since)
    if isinstance(rows, FloatRows):
        if rows.times:
            tail.log_floats(run, rows)
    elif rows.times:
        tail.log_rows(run, rows.steps, rows.times, rows.values)
    return late


def merged_by_time(paths: list[Path], skipped: list[int] | None = None) -> Iterator[Rows | FloatRows | list[Any]]:
    """The segments' events in time order (ties: segment by name, then position), a chunk at
    a time: an event is given once every segment still being read has reached its time. The
    damaged frames passed over are added to `skipped[0]`."""
    if len(paths) == 1:  # one segment (nearly every run): no merge, pieces of rows as columns
        yield from _one_segment(paths[0], skipped)
        return
    streams = [segment_events(p, PRINT_DECODE, skipped=skipped) for p in sorted(paths, key=lambda p: p.name)]
    pending: list[list[Any]] = [[] for _ in streams]
    live = list(range(len(streams)))
    while live:
        for i in list(live):
            while not pending[i]:
                chunk = next(streams[i], None)
                if chunk is None:
                    live.remove(i)
                    break
                pending[i] = sorted(chunk, key=_TIME)
        if not live:
            break
        horizon = min(pending[i][-1].time for i in live)
        batch: list[Any] = []
        for i, events in enumerate(pending):
            cut = bisect_right(events, horizon, key=_TIME)
            if cut:
                batch += events[:cut]
                pending[i] = events[cut:]
        if not batch:  # times no order holds (NaN): give what is read rather than wait
            for i in live:
                batch += pending[i]
                pending[i] = []
        yield sorted(batch, key=_TIME) if len(streams) > 1 else batch
    rest = [e for events in pending for e in events]
    if rest:
        yield sorted(rest, key=_TIME)


def _one_segment(path: Path, skipped: list[int] | None = None) -> Iterator[Rows | FloatRows | list[Any]]:
    """One segment's events a piece at a time, each in time order (as merged_by_time gives a
    single stream's): a piece of flat Logs already in time order as FloatRows (every value a
    float, tail_floats) or Rows, any other as events."""
    for chunk in segment_events(path, FrameDecoder(PRINT_DECODE), count=event_count, skipped=skipped):
        kinds = set(map(type, chunk))
        if kinds == _FLOATS:
            times = chunk[0].times if len(chunk) == 1 else list(chain.from_iterable(b.times for b in chunk))
            if all(map(le, times, islice(times, 1, None))):
                yield from chunk
                continue
        elif kinds == _TUPLES:
            _tags, steps, times, values = zip(*chunk)  # each tag checked "log" by the decoder
            del chunk
            if all(map(le, times, islice(times, 1, None))):  # no clock stepped back (nor a NaN)
                yield Rows(list(steps), list(times), list(values))
                continue
            chunk = list(map(FlatLog, steps, times, values))
        yield sorted(_as_events(chunk), key=_TIME)


def _as_events(chunk: list[Any]) -> list[Any]:
    out: list[Any] = []
    for e in chunk:
        kind = type(e)
        if kind is FloatRows:
            out += e.events()
        else:
            out.append(FlatLog(*e[1:]) if kind is tuple else e)
    return out


_TUPLES = {tuple}
_LOGS = {FlatLog, ev.Log}
_FLOATS = {FloatRows}
