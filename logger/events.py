"""The on-disk format: event types, and the frames that carry them in segment files.

A segment file is `HEADER` followed by frames. A frame is
`MARKER (2 bytes) | payload length (u32 LE) | CRC32 of payload (u32 LE) | payload`, where the
payload is a msgpack array of events: the writer's flusher puts everything logged since its
last write (about 100 ms) into one frame, so a reader checks one CRC and makes one decode
call per batch instead of per event. 0xC1 is the one byte msgpack never emits, so a marker
is easy to resynchronise on after damage, and a whole frame is told from an event payload by
its first byte.

Events are array-like msgspec Structs in one tagged union. Schema evolution: fields are only
ever appended, with defaults, never renamed or reordered; a new event kind gets a new tag.
Readers of an older version skip frames whose tag they do not know.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Union

import msgspec

FORMAT_VERSION = 1
SEGMENT_SUFFIX = ".rws"
HEADER_PREFIX = b"RWSEG"
HEADER = HEADER_PREFIX + bytes([0, FORMAT_VERSION]) + b"\n"
HEADER_SIZE = len(HEADER)
MARKER = b"\xc1\x52"
FRAME_HEAD = struct.Struct("<2sII")
FRAME_HEAD_SIZE = FRAME_HEAD.size
MAX_FRAME = 256 * 1024 * 1024  # a longer length field is damage, not data
MAX_BATCH_BYTES = 4 * 1024 * 1024  # the flusher starts a new frame past this
_ARRAY32 = struct.Struct(">BI")


class Event(msgspec.Struct, array_like=True, tag_field="k", gc=False):
    """Base of every event; `time` is the writer's wall clock (seconds since the epoch)."""


class SegmentStart(Event, tag="seg"):
    """First event of every segment: who writes this file."""

    version: int
    run_id: str
    role: str  # "script", "rank N", "editor"
    host: str
    pid: int
    proc_start: int  # the pid's start time in clock ticks since boot (Linux), else 0
    boot_id: str
    time: float
    pid_ns: str = ""  # the writer's PID namespace ("pid:[4026531836]"); "" from older writers


class RunStart(Event, tag="run"):
    project: str
    name: str
    notes: str | None
    tags: list[str]
    group: str | None
    job_type: str | None
    config: dict[str, Any]
    command: list[str]
    python: str
    cwd: str
    git_commit: str | None
    git_branch: str | None
    resumed: bool
    time: float
    follows: list[str] = []  # a resume: the segment files that were there when it started


class ConfigUpdate(Event, tag="config"):
    values: dict[str, Any]  # nested, merged into the run's config
    time: float


class Log(Event, tag="log"):
    step: int
    time: float
    values: dict[str, Any]  # as logged: nested dicts are flattened by the reader


class SummaryUpdate(Event, tag="summary"):
    values: dict[str, Any]
    removed: list[str]
    time: float


class DefineMetric(Event, tag="metric"):
    name: str
    step_metric: str | None
    summary: str | None  # "min", "max", "mean", "first", "last", "none"; comma lists allowed
    hidden: bool
    time: float


class SetTags(Event, tag="tags"):
    """The script set run.tags (replace), or an editor added/removed tags (a delta)."""

    tags: list[str] | None  # replace with this set, when not None
    add: list[str]
    remove: list[str]
    time: float


class SetNotes(Event, tag="notes"):
    notes: str
    time: float


class SetName(Event, tag="name"):
    name: str
    time: float


class ArtifactLogged(Event, tag="artifact"):
    name: str
    type: str
    version: int
    digest: str
    size: int
    aliases: list[str]
    time: float


class FileSaved(Event, tag="file"):
    path: str  # relative to the run's files/ directory
    policy: str
    size: int
    time: float


class Heartbeat(Event, tag="hb"):
    """Written when a live writer has been quiet for a while: liveness across hosts."""

    time: float


class EditSeen(Event, tag="seen"):
    """First event of an editor's segment: the size of every segment of the run when the edit
    was made. The edit orders after what those bytes hold, whatever the editor's clock says."""

    segments: dict[str, Any]  # segment name -> size in bytes (other values are ignored)
    time: float


class Finish(Event, tag="finish"):
    time: float
    exit_code: int
    state: str  # "finished", "failed", "killed"
    error: str | None


AnyEvent = Union[  # noqa: UP007 - msgspec needs a real Union object here
    SegmentStart,
    RunStart,
    ConfigUpdate,
    Log,
    SummaryUpdate,
    DefineMetric,
    SetTags,
    SetNotes,
    SetName,
    ArtifactLogged,
    FileSaved,
    Heartbeat,
    Finish,
    EditSeen,
]

_encoder = msgspec.msgpack.Encoder()
encode_event = _encoder.encode  # one event's payload: what the writer's hot path appends
_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(AnyEvent)
_batch_decoder: msgspec.msgpack.Decoder[Any] = msgspec.msgpack.Decoder(list[AnyEvent])
_raw_batch_decoder = msgspec.msgpack.Decoder(list[msgspec.Raw])
_crc32 = zlib.crc32
_pack_head = FRAME_HEAD.pack


