"""The format's constants and its event kinds: array-like msgspec Structs in one tagged union.

Schema evolution: fields are only ever appended, with defaults, never renamed or reordered; a
new event kind gets a new tag (append it to `AnyEvent`). Every module takes these names from
logger/events.py, which re-exports them with the framing (see its docstring for the format).
"""

from __future__ import annotations

import struct
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
    entity: str | None = None  # init(entity=...) or $WANDB_ENTITY; None: none given (any entity matches)


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
    the segment's own writer periodically and at its finish (logger/snapshot.py). Every
    field is checked on reading; one that does not check out is ignored, never trusted."""

    time: float = 0.0
    events: int = 0  # events in this segment before this one
    rows: int = 0  # of which Log events
    max_step: int | None = None
    last_time: float | None = None  # the last row's time
    stats: dict[str, Any] = {}  # flat history key -> its KeyStat fields (logger/snapshot.py)
    meta: list[Any] = []  # the payloads of the events a listing needs, as written
    meta_seq: list[Any] = []  # each one's position (1-based) among the segment's events (ints)
    rewritten: int = 0  # rows whose step was not past every earlier row's
    first_step: int | None = None  # the first row's step (None: an older writer's, unknown)
    runs: list[Any] | None = None  # record steps as [first, stride, count] runs (logger/step_runs.py)


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
