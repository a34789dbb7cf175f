"""Runs shown from their cached rows (row_cache.py) with no RunData: the store's "ghosts".

A reopen lists every finished run whose files are as they were from its row. Such a run is
read only when a screen asks for its RunData (`materialize`: restored from the app's cache,
else read, as it was) or when the reader meets a change in its files (`skip` says no, and
the run is read as now, all of its segments in the same publish). Either way its version
never goes below the row's, so a screen comparing versions sees only real changes.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from logger.reader import Update
from logger.rundata import RunData
from tui.follow import Follower

from . import row_cache
from .decim_cache import AppCache, code_stamp
from .runview import RunView, Snapshotter

CHUNK = 256  # runs per hold of the reader's lock while saving: the live path waits one chunk


def _key(run_dir: str) -> str:
    """A run directory's "project/run" (the reader's run path)."""
    head, run = os.path.split(run_dir)
    return f"{os.path.basename(head)}/{run}"


class Ghosts:
    """The rows a reopen shows without reading, and how each becomes a read run again."""

    def __init__(self, follower: Follower, cache: AppCache, snapshots: Snapshotter) -> None:
        self._follower = follower
        self._cache = cache
        self._snapshots = snapshots
        self.rows: dict[str, row_cache.Row] = {}  # path -> row (the reader's lock to change)
        self._changed: list[Path] = []  # segments of runs found changed, to read (lock)
        self._bumps: dict[str, int] = {}  # run -> the least version its RunData may have
        self._checked: set[str] = set()  # rows precheck() found as they were, for skip_dir
        self._loaded = False
        self.saved = False  # save() is over: the rows written, found as they were, or not

    def restore(self) -> dict[str, RunView]:
        """(once) The cached rows whose runs' files are as they were, as snapshots. Without
        the cyclic collector meanwhile (as the first pass): the collections 10k rows' objects
        set off found nothing (all long-lived; the decode alone: 45 -> 28 ms)."""
        if self._loaded:
            return {}
        self._loaded = True
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._restore()
        finally:
            if collecting:
                gc.enable()

    def _restore(self) -> dict[str, RunView]:
        reader = self._follower.reader
        metrics, rows = row_cache.load(reader.root, code_stamp(), self._cache._root_text())
        views, found = {}, {}
        base = os.path.join(reader.root, "")
        for row in rows:
            if row.state in row_cache.FINAL and row_cache.unchanged(base + row.path, row):
                found[row.path] = row
                views[row.path] = row_cache.to_view(row, reader.root / row.path, metrics)
        if found:
            with self._follower.lock:
                self.rows.update(found)
                reader.skip, reader.skip_dir = self.skip, self.skip_dir
                self._follower.precheck = self.precheck
                self._snapshots.metrics = metrics  # the last ones chosen: the screen's guess
        return views

    def unlisted(self, run_dirs: list[str]) -> list[str]:
        """The run directories to list: not those shown from rows (checked as restored)."""
        rows = self.rows
        return [d for d in run_dirs if _key(d) not in rows]

    def restored(self, updates: list[Update]) -> list[Update]:
        """(lock held) Runs the app's cache restored whole (the newest) leave their rows,
        keeping their versions: `updates`, as given."""
        for u in updates:
            row = self.rows.pop(u.run.path, None)
            if row is not None:
                u.run.version = max(u.run.version, row.version)
        return updates

    def uncovered(self, metrics: tuple[str, ...]) -> list[str]:
        """The runs shown from rows that lack the sparklines of these metric columns."""
        return [p for p, row in self.rows.items() if not row_cache.covers(row, metrics)]

    def views(self, metrics: tuple[str, ...]) -> dict[str, RunView]:
        """(lock held) Every run shown from its row, with these sparklines (see covers)."""
        root = self._follower.reader.root
        return {p: row_cache.to_view(row, root / p, metrics) for p, row in self.rows.items()}

    def skip(self, path: Path) -> bool:
        """(the reader, lock held) Whether a segment of a run not read yet is left unread:
        its run is shown from its row and unchanged. A changed one is read as now."""
        key = f"{path.parent.parent.name}/{path.parent.name}"
        row = self.rows.get(key)
        if row is None:
            return False
        if any(s.name == path.name for s in row.segs) and row_cache.unchanged(
                os.fspath(path.parent), row):
            return True
        del self.rows[key]
        self._bumps[key] = row.version + 1  # changed: its next snapshot replaces the row's
        self._changed += [path.parent / s.name for s in row.segs if s.name != path.name]
        return False

    def precheck(self, dirs: list[tuple[str, str]]) -> None:
        """(the reading thread, before its rescan checks `dirs` under the lock; without it)
        Stat the files of the runs shown from rows: under it, 10k runs' 20k stats held the
        screens' workers back for the whole rescan (90-220 ms at load 3-9). What changes
        after this stat shows as a file event (or at the next rescan), as it did after a
        stat under the lock: the watch is in place before the rescan that follows it."""
        rows, checked = self.rows, self._checked
        for key, run_dir in dirs:
            row = rows.get(key)  # popped meanwhile (a worker read it): skip_dir sees it gone
            if row is not None and row_cache.unchanged(run_dir, row):
                checked.add(key)
            else:
                checked.discard(key)

    def skip_dir(self, key: str, run_dir: str) -> bool:
        """(the reader's rescan, lock held) Whether a run's directory is left unlisted: its
        run is shown from its row and unchanged (precheck's stats, or a few now; not a
        listing). A changed one is listed and read as now."""
        row = self.rows.get(key)
        checked = key in self._checked
        self._checked.discard(key)  # each precheck answers the one rescan after it
        if row is None:
            return False
        if checked or row_cache.unchanged(run_dir, row):
            return True
        del self.rows[key]
        self._bumps[key] = row.version + 1
        return False

    def read_changed(self) -> list[Update]:
        """The other segments of runs `skip` found changed (a run's row comes from all of
        them), to publish with the changed one."""
        with self._follower.lock:
            paths, self._changed = self._changed, []
            updates = self._follower.reader.read_paths(paths) if paths else []
            self._bump()
        return updates

    def _bump(self) -> None:
        runs = self._follower.reader.runs
        for key in [k for k in self._bumps if k in runs]:
            runs[key].version = max(runs[key].version, self._bumps.pop(key))

    def materialize(self, paths: Iterable[str]) -> list[Update]:
        """Read the runs of `paths` still shown from rows, as they were (lock held)."""
        segs: list[Path] = []
        for key in [p for p in paths if p in self.rows]:
            row = self.rows.pop(key)
            self._bumps[key] = row.version
            segs += [self._follower.reader.root / key / s.name for s in row.segs]
        if not segs:
            return []
        updates = self._cache.install(self._cache.load(segs))
        updates += self._follower.reader.read_paths(segs)
        self._bump()
        return updates

    def save(self) -> None:
        """(a thread of its own) The app's cache, then the rows a reopen shows first: after
        the follower's first rescan (what it finds changed is saved as now, not as cached).
        Started as the rescan starts, the save's ~0.2 s of CPU took the GIL from the first
        paint between the rescan's parts (10k warm rows: every row painted 0.45 -> 0.7 s)."""
        self._follower.rescanned.wait()
        lock = self._follower.lock
        self._cache.save(lock)
        try:
            self._save_rows(lock)
        except Exception:  # noqa: BLE001 - a cache that cannot be written is no error
            pass
        finally:
            self.saved = True

    def _save_rows(self, lock: threading.Lock) -> None:
        reader, rows = self._follower.reader, list[row_cache.Row]()
        with lock:
            runs = [r for r in reader.runs.values() if r.state in row_cache.FINAL]
            metrics = self._snapshots.metrics
            rows += self.rows.values()
        for i in range(0, len(runs), CHUNK):
            with lock:
                rows += filter(None, (self._row(run) for run in runs[i : i + CHUNK]))
        rows.sort(key=lambda row: row.path)  # the same runs, the same bytes (see row_cache.save)
        row_cache.save(reader.root, code_stamp(), self._cache._root_text(), metrics, rows)

    def _row(self, run: RunData) -> row_cache.Row | None:
        """A finished run's row, if every segment was read to its end (lock held)."""
        segs = row_cache.seg_stats(os.fspath(run.dir), run.segments)
        if not segs or run.unfed() or any(
                s.size != run.segments[s.name].offset or run.segments[s.name].error is not None
                for s in segs):
            return None
        alerts = len(run.extras.get("alerts", []))
        keys = run.numeric_keys()[:row_cache.SPARK_KEYS]
        sparks = {k: self._snapshots._spark(run, k) for k in keys}
        return row_cache.to_row(self._snapshots.view(run), segs,
                                row_cache.dir_id(os.fspath(run.dir)), alerts, sparks)
