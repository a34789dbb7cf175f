"""Following a root live, for the TUI and for `runwatch tail` alike (no Textual here).

watchfiles reports appends (inotify; debounce tuned to 50 ms: its default batches for 1.6 s).
Where change events do not arrive — network filesystems (NFS, CIFS, FUSE) — or when asked,
every followed file is re-read on a timer instead. Either way, each second the writers of
running runs are checked, so a SIGKILLed run reads "crashed" within about a second.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from logger.reader import RootReader, Update

NETWORK_FILESYSTEMS = {
    "nfs", "nfs4", "cifs", "smb", "smbfs", "smb3", "fuse", "fuseblk", "sshfs", "fuse.sshfs",
    "lustre", "gpfs", "beegfs", "ceph", "glusterfs", "fuse.glusterfs", "9p", "afs", "panfs",
    "fuse.s3fs", "fuse.gcsfuse", "fuse.rclone", "fuse.juicefs", "wekafs",
}
DEBOUNCE_MS = 50
# ms between the watcher's checks: each one wakes the reading thread for the GIL, so this is
# its idle cost (20 wakeups/s, ~0.08 % of a core). 20 cost ~0.15 % more; 100 would halve it but
# a lone append waits step..2*step for its batch: log()-to-table p95 went 186 -> 266 ms (target 250)
WATCH_STEP_MS = 50
STATE_INTERVAL = 1.0  # liveness checks of running runs
POLL_INTERVAL = 0.5  # re-reads when events cannot be trusted
RESCAN_INTERVAL = 30.0  # a full rescan even when watching: costs a stat per segment
RESCAN_PART = 256  # run directories a rescan checks per hold of the lock: a screen's worker
# (detail, charts, an edit) waits one part, not the rescan (10k runs: 80-220 ms held whole)


def filesystem_type(path: Path) -> str:
    """The type of the filesystem holding `path` (Linux /proc/mounts), or ""."""
    try:
        target = os.path.realpath(path)
        with open("/proc/mounts") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return ""
    best, kind = "", ""
    for fields in mounts:
        if len(fields) < 3:
            continue
        mnt = fields[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, fields[2]
    return kind


def needs_polling(root: Path) -> bool:
    probe = root if root.exists() else root.parent
    kind = filesystem_type(probe)
    return kind in NETWORK_FILESYSTEMS or kind.startswith("fuse.")


class Follower:
    """A RootReader kept up to date from file events, polling and liveness checks."""

    def __init__(self, root: str | os.PathLike[str], force_polling: bool | None = None,
                 keep_history: bool = True, sink: Any = None, meta: bool = False) -> None:
        """`meta=True`: runs are read as a listing reads them (logger/reader.py: snapshots,
        the index cache, digests), and rows reach `sink` once `RunData.feed` caught up."""
        self.root = Path(root)
        self.reader = RootReader(self.root, keep_history, meta=meta, sink=sink)
        self.lock = threading.Lock()
        # precheck(part of reader.run_dirs()), called without the lock before a rescan checks
        # those directories under it: the app stats its cached rows' files there (ghosts.py)
        self.precheck: Callable[[list[tuple[str, str]]], object] | None = None
        # set once follow()'s first rescan is over (or follow() ended): a reopen's row save
        # waits for it (ghosts.py), as it waited for the lock when the rescan held it whole
        self.rescanned = threading.Event()
        env = os.environ.get("RUNWATCH_POLL", "")
        if force_polling is None and env:
            force_polling = env not in ("0", "false", "no")
        self.polling = force_polling if force_polling is not None else needs_polling(self.root)

    def initial(self, limit: int | None = None) -> list[Update]:
        """Read what is on disk now (with a limit, call again while `pending()` says so):
        a first read at once (from the index cache), a later one a part at a time."""
        if not self.reader.runs:
            with self.lock:
                updates = self.reader.scan(limit, save=False)
        else:
            updates = self._scan_parts(limit)
        self.reader.save_index(self.lock)  # the lock taken only to read the reader
        return updates

    def pending(self) -> int:
        return self.reader.pending()

    def refresh(self) -> list[Update]:
        """Rescan everything, then re-check liveness: what polling does on each tick. The
        directories are listed without the lock and checked RESCAN_PART at a time, each part
        after its precheck: the lock is let go between parts, each one a few ms."""
        updates = self._scan_parts(None)
        self.reader.save_index(self.lock)  # the lock taken only to read the reader
        with self.lock:
            return updates + self.reader.refresh_states()

    def _scan_parts(self, limit: int | None) -> list[Update]:
        """The reader's scan, RESCAN_PART run directories per hold of the lock (the index
        cache left for the caller to save)."""
        dirs, updates = self.reader.run_dirs(), list[Update]()
        for i in range(0, len(dirs), RESCAN_PART):
            part = dirs[i : i + RESCAN_PART]
            if self.precheck is not None:
                self.precheck(part)
            with self.lock:
                updates += self.reader.scan_dirs(part, limit, save=False)
        return updates

    def _states(self) -> list[Update]:
        with self.lock:
            return self.reader.refresh_states()

    def _read(self, paths: set[str]) -> list[Update]:
        with self.lock:
            return self.reader.read_paths(sorted(paths))

    def follow(self, stop: threading.Event) -> Iterator[list[Update]]:
        """Yield batches of updates until `stop` is set. Blocking: run it in a thread."""
        try:
            while not self.root.is_dir():
                if stop.wait(POLL_INTERVAL):
                    return
                if self.root.exists() and not self.root.is_dir():
                    raise NotADirectoryError(f"{self.root} is not a directory")
            # Anything that appeared between `initial()` and the watch starting:
            first = self.refresh()
        finally:
            self.rescanned.set()
        if first:
            yield first
        if self.polling:
            yield from self._poll(stop)
        else:
            yield from self._watch(stop)

    def _poll(self, stop: threading.Event) -> Iterator[list[Update]]:
        interval = POLL_INTERVAL
        while not stop.wait(interval):
            started = time.monotonic()
            updates = self.refresh()
            # A rescan stats every segment: 10k runs take ~0.65 s here. Keep it under ~10 %
            # of a core by polling less often on large roots.
            interval = max(POLL_INTERVAL, 10 * (time.monotonic() - started))
            if updates:
                yield updates

    def _watch(self, stop: threading.Event) -> Iterator[list[Update]]:
        from watchfiles import watch  # imported here: costs ~40 ms, and polling needs none

        last_states = last_rescan = time.monotonic()
        watching = False
        for changes in watch(
            self.root,
            debounce=DEBOUNCE_MS,
            step=WATCH_STEP_MS,
            rust_timeout=int(STATE_INTERVAL * 1000),
            yield_on_timeout=True,
            stop_event=stop,
            raise_interrupt=False,
        ):
            now = time.monotonic()
            if not watching or now - last_rescan >= RESCAN_INTERVAL:
                # The first yield means the watch is in place: rescan once for what appeared
                # between the initial scan and now. Later, now and then, as a safety net
                # for filesystems whose events can get lost (overlays, bind mounts).
                watching, last_rescan = True, now
                updates = self.refresh()
                if updates:
                    yield updates
                continue
            updates = self._read({path for _, path in changes}) if changes else []
            if now - last_states >= STATE_INTERVAL:
                last_states = now
                updates += self._states()  # may carry events too: a gone writer's last write
            if updates:
                yield updates
            if stop.is_set():
                return
