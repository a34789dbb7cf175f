"""The writer side of a segment: an in-memory buffer and a thread that appends it to disk.

`append()` is the hot path of every `log()` call: it only extends a bytearray under a lock.
A daemon thread writes the buffer about every 100 ms (one `write` of whole frames), so a
SIGKILL loses at most that interval. Disk errors never propagate to the caller: the first
one warns, naming the path; later frames are kept in a bounded buffer and retried, and what
overflows is counted and dropped.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path

from . import events as ev
from .host import boot_id, pid_namespace, process_start_ticks

FLUSH_INTERVAL = 0.1
BUSY_FRAMES = 10_000  # queued events that make the flusher hurry
HEARTBEAT_INTERVAL = 10.0  # a live writer touches its file at least this often
MAX_BUFFER = 64 * 1024 * 1024  # what is kept while the disk refuses writes


class RunwatchWarning(UserWarning):
    """Logging went wrong in a way the training run should survive."""


def warn(message: str) -> None:
    """Warn without ever raising: under `-W error` a warning is an exception, and one raised in
    the flusher thread would stop it for good."""
    try:
        warnings.warn(message, RunwatchWarning, stacklevel=3)
    except Exception:  # noqa: BLE001
        if threading.current_thread() is threading.main_thread():
            raise
        print(f"RunwatchWarning: {message}", file=sys.stderr)


def segment_name(role: str) -> str:
    """A name no other writer will pick: time, role, host, pid and random bits."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    tag = role.replace(" ", "")
    return f"{stamp}-{tag}-{os.getpid()}-{os.urandom(3).hex()}{ev.SEGMENT_SUFFIX}"


def segment_start(run_id: str, role: str) -> ev.SegmentStart:
    pid = os.getpid()
    return ev.SegmentStart(
        version=ev.FORMAT_VERSION,
        run_id=run_id,
        role=role,
        host=socket.gethostname(),
        pid=pid,
        proc_start=process_start_ticks(pid),
        boot_id=boot_id(),
        time=time.time(),
        pid_ns=pid_namespace(),
    )


def write_segment(run_dir: Path, run_id: str, role: str, events: list[ev.Event]) -> Path:
    """Write a whole, short segment at once (editors): no thread, fsynced before returning.

    It is written under a temporary name and renamed into place, so a reader sees all of it
    or none of it, and a write that fails (a full disk, a read-only root) leaves nothing.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / segment_name(role)
    tmp = run_dir / f".{path.name}.tmp"
    data = ev.HEADER + ev.frame([ev.encode_event(e) for e in [segment_start(run_id, role), *events]])
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


class SegmentWriter:
    """Owns one segment file: created here, appended to by this process only."""

    def __init__(self, run_dir: Path, run_id: str, role: str = "script") -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / segment_name(role)
        self._fd: int | None = os.open(
            self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666
        )
        # The header and the segment start go out at once: the run is visible from init on.
        os.write(self._fd, ev.HEADER + ev.encode(segment_start(run_id, role)))
        self._run_id, self._role = run_id, role
        self.reopen_events: Callable[[], list[ev.Event]] = list
        self._last_check = time.monotonic()
        # The hot path appends event payloads (or whole frames) to a deque: atomic, no lock.
        # The flusher drains it into frames, one per batch.
        self._frames: deque[bytes] = deque()
        self.append = self._frames.append
        self._retry = bytearray()  # what the disk refused, kept (bounded) for the next try
        self._lock = threading.Lock()  # one flush at a time (the thread, or close())
        self._wake = threading.Event()
        self._closed = False
        self._failed = False
        self.dropped_bytes = 0
        self.last_write = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="runwatch-flusher", daemon=True)
        self._thread.start()

    # -- the flusher ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed:
            # At very high rates (a tight loop logging ~1M steps/s) flush sooner, so what is
            # queued stays a few MB however long the run logs.
            busy = len(self._frames) > BUSY_FRAMES
            self._wake.wait(FLUSH_INTERVAL / 10 if busy else FLUSH_INTERVAL)
            self._wake.clear()
            if self._closed:
                break
            self.flush()
            now = time.monotonic()
            if now - self._last_check > 1.0:
                self._last_check = now
                self._check_file()
            if now - self.last_write > HEARTBEAT_INTERVAL:
                self.append(ev.encode_event(ev.Heartbeat(time=time.time())))

    def hurry(self) -> None:
        """Wake the flusher and give it the GIL: a loop logging faster than the flusher gets
        scheduled would otherwise grow the queue without bound. Waits for CPU, never disk."""
        self._wake.set()
        time.sleep(0)

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
            run_dir = self.path.parent
            run_dir.mkdir(parents=True, exist_ok=True)
            path = run_dir / segment_name(self._role)
            new_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
            head = ev.HEADER + ev.encode(segment_start(self._run_id, self._role))
            for event in self.reopen_events():
                head += ev.encode(event)
            os.write(new_fd, head)
        except OSError as exc:
            warn(f"runwatch: cannot recreate {self.path.parent}: {exc.strerror or exc}")
            return
        self.path, self._fd = path, new_fd
        try:
            os.close(fd)
        except OSError:
            pass

    def flush(self, fsync: bool = False) -> bool:
        """Write what is buffered; True when everything reached the file."""
        with self._lock:
            return self._flush_locked(fsync)

    def _flush_locked(self, fsync: bool) -> bool:
        frames, popleft = self._frames, self._frames.popleft
        chunks = [popleft() for _ in range(len(frames))]
        data = ev.frames_from(chunks) if chunks else b""
        if self._retry:
            data = bytes(self._retry) + data
            self._retry.clear()
        fd = self._fd
        if fd is None:
            return not data
        written = 0
        try:
            if data:
                while written < len(data):
                    written += os.write(fd, data[written:] if written else data)
                self.last_write = time.monotonic()
            if fsync:
                os.fsync(fd)
        except OSError as exc:
            unwritten = data[written:]
            keep = min(len(unwritten), MAX_BUFFER)
            # Keep the oldest whole frames; a frame cut at the bound is simply dropped bytes
            # that the reader resynchronises past.
            self._retry += unwritten[:keep]
            self.dropped_bytes += len(unwritten) - keep
            if not self._failed:
                self._failed = True
                warn(
                    f"runwatch: cannot write {self.path}: {exc.strerror or exc}. "
                    "Training continues; logged data is kept in memory (up to 64 MB) and "
                    "retried."
                )
            return False
        if self._failed:
            self._failed = False
            print(f"runwatch: writing {self.path} works again", file=sys.stderr)
        return True

    def close(self) -> None:
        """Flush, fsync and close. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.flush(fsync=True)
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        if self.dropped_bytes:
            warn(f"runwatch: {self.dropped_bytes} bytes of events could not be written to {self.path}")

    def abandon_in_child(self) -> None:
        """After fork: the child must never write the parent's file."""
        self._closed = True
        self._fd = None
        self._frames.clear()
        self._retry.clear()
