"""Media files are written by a thread of their own: `log()` never waits on the disk for them.

`log()` encodes a media value (the bytes are made when the object is, as W&B makes them in its
constructors), names its file by content and puts the ref in the history row at once; the file
itself, and a table's run artifact, are queued here and written in order by the
`runwatch-media` thread. What is queued is bounded in bytes like the segment writer's buffer
(logger/writer.py MAX_BUFFER): past it, files are dropped, counted, and reported in one line.
The run's finish (and so SIGTERM and the exit hook) first waits for the queue, so every file
lands before the Finish event does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..segfile import human_size, say

MAX_PENDING = 64 * 1024 * 1024  # bytes of media waiting for the disk, at most
STALL_TIMEOUT = 2.0  # close() gives up on a write that made no progress this long

Job = tuple[Path, bytes] | Callable[[], None]


class MediaSpool:
    """The media files of one run waiting to be written, and the thread that writes them."""

    def __init__(self, warn_once: Callable[[str, str], None], run_id: str = "") -> None:
        self._jobs: deque[Job] = deque()
        self._wake = threading.Event()
        self._warn_once, self._run_id = warn_once, run_id
        self.submitted = self.done = 0  # jobs: counted by the caller and by the thread
        self.queued_bytes = self.written_bytes = 0
        self.dropped = self.dropped_bytes = self.failed = 0
        self._thread: threading.Thread | None = None
        self._closed = self._reported = False

    def write(self, target: Path, data: bytes) -> bool:
        """Queue `data` for `target`; False (counted) when MAX_PENDING bytes already wait."""
        if self.queued_bytes - self.written_bytes + len(data) > MAX_PENDING:
            self.dropped += 1
            self.dropped_bytes += len(data)
            self._warn_once("media-full", (
                f"runwatch: {MAX_PENDING >> 20} MB of media files are waiting for a disk that takes "
                f"nothing; {target.name} and further media are dropped until it does (counted, and "
                "reported when the run ends)"))
            return False
        self.queued_bytes += len(data)
        self._submit((target, data))
        return True

    def call(self, job: Callable[[], None]) -> None:
        """Run `job` on the media thread, after every file queued before it."""
        self._submit(job)

    def _submit(self, job: Job) -> None:
        self._jobs.append(job)
        self.submitted += 1
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="runwatch-media", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> bool:
        """Wait until everything queued is written (while the disk makes progress, and at most
        STALL_TIMEOUT without any); report what was not. Polls, so a signal handler may call it."""
        target, seen, since, delay = self.submitted, self.done, time.monotonic(), 0.0002
        while self.done < target and self._thread is not None and self._thread.is_alive():
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
            if self.done != seen:
                seen, since = self.done, time.monotonic()
            elif time.monotonic() - since > STALL_TIMEOUT:
                break
        self._closed = True
        self._wake.set()
        ok = self.done >= target
        lost = self.submitted - self.done + self.dropped + self.failed
        if lost and not self._reported:
            self._reported = True
            size = self.queued_bytes - self.written_bytes + self.dropped_bytes
            say(f"runwatch: LOST {lost} media files ({human_size(size)}) of run {self._run_id}: "
                "they could not be written under its files/media/ directory")
        return ok

    def _loop(self) -> None:
        jobs = self._jobs
        while True:
            while jobs:
                self._run(jobs[0])
                jobs.popleft()
                self.done += 1
            if self._closed:
                return
            self._wake.wait(1.0)
            self._wake.clear()

    def _run(self, job: Job) -> None:
        if callable(job):
            try:
                job()  # a table's run artifact: it warns about its own failures
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the media thread
                self._warn_once("media-job", f"runwatch: internal error storing media: {exc!r}")
            return
        target, data = job
        try:
            store_file(target, data)
        except Exception as exc:  # noqa: BLE001 - never raised into the training loop
            self.failed += 1
            self._warn_once(f"media-write:{type(exc).__name__}", (
                f"runwatch: could not write media file {target} ({type(exc).__name__}: {exc}); "
                "its history value stays, without the file"))
        self.written_bytes += len(data)


def store_file(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically (logger/atomic.py); identical content is kept."""
    if target.is_file() and target.stat().st_size == len(data):
        return  # named by content: the same bytes are already there
    # No fsync: an image a step must not cost a disk flush, and the segment naming it is not
    # fsynced before finish either.
    write_atomic(target, data)


def spool_of(run: Any) -> MediaSpool | None:
    """The run's spool, made on its first media value (None without a run: files written now)."""
    if run is None:
        return None
    spool = getattr(run, "_media_spool", None)
    if spool is None:
        spool = MediaSpool(run._warn_once, str(getattr(run, "id", "")))
        run._media_spool = spool
    return spool
