"""The on-disk format: event types, and the frames that carry them in segment files.

A segment file is `HEADER` followed by frames. A frame is
`MARKER (2 bytes) | payload length (u32 LE) | CRC32 of payload (u32 LE) | payload`, where the
payload is a msgpack array of events. The writer packs events into frames of at most
`FRAME_BYTES` of payload (an event larger than that gets a frame of its own), so one damaged
byte costs one small frame, while a reader still checks one CRC and makes one decode call
per few hundred events. 0xC1 is the one byte msgpack never emits, so a marker is easy to
resynchronise on after damage, and a whole frame is told from an event payload by its
first byte. Format 1's first writer packed up to 4 MiB per frame; those files read as ever.

Events are array-like msgspec Structs in one tagged union. Schema evolution: fields are only
ever appended, with defaults, never renamed or reordered; a new event kind gets a new tag
(append it to `AnyEvent`). Readers of an older version skip events whose tag they do not know.

The kinds and constants live in logger/schema.py, reading frames back in logger/frame_scan.py;
every name is importable from here, as before.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

import msgspec

from .frame_scan import (
    RESYNC_CREDIT,
    RESYNC_WORK,
    Scan,
    _crc32,
    decode_batch,
    scan,
    scan_frames,
)

# Private names that other modules and tests reach for as ev.<name>, kept here as before.
from .frame_scan import _at_boundary as _at_boundary
from .frame_scan import _batch_decoder as _batch_decoder
from .frame_scan import _decoder as _decoder
from .frame_scan import _raw_batch_decoder as _raw_batch_decoder
from .frame_scan import _Scanner as _Scanner
from .schema import (
    _ARRAY32,
    FORMAT_VERSION,
    FRAME_BYTES,
    FRAME_HEAD,
    FRAME_HEAD_SIZE,
    HEADER,
    HEADER_PREFIX,
    HEADER_SIZE,
    MARKER,
    MAX_EVENT_BYTES,
    MAX_FRAME,
    OLD_BATCH_BYTES,
    SEGMENT_SUFFIX,
    Alert,
    AnyEvent,
    ArtifactLogged,
    Chart,
    ConfigUpdate,
    ConsoleChunk,
    DefineMetric,
    EditSeen,
    Event,
    FileSaved,
    Finish,
    Heartbeat,
    Log,
    RunStart,
    SegmentStart,
    SetName,
    SetNotes,
    SetTags,
    Snapshot,
    SummaryUpdate,
    SystemStats,
)

__all__ = [
    "FORMAT_VERSION", "SEGMENT_SUFFIX", "HEADER_PREFIX", "HEADER", "HEADER_SIZE", "MARKER",
    "FRAME_HEAD", "FRAME_HEAD_SIZE", "FRAME_BYTES", "MAX_EVENT_BYTES", "OLD_BATCH_BYTES",
    "MAX_FRAME", "Event", "SegmentStart", "RunStart", "ConfigUpdate", "Log", "SummaryUpdate",
    "DefineMetric", "SetTags", "SetNotes", "SetName", "ArtifactLogged", "FileSaved", "Heartbeat",
    "EditSeen", "Finish", "Chart", "Alert", "SystemStats", "ConsoleChunk", "Snapshot", "AnyEvent",
    "encode_event", "frame", "encode", "frame_list", "frames_from", "decode_batch",
    "NewerFormatError", "check_header", "Scan", "RESYNC_WORK", "RESYNC_CREDIT", "scan_frames",
    "scan",
]

_encoder = msgspec.msgpack.Encoder()
encode_event = _encoder.encode  # one event's payload: what the writer's hot path appends
_pack_head = FRAME_HEAD.pack


def frame(payloads: list[bytes]) -> bytes:
    """Event payloads as one whole frame (marker, length, checksum, array of events)."""
    body = b"".join([_ARRAY32.pack(0xDD, len(payloads)), *payloads])
    return _pack_head(MARKER, len(body), _crc_holding_gil(body)) + body


def _crc_holding_gil(data: bytes) -> int:
    """CRC32 in 4 KiB steps: zlib releases the GIL for more than 5 KiB, and the writer's
    framer, handing it to a training loop that holds it, then waited up to 5 ms (the switch
    interval) to get it back, once per frame: 220 us a 32 KiB frame instead of 15."""
    if len(data) <= 4096:
        return _crc32(data)
    view, crc = memoryview(data), 0
    for i in range(0, len(data), 4096):
        crc = _crc32(view[i : i + 4096], crc)
    return crc


def encode(event: Event) -> bytes:
    """One event as one whole frame."""
    return frame([_encoder.encode(event)])


def frame_list(chunks: list[bytes]) -> list[bytes]:
    """What a writer appended (event payloads and whole frames, in order) as whole frames of
    at most FRAME_BYTES of payload each; an event larger than that gets a frame of its own."""
    if max(chunks) < MARKER[:1]:  # only event payloads (each a msgpack fixarray, 0x90-0x9F)
        return _pack(chunks)
    out: list[bytes] = []
    batch: list[bytes] = []
    for chunk in chunks:
        if chunk[:1] == MARKER[:1]:  # already a whole frame
            if batch:
                out += _pack(batch)
                batch = []
            out.append(chunk)
        else:
            batch.append(chunk)
    if batch:
        out += _pack(batch)
    return out


def _pack(payloads: list[bytes]) -> list[bytes]:
    """Payloads as frames, split where the bound falls (C-level sums and bisection, so the
    flusher spends about as much per event as one frame for the whole batch would cost)."""
    ends = list(accumulate(map(len, payloads)))
    room = FRAME_BYTES - _ARRAY32.size
    out = []
    i, n, base = 0, len(payloads), 0
    while i < n:
        j = max(bisect_right(ends, base + room, i), i + 1)
        out.append(frame(payloads[i:j]))
        base = ends[j - 1]
        i = j
    return out


def frames_from(chunks: list[bytes]) -> bytes:
    """`frame_list` joined: the bytes a writer appends for these chunks."""
    return b"".join(frame_list(chunks))


class NewerFormatError(Exception):
    """A segment written by a newer runwatch than this one."""


def check_header(head: bytes, path: str) -> None:
    """Raise a clear error for a segment from a newer or unknown format."""
    if not head.startswith(HEADER_PREFIX) or len(head) < HEADER_SIZE or head[-1:] != b"\n":
        raise NewerFormatError(f"{path}: not a runwatch segment (bad header {head[:8]!r})")
    version = int.from_bytes(head[len(HEADER_PREFIX) : len(HEADER_PREFIX) + 2], "big")
    if version > FORMAT_VERSION:
        raise NewerFormatError(
            f"{path}: written by a newer runwatch (format {version}; this one reads up to "
            f"{FORMAT_VERSION}). Upgrade runwatch to read it: pip install -U runwatch"
        )
