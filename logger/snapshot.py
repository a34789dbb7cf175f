"""What a listing needs from one segment, without its history: per-key digests and the
events that carry metadata, as of an offset.

A writer leaves a `Snapshot` event (its own frame) in its own segment every SNAPSHOT_EVERY
bytes and at its finish (normally its last frame, after the Finish it repeats); the index cache
(logger/index.py) stores the same thing for any segment a reader has read. A reader in meta
mode starts from the last one and decodes only what follows it: a finished run costs its
first frame and its snapshot.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from functools import reduce
from itertools import chain, compress, filterfalse, islice
from operator import add, attrgetter, itemgetter, lt, methodcaller, not_
from typing import Any

import msgspec

from . import events as ev
from . import step_runs
from .flat import flatten_into

# Bytes of frames between two snapshots. A reader of a live run decodes at most this much
# past the last one (~27k rows of 4 floats, ~30 ms); the writer pays one snapshot (a few
# microseconds per key, under the run's lock) per 4 MiB it writes: < 0.1 % at 150 MB/s.
SNAPSHOT_EVERY = 4 * 1024 * 1024
MAX_META_BYTES = 1024 * 1024  # a run repeating more metadata than this is read in full
# Kinds a listing needs, by their tags on disk (a payload is [tag, fields...]).
META_KINDS = (ev.RunStart, ev.ConfigUpdate, ev.SummaryUpdate, ev.DefineMetric, ev.SetTags,
              ev.SetNotes, ev.SetName, ev.ArtifactLogged, ev.FileSaved, ev.Alert, ev.Chart,
              ev.EditSeen, ev.SystemStats, ev.Finish)
META_TAGS = frozenset(k.__struct_config__.tag.encode() for k in META_KINDS)  # type: ignore[union-attr]
_SYS_TAG = b"sys"
_TAG_AT = ev.FRAME_HEAD_SIZE + 5 + 1  # frame head, array32 head, the event's fixarray byte
_SNAP_TAG = b"\xa4snap"
SEARCH_MAX = 2 * SNAPSHOT_EVERY + MAX_META_BYTES  # how far back from the end one is looked for


class KeyStat(msgspec.Struct, array_like=True):
    """One history key of one segment: its last value, and W&B's summary aggregates."""

    last: Any = None
    last_time: float | None = None  # None: not known (the writer's snapshot)
    first: Any = None
    count: int = 0  # numbers (not NaN) among its values, which min/max/total cover
    min: float = 0.0
    max: float = 0.0
    total: float = 0.0
    numeric: bool = True
    agg: bool = True  # first/count/min/max/total cover every value of the key

    def add_values(self, values: list[Any], last_time: float) -> None:
        """More values of this key, in write order: the arithmetic of metrics.Aggregate (a
        running total, the first of equal minima), in C-level passes over the list."""
        self.last, self.last_time = values[-1], last_time
        kinds = set(map(type, values))
        if kinds == _FLOAT:
            nums = values
        elif kinds <= _NUMBERS:
            nums = list(map(float, values))
        else:
            self.numeric = False
            nums = [float(v) for v in values if type(v) is float or type(v) is int]
        if any(map(math.isnan, nums)):
            nums = list(filterfalse(math.isnan, nums))
        if not nums:
            return
        low, high = min(nums), max(nums)
        if self.count:
            low, high = min(self.min, low), max(self.max, high)
        self.min, self.max = low, high
        self.total = reduce(add, nums, self.total)
        self.count += len(nums)


_values, _step = attrgetter("values"), attrgetter("step")
_LO, _HI = -(2**63), 2**63 - 1  # the steps a History holds (array "q")
_FLOAT = frozenset((float,))
_NUMBERS = frozenset((int, float))
_stat_decoder = msgspec.msgpack.Decoder(KeyStat)
_stat_encoder = msgspec.msgpack.Encoder()