def frame(payloads: list[bytes]) -> bytes:
    """Event payloads as one whole frame (marker, length, checksum, array of events)."""
    body = b"".join([_ARRAY32.pack(0xDD, len(payloads)), *payloads])
    return _pack_head(MARKER, len(body), _crc32(body)) + body


def encode(event: Event) -> bytes:
    """One event as one whole frame."""
    return frame([_encoder.encode(event)])


def frames_from(chunks: list[bytes]) -> bytes:
    """What a writer appended — event payloads and whole frames, in order — as frames."""
    if max(chunks) < MARKER[:1]:
        # Only event payloads (each a msgpack fixarray, 0x90-0x9F): frame them with C-level
        # loops, in slices that keep each frame near MAX_BATCH_BYTES.
        total = sum(map(len, chunks))
        per_frame = max(1, len(chunks) * MAX_BATCH_BYTES // max(total, 1))
        return b"".join(frame(chunks[i : i + per_frame]) for i in range(0, len(chunks), per_frame))
    out: list[bytes] = []
    batch: list[bytes] = []
    size = 0
    for chunk in chunks:
        if chunk[:1] == MARKER[:1]:  # already a whole frame
            if batch:
                out.append(frame(batch))
                batch, size = [], 0
            out.append(chunk)
            continue
        batch.append(chunk)
        size += len(chunk)
        if size >= MAX_BATCH_BYTES:
            out.append(frame(batch))
            batch, size = [], 0
    if batch:
        out.append(frame(batch))
    return b"".join(out)


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


def scan_frames(buf: bytes | bytearray | memoryview, start: int = 0) -> tuple[list[Any], int, int]:
    """Decode every whole frame in `buf` from `start`.

    Returns (events, consumed, skipped_frames): `consumed` is where the next read continues
    (an incomplete last frame is left for later); damaged frames are skipped and counted. A
    frame is only ever returned if its checksum matches. After damage, the reader takes the
    damaged frame's own length when it lands on a frame boundary; otherwise it searches for
    the next marker, and accepts a frame found that way only if another frame (or the end of
    the data) follows it, so a frame that was logged as a bytes value inside a damaged frame
    never surfaces as an event.
    """
    data = bytes(buf) if isinstance(buf, memoryview) else buf
    view = memoryview(data)
    n = len(data)
    pos = start
    events: list[Any] = []
    skipped = 0
    resync = False  # searching for a frame after damage: count the stretch once
    while pos < n:
        if n - pos < FRAME_HEAD_SIZE:
            break
        marker, length, crc = FRAME_HEAD.unpack_from(data, pos)
        if marker == MARKER and length <= MAX_FRAME:
            end = pos + FRAME_HEAD_SIZE + length
            if end <= n and _crc32(view[pos + FRAME_HEAD_SIZE : end]) == crc and (
                not resync or _at_boundary(data, end)
            ):
                try:
                    events += decode_batch(view[pos + FRAME_HEAD_SIZE : end])
                except (msgspec.DecodeError, RecursionError):
                    skipped += 1  # well framed, but not msgpack we can read (or nested absurdly deep)
                resync = False
                pos = end
                continue
            if end > n and not resync and _valid_frame_after(data, pos + 1) is None:
                break  # a torn tail: wait for the rest
            if not resync:
                skipped += 1
            if end <= n and _at_boundary(data, end) and end > pos + FRAME_HEAD_SIZE:
                pos, resync = end, False  # the length was right: skip exactly this frame
                continue
        elif not resync:
            skipped += 1
        resync = True
        nxt = data.find(MARKER, pos + 1)
        if nxt < 0:
            # Keep the last byte: it may be the first half of a marker still being written.
            pos = max(pos + 1, n - 1)
            break
        pos = nxt
    return events, pos, skipped


def _at_boundary(data: bytes | bytearray, end: int) -> bool:
    """Whether a frame could start at `end`: the end of the data, or a marker (or its start)."""
    rest = len(data) - end
    return rest == 0 or data.startswith(MARKER[: min(rest, 2)], end)


def _valid_frame_after(data: bytes | bytearray, pos: int) -> int | None:
    """Offset of the first whole, checksummed frame at or after `pos` that ends on a frame
    boundary, if any: proof that what came before it is damage, not a write in progress."""
    n = len(data)
    while True:
        pos = data.find(MARKER, pos)
        if pos < 0 or n - pos < FRAME_HEAD_SIZE:
            return None
        _, length, crc = FRAME_HEAD.unpack_from(data, pos)
        end = pos + FRAME_HEAD_SIZE + length
        if end <= n and _crc32(memoryview(data)[pos + FRAME_HEAD_SIZE : end]) == crc and _at_boundary(data, end):
            return pos
        pos += 1
