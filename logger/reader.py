"""Reading a whole root incrementally: discover runs, follow every segment by offset.

    reader = RootReader("runs")
    updates = reader.scan()                 # everything on disk (or a bounded first pass)
    updates = reader.read_paths(changed)    # only what watchfiles said changed
    updates = reader.refresh_states()       # liveness: a SIGKILLed writer reads "crashed"

The layout is ROOT/<project>/<run-id>/*.rws. Anything else under the root (TensorBoard's
directories, stray files, artifact stores) is ignored.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from . import damage, index, index_save, index_scan
from . import events as ev
from .discover import is_dir as _is_dir
from .discover import run_dirs, segment_files
from .discover import scandir as _scandir
from .rundata import RunData
from .segment import SegmentReader
from .snapshot import Found, find_last


class Update(NamedTuple):
    """New events of one run from one read, and whether the run was new or changed state."""

    run: RunData
    events: list[Any]
    new: bool
    state_changed: bool


class RootReader:
    """Every run under a root, each followed incrementally."""

    def __init__(self, root: str | os.PathLike[str], keep_history: bool = True, meta: bool = False,
                 sink: Any = None) -> None:
        """`keep_history=False` keeps only each metric's last value: for followers that print
        events as they come (tail), whose memory must stay flat however long runs log.
        `meta=True` (listing): each segment is read from its last snapshot on (logger/snapshot.py),
        and runs keep per-key digests, not rows; a run's `history` is read when asked for."""
        self.keep_history = keep_history
        self.meta = meta
        self._index: index.Cached | None = None  # meta mode: the cache (logger/index.py)
        self._unchanged: set[Path] = set()  # segments taken whole from the cache, nothing read since
        self._fresh: set[Path] = set()  # segments as the index last saved holds them, if not read since
        self._listed: dict[str, tuple[dict[str, int], Any]] = {}  # a run's listing in the index: (sizes, it)
        self._save_gen = 0  # saves begun (logger/index_save.py)
        self._index_dirty = False
        self._index_grew = False  # a segment read further since the last save (logger/index_save.py)
        self._index_saved = 0.0
        self.sink = sink  # sink(run) -> RunData.sink for each new run (the app's decimations)
        self.skip: Any = None  # skip(path) -> True: a new run's segment is left unread (the app's cached rows)
        self.skip_dir: Any = None  # skip_dir(run, dir) -> True: ...and its directory not listed
        # Absolute: file watchers report absolute paths, and they must match the root's.
        self.root = Path(os.path.abspath(root))
        self._prefix = os.path.join(str(self.root), "")
        self._real_root = Path(os.path.realpath(root))
        self.runs: dict[str, RunData] = {}
        self._segments: dict[Path, tuple[RunData, SegmentReader]] = {}

    # -- discovery --------------------------------------------------------------------------
    def run_dirs(self) -> list[tuple[str, str]]:
        """Every run directory under the root, as ("project/run", path): a listing of the
        filesystem alone, so a caller may take it without holding the reader still."""
        return self._without_gc(lambda: [(f"{project.name}/{run_dir.name}", run_dir.path)
                                         for project, run_dir in run_dirs(self.root)])

    def _segment_paths(self, dirs: Iterable[tuple[str, str]] | None = None) -> Iterable[Path]:
        for key, path in self.run_dirs() if dirs is None else dirs:
            if self.skip_dir is None or not self.skip_dir(key, path):
                yield from segment_files(path)

    def _follow(self, path: Path) -> tuple[RunData, SegmentReader, bool] | None:
        known = self._segments.get(path)
        if known is not None:
            return known[0], known[1], False
        text = str(path)
        if text.startswith(self._prefix):  # the common case, without pathlib's parsing
            parts = tuple(text[len(self._prefix):].split(os.sep))
        else:
            try:  # a watcher that reports the root through its resolved (symlink-free) path
                rel = path.relative_to(self._real_root)
            except ValueError:
                return None
            path, parts = self.root / rel, rel.parts
            known = self._segments.get(path)
            if known is not None:
                return known[0], known[1], False
        if len(parts) != 3 or not parts[2].endswith(ev.SEGMENT_SUFFIX):
            return None
        project, run_id, _ = parts
        key = f"{project}/{run_id}"
        run = self.runs.get(key)
        new = run is None
        if run is None and self.skip is not None and self.skip(path):
            return None
        if run is None:
            run = self.runs[key] = RunData(path.parent, project, run_id, self.keep_history, self.meta)
            run.sink = self.sink(run) if self.sink is not None else None
        seg = SegmentReader(path)
        run.segments[path.name] = seg
        self._segments[path] = (run, seg)
        return run, seg, new

    # -- reading ----------------------------------------------------------------------------
    def scan(self, limit: int | None = None, save: bool = True) -> list[Update]:
        """Find new segments and read what every segment gained (at most `limit` bytes each).

        With a limit, call again while `pending()` is non-zero: a first pass with a small
        limit gives every run's metadata fast; later passes fill in the histories.
        `save=False` leaves the index cache to save_index() (a follower's, outside its lock).
        """
        if not (self.meta and not self._segments and self.skip is None):
            return self.scan_dirs(None, limit, save)
        # A first scan: the index cache's runs at once.
        updates = self._without_gc(lambda: [Update(*u) for u in index_scan.first_scan(self, limit)])
        if save:
            self.save_index()
        return updates

    def scan_dirs(self, dirs: Iterable[tuple[str, str]] | None, limit: int | None = None,
                  save: bool = True) -> list[Update]:
        """scan() over these run directories only (from run_dirs(); None: all): a follower's
        rescan, a part at a time, lets go of the reader between parts (tui/follow.py).
        `save=False` leaves the index cache to the last part (save_index())."""
        updates = self._without_gc(
            lambda: self._read(list(self._segment_paths(dirs)), limit, stat_first=True))
        if save:
            self.save_index()
        return updates

    def save_index(self, lock: Any = None, now: bool = False) -> None:
        """(meta mode) The index cache written, if it changed (at most every 5 s; `now`: at
        once). With the reader's `lock` (not held by the caller), it is held only to take
        what is written, a part at a time (logger/index_save.py)."""
        if self.meta:
            self._without_gc(lambda: index_save.save(self, now, lock=lock))

    def _without_gc(self, read: Any) -> Any:
        """`read()`, in meta mode without the cyclic collector: a listing allocates a few
        dozen objects a run and frees few; the collector, run every 700 of them, found
        nothing and cost 10-15 % of reopening a cached root."""
        collecting = self.meta and gc.isenabled()
        if collecting:
            gc.disable()
        try:
            return read()
        finally:
            if collecting:
                gc.enable()

    def read_paths(self, paths: Iterable[str | os.PathLike[str]], limit: int | None = None) -> list[Update]:
        """Read only these files (as reported by a file watcher); other paths are ignored."""
        segs: list[Path] = []
        for p in paths:
            path = Path(os.path.abspath(p))
            if path.name.endswith(ev.SEGMENT_SUFFIX):
                if path in self._segments or _is_regular(path):
                    segs.append(path)
            elif path.is_dir():
                # A new run directory, or one that came in whole (rsync, mv): take its segments.
                segs.extend(segment_files(path))
                for sub in _scandir(path):
                    if _is_dir(sub):
                        segs.extend(segment_files(sub.path))
        return self._read(segs, limit, stat_first=False)

    def _read(self, paths: list[Path], limit: int | None, stat_first: bool) -> list[Update]:
        by_run: dict[str, tuple[RunData, list[Any], bool]] = {}
        for path in paths:
            found = self._follow(path)
            if found is None:
                continue
            run, seg, new = found
            if stat_first and not new and not seg.stat():
                run.observe(seg)
                continue
            if self.meta and seg.offset == 0:
                events = self._read_meta(run, seg, limit)
            else:
                at = seg.offset
                events = seg.read_new(limit)
                if seg.offset != at:  # its entry, saved, lets a reopen read on from here
                    self._index_grew = True
            run.observe(seg)
            entry = by_run.get(run.path)
            if entry is None:
                entry = by_run[run.path] = (run, [], new)
            elif new:
                by_run[run.path] = entry = (run, entry[1], True)
            if events:
                run.apply(seg, events)
                entry[1].extend(events)
        updates = []
        for run, events, new in by_run.values():
            changed = run.refresh_state()
            if new and self._unchanged:
                self._restore(run)
            if events or new or changed:
                updates.append(Update(run, events, new, changed))
        return updates

    # -- meta mode: snapshots and the index cache --------------------------------------------
    def _read_meta(self, run: RunData, seg: SegmentReader, limit: int | None) -> list[Any]:
        """A segment's state from the index cache or its last snapshot, then the events after
        that; with neither, all of it (the run folds its rows into digests)."""
        if self._index is None:
            self._index = index.load(self.root)
        entry = self._index.entries.get(self._key(seg.path))
        cached = _cached(entry, seg) if entry is not None else None
        if cached is not None:
            found, st = cached
            seg._header_ok = True  # checked when the entry was made; the file only grew since
            seg.skipped, seg.counted_from = entry.skipped, entry.counted_from  # type: ignore[union-attr]
            self._apply_found(run, seg, found)
            if st.st_size == found.end:  # unchanged: nothing to read
                seg.size, seg.mtime = st.st_size, st.st_mtime
                self._unchanged.add(seg.path)
                return []
            self._index_dirty = True
            return seg.read_new(limit)
        first = seg.read_new(limit=1)
        last = _last_snapshot(seg)
        self._index_dirty = True
        if last is None or last.end <= seg.offset or seg.skipped:
            # (damage in the first frames: all read, so that none is counted twice by
            # count_damage, which counts what lies before the snapshot from the header on)
            return first + seg.read_new(limit)
        head = [e for e in first if type(e) is ev.SegmentStart][:1]
        if head:
            run.apply(seg, head)
        self._apply_found(run, seg, last)
        seg.counted_from = last.end  # damage before the snapshot is not read: count_damage()
        return seg.read_new(limit)

    @staticmethod
    def _apply_found(run: RunData, seg: SegmentReader, found: Found) -> None:
        for _, event in found.meta:  # the segment's role decides how its events apply
            if type(event) is ev.Finish:
                seg.finish = event
            elif type(event) is ev.SegmentStart and seg.start is None:
                seg.start = event
        seg.last_time = max(seg.last_time, found.snap.time)  # before: the run's update time is taken from it
        run.apply_snapshot(seg, found)
        seg.offset = found.end  # the reader goes on from there, frame by frame

    def _restore(self, run: RunData) -> None:
        """A run new to this reader whose every segment came whole from the index: its cached
        listing (derived metadata, summary) in place of deriving them again."""
        raw = self._index.runs.get(index.key(run.path)) if self._index is not None else None
        if raw is None or any(seg.path not in self._unchanged for seg in run.segments.values()):
            return
        sizes = {index.key(n): seg.offset for n, seg in run.segments.items()}
        got = index.restored(raw, sizes)
        if got is not None:
            run.restore_listing(*got)
            self._listed[run.path] = (sizes, raw)

    def _key(self, path: Path) -> str:
        """A segment's name in the index: its path under the root."""
        return index.key(str(path)[len(self._prefix):])

    def count_damage(self, runs: Iterable[RunData]) -> None:
        """Count the damaged frames before the snapshots these runs' segments were read from
        (a meta reader's `skipped_frames` leaves them out: logger/damage.py); kept in the
        index cache, so a segment is scanned for them once."""
        changed = [damage.count_run(run.segments) for run in runs]  # every run counted: not any()'s short cut
        if any(changed):
            self._index_dirty = True
            self._save_index(now=True)

    def credit_damage(self, found: list[Any]) -> bool:
        """Damage `damage.counted` found outside the lock (a screen's worker) added to its
        segments, for the index cache to keep; whether any count changed."""
        changed = damage.credit(found)
        if changed:
            self._index_dirty = True
        return changed

    def _save_index(self, now: bool = False) -> None:
        """Write what every segment holds, as of what was read, at most every 5 s (`now`: at once)."""
        index_save.save(self, now)

    def pending(self) -> int:
        """Bytes known to be on disk and not read yet."""
        return sum(seg.pending for _, seg in self._segments.values())

    def refresh_states(self) -> list[Update]:
        """Re-check the writers of running runs; an update for each run whose state changed.

        A run whose writer has gone is first read to its end: what the writer wrote last (its
        finish, often) decides between finished and crashed, even if no file event for that
        last write has arrived yet.
        """
        updates: list[Update] = []
        for run in list(self.runs.values()):
            if run.state != "running" or run.writer_alive():
                continue
            read = self._read([seg.path for seg in run.segments.values()], None, stat_first=True)
            if read:
                updates += read
            elif run.refresh_state():
                updates.append(Update(run, [], False, True))
        return updates

    def get(self, ref: str) -> RunData | None:
        """A run by "project/id", by id, or by name (the newest of that name)."""
        if ref in self.runs:
            return self.runs[ref]
        matches = [r for r in self.runs.values() if r.id == ref]
        if not matches:
            matches = [r for r in self.runs.values() if r.name == ref]
        if not matches:
            return None
        return max(matches, key=lambda r: r.created_at)


def _last_snapshot(seg: SegmentReader) -> Found | None:
    """The segment's last valid snapshot past its first frame (logger/snapshot.py)."""
    if seg.error is not None or seg.offset <= 0:
        return None
    try:
        fd = os.open(seg.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return find_last(fd, os.fstat(fd).st_size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _cached(entry: index.Entry, seg: SegmentReader) -> tuple[Found, os.stat_result] | None:
    """A cache entry that still describes the file, as a checked snapshot at its offset (the
    segment's start among its events), and the file's stat."""
    try:
        st = os.stat(seg.path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or not index.usable(entry, st, seg.path):
        return None
    found = index.found(entry)
    return (found, st) if found is not None else None


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """Whether `path` holds at least one segment file: what makes a directory a run."""
    return bool(segment_files(path))


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False
