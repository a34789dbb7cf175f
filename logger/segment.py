"""Following one segment file by byte offset.

Only regular files are read, opened without blocking (a FIFO or a device named `*.rws` would
otherwise hang every reader), in bounded chunks: memory is bounded by the largest frame, not
by the file. A file that cannot be read says why in `error`, once.
"""

from __future__ import annotations

import errno
import math
import os
import stat
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec

from . import events as ev

CHUNK = 1024 * 1024  # bytes read per system call: 32 frames, or part of one larger frame


class SegmentReader:
    """Reads what was appended to one segment since the last call.

    An incomplete last frame is left for the next call; damaged frames are skipped and
    counted in `skipped`; a segment that cannot be read (a newer format, no permission, not
    a regular file, shrunk under the reader) sets `error` and is not read further.
    """

    __slots__ = ("path", "offset", "size", "mtime", "skipped", "error", "start", "finish",
                 "last_time", "decode", "counted_from", "_header_ok", "_waiting_at", "_waiting_mtime", "_resync",
                 "_credit")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.size = 0
        self.mtime = 0.0
        self.skipped = 0
        self.error: str | None = None
        self.start: ev.SegmentStart | None = None
        self.finish: ev.Finish | None = None
        self.last_time = 0.0
        # A frame decoder for readers that want less than every event whole (tail's first
        # pass decodes only each Log's step); None: every event, as ev.scan decodes it.
        self.decode: Any = None
        # Damage before this offset is not in `skipped`: a listing read the segment from a
        # snapshot here on (logger/damage.py counts the rest when asked); 0: all counted.
        self.counted_from = 0
        self._header_ok = False
        self._waiting_at = -1  # file size at which only an incomplete frame was left
        self._waiting_mtime = 0.0  # and its mtime then: a cut-back torn frame rewritten changes it
        self._resync = False  # the last read ended inside a damaged stretch
        self._credit = ev.RESYNC_CREDIT

    @property
    def role(self) -> str:
        return self.start.role if self.start is not None else "script"

    @property
    def pending(self) -> int:
        """Bytes on disk (at the last stat) not read yet; 0 while what is left is an incomplete
        frame (a write in progress, or the torn tail of a killed writer) and nothing grew."""
        if self.error is not None or self.size == self._waiting_at:
            return 0
        return max(0, self.size - self.offset)

    def stat(self) -> bool:
        """Refresh size and mtime; True when the file grew past what was read."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        self.size, self.mtime = st.st_size, st.st_mtime
        return self.pending > 0

    def read_new(self, limit: int | None = None) -> list[Any]:
        """Events appended since the last call (at most about `limit` bytes of them)."""
        if self.error is not None:
            return []
        fd = self._open()
        if fd is None:
            return []
        try:
            return self._read(fd, limit)
        except OSError:
            return []
        finally:
            os.close(fd)

    def _open(self) -> int | None:
        """The file, opened for reading without blocking; None (with `error` set where the
        reason will not pass) when it cannot be read."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                self.error = f"{self.path}: unreadable (permission denied)"
                self.stat()
            elif exc.errno == errno.ENXIO:  # a socket, or a FIFO's far end
                self.error = f"{self.path}: unreadable (not a regular file)"
            return None
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            return None
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            self.error = f"{self.path}: unreadable (not a regular file)"
            return None
        if st.st_size < self.offset:
            # A writer only cuts back a torn frame of its own, never below what was read.
            os.close(fd)
            self.skipped += 1
            self.error = (f"{self.path}: shrank from {self.offset} to {st.st_size} "
                          "bytes while being read (writers only append: something else truncated "
                          "it); events read before stay, the file is not read again")
            return None
        self.size, self.mtime = st.st_size, st.st_mtime
        return fd

    def _read(self, fd: int, limit: int | None) -> list[Any]:
        if self.size == self._waiting_at and self.mtime == self._waiting_mtime:
            return []  # only an incomplete frame, and nothing changed
        if not self._header_ok and not self._read_header(fd):
            return []
        events: list[Any] = []
        step = CHUNK if limit is None else max(64, min(CHUNK, limit))
        begin, want = self.offset, step
        while self.offset < self.size:
            self._skip_hole(fd)
            data = os.pread(fd, min(want, self.size - self.offset), self.offset)
            if not data:
                break
            at_eof = self.offset + len(data) >= self.size
            found = self._clean(data, at_eof) if self.decode is not None else None
            if found is None:
                found = ev.scan(data, 0, at_eof, self._resync, self._credit)
            self._resync = found.resync
            self.skipped += found.skipped
            self._credit = min(ev.RESYNC_CREDIT, found.credit + ev.RESYNC_WORK * found.consumed)
            self.offset += found.consumed
            self._take(found.events, events)
            if at_eof:
                if self.offset < self.size:
                    self._waiting_at, self._waiting_mtime = self.size, self.mtime  # wait for more
                break
            if found.need > len(data) - found.consumed:
                # A frame longer than the window: read it whole (bounded by MAX_FRAME).
                want = min(found.need, ev.MAX_FRAME + ev.FRAME_HEAD_SIZE + len(ev.MARKER))
                continue
            if found.consumed == 0:
                break  # no progress possible (a window shorter than a frame head)
            want = step
            if limit is not None and self.offset - begin >= limit:
                break
        return events

    def _clean(self, data: bytes, at_eof: bool) -> ev.Scan | None:
        """`data` read by `decode` when it holds only whole, checksummed frames (and maybe the
        start of one more, not at the end of the file); None sends it through ev.scan."""
        if self._resync:
            return None
        try:
            events, used = clean_frames(data, self.decode)
        except DamagedFrame:
            return None
        rest = len(data) - used
        if rest and at_eof:
            return None  # a torn tail or damage: ev.scan tells them apart
        # As ev.scan: a frame cut by the window asks for itself whole; a few bytes left (not
        # even a frame head) ask for nothing, and the next window starts at them.
        need = ev.FRAME_HEAD_SIZE + ev.FRAME_HEAD.unpack_from(data, used)[1] + len(ev.MARKER) \
            if rest >= ev.FRAME_HEAD_SIZE else 0
        return ev.Scan(events, used, 0, False, need, self._credit)

    def _skip_hole(self, fd: int) -> None:
        """Jump over a hole of a sparse file (zeros, so no frame): damage, counted once, that
        costs one system call instead of reading gigabytes of zeros."""
        try:
            data = os.lseek(fd, self.offset, os.SEEK_DATA)
        except OSError as exc:
            data = self.size if exc.errno == errno.ENXIO else self.offset  # ENXIO: a hole to the end
        except AttributeError:  # no SEEK_DATA on this platform
            return
        if data > self.offset:
            if not self._resync:
                self.skipped += 1
                self._resync = True
            self.offset = min(data, self.size)

    def _read_header(self, fd: int) -> bool:
        head = os.pread(fd, ev.HEADER_SIZE, 0)
        if len(head) < ev.HEADER_SIZE:
            self._waiting_at, self._waiting_mtime = self.size, self.mtime
            return False
        try:
            ev.check_header(head, str(self.path))
        except ev.NewerFormatError as exc:
            self.error = str(exc)
            return False
        self._header_ok = True
        self.offset = ev.HEADER_SIZE
        return True

    def _take(self, found: list[Any], out: list[Any]) -> None:
        """Note the segment's start, finish and latest time, and keep the events."""
        if not found:
            return
        kinds = set(map(type, found))
        if ev.SegmentStart in kinds or ev.Finish in kinds:
            for event in found:
                kind = type(event)
                if kind is ev.SegmentStart and self.start is None:
                    self.start = event
                elif kind is ev.Finish:
                    self.finish = event
        try:
            t = max(map(_TIME, found))  # every kind has a time: one C-level pass
        except (AttributeError, TypeError):
            t = math.nan
        if t != t:  # a NaN time (or a kind without one): max() cannot be trusted with it
            t = max((x for e in found if (x := getattr(e, "time", 0.0)) == x), default=0.0)
        if t > self.last_time:
            self.last_time = t
        out += found


