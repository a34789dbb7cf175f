"""What a reader knows about one run, derived from the events of all its segments.

Nothing here is a guess written by a writer: the state comes from the segments' finish events
and whether their writers are alive; tags, notes, name and config from every segment's edits
ordered by (time, segment, position), so every reader arrives at the same result.
"""

from __future__ import annotations

import math
import time as _time
from pathlib import Path
from typing import Any

from . import events as ev
from .history import History
from .liveness import HEARTBEAT_WINDOW, Observations
from .media.readback import apply_event as apply_media_event
from .runhistory import RunHistory
from .runmeta import RunMeta
from .runrestore import RunRestore
from .runstate import RunState
from .segment import SegmentReader, StepLog
from .snapshot import META_KINDS, Digest, Found
from .streams import last_line
from .summaries import NeedRows, summary_of
from .values import unflatten

__all__ = ["HEARTBEAT_WINDOW", "RunData"]
_META = (ev.RunStart, ev.ConfigUpdate, ev.SetTags, ev.SetNotes, ev.SetName, ev.SummaryUpdate,
         ev.DefineMetric)


class RunData(RunMeta, RunState, RunRestore, RunHistory):
    """One run directory as read so far. `version` grows with every change."""

    sink: Any = None  # a reader's own view of the rows: called (segment, its new Log events)
    rows_later = False  # meta mode, a first pass: a segment's first rows wait for `feed`...
    SAME_PASS = 256 * 1024  # ...unless read from its first byte (no snapshot) and this big
    # at least: decoded whole for its summary, its rows then feed the sink as decoded, not
    # decoded twice; a small one's decimation (~0.3 ms a run) would hold other runs' rows back

    def __init__(self, run_dir: Path, project: str, run_id: str, keep_history: bool = True,
                 meta: bool = False) -> None:
        """`meta=True` (listing): keep per-key digests, not rows; `history` then reads the
        run's rows from disk when first asked for. `keep_history=False` (tail, the app): the
        digests only, whatever the mode; `history` is every key's last value, never each row."""
        self.meta = meta
        self._digests: dict[str, Digest] = {}  # no rows kept (meta, keep_history=False): per segment
        self._kept: dict[str, list[tuple[int, Any]]] = {}  # meta mode: (seq, event) a listing needs
        self._full: RunData | None = None
        self._ends: dict[str, int] = {}  # meta mode, per segment: the offset applied up to
        self._fed: dict[str, int] = {}  # meta mode with a sink: the offset it had rows up to
        self._console_back = False  # the console's last line came from rows read back (feed)
        self.dir = run_dir
        self.project = project
        self.id = run_id
        self.path = f"{project}/{run_id}"
        self.segments: dict[str, SegmentReader] = {}
        self._paths: dict[str, tuple[str, ...]] = {}  # flat key -> path, for nested dicts
        self._keep = keep_history
        self._histories: dict[str, History] = {}  # per writer (segment): its own rows
        self._merged: tuple[Any, History] | None = None
        self._observed = Observations()
        self._artifacts: list[ev.ArtifactLogged] = []  # `artifacts`, `files`, `extras`: RunRestore's
        self._files: list[ev.FileSaved] = []
        self._extras: dict[str, Any] = {}  # alerts and charts (logger/media/readback.py)
        self._lazy: list[tuple[SegmentReader, Any]] = []  # index entries not applied yet
        self.dir_id: tuple[int, int, int] | None = None
        self.version = 0
        self.state = "crashed"
        self.exit_code: int | None = None
        self.error: str | None = None
        self.finished_at: float | None = None
        self.updated_at = 0.0
        self._meta: list[tuple[float, str, int, Any]] = []  # time, segment, seq, event
        self._edit_seen: dict[str, dict[str, int]] = {}  # editor segment -> sizes it saw
        self._seen_counts: dict[tuple[str, int], int] = {}  # (segment, size) -> events before
        self._meta_dirty = True
        self._seq: dict[str, int] = {}
        self._clock: dict[str, float] = {}  # per segment: the latest event time seen so far
        self._follows: dict[str, list[str]] = {}  # a resumed segment -> the segments before it
        self._summary_cache: tuple[int, dict[str, Any]] | None = None
        self._derived: dict[str, Any] = {}

    # -- applying events -------------------------------------------------------------------
    def apply(self, seg: SegmentReader, events: list[Any]) -> None:
        if self._lazy:  # what the index cache restored comes first (logger/runrestore.py)
            self._replay()
        name = seg.path.name
        seq = self._seq.get(name, 0)
        clock = self._clock.get(name, -math.inf)
        log = ev.Log
        logs = [e for e in events if type(e) is log]
        if logs:
            self._add_rows(seg, logs)
        if self.meta:
            self._ends[name] = seg.offset
        kept = self._kept.setdefault(name, []) if self.meta else None
        for event in events:
            seq += 1
            kind = type(event)
            if kind is log or kind is StepLog:  # StepLog: a Log read without its values
                continue
            if kept is not None and kind in META_KINDS:
                self._keep_meta(kept, seq, event)
            if kind in _META:
                # A segment's own events keep their order even if its wall clock steps back.
                t = event.time if event.time == event.time else clock  # NaN: keep the order
                clock = t if t > clock else clock
                self._meta.append((clock, name, seq, event))
                self._meta_dirty = True
                if kind is ev.RunStart and event.follows:
                    self._follows[name] = [f for f in event.follows if type(f) is str]
            else:
                self._apply_held(seg, kind, event)
        self._seq[name] = seq
        self._clock[name] = clock
        if events:
            self.updated_at = max(self.updated_at, seg.last_time)
            self.version += 1

    def _apply_held(self, seg: SegmentReader, kind: type, event: Any) -> None:
        """An event that is neither a row nor metadata: what the run holds (artifacts, files,
        media, the latest system sample, the console's last line) or an editor's EditSeen."""
        if kind is ev.ArtifactLogged:
            self._artifacts.append(event)
        elif kind is ev.FileSaved:
            self._files.append(event)
        elif kind is ev.Alert or kind is ev.Chart:
            apply_media_event(self._extras, event)
        elif kind is ev.SystemStats:  # the latest sample only: the run table's GPU column
            if event.time >= getattr(self._extras.get("system"), "time", -math.inf):
                self._extras["system"] = event
        elif kind is ev.ConsoleChunk and event.stream != "note":  # the console column
            self._extras["console"] = last_line(event.text, self._extras.get("console", ""))
        elif kind is ev.EditSeen and seg.role == "editor":
            self._edit_seen[seg.path.name] = {k: v for k, v in event.segments.items()
                                              if type(k) is str and type(v) is int}
            self._meta_dirty = True

    def _add_rows(self, seg: SegmentReader, logs: list[Any]) -> None:
        """Rows into the history (full mode) or the digests (no rows kept: only what
        summaries need, and no columns built to be forgotten), then to the sink."""
        name = seg.path.name
        if self.meta or not self._keep:
            digest = self._digests.get(name)
            if digest is None:
                digest = self._digests[name] = Digest()
            digest.add_logs(logs, self._paths)
        else:
            history = self._histories.get(name)
            if history is None:
                history = self._histories[name] = History(self._paths)
            history.add_logs(logs)
        if self.sink is None:
            return
        if self.meta:  # the sink takes these rows only if it had every row before them
            begin, fed = self._ends.get(name, 0), self._fed.get(name)
            if fed is None and begin == 0 and (not self.rows_later or seg.size >= self.SAME_PASS):
                fed = 0  # the segment's first rows: nothing to read back
            if fed != begin:
                return
            self._fed[name] = seg.offset
        self.sink(seg, logs)

    def unfed(self) -> list[tuple[SegmentReader, int, int]]:
        """Meta mode with a sink: (segment, from, to) byte ranges read (into digests, or
        skipped over by a snapshot) whose rows the sink has not had; read them back with
        `feed`. Once a segment is fed to where the reader is, new rows go to the sink as read."""
        out = []
        for name, seg in self.segments.items():
            end, fed = self._ends.get(name, 0), self._fed.get(name, 0)
            if end > fed:
                out.append((seg, fed, end))
        return out

    def feed(self, seg: SegmentReader, events: list[Any], end: int) -> None:
        """The rows of bytes up to `end` of `seg`, read back from disk, to the sink; and the
        console's last line, which a snapshot skips over, unless a later one was read."""
        if self._lazy:
            self._replay()
        kinds = set(map(type, events))
        logs = events if kinds == {ev.Log} else [e for e in events if type(e) is ev.Log]
        if logs and self.sink is not None:
            self.sink(_At(seg, end), logs)
        chunks = [] if ev.ConsoleChunk not in kinds else [
            e for e in events if type(e) is ev.ConsoleChunk and e.stream != "note"]
        if chunks and (self._console_back or "console" not in self._extras):
            self._console_back = True
            for chunk in chunks:
                self._extras["console"] = last_line(chunk.text, self._extras.get("console", ""))
        self._fed[seg.path.name] = end
        self.version += 1

    def apply_snapshot(self, seg: SegmentReader, found: Found) -> None:
        """Meta mode: what a segment's snapshot says, in place of the events before it (an
        index cache entry's detail waits until needed: logger/runrestore.py)."""
        if hasattr(found, "whole"):
            self._defer(seg, found)
            return
        if self._lazy:
            self._replay()
        name = seg.path.name
        self._digests[name] = found.digest
        for seq, event in found.meta:
            self._seq[name] = seq - 1  # each at its own position: editors' EditSeen counts them
            self.apply(seg, [event])
        self._seq[name] = found.snap.events + 1
        self._ends[name] = found.end
        self.version += 1

    @staticmethod
    def _keep_meta(kept: list[tuple[int, Any]], seq: int, event: Any) -> None:
        """Meta mode: an event a snapshot of its segment repeats (the index cache's)."""
        if type(event) is ev.SystemStats:  # the latest only
            kept[:] = [k for k in kept if type(k[1]) is not ev.SystemStats]
        kept.append((seq, event))

    def segment_paths(self) -> list[Path]:
        """The run's segment files, by name: what a history reader reads (stable API)."""
        return [self.segments[n].path for n in sorted(self.segments)]

    def full(self) -> RunData:
        """This run with its rows (meta mode reads them now, and what was added since)."""
        if not self.meta:
            return self
        full = self._full
        if full is None:
            full = self._full = RunData(self.dir, self.project, self.id)
        for path in self.segment_paths():
            seg = full.segments.get(path.name)
            if seg is None:
                seg = full.segments[path.name] = SegmentReader(path)
            events = seg.read_new()
            if events:
                full.apply(seg, events)
        full.refresh_state()
        return full

    def observe(self, seg: SegmentReader) -> None:
        """Note a fresh stat of one segment, on this reader's clock (see logger.liveness)."""
        self._observed.observe(seg.path.name, seg.size, seg.mtime)

    @property
    def start(self) -> ev.RunStart | None:
        return self._meta_state()["start"]

    @property
    def created_at(self) -> float:
        times = [s.start.time for s in self.segments.values() if s.start and s.role != "editor"]
        if times:
            return min(times)
        start = self.start
        if start is None and self.segments:  # nothing readable: when its files were written
            return min(s.mtime for s in self.segments.values())
        return start.time if start else self.updated_at

    @property
    def first_segment(self) -> ev.SegmentStart | None:
        starts = [s.start for s in self.segments.values() if s.start and s.role != "editor"]
        return min(starts, key=lambda s: s.time) if starts else None

    @property
    def runtime(self) -> float:
        end = self.finished_at if self.state != "running" and self.finished_at else None
        if end is None:
            end = _time.time() if self.state == "running" else max(self.updated_at, self.created_at)
        return max(0.0, end - self.created_at)

    @property
    def skipped_frames(self) -> int:
        return sum(s.skipped for s in self.segments.values())

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.segments.values() if s.error]

    # -- summary ----------------------------------------------------------------------------
    def summary_flat(self) -> dict[str, Any]:
        """Last value of every key, W&B-style, with define_metric aggregates and hand-set keys."""
        cache = self._summary_cache
        if cache is not None and cache[0] == self.version and not self._meta_dirty:
            return cache[1]
        try:
            out = summary_of(self.digest(), self._meta_state(), self.created_at)
        except NeedRows:  # a follower keeping no rows answers from the last values it holds
            out = (self.full().summary_flat() if self.meta
                   else summary_of(self._history_digest(), self._meta_state(), self.created_at))
        self._summary_cache = (self.version, out)
        return out

    @property
    def summary(self) -> dict[str, Any]:
        """The summary nested as W&B shows it: keys logged as nested dicts nest again."""
        return unflatten(self.summary_flat(), self._paths)


class _At:
    """A segment as the sink sees it for rows read back: where those rows end (`offset`)."""

    __slots__ = ("path", "offset", "size")

    def __init__(self, seg: SegmentReader, end: int) -> None:
        self.path, self.offset, self.size = seg.path, end, max(seg.size, end)
