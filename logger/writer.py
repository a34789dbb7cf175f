"""The writer side of a segment: an in-memory queue, a thread that frames it, and a thread
that appends the frames to disk.

`append()` is the hot path of every `log()` call: one `deque.append`. The framer thread
turns what was queued into frames (about every 100 ms, so a SIGKILL loses at most that) and
passes them to the writing thread; the two are apart so that a write that never returns (a
hard NFS mount whose server went away) cannot stop the queue from draining. What waits for
the disk is bounded in bytes (MAX_BUFFER); what overflows is counted and reported. After a
write that failed part-way, the file is cut back to its last whole frame before the retry.

flush() and close() take no lock: they queue a request and poll until the writing thread
has answered it, so a signal handler that interrupts one of them (SIGTERM during init or
finish) can call them again without a deadlock, and nothing buffered is lost on the way.
"""

from __future__ import annotations

import os
import select
import threading
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any

from . import events as ev
from .framing import MAX_BUFFER, Framing, _is_log
from .segfile import (
    RunwatchWarning,
    human_size,
    open_segment,
    say,
    segment_name,
    segment_start,
    warn,
    write_segment,
)
from .snapshot import Tracker

__all__ = ["RunwatchWarning", "SegmentWriter", "segment_name", "segment_start", "warn",
           "write_segment"]

FLUSH_INTERVAL = 0.1
HEARTBEAT_INTERVAL = 10.0  # a live writer touches its file at least this often
WRITE_BATCH = 16 * 1024 * 1024  # bytes per write call: 512 frames, one GIL hand-over
_IOV_MAX = 1024
STALL_TIMEOUT = 2.0  # flush() and close() give up on a write that made no progress this long
STARVED = 40_000  # events queued past which log() lets the framer have the GIL
RETRY_MAX = 1.0  # seconds between retries of a disk that refuses writes, at most


class _Flush:
    """A flush request: answered once everything appended before it was written (`ok`), or
    could not be. Polled, not waited on with a lock, so a signal handler may make another."""

    __slots__ = ("fsync", "done", "ok")

    def __init__(self, fsync: bool) -> None:
        self.fsync, self.done, self.ok = fsync, False, False


