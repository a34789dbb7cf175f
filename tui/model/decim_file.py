"""The app's reopen cache on disk (see tui/model/decim_cache.py): one file per root beside the
listing's index, a checked index of entries then each entry's pickle, written whole and
renamed; and the checks that say whether an entry still describes the segments it read."""

from __future__ import annotations

import os
import stat
import zlib
from pathlib import Path

import msgspec

from logger import index

VERSION = 1
MAGIC = b"RWAPPCACHE%d\n" % VERSION
TAIL = 64  # bytes before a grown segment's offset that must be as they were
_HEAD = len(MAGIC) + 8 + 4  # magic, index length, index checksum


class Seg(msgspec.Struct, array_like=True):
    """One segment of a cached run, as it was when the run was saved."""

    name: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int  # bytes read: the run holds everything before this
    tail: bytes  # checksum of the TAIL bytes before `offset`


class Entry(msgspec.Struct, array_like=True):
    at: int  # where the pickle starts, past the index
    length: int
    digest: bytes
    version: int  # RunData.version when saved: an unchanged run is copied, not pickled again
    segs: list[Seg]


class Index(msgspec.Struct, array_like=True):
    code: str  # which code wrote the entries (see code_stamp)
    root: str
    runs: dict[str, Entry]


_encode = msgspec.msgpack.Encoder().encode


_decode = msgspec.msgpack.Decoder(Index).decode


def cache_path(root: Path) -> Path | None:
    """Where the app's cache of `root` lives (beside the listing's index); None when off."""
    listing = index.cache_file(root)
    return None if listing is None else listing.with_name(f"app-v{VERSION}-{listing.stem}.bin")


def checksum(data: bytes) -> bytes:
    """A checksum against damage (a CRC: 4x cheaper than a hash, and what frames use too);
    what a writer could forge is kept out by _private and _Unpickler, not by this."""
    return zlib.crc32(data).to_bytes(4, "little")


def tail_checksum(fd: int, offset: int) -> bytes:
    data = os.pread(fd, min(TAIL, offset), max(0, offset - TAIL))
    return checksum(data)


def read_blob(fd: int, entry: Entry) -> bytes | None:
    """An entry's pickle as the file holds it; None if it is not there whole."""
    try:
        blob = os.pread(fd, entry.length, entry.at)
    except OSError:
        return None
    return blob if len(blob) == entry.length and checksum(blob) == entry.digest else None


def usable(path: Path, seg: Seg) -> bool:
    """The file is the one the entry read, and holds the same bytes up to its offset."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (seg.dev, seg.ino):
        return False
    if st.st_size < seg.offset:
        return False
    if st.st_size == seg.size and st.st_mtime_ns == seg.mtime_ns:
        return True
    try:  # grown, or rewritten: the bytes before the offset must be as they were
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            return tail_checksum(fd, seg.offset) == seg.tail and st.st_size > seg.size
        finally:
            os.close(fd)
    except OSError:
        return False


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_index(path: Path, code: str, root: str) -> Index | None:
    """The file's index, if it is ours, whole, private, and written by this code."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _private(st):
            return None
        head = os.pread(fd, _HEAD, 0)
        if len(head) != _HEAD or not head.startswith(MAGIC):
            return None
        n = int.from_bytes(head[len(MAGIC):len(MAGIC) + 8], "little")
        data = os.pread(fd, n, _HEAD)
        if len(data) != n or checksum(data) != head[-4:]:
            return None
        idx = _decode(data)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    finally:
        os.close(fd)
    if idx.code != code or idx.root != root:
        return None
    for entry in idx.runs.values():  # blobs are found past the index
        entry.at += _HEAD + n
    return idx


def write(path: Path, idx: Index, blobs: list[bytes]) -> bool:
    """Write the file whole to a temporary one, then rename it over: readers see either.
    The entries' offsets then count from the file's start, as _read_index leaves them."""
    data = _encode(idx)
    head = MAGIC + len(data).to_bytes(8, "little") + checksum(data)
    if not index.write_atomic(path, (head, data, *blobs)):
        return False
    for entry in idx.runs.values():
        entry.at += _HEAD + len(data)
    return True
