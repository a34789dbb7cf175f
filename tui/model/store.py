"""RunStore: the runs under a root, read in one thread and offered to every screen.

The App creates one store, runs `read()` in a thread worker and hands the store to each
screen it opens. The store alone holds the reader (a Follower) and its lock. No Textual
here: `post` is how the reading thread's snapshots reach the UI thread (the App posts them
as a RunsChanged message and gives them back to `apply()`).

A screen (today's, or a new one: media, system metrics, logs, sweeps) takes `store` in its
constructor and
- lists runs from `store.views` (path -> RunView, the latest snapshot; UI thread only);
- hears of new snapshots with `store.subscribe(callback)` while mounted, or compares
  `views[path].version` on a timer (the detail screen does);
- copies out what it draws with `store.with_runs(paths, fn)` in a `@work(thread=True)`
  worker: `fn` gets the RunData under the reader's lock;
- calls `store.ingest(paths)` after writing files (the Editor does, after an edit).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from logger.reader import Update
from logger.rundata import RunData
from tui.follow import Follower

from .decim_cache import AppCache
from .decimate import RunSeries, SeriesBook
from .first_reads import FIRST_LIMIT, read_limit, run_dirs, segment_paths  # noqa: F401 - FIRST_LIMIT re-exported
from .ghosts import Ghosts
from .history_fill import fill, unfed_bytes
from .quiet import Quiet
from .runview import RunView, Snapshotter

FIRST_SCREEN = 64  # segments in the first first-pass read: a screenful, shown at once...
FIRST_BATCH = 256  # ...then this many per post, read FIRST_SCREEN at a time: between two
# reads the runs the screen shows (`want`) are filled in, so the chart under the cursor does
# not wait for the whole first pass (cold 1,000 runs: ~4 s)
FIRST_WAIT = 0.2  # seconds the reader waits at most for the UI to take the first screenful
FIRST_POSTS = 0.25  # seconds between posts after it: each post costs the UI thread a table
# update (sort, repaint: 20-30 ms at 10k runs); 40 posts a batch each were ~30 of them

T = TypeVar("T")
Views = dict[str, RunView]



class RunStore:
    """Reads a root in a thread; the UI thread keeps the latest snapshot of every run."""

    def __init__(self, root: Path, force_polling: bool | None = None,
                 post: Callable[[Views], object] = lambda views: None) -> None:
        self.root = root  # as the user gave it: what the screens show
        # Read through the absolute path: watchfiles reports absolute paths, which the reader
        # matches against its root.
        # Runs are read as a listing reads them (meta mode: snapshots, the index cache, per-key
        # digests), so every row comes first; no full histories: each run's rows feed its
        # RunSeries (decimations; tui/model/decimate.py), filled in from disk afterwards
        # (tui/model/history_fill.py). Memory is bounded by the screen, not the runs on disk.
        self._follower = Follower(root.expanduser().absolute(), force_polling=force_polling,
                                  keep_history=False, sink=self._series, meta=True)
        self._book = SeriesBook()
        self.cache = AppCache(self._follower.reader, self._book)  # reopens (decim_cache.py)
        self._first = False  # in the first pass: rows are read back later, not decimated now
        self._unfilled: dict[str, RunData] = {}  # runs whose sink may lack rows (lock held)
        self._fill_order: list[RunData] | None = None  # newest first, as the table lists them
        self._wants: dict[str, tuple[str, ...]] = {}  # who -> the runs it shows (see want())
        self._wake = threading.Event()  # new rows the history filler has to read back
        self._snapshots = Snapshotter()
        # A reopen's finished, unchanged runs, shown from their cached rows (row_cache.py)
        # with no RunData: read only when a screen asks (with_runs) or their files change.
        self._ghosts = Ghosts(self._follower, self.cache, self._snapshots)
        self.ghosts = self._ghosts.rows  # path -> row (the reader's lock held to change)
        self._stop = threading.Event()
        self._applied = threading.Event()  # the UI thread took a batch of snapshots
        self.drawn = self._applied  # ...and drew them: an App sets its own (tui/app.py)
        self.post = post  # called in the reading thread with new snapshots
        self._quiet = Quiet()  # ...but not for a silent run's heartbeats (quiet.py)
        self._held: Views = {}  # snapshots not posted yet (the first pass holds some back)
        self._posted_at = 0.0  # time.monotonic() of the last post
        self.loaded = False  # every byte on disk at start has been read (rows, summaries)
        self.filled = False  # and every history is in the decimations (sparklines, charts)
        self.loaded_bytes = 0  # history bytes filled in, of...
        self.total_bytes = 0  # ...those unfilled once the rows were read
        # -- UI thread only --
        self.views: Views = {}  # path -> the latest snapshot applied
        self.metrics: tuple[str, ...] = ()  # the metric columns chosen (what sparklines follow)
        self._subscribers: list[Callable[[Views], None]] = []

    @property
    def polling(self) -> bool:
        """Files are re-read on a timer (network filesystems), not followed by events."""
        return self._follower.polling

    # -- the reading thread ------------------------------------------------------------------
    def read(self) -> None:
        """The reading thread's body: every row (a listing's read), then follow changes until
        `stop()`, while another thread fills the histories in. Blocking: run it in a thread."""
        self.first_pass()
        self.read_rest()
        self.loaded = True
        self.post({})  # no new runs, but the screens show "loaded"
        filler = threading.Thread(target=self.fill_histories, kwargs={"follow": True},
                                  name="runwatch-histories", daemon=True)
        filler.start()
        try:
            for batch in self._follower.follow(self._stop):
                self._publish(batch + self._ghosts.read_changed())
        finally:
            self._stop.set()
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def catch_up(self) -> None:
        """Read what is on disk and fill every history in, in this thread (tests, tools)."""
        self.read_rest()
        self.fill_histories()

    def read_rest(self) -> None:
        """What the first pass left (a segment's stretch past FIRST_LIMIT), into digests."""
        f = self._follower
        while f.pending() and not self._stop.is_set():
            self._publish(f.initial(limit=read_limit(len(f.reader.runs))))
            self._fill_wanted()

    def fill_histories(self, follow: bool = False) -> None:
        """Read back the rows the decimations lack, BATCH_BYTES under the lock at a time,
        publishing the runs fed; with `follow`, then wait for more until `stop()`."""
        lock = self._follower.lock
        with lock:
            self.total_bytes = unfed_bytes(list(self._unfilled.values()))
        while not self._stop.is_set():
            with lock:
                order = self._to_fill()
                fed, spent, visited = fill(order)
                self.loaded_bytes += spent
                views = {run.path: self._snapshots.view(run) for run in fed}
                for run in order[:visited]:
                    if not run.unfed():
                        del self._unfilled[run.path]
                idle = not fed
                if idle:
                    self._wake.clear()
            if views:
                self.post(views)
            if idle:
                if not self.filled:
                    self.filled = True
                    # Every history in: what a reopen restores; the app's reading thread
                    # (follow) also leaves the rows a reopen shows first.
                    save = self._ghosts.save if follow else partial(self.cache.save, lock)
                    threading.Thread(target=save, name="runwatch-cache", daemon=True).start()
                    self.post({})
                if not follow:
                    return
                self._wake.wait()  # new rows or stop() wake it: idle, it costs nothing

    def _to_fill(self) -> list[RunData]:
        """The runs to fill: those the screen shows (`want`), then the rest newest first (the
        table's default order: the top rows first). Lock held."""
        if self._fill_order is None:
            self._fill_order = sorted(self._unfilled.values(), key=lambda r: -r.created_at)
        order = self._fill_order = [r for r in self._fill_order if r.path in self._unfilled]
        wanted = self._wanted()
        first = {r.path for r in wanted}
        return wanted + [r for r in order if r.path not in first] if wanted else order

    def _wanted(self) -> list[RunData]:
        """The runs `want` named that still lack rows, each once: the panel's, then the rows'."""
        unfilled, wants = self._unfilled, self._wants
        seen = {p: None for who in sorted(wants) for p in wants[who] if p in unfilled}
        return [unfilled[p] for p in seen]

    def _fill_wanted(self) -> None:
        """(reading thread, between first-pass reads) One fill batch of the runs the screen
        shows, posted with what the pass holds back (so no older snapshot of a run is posted
        after its filled one): at once for the chart panel's runs, else as the pass posts."""
        if not self._wants:
            return
        with self._follower.lock:
            wanted = self._wanted()
            if not wanted:
                return
            fed, _spent, visited = fill(wanted)
            self._held.update({run.path: self._snapshots.view(run) for run in fed})
            for run in wanted[:visited]:
                if not run.unfed():
                    del self._unfilled[run.path]
            panel = self._wants.get("panel", ())
            urgent = any(run.path in panel for run in fed)
        self._publish([], hold=self._first and not urgent)

    def _series(self, run: RunData) -> RunSeries:
        """A new run's sink; in the first pass its rows wait for the filler (rows first)."""
        run.rows_later = self._first
        return self._book(run)

    def first_pass(self) -> None:
        """Every run's row (metadata, state, summary), published a batch of segments at a time.
        Without the cyclic collector, as the reader's own listing scan: 10k runs allocate a few
        dozen long-lived objects each and free few; collections found nothing and cost ~0.24 s
        of the 2.6 s first pass. Not frozen after (gc.freeze would also freeze every object
        Textual made by then, its cyclic garbage never collected): a reopen's cached rows
        build no RunData, and a cold open's first full collection walks them once."""
        self._first = True
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            self._first_pass()
        finally:
            if collecting:
                gc.enable()
            self._publish([])  # what the last reads held back
            self._first = False
            with self._follower.lock:  # a later segment's first rows are decimated as read
                for run in self._follower.reader.runs.values():
                    run.rows_later = False

    def _first_pass(self) -> None:
        f = self._follower
        views = self.restore_newest()  # {}: none, or the App took them before its screen
        if views:
            self._wake.set()
            self.post(views)
        # The rest once the first screenful is drawn (the listing too: 1,000 runs' directories
        # cost its paint ~15 ms of CPU), unless all but a screenful of runs came from cached
        # rows: what is left is read at once (~20 ms of the UI's; the wait cost 10k rows 0.2 s).
        restored, ghosts = self.cache.restored, bool(self.ghosts)
        if restored and not ghosts:
            self.drawn.wait(FIRST_WAIT)
        dirs = run_dirs(f.root)
        rest = self._ghosts.unlisted(dirs)
        quick = ghosts and len(rest) <= FIRST_SCREEN
        if restored and ghosts and not quick:
            self.drawn.wait(FIRST_WAIT)
        paths = segment_paths(f.root, rest)
        i = 0
        while i < len(paths):
            if self._stop.is_set():
                return
            batch = paths[i : i + (FIRST_SCREEN if i == 0 else FIRST_BATCH)]
            i += len(batch)
            updates = self._read_batch(batch)
            self._publish(updates, hold=i > len(batch))
            if i == len(batch):
                # Let the UI thread take the first screenful before reading on: both want
                # the GIL, and this thread would otherwise hold it for most of the next batch.
                self._applied.wait(FIRST_WAIT)
        # Run directories that appeared meanwhile (what known runs grew, read_rest reads; a
        # new segment of a known run, the watcher's first rescan): a scan of the projects,
        # not a second scan of every run's directory (10k runs: ~0.4 s). Not after a quick
        # pass: the follower's first rescan, a moment later, finds them (10k runs: ~30 ms).
        known = set(dirs)
        fresh = [] if quick else segment_paths(
            f.root, [d for d in run_dirs(f.root) if d not in known])
        if fresh:
            with f.lock:
                updates = f.reader.read_paths(fresh, limit=read_limit(len(fresh)))
            self._publish(updates)
        self._publish(self._ghosts.read_changed())

    def _read_batch(self, batch: list[Path]) -> list[Update]:
        """A first-pass batch of segments, FIRST_SCREEN at a time, the screen's runs filled in
        between (the lock is let go: a screen's worker waits one read, not the batch)."""
        f, updates = self._follower, list[Update]()
        limit = read_limit(len(batch))
        for j in range(0, len(batch), FIRST_SCREEN):
            if j:
                self._publish(updates, hold=True)
                self._fill_wanted()
            part = batch[j : j + FIRST_SCREEN]
            loaded = self.cache.load(part)
            with f.lock:
                updates = self.cache.install(loaded) + f.reader.read_paths(part, limit=limit)
        return updates

    def restore_newest(self) -> Views:
        """A reopen's rows of finished unchanged runs (row_cache.py), and its newest screenful
        from the cache (decim_cache.py; unpickled outside the lock) read whole, as snapshots:
        the App takes them all in one go before its first screen lays out."""
        views = self._ghosts.restore()
        newest = self.cache.load(())
        if not newest:
            return views
        with self._follower.lock:
            updates = self._ghosts.restored(self.cache.install(newest))
            views.update({u.run.path: self._snapshots.view(u.run) for u in updates})
            self._unfill(updates)
        return views

    def _materialize(self, paths: Iterable[str]) -> None:
        """The runs of `paths` shown from cached rows, read (lock held): their histories are
        filled in as any other's."""
        if self._unfill(self._ghosts.materialize(paths)):
            self._wake.set()

    def _unfill(self, updates: list[Update]) -> list[Update]:
        """(lock held) These runs' histories are to be filled in: `updates`, as given."""
        if updates:
            self._unfilled.update({u.run.path: u.run for u in updates})
            self._fill_order = None
        return updates

    def pending_bytes(self) -> int:
        """Bytes on disk not read yet."""
        return self._follower.pending()

    def _publish(self, updates: Iterable[Update], hold: bool = False) -> None:
        """Snapshot the runs updated and post them; with `hold`, keep them for the next post
        unless FIRST_POSTS passed since the last one (the first pass: see FIRST_POSTS)."""
        runs = {u.run.path: u.run for u in self._quiet.news(updates, self.metrics)}
        with self._follower.lock:  # also what keeps `_held` whole (ingest() posts from a worker)
            self._held.update({path: self._snapshots.view(run) for path, run in runs.items()})
            if not runs.keys() <= self._unfilled.keys():
                self._fill_order = None
            self._unfilled.update(runs)
            now = time.monotonic()
            views: Views = {}
            if self._held and not (hold and now - self._posted_at < FIRST_POSTS):
                views, self._held, self._posted_at = self._held, {}, now
        if runs:
            self._wake.set()
        if views:
            self.post(views)

    # -- worker threads ----------------------------------------------------------------------
    def with_runs(self, paths: Iterable[str], fn: Callable[[list[RunData]], T]) -> T:
        """`fn(runs)` over the RunData of `paths` that exist, with the reader held still.
        Blocks while the reading thread reads: call it from a worker thread, and keep `fn`
        to copying out what the screen needs."""
        paths = list(paths)
        with self._follower.lock:
            self._materialize(paths)
            runs = self._follower.reader.runs
            return fn([runs[p] for p in paths if p in runs])

    def credit_damage(self, found: list[Any]) -> None:
        """Damage counted from the files outside the lock (logger/damage.py) added to the
        runs' segments under it, and saved in the index cache now (as show saves it): a
        run's files are scanned for it once, not at each reopen."""
        f = self._follower
        with f.lock:
            changed = f.reader.credit_damage(found)
        if changed:
            f.reader.save_index(f.lock, now=True)  # the lock taken only to read the reader

    def snapshot_metrics(self, metrics: tuple[str, ...]) -> None:
        """Sparkline keys changed: re-snapshot every run (from a worker thread); runs shown
        from cached rows are read first unless their rows carry these keys. The keys followed
        already (a reopen's) change nothing (10k runs: 0.11 s, and a second table update)."""
        with self._follower.lock:
            if metrics == self._snapshots.metrics:
                return
        ghosts = self._ghosts.uncovered(metrics)
        for i in range(0, len(ghosts), FIRST_SCREEN):  # the live path waits one part
            with self._follower.lock:
                self._materialize(ghosts[i : i + FIRST_SCREEN])
        with self._follower.lock:
            self._snapshots.metrics = metrics
            runs = list(self._follower.reader.runs.values())
            views = {run.path: self._snapshots.view(run) for run in runs}
            views.update(self._ghosts.views(metrics))
        self.post(views)

    def ingest(self, paths: Iterable[Path]) -> None:
        """Read files this process just wrote (an edit), without waiting for the watcher."""
        with self._follower.lock:
            updates = self._follower.reader.read_paths(list(paths))
        self._publish(updates + self._ghosts.read_changed())

    # -- the UI thread -----------------------------------------------------------------------
    def want(self, paths: Iterable[str], who: str = "rows") -> None:
        """`who` (a screen's part: "panel", "rows") shows these runs now: their histories are
        read back before the others', even during the first pass. Cheap: call it whenever the
        cursor, the scroll or the chart's runs change."""
        paths = tuple(paths)
        if self._wants.get(who) != paths:
            self._wants = {**self._wants, who: paths}  # replaced whole: read by other threads

    def apply(self, views: Views) -> None:
        """Take snapshots the reading thread posted, and tell every subscriber."""
        self.views.update(views)
        self._applied.set()
        for callback in list(self._subscribers):
            callback(views)

    def subscribe(self, callback: Callable[[Views], None]) -> Callable[[], None]:
        """Call `callback(changed views)` after each apply(); returns the unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def metric_keys(self) -> list[str]:
        """Every numeric history key of any run, sorted (what a metric picker offers)."""
        keys: dict[str, None] = {}
        for view in self.views.values():
            keys.update(dict.fromkeys(view.numeric_keys))
        return sorted(keys)

    def current(self, paths: Iterable[str]) -> list[RunView]:
        """The latest snapshots of `paths`, in that order, leaving out runs not seen."""
        views = self.views
        return [views[p] for p in paths if p in views]