_TIME = attrgetter("time")


class StepLog(msgspec.Struct, array_like=True, tag_field="k", tag="log", gc=False):
    """A Log event's step and time, its values skipped: what readers that need no history
    decode (`SegmentReader.decode`); RunData counts it and keeps no history from it."""

    step: int
    time: float


class DamagedFrame(Exception):
    """`clean_frames` met something only ev.scan handles: damage, a bad length."""


def clean_frames(data: bytes, decode: Any) -> tuple[list[Any], int]:
    """The whole, checksummed frames at the start of `data` decoded by `decode`: (events,
    bytes used). Raises DamagedFrame at the first frame that is not clean."""
    view, n, pos, out = memoryview(data), len(data), 0, []
    unpack, head, crc32 = ev.FRAME_HEAD.unpack_from, ev.FRAME_HEAD_SIZE, ev._crc32
    while n - pos >= head:
        marker, length, crc = unpack(data, pos)
        end = pos + head + length
        if marker != ev.MARKER or length > ev.MAX_FRAME:
            raise DamagedFrame
        if end > n:
            break
        payload = view[pos + head : end]
        if crc32(payload) != crc:
            raise DamagedFrame
        try:
            out += decode(payload)
        except msgspec.ValidationError:  # a value or a kind the decoder does not take
            out += ev.decode_batch(payload)
        except (msgspec.DecodeError, RecursionError):
            raise DamagedFrame from None
        pos = end
    return out, pos