class SegmentWriter(Framing):
    """Owns one segment file: created here, appended to by this process only."""

    def __init__(self, run_dir: Path, run_id: str, role: str = "script") -> None:
        # The header and the segment start go out at once: the run is visible from init on.
        self.path, fd, self._good = open_segment(run_dir, run_id, role, [])  # _good: the size
        self._fd: int | None = fd  # after the last whole frame
        self._run_id, self._role = run_id, role
        self.reopen_events: Callable[[], list[ev.Event]] = list
        # The hot path appends event payloads (or whole frames) to a deque: atomic, no lock.
        self._frames: deque[bytes] = deque()
        self.append = self._frames.append
        self._requests: deque[_Flush] = deque()
        self._outbox: deque[bytes | _Flush] = deque()  # frames and requests, framer -> writing thread
        self._inflight: list[bytes] = []  # the frames the writing thread is writing now
        self._framed = 0  # bytes put in the outbox (framer thread only)
        self._taken = 0  # bytes taken out of it (writing thread only)
        self._wake_r, self._wake_w = os.pipe()  # wakes the framer; os.write is signal-safe
        os.set_blocking(self._wake_w, False)
        self._poked = False
        self._work = threading.Event()  # framer -> writing thread (never set by the caller)
        self._closed = self._stop = self._give_up = False
        self._failed: str | None = None  # why the last write failed, until one works again
        self.progress = 0  # writes and answers made by the writing thread: stall detection
        self.dropped_bytes = self.dropped_steps = 0
        self._warned_big = self._warned_write = self._warned_full = False
        self.last_write = self._last_beat = self._last_check = time.monotonic()
        # Snapshots (logger/snapshot.py): the run gives its lock and its per-key stats.
        self.snapshot_lock: Any = None
        self.snapshot_stats: Callable[[], dict[str, Any] | None] | None = None
        self._seen = Tracker()  # what the frames so far hold, for the next snapshot
        self._threads = [threading.Thread(target=self._frame_loop, name="runwatch-flusher", daemon=True),
                         threading.Thread(target=self._write_loop, name="runwatch-writer", daemon=True)]
        for thread in self._threads:
            thread.start()

    # -- what the training process calls ---------------------------------------------------
    def hurry(self) -> None:
        """Wake the framer (a loop logging faster than 100 ms of queue allows). If it has not
        run since, yield the GIL: a wait for CPU, never for the disk (the framer never waits
        on it), so what is queued stays bounded whatever the disk does."""
        if not self._poked:
            self._poke()
        elif len(self._frames) > STARVED:
            time.sleep(0)

    def flush(self, fsync: bool = False) -> bool:
        """Write what is queued; True when everything reached the file. Waits while the disk
        makes progress, and at most STALL_TIMEOUT for a write that never returns."""
        if self._closed:
            return not self._frames
        request = _Flush(fsync)
        self._requests.append(request)
        self._poke()
        return self._wait(request)

    def close(self) -> None:
        """Flush, fsync and close; report in one line what could not be written. Safe to call
        twice, and from a signal handler that interrupted flush() or close()."""
        if self._closed:
            return
        ok = self.flush(fsync=True)
        if self._closed:
            return  # a close that interrupted this one (a signal handler) did the rest
        self._closed = self._stop = True
        self._give_up = not ok  # the writing thread stops retrying: what is left is reported
        self._poke()
        self._work.set()
        if ok:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join(timeout=1.0)
        if not self._threads[0].is_alive():
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
            self._wake_r = self._wake_w = -1
        self._report_loss()

    def abandon_in_child(self) -> None:
        """After fork: the child must never write the parent's file (its threads are gone)."""
        self._closed = self._stop = True
        self._fd = None
        self._frames.clear()
        self._outbox.clear()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1

    def _poke(self) -> None:
        self._poked = True
        try:
            os.write(self._wake_w, b"\0")
        except OSError:
            pass  # full (the framer is awake anyway) or closed

    def _wait(self, request: _Flush) -> bool:
        delay, seen, since = 0.0002, self.progress, time.monotonic()
        while not request.done:
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
            if self.progress != seen:
                seen, since = self.progress, time.monotonic()
            elif time.monotonic() - since > STALL_TIMEOUT or not self._threads[1].is_alive():
                return False
        return request.ok

    # -- the framer thread: queue -> frames (never touches the disk; logger/framing.py) -----
    def _frame_loop(self) -> None:
        interval = FLUSH_INTERVAL
        while not self._stop:
            try:
                if select.select([self._wake_r], [], [], interval)[0]:
                    os.read(self._wake_r, 4096)
            except (OSError, ValueError):
                time.sleep(FLUSH_INTERVAL)
            self._poked = False
            # Megabytes a drain: come back sooner, so what is queued stays a few MB.
            drained = self._safe_drain()
            interval = FLUSH_INTERVAL if drained < WRITE_BATCH // 16 else FLUSH_INTERVAL / 20
            now = time.monotonic()
            if drained:  # on disk in moments (last_write is set once it is): as good as a beat
                self._last_beat = now
            elif now - max(self.last_write, self._last_beat) > HEARTBEAT_INTERVAL:
                self._last_beat = now
                self.append(ev.encode_event(ev.Heartbeat(time=time.time())))
        self._safe_drain()

    # -- the writing thread: frames -> disk --------------------------------------------------
    def _write_loop(self) -> None:
        delay = 0.0
        while True:
            self._work.clear()
            if time.monotonic() - self._last_check > 1.0:
                self._last_check = time.monotonic()
                self._check_file()
            if not self._outbox or self._give_up:
                if self._stop:
                    break
                self._work.wait(1.0)
                continue
            if self._safe_write():
                delay = 0.0
                continue
            delay = min(RETRY_MAX, max(0.05, delay * 2))
            self._work.wait(delay)  # a new request or more frames: try again sooner
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _safe_write(self) -> bool:
        try:
            return self._write_some()
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the writing thread
            self._inflight.clear()
            warn(f"runwatch: internal error writing {self.path}: {exc!r}")
            return False

    def _write_some(self) -> bool:
        """Write the frames at the head of the outbox, up to a request or WRITE_BATCH; answer
        a request once all before it is written. False when the disk refused."""
        outbox, batch, size = self._outbox, self._inflight, 0
        while outbox and size < WRITE_BATCH:
            item = outbox[0]
            if type(item) is _Flush:
                if batch:
                    break
                outbox.popleft()
                self._answer(item)
                return True
            batch.append(outbox.popleft())  # type: ignore[arg-type]
            size += len(item)  # type: ignore[arg-type]
        written = self._write(batch)
        self._taken += sum(map(len, batch[:written]))  # what is being written still counts
        failed = written < len(batch)
        if failed:
            outbox.extendleft(reversed(batch[written:]))
            for item in list(outbox):
                if type(item) is _Flush and not item.done:
                    item.done = True  # answered: not written (ok stays False)
        batch.clear()
        self.progress += 1
        return not failed

    def _write(self, frames: list[bytes]) -> int:
        """Append whole frames; how many landed. After a failure part-way, the file is cut
        back to its last whole frame: a torn frame is never left between good ones."""
        fd = self._fd
        if fd is None:
            return 0
        ends = list(accumulate(map(len, frames)))
        done = 0
        try:
            while done < ends[-1]:  # one system call (and one GIL hand-over) per batch
                first = bisect_right(ends, done)
                skip = done - (ends[first - 1] if first else 0)
                parts = frames[first : first + _IOV_MAX]
                if skip:
                    parts[0] = memoryview(parts[0])[skip:]  # type: ignore[call-overload]
                done += os.writev(fd, parts)
                self.progress += 1
        except OSError as exc:
            whole = bisect_right(ends, done)
            good = self._good + (ends[whole - 1] if whole else 0)
            if done > good - self._good:
                try:
                    os.ftruncate(fd, good)
                except OSError:
                    pass  # not a file we can cut (a pipe), or the disk is gone: the reader resyncs
            self._good = good
            self._on_error(exc)
            return whole
        self._good += ends[-1]
        self.last_write = time.monotonic()
        if self._failed:
            self._failed = None
            say(f"runwatch: writing {self.path} works again")
        return len(frames)

    def _on_error(self, exc: OSError) -> None:
        self._failed = exc.strerror or str(exc)
        if not self._warned_write:
            self._warned_write = True
            warn(f"runwatch: cannot write {self.path}: {self._failed}. Training continues; logged "
                 f"data is kept in memory (up to {MAX_BUFFER >> 20} MB) and retried.")

    def _answer(self, request: _Flush) -> None:
        if request.fsync and self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._on_error(exc)
                request.done = True
                return
        request.ok = request.done = True
        self.progress += 1

    def _check_file(self) -> None:
        """A segment deleted under us (its run directory removed) takes writes into nothing:
        notice, warn once, and go on in a new segment that repeats what a reader needs."""
        fd = self._fd
        if fd is None:
            return
        try:
            if os.fstat(fd).st_nlink > 0:
                return
        except OSError:
            return
        warn(
            f"runwatch: {self.path} was deleted while the run was writing it; "
            "continuing in a new segment (steps before this point are gone with the file)"
        )
        try:
            self._seen.ok = False  # the new file's events are not the ones counted
            self.path, self._fd, self._good = open_segment(
                self.path.parent, self._run_id, self._role, self.reopen_events())
        except OSError as exc:
            warn(f"runwatch: cannot recreate {self.path.parent}: {exc.strerror or exc}")
            return
        try:
            os.close(fd)
        except OSError:
            pass

    def _report_loss(self) -> None:
        """One line on stderr, at close, for whatever never reached the file."""
        unwritten = [f for f in [*self._inflight, *self._outbox] if type(f) is bytes]
        steps = sum(type(e) is ev.Log for e in ev.scan_frames(b"".join(unwritten))[0])
        queued = list(self._frames)
        steps += sum(map(_is_log, queued)) + self.dropped_steps
        size = sum(map(len, unwritten)) + sum(map(len, queued)) + self.dropped_bytes
        if not size:
            return
        why = f" ({self._failed})" if self._failed else ""
        say(f"runwatch: LOST {steps} steps ({human_size(size)}) of run {self._run_id}: they could not be "
            f"written to {self.path}{why}; the file keeps everything before them.")

