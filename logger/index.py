"""The index cache: what a meta-mode reader knew of each segment, up to which offset.

One file per root in the user's cache directory ($XDG_CACHE_HOME or ~/.cache, runwatch/),
never inside the root. An entry holds a segment's identity (device, inode), its size and
mtime when read, and its state at offset N as a Snapshot (logger/snapshot.py): segments only
grow, so "everything up to N" stays true and a reader decodes from N on. Safe to delete;
a stale, damaged or foreign entry is ignored (checked like any snapshot) and the segment
read from the file. Written whole to a temporary file and renamed (logger/atomic.py). RUNWATCH_CACHE=0 turns
it off.

A run read to the end of every segment also leaves its `Listing` (derived metadata and summary,
as RunData computed them): a later reader that finds every one of those segments unchanged
takes it instead of deriving them again. Both depend on the code that made them, so the
index names that code (`code_stamp`) and is dropped whole when it changed.

Reopening an unchanged root costs one decode of this file and a stat per segment: what a
listing shows (state, summary, labels, steps) is decoded typed at once, what only a reader
that goes further needs (per-key stats, metadata events: an entry's `detail`) when first used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
from collections.abc import Iterable
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any, cast

import msgspec

from . import atomic, step_runs
from . import events as ev
from .snapshot import Digest, Found, KeyStat

VERSION = 4  # 4: entries say each segment's first step and record-step runs
MAGIC = b"RWIX"  # then the CRC-32 of the rest: a damaged cache is no cache, never a wrong one
TAIL = 32  # bytes before an entry's offset it keeps: a file that grew must still end with them


class Detail(msgspec.Struct, array_like=True, gc=False):
    """What an entry holds beyond what a listing shows: decoded when a reader first needs it
    (a run's per-key stats and metadata events: RunData restores them lazily). These structs
    hold decoded data only, which has no cycles: the collector need not track them."""

    stats: dict[str, KeyStat]  # per history key (logger/snapshot.py)
    meta_seq: list[int]  # the position of each event below among the segment's events
    meta: list[ev.AnyEvent]  # the SegmentStart and the events a listing needs


class Entry(msgspec.Struct, array_like=True, gc=False):
    """One segment as a reader left it: what its run's listing and state need at once, the
    rest encoded (`detail`)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int  # bytes read: the state below is everything before this
    skipped: int
    last_time: float
    events: int  # events before `offset`
    rows: int
    max_step: int | None
    row_time: float | None  # the last row's time
    rewritten: int
    start: ev.SegmentStart | None  # the detail's first event, and its last finish (position, event)
    finish: tuple[int, ev.Finish] | None
    follows: tuple[str, ...]  # the segments its run resumed (its RunStart's `follows`)
    tail: bytes  # the TAIL bytes before `offset`
    detail: msgspec.Raw  # a Detail
    first_step: int | None = None  # the first row's step, and the record steps' runs
    runs: list[list[int]] | None = None  # (logger/step_runs.py: None, unknown)
    dropped: int = 0  # rows with a step outside 64 bits (Digest.dropped)
    counted_from: int = 0  # `skipped` leaves out damage before this (SegmentReader.counted_from)


class Listing(msgspec.Struct, array_like=True, gc=False):
    """What RunData derived of one run (`RunData.listing()`), and the segment sizes it had."""

    sizes: dict[str, int]  # every segment of the run, by name -> its size then
    name: Any
    notes: Any
    tags: tuple[Any, ...]
    group: Any
    job_type: Any
    sweep_id: Any
    config: dict[Any, Any]
    start: ev.RunStart | None
    metrics: dict[Any, ev.DefineMetric]
    summary_set: dict[Any, tuple[float, Any]]
    summary_removed: dict[Any, Any]
    paths: dict[str, tuple[str, ...]]  # a summary key logged nested -> its key path (values.unflatten)
    summary: dict[Any, Any]
    dir_id: tuple[int, int, int] | None = None  # the run directory (device, inode, mtime) then


class Index(msgspec.Struct, array_like=True):
    version: int
    root: str
    code: str  # code_stamp() of the code that wrote it
    entries: dict[str, Entry]  # segment path relative to the root -> entry
    runs: dict[str, Listing]  # "project/run-id" -> its listing


_decoder = msgspec.msgpack.Decoder(Index)
_encoder = msgspec.msgpack.Encoder()
_listing_decoder = msgspec.msgpack.Decoder(Listing)
_detail_decoder = msgspec.msgpack.Decoder(Detail)
_DERIVED = tuple(f for f in Listing.__struct_fields__ if f not in ("sizes", "summary", "dir_id"))


def cache_file(root: Path) -> Path | None:
    """Where the index of `root` lives; None when caching is off."""
    if os.environ.get("RUNWATCH_CACHE", "1").strip().lower() in ("0", "no", "off", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # the XDG rule: a relative path is to be ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    real = os.path.realpath(root)
    name = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return Path(base) / "runwatch" / f"index-v{VERSION}-{name}.msgpack"


@functools.cache
def code_stamp() -> str:
    """Names the code that derives what the index holds: each source file of this package
    (size, mtime), the Python and msgspec versions. Any edit or upgrade gives a new stamp."""
    base = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256(f"{sys.version_info[:2]} {msgspec.__version__}".encode())
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            try:
                st = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            h.update(f"{folder[len(base):]}/{name} {st.st_size} {st.st_mtime_ns};".encode())
    return h.hexdigest()[:24]


class Cached(msgspec.Struct):
    """What load() found: the segments' entries and the runs' listings (a listing made since
    is kept encoded, as `listing_for` checked it)."""

    entries: dict[str, Entry]
    runs: dict[str, Listing | msgspec.Raw]


def load(root: Path) -> Cached:
    """What is cached for `root` (empty when none, off, unreadable, or another code's)."""
    path = cache_file(root)
    if path is None:
        return Cached({}, {})
    try:
        with open(path, "rb") as f:
            data = f.read()
        body = memoryview(data)[len(MAGIC) + 4:]
        if data[:len(MAGIC)] != MAGIC or int.from_bytes(data[len(MAGIC):len(MAGIC) + 4], "big") != ev._crc32(body):
            return Cached({}, {})
        index = _decoder.decode(body)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return Cached({}, {})
    if (index.version != VERSION or index.root != _text(os.path.realpath(root))
            or index.code != code_stamp()):
        return Cached({}, {})
    return Cached(index.entries, cast("dict[str, Listing | msgspec.Raw]", index.runs))


def write_atomic(path: Path, parts: Iterable[bytes]) -> bool:
    """`parts` written atomically to `path` (logger/atomic.py), 0600 in a 0700 directory: the
    caches hold the names of a user's runs. False where it cannot be written (a cache: no
    error); no fsync (a cache lost to a power cut is rebuilt)."""
    try:
        atomic.write_atomic(path, parts, mode=0o600, dir_mode=0o700)
    except OSError:
        return False
    return True


def save(root: Path, entries: dict[str, Entry], runs: dict[str, Listing | msgspec.Raw]) -> None:
    """Write the index whole, atomically; a cache that cannot be written is no error."""
    path = cache_file(root)
    if path is None:
        return
    try:
        body = _encoder.encode(Index(VERSION, _text(os.path.realpath(root)), code_stamp(), entries, cast("dict[str, Listing]", runs)))
    except (TypeError, ValueError, OverflowError):  # a value msgpack cannot hold: no cache, no error
        return
    if not write_atomic(path, (MAGIC, ev._crc32(body).to_bytes(4, "big"), body)):
        return
    for older in range(1, VERSION):  # what an older version left for this root
        with contextlib.suppress(OSError):
            os.unlink(path.with_name(path.name.replace(f"-v{VERSION}-", f"-v{older}-", 1)))


def key(rel: str) -> str:
    """A path as an index key: any file name (surrogate-escaped bytes too) encodes."""
    return rel if rel.isascii() else _text(rel)


def _text(path: str) -> str:
    return os.fsencode(path).decode("latin-1")


def usable(entry: Entry, st: os.stat_result, path: Path) -> bool:
    """Whether a cached entry still describes this file: same identity, not shorter than what
    was read, untouched if it did not grow, and still ending what was read with the same bytes
    if it grew (only appends change a segment: a file rewritten in place does not pass)."""
    if (entry.dev, entry.ino) != (st.st_dev, st.st_ino) or st.st_size < entry.offset:
        return False
    if st.st_size == entry.size:
        return st.st_mtime_ns == entry.mtime_ns
    return tail_of(path, entry.offset) == entry.tail


def tail_of(path: Path, offset: int) -> bytes | None:
    """The TAIL bytes of a file before `offset` (None when it cannot be read)."""
    n = min(TAIL, offset)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return os.pread(fd, n, offset - n)
    except OSError:
        return None
    finally:
        os.close(fd)


class Restored(Found, gc=False):
    """An entry as a snapshot at its offset, checked as far as a listing uses it: its digest
    without per-key stats, of its events only the start and the finish. `whole()` decodes
    the rest, for a reader that needs more than the listing (RunData._replay)."""

    entry: Entry

    def whole(self) -> Found | None:
        """The entry as a whole snapshot; None where its detail does not check out."""
        entry = self.entry
        try:
            detail = _detail_decoder.decode(entry.detail)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        seqs, meta = detail.meta_seq, detail.meta
        finishes = [(s, e) for s, e in zip(seqs, meta) if type(e) is ev.Finish]
        if (len(seqs) != len(meta) or not seqs or seqs[0] != 1 or entry.events < seqs[-1]
                or not all(map(lt, seqs, islice(seqs, 1, None)))
                or not same(meta[0], entry.start) or not same(finishes[-1] if finishes else None, entry.finish)
                or not all(type(k) is str for k in detail.stats)):
            return None
        digest = _digest(entry)
        digest.keys = detail.stats
        return Found(self.end, self.snap, digest, list(zip(seqs, meta)))


def found(entry: Entry) -> Restored | None:
    """The entry as a snapshot at its offset; None where its positions do not hold."""
    if (entry.start is None or entry.events < 1 or entry.offset < ev.HEADER_SIZE
            or (entry.finish is not None and not 1 < entry.finish[0] <= entry.events)):
        return None
    meta: list[tuple[int, Any]] = [(1, entry.start)]
    if entry.finish is not None:
        meta.append(entry.finish)
    snap = ev.Snapshot(time=entry.last_time, events=entry.events)
    return Restored(entry.offset, snap, _digest(entry), meta, entry)


def _digest(entry: Entry) -> Digest:
    digest = Digest()
    digest.rows, digest.max_step, digest.last_time, digest.rewritten = (
        entry.rows, entry.max_step, entry.row_time, entry.rewritten)
    digest.first_step, digest.dropped = entry.first_step, entry.dropped
    digest.runs = (step_runs.checked(entry.runs, entry.rows, entry.first_step)
                   if entry.first_step is not None else None)
    return digest


def entry_for(st: os.stat_result, size: int, offset: int, skipped: int, last_time: float,
              events: int, digest: Digest, meta: list[tuple[int, Any]], tail: bytes,
              counted_from: int = 0) -> Entry:
    """A segment's entry from what RunData.segment_state() says of it (`meta`: its start
    first, then the events a listing needs, each with its position)."""
    return with_file(entry_at(size, offset, skipped, last_time, events, digest, meta, counted_from), st, tail)


def entry_at(size: int, offset: int, skipped: int, last_time: float, events: int, digest: Digest,
             meta: list[tuple[int, Any]], counted_from: int = 0) -> Entry:
    """entry_for() less the file's identity and tail (with_file() adds them): plain values
    only, nothing shared with the live digest, so it may be finished without the reader."""
    start = meta[0][1] if meta and type(meta[0][1]) is ev.SegmentStart else None
    finish = next(((s, e) for s, e in reversed(meta) if type(e) is ev.Finish), None)
    follows = next((tuple(f for f in e.follows if type(f) is str) for _, e in reversed(meta)
                    if type(e) is ev.RunStart and e.follows), ())
    detail = _encoder.encode(Detail(digest.keys, [s for s, _ in meta], [e for _, e in meta]))
    runs = None if digest.runs is None else [list(r) for r in digest.runs]  # the live ones grow in place
    return Entry(0, 0, size, 0, offset, skipped, last_time, events, digest.rows, digest.max_step,
                 digest.last_time, digest.rewritten, start, finish, follows, b"", msgspec.Raw(detail),
                 digest.first_step, runs, digest.dropped, counted_from)


def with_file(entry: Entry, st: os.stat_result, tail: bytes) -> Entry:
    """An entry_at() with the identity of the file it describes and the TAIL bytes before its offset."""
    return msgspec.structs.replace(entry, dev=st.st_dev, ino=st.st_ino, tail=tail,
                                   mtime_ns=st.st_mtime_ns if entry.size == st.st_size else 0)


def listing_for(sizes: dict[str, int], derived: dict[str, Any], summary: dict[str, Any]) -> msgspec.Raw | None:
    """A run's listing, encoded; None unless it decodes back to exactly these values (every
    type, NaN, tuple or list): a value msgpack would change is derived again next time."""
    made = listing_data(sizes, derived, summary)
    return None if made is None else checked_listing(*made)


def listing_data(sizes: dict[str, int], derived: dict[str, Any], summary: dict[str, Any]) -> tuple[bytes, Listing] | None:
    """listing_for()'s encoding, unchecked: the bytes are what the run holds now, the struct
    is what checked_listing() compares them with (RunData replaces, never mutates, these values)."""
    if set(derived) - {"dir_id"} != set(_DERIVED):  # RunData derives something this index does not know
        return None
    try:
        listing = Listing(sizes, *(derived[f] for f in _DERIVED), summary,  # type: ignore[call-arg]
                          derived.get("dir_id"))
        return _encoder.encode(listing), listing
    except (TypeError, ValueError, OverflowError):
        return None


def checked_listing(data: bytes, listing: Listing) -> msgspec.Raw | None:
    """`data` as a listing to keep, when it decodes back to exactly `listing`; else None."""
    try:
        back = _listing_decoder.decode(data)
        return msgspec.Raw(data) if _same_fast(back, listing) else None
    except (msgspec.DecodeError, msgspec.ValidationError, RuntimeError):  # RuntimeError: changed meanwhile
        return None


def _same_fast(a: Any, b: Any) -> bool:
    """same(a, b), asked first at C speed: the two values pickled without a memo. Those bytes
    name every value's type (1 and 1.0, a tuple and a list, a subclass and its base all differ)
    and its value (a float by its bits: NaN is NaN), in order, so equal bytes are the same
    values. Unequal bytes, or a value that does not pickle, are left to same(): the answer is
    always same()'s. Its walk in Python was 0.23 s of a ~1 s cold save of 10k runs; this, 0.09 s."""
    try:
        fast = _pickled(a) == _pickled(b)
    except Exception:  # pickling runs a value's own reducer: whatever it raises, same() decides
        fast = False
    return fast or same(a, b)


def _pickled(value: Any) -> bytes:
    import io
    import pickle  # here: only a save needs it, not `import logger`

    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: the bytes depend on the values, not on which objects are shared
    pickler.dump(value)
    return out.getvalue()


def restored(cached: Listing | msgspec.Raw, sizes: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(derived, summary) of a cached listing made from segments of exactly these sizes."""
    if isinstance(cached, Listing):
        listing = cached
    else:
        try:
            listing = _listing_decoder.decode(cached)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
    if listing.sizes != sizes:
        return None
    derived = msgspec.structs.asdict(listing)
    del derived["sizes"], derived["summary"], derived["dir_id"]
    return derived, listing.summary


def same(a: Any, b: Any) -> bool:
    """Whether two values are the same down to their types (1 is not 1.0, a tuple not a
    list), NaN the same as NaN."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float:
        return a == b or (a != a and b != b)
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(map(same, a, b))
    if kind is dict:
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, msgspec.Struct):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__struct_fields__)
    return bool(a == b)
