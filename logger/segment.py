"""Following one segment file by byte offset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import events as ev


class SegmentReader:
    """Reads what was appended to one segment since the last call.

    An incomplete last frame is left for the next call; damaged frames are skipped and
    counted in `skipped`; a segment from a newer format sets `error` and is not read.
    """

    __slots__ = ("path", "offset", "size", "mtime", "skipped", "error", "start", "finish",
                 "last_time", "_header_ok", "_waiting_at")

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
        self._header_ok = False
        self._waiting_at = -1  # file size at which only an incomplete frame was left

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
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                self.size, self.mtime = st.st_size, st.st_mtime
                if st.st_size < self.offset:
                    # Shrunk: not something a writer does. Count it and start again.
                    self.skipped += 1
                    self.offset = 0
                    self._header_ok = False
                if not self._header_ok:
                    head = f.read(ev.HEADER_SIZE)
                    if len(head) < ev.HEADER_SIZE:
                        self._waiting_at = self.size
                        return []
                    try:
                        ev.check_header(head, str(self.path))
                    except ev.NewerFormatError as exc:
                        self.error = str(exc)
                        return []
                    self._header_ok = True
                    self.offset = ev.HEADER_SIZE
                f.seek(self.offset)
                data = f.read(limit if limit is not None else -1)
        except OSError:
            return []
        if not data:
            return []
        events, consumed, skipped = ev.scan_frames(data)
        if limit is not None and consumed == 0 and len(data) >= limit:
            # One frame larger than the limit: read the rest of it whole.
            return self.read_new(None)
        self.offset += consumed
        self.skipped += skipped
        if self.offset + len(data) - consumed >= self.size and consumed < len(data):
            self._waiting_at = self.size  # read to the end; the rest waits for more bytes
        for event in events:
            kind = type(event)
            if kind is ev.SegmentStart and self.start is None:
                self.start = event
            elif kind is ev.Finish:
                self.finish = event
            t = getattr(event, "time", 0.0)
            if t > self.last_time:
                self.last_time = t
        return events
