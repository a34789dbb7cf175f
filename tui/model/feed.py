"""Feed: the thread that owns the Follower and hands RunView snapshots to the UI.

The UI thread never reads files and never waits on `follower.lock`: this thread reads,
snapshots under the lock, and leaves the snapshots in `take()` with a folded message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from logger.events import SEGMENT_SUFFIX
from logger.reader import Update
from tui.follow import Follower

from .runview import RunView, Snapshotter

FIRST_LIMIT = 1024  # bytes per segment in the first pass: metadata, config, a few steps
FIRST_BATCH = 256  # segments per first-pass read: the first screenful shows after one batch
CHUNK = 16 * 1024  # bytes per segment in each later pass: histories park as tuples until
# compacted on first read, so small passes keep the peak low (1k runs: 250 MB, not 670 MB)


def segment_paths(root: Path) -> list[Path]:
    """The segments under root (ROOT/<project>/<run>/*.rws), for the batched first pass."""
    try:
        return [p for p in root.glob("*/*/*" + SEGMENT_SUFFIX) if not p.parts[-3].startswith(".")]
    except OSError:
        return []


class Feed:
    """Reads a root in a thread; `notify()` is called (from that thread) when views wait."""

    def __init__(self, root: Path, force_polling: bool | None, notify: Callable[[], None]) -> None:
        self.follower = Follower(root, force_polling=force_polling)
        self.snapshots = Snapshotter()
        self.notify = notify
        self.stop = threading.Event()
        self.loaded = False  # every byte on disk at start has been read
        self.loaded_bytes = 0
        self.total_bytes = 0
        self._pending: dict[str, RunView] = {}
        self._plock = threading.Lock()

    @property
    def lock(self) -> threading.Lock:
        return self.follower.lock

    def run(self) -> None:
        """The thread's body: a fast metadata pass, the histories, then follow changes."""
        f = self.follower
        self.first_pass()
        left = f.pending()
        self.total_bytes = left
        while left and not self.stop.is_set():
            self._publish(f.initial(limit=CHUNK))
            left = f.pending()
            self.loaded_bytes = max(0, self.total_bytes - left)
        self.loaded = True
        self.notify()
        for batch in f.follow(self.stop):
            self._publish(batch)

    def first_pass(self) -> None:
        """Every run's metadata and first steps, published a batch of segments at a time."""
        f = self.follower
        paths = segment_paths(f.root)
        for i in range(0, len(paths), FIRST_BATCH):
            if self.stop.is_set():
                return
            with f.lock:
                updates = f.reader.read_paths(paths[i : i + FIRST_BATCH], limit=FIRST_LIMIT)
                # A run start (config) longer than the limit: read just that frame, whole.
                short = [seg.path for u in updates if u.run.start is None
                         for seg in u.run.segments.values()]
                if short:
                    updates += f.reader.read_paths(short, limit=FIRST_LIMIT)
            self._publish(updates)
        self._publish(f.initial(limit=FIRST_LIMIT))  # anything that appeared meanwhile

    def take(self) -> dict[str, RunView]:
        with self._plock:
            views, self._pending = self._pending, {}
        return views

    def _publish(self, updates: Iterable[Update]) -> None:
        runs = {u.run.path: u.run for u in updates}
        if not runs:
            return
        with self.follower.lock:
            views = {path: self.snapshots.view(run) for path, run in runs.items()}
        with self._plock:
            self._pending.update(views)
        self.notify()

    def set_metrics(self, metrics: tuple[str, ...]) -> None:
        """Sparkline keys changed: re-snapshot every run (call from a worker thread)."""
        with self.follower.lock:
            self.snapshots.metrics = metrics
            runs = list(self.follower.reader.runs.values())
            views = {run.path: self.snapshots.view(run) for run in runs}
        with self._plock:
            self._pending.update(views)
        self.notify()

    def ingest(self, paths: Iterable[Path]) -> None:
        """Read files this process just wrote (an edit), without waiting for the watcher."""
        with self.follower.lock:
            updates = self.follower.reader.read_paths(list(paths))
        self._publish(updates)
