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
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_right
from itertools import accumulate
from typing import Any, NamedTuple, Union

import msgspec

FORMAT_VERSION = 1
SEGMENT_SUFFIX = ".rws"
HEADER_PREFIX = b"RWSEG"
HEADER = HEADER_PREFIX + bytes([0, FORMAT_VERSION]) + b"\n"
HEADER_SIZE = len(HEADER)
MARKER = b"\xc1\x52"
FRAME_HEAD = struct.Struct("<2sII")
FRAME_HEAD_SIZE = FRAME_HEAD.size
# 32 KiB as LevelDB's log blocks: a lost frame costs ~300 steps of 8 scalars, and the bound
# is free on log() and costs under 2 % on reading (tests/bench/bench_logger.py).
FRAME_BYTES = 32 * 1024
MAX_EVENT_BYTES = 64 * 1024 * 1024  # one event past this is dropped by the writer, counted
OLD_BATCH_BYTES = 4 * 1024 * 1024  # format 1's first writer packed frames up to this, plus one event
# The longest payload any writer emits; a longer length field is damage, not data.
MAX_FRAME = OLD_BATCH_BYTES + MAX_EVENT_BYTES + 16
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
    sweep_id: str | None = None  # the sweep whose trial this run is (logger/sweeps); None in older runs


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


# -- media charts and alerts (logger/media/): appended kinds, every field with a default -----
class Chart(Event, tag="chart"):
    """A `plot.*` chart logged under `key`: its table is the history key `table_key`, and
    `spec` is W&B's `_wandb.visualize` entry (panel type and the Vega spec's field mapping)."""

    key: str = ""
    table_key: str = ""
    spec: dict[str, Any] = {}
    time: float = 0.0


class Alert(Event, tag="alert"):
    """`run.alert()`: `suppressed` when the same title came within `wait_duration` seconds."""

    title: str = ""
    text: str = ""
    level: str = "INFO"
    wait_duration: float = 60.0
    time: float = 0.0
    suppressed: bool = False


class SystemStats(Event, tag="sys"):
    """One sample of system metrics (W&B's key names, without the "system." prefix)."""

    time: float
    values: dict[str, Any]  # floats as written; a reader takes whatever a later writer adds


class ConsoleChunk(Event, tag="out"):
    """What the script wrote to a stream ("stdout", "stderr", "output" for both written to one
    terminal or file, in the order written; "note" for runwatch's own) in
    one flush interval, progress-bar redraws collapsed, escape sequences kept as written."""

    time: float
    stream: str
    text: str


class Snapshot(Event, tag="snap"):
    """What a reader needs to list the run without reading this segment's history: written by
    the segment's own writer periodically and before its finish (logger/snapshot.py). Every
    field is checked on reading; one that does not check out is ignored, never trusted."""

    time: float = 0.0
    events: int = 0  # events in this segment before this one
    rows: int = 0  # of which Log events
    max_step: int | None = None
    last_time: float | None = None  # the last row's time
    stats: dict[str, Any] = {}  # flat history key -> its KeyStat fields (logger/snapshot.py)
    meta: list[Any] = []  # the payloads of the events a listing needs, as written
    meta_seq: list[Any] = []  # each one's position (1-based) among the segment's events (ints)


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
    Chart,
    Alert,
    SystemStats,
    ConsoleChunk,
    EditSeen,
    Snapshot,
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