class Digest:
    """One segment's history as a listing sees it: per-key stats, rows, highest step."""

    __slots__ = ("keys", "rows", "max_step", "last_time", "rewritten", "first_step", "runs", "dropped")

    def __init__(self) -> None:
        self.keys: dict[str, KeyStat] = {}
        self.rows = 0
        self.max_step: int | None = None
        self.last_time: float | None = None
        self.rewritten = 0  # rows not past every earlier row's step (combined: across writers)
        self.first_step: int | None = None  # the first row's
        self.runs: step_runs.Runs | None = []  # its record steps (logger/step_runs.py); None: unknown
        self.dropped = 0  # rows with a step outside 64 bits: History cannot hold them either

    def add_logs(self, logs: Iterable[Any], paths: dict[str, tuple[str, ...]]) -> None:
        """Fold Log events in (meta mode: rows after the last snapshot, or a whole segment
        that has none), keeping no row: rows grouped by key set, then each key's values in
        one pass (History's way), in row order."""
        logs = list(logs)
        if logs and self._add_uniform(logs):
            return
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        get = groups.get
        top, row, rewritten = self.max_step, 0, 0
        records: list[int] = []  # rows past every earlier step (logger/step_runs.py)
        record, t = records.append, None
        for log in logs:
            step = log.step
            if not _LO <= step <= _HI:
                self.dropped += 1  # a step History cannot hold either (64 bits): counted, not a row
                continue
            t, values = log.time, log.values
            if top is None or step > top:
                top = step
                record(step)
            else:
                rewritten += 1
            keys = tuple(values)
            chunk = get(keys)
            if chunk is None:
                chunk = groups[keys] = []
            chunk.append((row, t, *values.values()))
            row += 1
        if not row:
            return
        if not self.rows:
            self.first_step = records[0]
        self.max_step, self.rows, self.last_time = top, self.rows + row, t
        self.rewritten += rewritten
        self.runs = step_runs.add(self.runs, records)
        parts: dict[str, list[tuple[list[Any], list[Any], list[Any]]]] = {}
        for keys, rows in groups.items():
            order, times = list(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))
            for j, key in enumerate(keys, start=2):
                values = list(map(itemgetter(j), rows))
                if type(key) is not str or dict in set(map(type, values)):
                    self._add_nested(key, order, times, values, paths, parts)
                else:
                    parts.setdefault(key, []).append((order, times, values))
        for key, chunks in parts.items():
            if len(chunks) > 1:  # the key came in rows of several key sets: row order again
                # Each column listed now: a generator would read `i` late (every column the values).
                columns = [list(chain.from_iterable([c[i] for c in chunks])) for i in range(3)]
                merged = sorted(zip(*columns), key=itemgetter(0))
                times, values = list(map(itemgetter(1), merged)), list(map(itemgetter(2), merged))
            else:
                _order, times, values = chunks[0]
            stat = self.keys.get(key)
            if stat is None:
                stat = self.keys[key] = KeyStat(first=values[0])
            stat.add_values(values, times[-1])

    def _add_uniform(self, logs: list[Any]) -> bool:
        """The common batch, every row the same flat keys and steps increasing, in C-level
        passes only (~0.2 us a row); False for any other, left untouched."""
        vals = list(map(_values, logs))
        keysets = set(map(tuple, vals))
        if len(keysets) != 1:
            return False
        (keys,) = keysets
        steps = list(map(_step, logs))
        top = self.max_step
        if ((top is not None and steps[0] <= top) or steps[0] < _LO or steps[-1] > _HI
                or not all(map(lt, steps, islice(steps, 1, None)))):
            return False
        columns = [list(map(itemgetter(k), vals)) for k in keys]
        if not all(type(k) is str for k in keys) or any(dict in set(map(type, c)) for c in columns):
            return False
        t = logs[-1].time
        if not self.rows:
            self.first_step = steps[0]
        self.max_step, self.rows, self.last_time = steps[-1], self.rows + len(logs), t
        self.runs = step_runs.add(self.runs, steps)
        for key, values in zip(keys, columns):
            stat = self.keys.get(key)
            if stat is None:
                stat = self.keys[key] = KeyStat(first=values[0])
            stat.add_values(values, t)
        return True

    @staticmethod
    def _add_nested(key: Any, order: list[int], times: list[float], values: list[Any],
                    paths: dict[str, tuple[str, ...]], parts: dict[str, list[Any]]) -> None:
        """A key logged as a nested dict: W&B's "a.b" keys, one value at a time."""
        for row, t, value in zip(order, times, values):
            flat: dict[str, Any] = {}
            flatten_into(flat, {key: value}, paths)
            for k, v in flat.items():
                parts.setdefault(k, []).append(([row], [t], [v]))

    @classmethod
    def of_history(cls, history: Any, wants_agg: Any) -> Digest:
        """The same digest from a History's columns (full mode); aggregates only where
        `wants_agg(key)` says a summary shows them (they cost a pass over the column)."""
        d = cls()
        d.rows, d.max_step, d.rewritten = len(history), history.max_step, history.rewritten
        d.last_time = history.times[-1] if len(history.times) else None
        d.first_step = history.steps[0] if len(history.steps) else None
        d.runs = None  # full mode counts rewritten rows from the merged history itself
        d.dropped = history.dropped
        for key, col in history.columns.items():
            if not len(col):
                continue
            stat = KeyStat(last=col.last_value, last_time=col.last_time, numeric=col.numeric,
                           first=col.values[0], agg=False)
            if wants_agg(key):
                numeric = stat.numeric
                stat.agg = True
                stat.add_values(list(col.values), col.last_time)
                stat.last, stat.numeric = col.last_value, numeric
            d.keys[key] = stat
        return d


