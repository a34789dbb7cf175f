"""A reopen's rows without reading runs: each finished run's RunView, as last shown.

Beside the app's reopen cache (decim_cache.py: same XDG directory, same RUNWATCH_CACHE=0
switch, same code stamp) one file holds every finished run's table row (what RunView is made
of) and the identity of the files it came from. On a reopen every run whose directory and
segments are exactly as they were (device, inode, size, mtime) gets its row from here, all
in one msgspec decode (10k rows: tens of ms), with no RunData built. Anything else (a segment
that grew, a new segment, a run that is not finished) is read from disk as before; a run
whose directory is gone is simply not listed. A damaged or foreign file is ignored whole.
"""

from __future__ import annotations

import os
import stat
import time
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from logger import index
from logger.discover import segment_files

from .decim_file import cache_path, checksum
from .runview import RunView

MAGIC = b"RWROWS1\n"
FINAL = ("finished", "failed", "killed")  # states a run keeps without a live writer
SETTLED_NS = 2_000_000_000  # a directory changed this recently may change again in its tick
SPARK_KEYS = 16  # a row keeps the sparklines of this many of its numeric keys (any a table
# may choose as metric columns, whichever the screen chooses after a reopen)


class RowSeg(msgspec.Struct, array_like=True):
    name: str
    dev: int
    ino: int
    size: int
    mtime_ns: int


class Row(msgspec.Struct, array_like=True, gc=False):
    """One run's RunView (less `dir`, `serial`) and what it was made from. Not tracked by the
    cyclic collector (it holds no cycle): a reopen makes 10k at once, each collection after
    would walk them all."""

    segs: tuple[RowSeg, ...]
    dir_id: tuple[int, int, int] | None  # the run directory, when settled: its names are known
    alerts: int  # alerts the run held (the app's alert tracker has seen them)
    path: str
    id: str
    project: str
    name: str
    notes: str
    tags: tuple[str, ...]
    group: str | None
    job_type: str | None
    config: dict[str, Any]
    config_flat: dict[str, Any] | None  # None: the same as config (not nested: one dict less)
    summary: dict[str, Any]
    state: str
    exit_code: int | None
    error: str | None
    step: int | None
    created_at: float
    updated_at: float
    finished_at: float | None
    version: int
    numeric_keys: tuple[str, ...]
    sparks: dict[str, bytes]  # of every numeric key (SPARK_KEYS at most), not just shown: the
    # doubles' bytes (decoded and made arrays ~4x faster than lists of floats)
    skipped_frames: int
    errors: tuple[str, ...]
    gpu: str
    console: str
    sweep_id: str | None
    logged_at: float
    log_interval: float
    logged: bool


class RowFile(msgspec.Struct, array_like=True):
    code: str
    root: str
    metrics: tuple[str, ...]  # the sparkline keys the rows carry
    rows: list[msgspec.Raw]  # each encoded alone (one that cannot be is left out)...


class _RowsIn(msgspec.Struct, array_like=True):
    code: str
    root: str
    metrics: tuple[str, ...]
    rows: list[Row]  # ...and all decoded in one call


_decode_file = msgspec.msgpack.Decoder(_RowsIn).decode
_encode = msgspec.msgpack.Encoder().encode
_VIEW_FIELDS = tuple(f for f in RunView.__dataclass_fields__ if f not in ("dir", "serial"))


def rows_path(root: Path) -> Path | None:
    """Where the rows of `root` live (beside the app's cache); None when caching is off."""
    app = cache_path(root)
    return None if app is None else app.with_name(app.name.replace("app-", "rows-", 1))


def to_row(view: RunView, segs: Sequence[RowSeg], dir_id: tuple[int, int, int] | None,
           alerts: int, sparks: dict[str, Sequence[float]]) -> Row:
    values = {f: getattr(view, f) for f in _VIEW_FIELDS}
    values["sparks"] = {k: array("d", v).tobytes() for k, v in sparks.items()}
    if view.config_flat == view.config:
        values["config_flat"] = None
    return Row(segs=tuple(segs), dir_id=dir_id, alerts=alerts, **values)


def covers(row: Row, metrics: Iterable[str]) -> bool:
    """The row holds the sparklines of these metric columns (a key it never logged has none)."""
    return all(k in row.sparks or k not in row.numeric_keys for k in metrics)


