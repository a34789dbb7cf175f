"""The index cache: what a meta-mode reader knew of each segment, up to which offset.

One file per root in the user's cache directory ($XDG_CACHE_HOME or ~/.cache, runwatch/),
never inside the root. An entry holds a segment's identity (device, inode), its size and
mtime when read, and its state at offset N as a Snapshot (logger/snapshot.py): segments only
grow, so "everything up to N" stays true and a reader decodes from N on. Safe to delete;
a stale, damaged or foreign entry is ignored (checked like any snapshot) and the segment
read from the file. Written whole to a temporary file and renamed. RUNWATCH_CACHE=0 turns
it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import msgspec

from . import events as ev
from .snapshot import Digest, Found, KeyStat

VERSION = 1


class Entry(msgspec.Struct, array_like=True):
    """One segment as a reader left it."""

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
    stats: dict[str, KeyStat]  # per history key (logger/snapshot.py)
    meta_seq: list[int]  # the position of each event below among the segment's events
    meta: list[ev.AnyEvent]  # the SegmentStart and the events a listing needs


class Index(msgspec.Struct, array_like=True):
    version: int
    root: str
    entries: dict[str, Entry]  # segment path relative to the root -> entry


_decoder = msgspec.msgpack.Decoder(Index)
_encoder = msgspec.msgpack.Encoder()


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


def load(root: Path) -> dict[str, Entry]:
    """The entries cached for `root` ({} when none, off, or unreadable)."""
    path = cache_file(root)
    if path is None:
        return {}
    try:
        with open(path, "rb") as f:
            index = _decoder.decode(f.read())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}
    if index.version != VERSION or index.root != _text(os.path.realpath(root)):
        return {}
    return index.entries


def save(root: Path, entries: dict[str, Entry]) -> None:
    """Write the index whole, atomically; a cache that cannot be written is no error."""
    path = cache_file(root)
    if path is None:
        return
    try:
        data = _encoder.encode(Index(VERSION, _text(os.path.realpath(root)), entries))
    except (TypeError, ValueError, OverflowError):  # a value msgpack cannot hold: no cache, no error
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def key(rel: str) -> str:
    """A path as an index key: any file name (surrogate-escaped bytes too) encodes."""
    return _text(rel)


def _text(path: str) -> str:
    return os.fsencode(path).decode("latin-1")


def usable(entry: Entry, st: os.stat_result) -> bool:
    """Whether a cached entry still describes this file: same identity, not shorter than what
    was read, and untouched if it did not grow (only appends change a segment)."""
    if (entry.dev, entry.ino) != (st.st_dev, st.st_ino) or st.st_size < entry.offset:
        return False
    return st.st_size != entry.size or st.st_mtime_ns == entry.mtime_ns


def found(entry: Entry) -> Found | None:
    """The entry as a snapshot at its offset; None where its positions do not hold."""
    seqs = entry.meta_seq
    if (len(seqs) != len(entry.meta) or not seqs or seqs[0] != 1
            or type(entry.meta[0]) is not ev.SegmentStart or entry.events < seqs[-1]
            or any(b <= a for a, b in zip(seqs, seqs[1:]))):
        return None
    digest = Digest()
    digest.keys, digest.rows, digest.max_step, digest.last_time = (
        entry.stats, entry.rows, entry.max_step, entry.row_time)
    snap = ev.Snapshot(time=entry.last_time, events=entry.events)
    return Found(entry.offset, snap, digest, list(zip(seqs, entry.meta)))


def entry_for(st: os.stat_result, size: int, offset: int, skipped: int, last_time: float,
              events: int, digest: Digest, meta: list[tuple[int, Any]]) -> Entry:
    return Entry(st.st_dev, st.st_ino, size, st.st_mtime_ns if size == st.st_size else 0, offset,
                 skipped, last_time, events, digest.rows, digest.max_step, digest.last_time,
                 digest.keys, [s for s, _ in meta], [e for _, e in meta])