def combine(digests: list[Digest]) -> Digest:
    """Several writers' digests in the merged history's order: the later writer's last value
    wins, aggregates cover them all (totals added writer by writer, in both modes)."""
    if len(digests) == 1:
        return digests[0]
    out = Digest()
    count = step_runs.rewritten(digests)
    out.rewritten = sum(d.rewritten for d in digests) if count is None else count
    out.runs = None
    for d in digests:
        out.rows += d.rows
        out.dropped += d.dropped
        if d.max_step is not None:
            out.max_step = d.max_step if out.max_step is None else max(out.max_step, d.max_step)
        if d.rows:
            out.last_time = d.last_time
        for key, s in d.keys.items():
            o = out.keys.get(key)
            if o is None:
                out.keys[key] = msgspec.structs.replace(s)
                continue
            o.last, o.last_time, o.numeric = s.last, s.last_time, o.numeric and s.numeric
            o.agg = o.agg and s.agg
            if s.count:
                o.min = min(o.min, s.min) if o.count else s.min
                o.max = max(o.max, s.max) if o.count else s.max
                o.total += s.total
                o.count += s.count
    return out


class Found(msgspec.Struct):
    """A checked snapshot: where it ends, its digest, and the metadata events it repeats."""

    end: int
    snap: ev.Snapshot
    digest: Digest
    meta: list[tuple[int, Any]]  # (position among the segment's events, event)


def check(snap: ev.Snapshot, end: int) -> Found | None:
    """A snapshot's fields checked; None when anything does not hold (a damaged or hostile
    file costs a full read, never a wrong listing)."""
    try:
        if not (0 < snap.events and 0 <= snap.rows <= snap.events and len(snap.meta) == len(snap.meta_seq)
                and 0 <= snap.rewritten < max(snap.rows, 1)):  # the first row is never rewritten
            return None
        digest = Digest()
        digest.rows, digest.max_step, digest.last_time = snap.rows, snap.max_step, snap.last_time
        digest.rewritten, digest.first_step = snap.rewritten, snap.first_step
        digest.runs = step_runs.checked(snap.runs, snap.rows, snap.first_step) if snap.first_step is not None else None
        for key, fields in snap.stats.items():
            if type(key) is not str:
                return None
            digest.keys[key] = _stat_decoder.decode(_stat_encoder.encode(fields))
        meta: list[tuple[int, Any]] = []
        last = 1
        for seq, payload in zip(snap.meta_seq, snap.meta):
            if type(payload) is not bytes or type(seq) is not int or not last < seq <= snap.events:
                return None
            event = ev._decoder.decode(payload)
            if not isinstance(event, META_KINDS):
                return None
            meta.append((seq, event))
            last = seq
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
        return None
    return Found(end, snap, digest, meta)


def find_last(fd: int, size: int) -> Found | None:
    """The last valid snapshot of a segment, searched from its end (at most SEARCH_MAX back)."""
    low = max(ev.HEADER_SIZE, size - SEARCH_MAX)
    window = min(size - low, 256 * 1024)
    while window > 0:
        start = size - window
        data = os.pread(fd, window, start)
        at = len(data)
        while True:
            at = data.rfind(_SNAP_TAG, 0, at)
            if at < 0:
                break
            found = _frame_at(data, at - _TAG_AT, start)
            if found is not None:
                return found
        if start <= low:
            return None
        window = min(size - low, window * 4)
    return None