def to_view(r: Row, run_dir: Path, metrics: Iterable[str]) -> RunView:
    """The row as the snapshot it was made from, its sparklines those of `metrics` (see
    covers); positional: 10k rows in tens of ms."""
    got = r.sparks
    sparks: dict[str, Sequence[float]] = {k: array("d", got[k]) if got.get(k) else ()
                                          for k in metrics}
    flat = r.config if r.config_flat is None else r.config_flat
    return RunView(r.path, r.id, r.project, run_dir, r.name, r.notes, r.tags, r.group,
                   r.job_type, r.config, flat, r.summary, r.state, r.exit_code, r.error,
                   r.step, r.created_at, r.updated_at, r.finished_at, r.version, r.numeric_keys,
                   sparks, r.skipped_frames, r.errors, r.gpu, r.console, r.sweep_id, r.logged_at,
                   r.log_interval, r.logged)


def seg_stats(run_dir: str, names: Iterable[str]) -> tuple[RowSeg, ...] | None:
    """Each file's identity and size (sorted by name); None if one is not a regular file."""
    out = []
    for name in sorted(names):
        try:
            st = os.stat(os.path.join(run_dir, name))
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        out.append(RowSeg(name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def dir_id(run_dir: str, settled: bool = True) -> tuple[int, int, int] | None:
    """A directory's (device, inode, mtime); with `settled`, None if it changed lately."""
    try:
        st = os.stat(run_dir)
    except OSError:
        return None
    if settled and st.st_mtime_ns > time.time_ns() - SETTLED_NS:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def unchanged(run_dir: str, row: Row) -> bool:
    """The directory holds the same segment files, each as it was when the row was made."""
    if row.dir_id is not None and dir_id(run_dir, settled=False) == row.dir_id:
        # The same directory, not changed since: the same names, each stat compared in place
        # (a reopen checks every run's row: 10k runs, no RowSeg built nor list sorted).
        base = run_dir + os.sep
        return bool(row.segs) and all(_same(base + s.name, s) for s in row.segs)
    names = [p.name for p in segment_files(run_dir)]
    return bool(names) and seg_stats(run_dir, names) == row.segs


def _same(path: str, seg: RowSeg) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (stat.S_ISREG(st.st_mode) and st.st_size == seg.size and st.st_mtime_ns == seg.mtime_ns
            and st.st_ino == seg.ino and st.st_dev == seg.dev)


def load(root: Path, code: str, root_text: str) -> tuple[tuple[str, ...], list[Row]]:
    """The rows in the file (not checked against the disk yet); nothing if it is not whole,
    private, or written by other code for another root."""
    path = rows_path(root)
    if path is None:
        return (), []
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return (), []
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return (), []
        data = os.pread(fd, st.st_size, 0)
    except OSError:
        return (), []
    finally:
        os.close(fd)
    head = len(MAGIC) + 4
    if not data.startswith(MAGIC) or checksum(data[head:]) != data[len(MAGIC):head]:
        return (), []
    try:
        found = _decode_file(data[head:])
        if found.code != code or found.root != root_text:
            return (), []
        return found.metrics, found.rows
    except (msgspec.DecodeError, msgspec.ValidationError):
        return (), []


def save(root: Path, code: str, root_text: str, metrics: tuple[str, ...],
         rows: Iterable[Row | msgspec.Raw]) -> bool:
    """Write the rows whole (a temporary file renamed over), unless the file holds them
    already; rows that cannot be encoded (a value msgpack cannot hold) are left out: those
    runs are read from disk."""
    path = rows_path(root)
    if path is None:
        return False
    raws = []
    for row in rows:
        try:
            raws.append(row if isinstance(row, msgspec.Raw) else msgspec.Raw(_encode(row)))
        except (TypeError, ValueError, msgspec.EncodeError):  # a surrogate, an int past 64 bits
            continue
    body = _encode(RowFile(code, root_text, metrics, raws))
    if _holds(path, MAGIC + checksum(body) + body):
        return True  # an open that changed nothing: 10k runs' rows (~7 MB) not written again
    return index.write_atomic(path, (MAGIC, checksum(body), body))


def _holds(path: Path, data: bytes) -> bool:
    """The file at `path` is exactly `data` (one read; the size tells most differences)."""
    try:
        with open(path, "rb") as f:
            return os.fstat(f.fileno()).st_size == len(data) and f.read() == data
    except OSError:
        return False
