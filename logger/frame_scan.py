"""Reading frames back: the events of one frame, and the scanner that finds whole frames in
a buffer and resynchronises after damage (see logger/events.py for the format).
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple

import msgspec

from .schema import FRAME_HEAD, FRAME_HEAD_SIZE, MARKER, MAX_FRAME, AnyEvent

_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(AnyEvent)
_batch_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(list[AnyEvent])
_raw_batch_decoder = msgspec.msgpack.Decoder(list[msgspec.Raw])
_crc32 = zlib.crc32


def decode_batch(payload: bytes | memoryview) -> list[Any]:
    """The events of one frame. Kinds from a newer version are skipped, the rest kept."""
    try:
        return _batch_decoder.decode(payload)
    except msgspec.ValidationError:
        out = []
        for raw in _raw_batch_decoder.decode(payload):
            try:
                out.append(_decoder.decode(raw))
            except msgspec.ValidationError:
                continue
        return out


class Scan(NamedTuple):
    """What one pass of the frame scanner found."""

    events: list[Any]
    consumed: int  # where the next read continues (an incomplete last frame is left)
    skipped: int  # damaged stretches passed over, each counted once
    resync: bool  # still inside a damaged stretch at `consumed`: carry it to the next pass
    need: int  # when not at the end of the file: bytes from `consumed` that complete a frame
    credit: int  # checksum work left for candidates after damage (see `scan`)


# Checksum work on frames that turn out damaged is paid from a credit that grows by
# RESYNC_WORK bytes per byte read, up to RESYNC_CREDIT: resynchronising stays linear in the
# file however it was crafted (1.5 MB of frame heads: 15 s before, ~0.1 s now), while any
# honest damage (a few frames) is checked in full, a largest frame included.
RESYNC_WORK = 16
RESYNC_CREDIT = 2 * MAX_FRAME


def scan_frames(buf: bytes | bytearray | memoryview, start: int = 0) -> tuple[list[Any], int, int]:
    """Decode every whole frame in `buf` (the rest of a file) from `start`.

    Returns (events, consumed, skipped_frames); see `scan`.
    """
    found = scan(buf, start)
    return found.events, found.consumed, found.skipped


def scan(buf: bytes | bytearray | memoryview, start: int = 0, at_eof: bool = True,
         resync: bool = False, credit: int | None = None) -> Scan:
    """Decode every whole frame in `buf` from `start`; `at_eof` says `buf` ends where the file does.

    A frame is only ever returned if its checksum matches. After damage, the reader takes the
    damaged frame's own length when it lands on a frame boundary; otherwise it searches for
    the next marker, and accepts a frame found that way only if another frame (or the end of
    the data) follows it, so a frame that was logged as a bytes value inside a damaged frame
    never surfaces as an event. At the end of the file, an incomplete frame with no whole
    frame after it is a write in progress (or a killed writer's torn tail): it is left.
    """
    data = bytes(buf) if isinstance(buf, memoryview) else buf
    if credit is None:
        credit = RESYNC_CREDIT + RESYNC_WORK * len(data)
    return _Scanner(data, at_eof, credit).run(start, resync)


class _Scanner:
    """One pass over a buffer; `credit` pays for checksums of candidates that fail."""

    def __init__(self, data: bytes | bytearray, at_eof: bool, credit: int) -> None:
        self.data, self.view, self.n, self.at_eof = data, memoryview(data), len(data), at_eof
        self.credit = credit
        self._ahead: tuple[int, int | None] = (len(data) + 1, None)  # last lookahead: (from, found)

    def run(self, pos: int, resync: bool) -> Scan:
        data, n = self.data, self.n
        events: list[Any] = []
        skipped = 0
        while n - pos >= FRAME_HEAD_SIZE:
            marker, length, crc = FRAME_HEAD.unpack_from(data, pos)
            if marker == MARKER and length <= MAX_FRAME:
                end = pos + FRAME_HEAD_SIZE + length
                if not self.at_eof and end + len(MARKER) > n and length <= self.credit:
                    # Read on: the frame, and what follows it (a frame boundary or not).
                    return Scan(events, pos, skipped, resync, end + len(MARKER) - pos, self.credit)
                if end > n:
                    if self.at_eof and not resync and self.valid_after(pos + 1) is None:
                        break  # a torn tail: wait for the rest
                elif (not resync or _at_boundary(data, end)) and self.checks(pos, length, crc):
                    try:
                        events += decode_batch(self.view[pos + FRAME_HEAD_SIZE : end])
                    except (msgspec.DecodeError, RecursionError):
                        skipped += 1  # well framed, but not msgpack we can read (or absurdly deep)
                    resync = False
                    pos = end
                    continue
                elif not resync and length and _at_boundary(data, end):
                    skipped += 1  # the length was right: skip exactly this frame
                    pos = end
                    continue
            if not resync:
                skipped += 1
                resync = True
            nxt = data.find(MARKER, pos + 1)
            if nxt < 0:
                # Keep the last byte: it may be the first half of a marker still being written.
                pos = max(pos + 1, n - 1)
                break
            pos = nxt
        return Scan(events, pos, skipped, resync, 0, self.credit)

    def checks(self, pos: int, length: int, crc: int) -> bool:
        """Whether the payload at `pos` has checksum `crc`; a check that fails is paid from
        the credit, and one the credit cannot pay for counts as failed."""
        if length > self.credit:
            return False
        start = pos + FRAME_HEAD_SIZE
        if _crc32(self.view[start : start + length]) == crc:
            return True
        self.credit -= length
        return False

    def valid_after(self, pos: int) -> int | None:
        """Offset of the first whole, checksummed frame at or after `pos` that ends on a frame
        boundary, if any: proof that what came before it is damage, not a write in progress.
        Remembers its last answer, so each marker is looked at once per pass."""
        since, found = self._ahead
        if since <= pos and (found is None or pos <= found):
            return found
        start, data, n = pos, self.data, self.n
        found = None
        while True:
            pos = data.find(MARKER, pos)
            if pos < 0 or n - pos < FRAME_HEAD_SIZE:
                break
            _, length, crc = FRAME_HEAD.unpack_from(data, pos)
            end = pos + FRAME_HEAD_SIZE + length
            if end <= n and _at_boundary(data, end) and self.checks(pos, length, crc):
                found = pos
                break
            pos += 1
        self._ahead = (start, found)
        return found


def _at_boundary(data: bytes | bytearray, end: int) -> bool:
    """Whether a frame could start at `end`: the end of the data, or a marker (or its start)."""
    rest = len(data) - end
    return rest == 0 or data.startswith(MARKER[: min(rest, 2)], end)