def _frame_at(data: bytes, head: int, base: int) -> Found | None:
    """The snapshot in the frame starting at `head` of `data`, if that is a whole valid one."""
    if head < 0 or data[head:head + 2] != ev.MARKER:
        return None
    _marker, length, crc = ev.FRAME_HEAD.unpack_from(data, head)
    body = data[head + ev.FRAME_HEAD_SIZE: head + ev.FRAME_HEAD_SIZE + length]
    if len(body) != length or ev._crc32(body) != crc:
        return None
    try:
        events = ev.decode_batch(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(events) != 1 or type(events[0]) is not ev.Snapshot:
        return None
    return check(events[0], base + head + ev.FRAME_HEAD_SIZE + length)


def tag_of(payload: bytes) -> bytes:
    """An event payload's tag ([tag, fields...]: a fixarray or an array16, the tag a fixstr)."""
    at = 3 if payload[:1] == b"\xdc" else 1
    n = payload[at] - 0xA0 if len(payload) > at else -1
    return payload[at + 1:at + 1 + n] if 0 <= n < 32 else b""


def snapshot_event(digest: Digest, events: int, meta: list[tuple[int, bytes]], time: float) -> ev.Snapshot:
    """The Snapshot that says what `digest` and `meta` say, as of `events` events."""
    return ev.Snapshot(
        time=time, events=events, rows=digest.rows, max_step=digest.max_step,
        last_time=digest.last_time, rewritten=digest.rewritten, first_step=digest.first_step,
        runs=digest.runs,
        stats={k: msgspec.msgpack.decode(_stat_encoder.encode(s)) for k, s in digest.keys.items()},
        meta=[p for _, p in meta], meta_seq=[s for s, _ in meta])


_is_log = methodcaller("startswith", b"\xa3log", 1)  # a Log event's payload: [ "log", ...]


class Tracker:
    """The writer's side: what the frames written so far hold (events, rows, the payloads a
    listing needs), from C-level passes over the chunks; a Python step only for the rare
    chunk that is not a Log."""

    __slots__ = ("events", "rows", "since", "meta", "meta_bytes", "sys", "first_row", "last_row", "ok")

    def __init__(self) -> None:
        self.events, self.rows, self.since = 1, 0, 0  # the SegmentStart is event 1
        self.meta: list[tuple[int, bytes]] = []
        self.meta_bytes = 0
        self.sys: tuple[int, bytes] | None = None
        self.first_row: bytes | None = None  # the first and the last Log payloads
        self.last_row: bytes | None = None
        self.ok = True  # False: the counts no longer describe the file (no more snapshots)

    def note(self, chunks: list[bytes]) -> None:
        if not self.ok or not chunks:
            return
        logs = list(map(_is_log, chunks))
        base = self.events
        self.events += len(chunks)
        self.rows += sum(logs)
        if not all(logs):
            for i in compress(range(len(chunks)), map(not_, logs)):
                chunk = chunks[i]
                tag = tag_of(chunk)
                if chunk[:1] == ev.MARKER[:1]:
                    self.ok = False  # a whole frame: its events are not counted here
                elif tag == _SYS_TAG:
                    self.sys = (base + i + 1, chunk)
                elif tag in META_TAGS:
                    self.meta.append((base + i + 1, chunk))
                    self.meta_bytes += len(chunk)
            self.ok = self.ok and self.meta_bytes <= MAX_META_BYTES
        last = next((c for c, is_log in zip(reversed(chunks), reversed(logs)) if is_log), None)
        self.last_row = last if last is not None else self.last_row
        if self.first_row is None and last is not None:
            self.first_row = next(compress(chunks, logs))

    def snapshot(self, stats: dict[str, KeyStat] | None) -> bytes | None:
        """The Snapshot frame that follows the frames noted so far, or None (inexact stats)."""
        if stats is None or not self.ok:
            return None
        digest = Digest()
        digest.keys, digest.rows = stats, self.rows
        if self.last_row is not None and self.first_row is not None:
            row, first = ev._decoder.decode(self.last_row), ev._decoder.decode(self.first_row).step
            digest.max_step, digest.last_time, digest.first_step = row.step, row.time, first
            # Stats come only while steps went up (Run._inexact): rows at first..max are every step.
            digest.runs = [[first, min(self.rows - 1, 1), self.rows]] if row.step - first + 1 == self.rows else None
        meta = sorted(self.meta + ([self.sys] if self.sys else []))
        frame = ev.encode(snapshot_event(digest, self.events, meta, time.time()))
        self.events += 1
        return frame
