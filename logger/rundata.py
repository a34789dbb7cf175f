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
from .flat import flatten_into
from .history import History
from .liveness import HEARTBEAT_WINDOW, Observations, writer_alive
from .media.readback import apply_event as apply_media_event
from .multiwriter import merge
from .seen import count_events
from .segment import SegmentReader, StepLog
from .snapshot import META_KINDS, Digest, Found, combine
from .streams import last_line
from .summary import NeedRows, aggregation, summary_of
from .values import deep_merge, unflatten

__all__ = ["HEARTBEAT_WINDOW", "RunData"]
_META = (ev.RunStart, ev.ConfigUpdate, ev.SetTags, ev.SetNotes, ev.SetName, ev.SummaryUpdate,
         ev.DefineMetric)
_LABELS = (ev.SetTags, ev.SetNotes, ev.SetName)


class RunData:
    """One run directory as read so far. `version` grows with every change."""

    sink: Any = None  # a reader's own view of the rows: called (segment, its new Log events)

    def __init__(self, run_dir: Path, project: str, run_id: str, keep_history: bool = True,
                 meta: bool = False) -> None:
        """`meta=True` (listing): keep per-key digests, not rows; `history` then reads the
        run's rows from disk when first asked for."""
        self.meta = meta
        self._digests: dict[str, Digest] = {}  # meta mode, per segment
        self._kept: dict[str, list[tuple[int, Any]]] = {}  # meta mode: (seq, event) a listing needs
        self._full: RunData | None = None
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
        self.artifacts: list[ev.ArtifactLogged] = []
        self.files: list[ev.FileSaved] = []
        self.extras: dict[str, Any] = {}  # alerts and charts (logger/media/readback.py)
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
        name = seg.path.name
        seq = self._seq.get(name, 0)
        clock = self._clock.get(name, -math.inf)
        log = ev.Log
        logs = [e for e in events if type(e) is log]
        if logs and (self.meta or not self._keep):  # no rows kept: the summary's digests
            digest = self._digests.get(name)
            if digest is None:
                digest = self._digests[name] = Digest()
            digest.add_logs(logs, self._paths)
        if logs and not self.meta:
            history = self._histories.get(name)
            if history is None:
                history = self._histories[name] = History(self._paths, keep=self._keep)
            history.add_logs(logs)
            if self.sink is not None:
                self.sink(seg, logs)
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
            elif kind is ev.ArtifactLogged:
                self.artifacts.append(event)
            elif kind is ev.FileSaved:
                self.files.append(event)
            elif kind is ev.Alert or kind is ev.Chart:
                apply_media_event(self.extras, event)
            elif kind is ev.SystemStats:  # the latest sample only: the run table's GPU column
                if event.time >= getattr(self.extras.get("system"), "time", -math.inf):
                    self.extras["system"] = event
            elif kind is ev.ConsoleChunk and event.stream != "note":  # the console column
                self.extras["console"] = last_line(event.text, self.extras.get("console", ""))
            elif kind is ev.EditSeen and seg.role == "editor":
                self._edit_seen[name] = {k: v for k, v in event.segments.items()
                                         if type(k) is str and type(v) is int}
                self._meta_dirty = True
        self._seq[name] = seq
        self._clock[name] = clock
        if events:
            self.updated_at = max(self.updated_at, seg.last_time)
            self.version += 1

    def apply_snapshot(self, seg: SegmentReader, found: Found) -> None:
        """Meta mode: what a segment's snapshot says, in place of the events before it."""
        name = seg.path.name
        self._digests[name] = found.digest
        for seq, event in found.meta:
            self._seq[name] = seq - 1  # each at its own position: editors' EditSeen counts them
            self.apply(seg, [event])
        self._seq[name] = found.snap.events + 1
        self.version += 1

    @staticmethod
    def _keep_meta(kept: list[tuple[int, Any]], seq: int, event: Any) -> None:
        """Meta mode: an event a snapshot of its segment repeats (the index cache's)."""
        if type(event) is ev.SystemStats:  # the latest only
            kept[:] = [k for k in kept if type(k[1]) is not ev.SystemStats]
        kept.append((seq, event))

    def segment_state(self, name: str) -> tuple[Digest, int, list[tuple[int, Any]]]:
        """Meta mode: one segment as read so far (the index cache's entry): its digest, its
        events count, and (position, event) of its start and of what a listing needs."""
        start = self.segments[name].start
        kept = [(1, start)] if start is not None else []
        return self._digests.get(name) or Digest(), self._seq.get(name, 0), kept + self._kept.get(name, [])

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

    # -- history ----------------------------------------------------------------------------
    @property
    def history(self) -> History:
        """Every writer's rows as one history. With several writers (DDP ranks sharing an id,
        a resume while the original runs) rows are ordered by (resume generation, segment
        name, position in the segment), so where two logged a key at one step every reader
        shows the same value: the later writer's. `writer_history()` has each one's own."""
        if self.meta:
            return self.full().history
        histories = self._writer_histories()
        if len(histories) == 1:
            return histories[0][1]
        key = (self.version, tuple(name for name, _ in histories))
        if self._merged is None or self._merged[0] != key:
            self._merged = (key, merge([h for _, h in histories], self._paths, self._keep))
        return self._merged[1]

    def _writer_histories(self) -> list[tuple[str, History]]:
        generation = self._generations()
        names = sorted(self._histories, key=lambda n: (generation.get(n, 0), n))
        return [(n, self._histories[n]) for n in names if len(self._histories[n])]

    @property
    def writers(self) -> list[str]:
        """The segments that logged rows, in the order the merged history applies them."""
        if self.meta:
            return self.full().writers
        return [name for name, _ in self._writer_histories()]

    def writer_history(self, writer: str) -> History:
        """One writer's own rows: its segment's name, or its role ("rank 1") if unique."""
        if self.meta:
            return self.full().writer_history(writer)
        if writer in self._histories:
            return self._histories[writer]
        named = [n for n in self._histories
                 if (seg := self.segments.get(n)) is not None and seg.role == writer]
        if len(named) != 1:
            known = ", ".join(self.writers) or "none"
            raise KeyError(f"run {self.path}: no single writer {writer!r} (writers: {known})")
        return self._histories[named[0]]

    # -- metadata ---------------------------------------------------------------------------
    def _meta_state(self) -> dict[str, Any]:
        if not self._meta_dirty:
            return self._derived
        d: dict[str, Any] = {
            "name": self.id, "notes": None, "tags": (), "group": None, "job_type": None,
            "sweep_id": None, "config": {}, "start": None, "metrics": {}, "summary_set": {}, "summary_removed": {},
        }
        self._apply_script_events(d)
        self._apply_labels(d)
        self._derived = d
        self._meta_dirty = False
        return d

    def _apply_script_events(self, d: dict[str, Any]) -> None:
        """What only scripts write (config, summary, metrics) in the order the segments ran:
        a resume comes after what it resumed, whatever the two machines' clocks said."""
        generation = self._generations()
        for _t, _n, _s, e in sorted(self._meta, key=lambda m: (generation.get(m[1], 0), *m[:3])):
            kind = type(e)
            if kind is ev.RunStart:
                if d["start"] is None or (d["start"].resumed and not e.resumed):
                    d["start"] = e
                d.update(group=e.group, job_type=e.job_type)
                d["sweep_id"] = e.sweep_id or d["sweep_id"]  # a resume started by hand keeps it
                d["config"] = deep_merge(d["config"], e.config)
            elif kind is ev.ConfigUpdate:
                d["config"] = deep_merge(d["config"], e.values)
            elif kind is ev.SummaryUpdate:
                flat: dict[str, Any] = {}
                flatten_into(flat, e.values, self._paths)
                for key, value in flat.items():
                    d["summary_set"][key] = (e.time, value)
                for key in e.removed:
                    d["summary_removed"][key] = e.time
            elif kind is ev.DefineMetric:
                d["metrics"][e.name] = e

    def _apply_labels(self, d: dict[str, Any]) -> None:
        """Name, notes and tags, which editors change too (see _label_order).
        A resumed RunStart restates what it read at init; it names the run only where the
        original start is missing, so an edit made meanwhile is not undone."""
        originals = [m for m in self._meta if type(m[3]) is ev.RunStart and not m[3].resumed]
        tags: list[str] = []
        for e in self._label_order():
            kind = type(e)
            if kind is ev.RunStart:
                if not e.resumed or not originals:
                    d.update(name=e.name, notes=e.notes)
                    tags = list(e.tags)
            elif kind is ev.SetTags:
                if e.tags is not None:
                    tags = list(e.tags)
                tags = [t for t in tags if t not in e.remove]
                tags += [t for t in e.add if t not in tags]
            elif kind is ev.SetNotes:
                d["notes"] = e.notes
            elif kind is ev.SetName:
                d["name"] = e.name
        d["tags"] = tuple(tags)

    def _label_order(self) -> list[Any]:
        """Label events in the order they apply. Scripts' by (time, segment, position), each
        segment's in its own order. An editor that recorded what it saw (EditSeen) comes
        right after the last event it saw, whatever its clock says: a laptop whose clock is
        behind still edits the run it read. Older editors' edits go by their time."""
        seen_by = self._edit_seen
        timed = sorted((m for m in self._meta if m[1] not in seen_by), key=lambda m: m[:3])
        keyed: list[tuple[tuple[Any, ...], Any]] = [((i, 0), m[3]) for i, m in enumerate(timed)]
        for m in self._meta:
            seen = seen_by.get(m[1])
            if seen is None or type(m[3]) not in _LABELS:
                continue
            counts = {name: self._events_within(name, size) for name, size in seen.items()}
            after = max((i for i, t in enumerate(timed) if t[2] <= counts.get(t[1], 0)), default=-1)
            keyed.append(((after, 1, sum(seen.values()), *m[:3]), m[3]))
        keyed.sort(key=lambda k: k[0])
        return [e for _, e in keyed]

    def _events_within(self, name: str, size: int) -> int:
        """How many events of segment `name` lie in its first `size` bytes."""
        seg = self.segments.get(name)
        if seg is None:
            return 0
        if size >= seg.offset:
            return self._seq.get(name, 0)  # all this reader has read of it so far
        key = (name, size)
        if key not in self._seen_counts:  # bytes before `size` never change: count them once
            self._seen_counts[key] = count_events(seg.path, size)
        return self._seen_counts[key]

    def _generations(self) -> dict[str, int]:
        """0 for a segment that resumed nothing; 1 + the latest it resumed otherwise."""
        out: dict[str, int] = {}

        def gen(name: str, depth: int = 0) -> int:
            if name not in out:
                before = self._follows.get(name, ())
                out[name] = 0 if depth > 64 or not before else 1 + max(
                    (gen(b, depth + 1) for b in before if b != name), default=-1)
            return out[name]

        for name in self._follows:
            gen(name)
        return out

    name = property(lambda self: self._meta_state()["name"])
    notes = property(lambda self: self._meta_state()["notes"])
    tags = property(lambda self: self._meta_state()["tags"])
    group = property(lambda self: self._meta_state()["group"])
    job_type = property(lambda self: self._meta_state()["job_type"])
    sweep_id = property(lambda self: self._meta_state()["sweep_id"])  # None before RunStart had it
    config = property(lambda self: self._meta_state()["config"])
    metrics = property(lambda self: self._meta_state()["metrics"])

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

    def digest(self) -> Digest:
        """Every writer's digest, combined in the merged history's order."""
        generation = self._generations()
        if self.meta or not self._keep:  # no rows kept: digests were kept as rows came
            names = sorted(self._digests, key=lambda n: (generation.get(n, 0), n))
            return combine([self._digests[n] for n in names if self._digests[n].rows])
        return self._history_digest()

    def _history_digest(self) -> Digest:
        """The digest of the rows this reader holds (full mode; a follower's last values)."""
        metrics = self._meta_state()["metrics"]
        return combine([Digest.of_history(h, lambda k: aggregation(metrics, k) not in (None, "none"))
                        for _, h in self._writer_histories()])

    @property
    def rows(self) -> int:
        """Rows logged, every writer's (a listing's count: no history read)."""
        if self.meta:
            return sum(d.rows for d in self._digests.values())
        return sum(len(h) for h in self._histories.values())

    def numeric_keys(self) -> list[str]:
        """History keys holding numbers, first logged first (no history read in meta mode)."""
        if not self.meta:
            return self.history.numeric_keys()
        return [k for k, s in self.digest().keys.items() if s.numeric and not k.startswith("_")]

    @property
    def step(self) -> int | None:
        if self.meta:
            steps = [d.max_step for d in self._digests.values() if d.max_step is not None]
            return max(steps) if steps else None
        steps = [h.max_step for h in self._histories.values() if h.max_step is not None]
        return max(steps) if steps else None

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

    def listing(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Meta mode: the derived metadata and the summary (None where it needs rows): what the
        index cache (logger/index.py) keeps of a run read to the end of its segments."""
        derived = self._meta_state()
        try:
            self._summary_cache = (self.version, summary_of(self.digest(), derived, self.created_at))
        except NeedRows:
            return derived, None
        return derived, self._summary_cache[1]

    def restore_listing(self, derived: dict[str, Any], summary: dict[str, Any]) -> None:
        """The index cache's `listing()` of this run, made from segments still as they are:
        what _meta_state() and summary_flat() compute again from the same events."""
        self._derived, self._meta_dirty = derived, False
        self._summary_cache = (self.version, summary)

    # -- state ------------------------------------------------------------------------------
    def writer_alive(self, now: float | None = None) -> bool:
        """Whether a script segment without a finish still has a live writer. `now` (wall
        time) moves this reader's own clock as far, for callers that look ahead."""
        wall = _time.time()
        mono = _time.monotonic() + (0.0 if now is None else now - wall)
        wall = wall if now is None else now
        return any(s.finish is None and writer_alive(s, self._observed, wall, mono)
                   for s in self.segments.values() if s.role != "editor")

    def refresh_state(self, now: float | None = None) -> bool:
        """Derive the run's state from its segments; True when it changed."""
        scripts = [s for s in self.segments.values() if s.role != "editor" and s.start]
        before = (self.state, self.exit_code, self.error)
        if self.writer_alive(now):
            self.state, self.exit_code, self.error, self.finished_at = "running", None, None, None
        elif scripts:
            # The segment that ran last: the latest generation (a resume follows what it
            # resumed, however its clock is set), then the latest start.
            generation = self._generations()
            last = max(scripts, key=lambda s: (generation.get(s.path.name, 0),
                                               s.start.time if s.start else 0.0, s.path.name))
            fin = last.finish
            if fin is None:
                self.state, self.exit_code, self.error = "crashed", None, None
                self.finished_at = max(last.last_time, last.start.time if last.start else 0.0)
            else:
                self.state, self.exit_code, self.error = fin.state, fin.exit_code, fin.error
                self.finished_at = fin.time
        elif self.segments and all(s.error for s in self.segments.values()):
            self.state = "unreadable"  # every segment says why in `errors`; nothing to judge by
        elif self.state == "running":  # a segment that was created and never written
            self.state, self.exit_code, self.error = "crashed", None, None
        changed = before != (self.state, self.exit_code, self.error)
        if changed:
            self.version += 1
        return changed
