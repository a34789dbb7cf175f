"""The app's reopen cache: each run as the app's reader held it, up to which offset.

The app's reader keeps per run what the screen needs (RunData with keep_history=False and
its RunSeries: decimations, last values, digests). Reading a root again rebuilds all of it
from every byte; this file keeps it instead, one entry per run, in the user's cache
directory next to the listing's index (logger/index.py: same XDG root, same RUNWATCH_CACHE=0
switch, never inside the root). Segments only grow, so "the run as read up to offset N of
each segment" stays true: a reopen restores the run and reads on from N.

An entry is used only where every segment it names is the same file (device, inode), not
shorter than what was read, and untouched (size and mtime) or grown with the bytes before N
as they were (a checksum of the last TAIL bytes read; tui/model/decim_file.py). Entries are pickles of the reader's own
objects, so restoring is exact by construction (a decimation of one point a bucket is kept
as its points, 2 of its 6 arrays); the file says which code wrote them (the
size and mtime of every module whose objects it holds) and is ignored after any change.
Each entry carries a CRC, is loaded by an unpickler that builds only this package's
classes, and only from a file the user owns that nobody else can write. A damaged, stale or
foreign entry costs only itself: that run is read from its segments. The file is written
whole to a temporary file and renamed; at most MAX_BYTES (the newest runs first).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import threading
from array import array
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec

from logger import index
from logger.liveness import Observations
from logger.reader import RootReader, Update
from logger.rundata import RunData

from . import decimate as dm
from . import stats
from .decim_file import (
    Entry,
    Index,
    Seg,
    cache_path,
    checksum,
    read_blob,
    read_index,
    tail_checksum,
    usable,
    write,
)
from .decimate import FINE, RunSeries, SeriesBook

MAX_BYTES = 128 * 1024 * 1024  # 1,000 runs x 1,000 steps x 4 metrics: ~20 MB; 10,000 x 100: ~98 MB
NEWEST = 64  # runs restored first (a screenful of the table, newest first); the index is in that order
_PACKAGES = ("logger", "tui.model")
_SAFE = {("array", "array"), ("array", "_array_reconstructor"), ("collections", "deque"),
         ("collections", "OrderedDict"), ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"),
         ("pathlib", "WindowsPath"), ("pathlib", "PureWindowsPath"), ("copyreg", "_reconstructor"),
         ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"),
         ("builtins", "complex"), ("builtins", "object"), ("copyreg", "__newobj__"),
         ("tui.model.decim_cache", "_singles")}


def code_stamp() -> str:
    """The size and mtime of every module whose objects an entry holds: any change to the
    code (an upgrade, an edit) makes every entry stale rather than wrongly restored."""
    files: list[str] = []
    for package in _PACKAGES:
        base = os.path.dirname(sys.modules[package].__file__ or "")
        for folder, _dirs, names in os.walk(base):
            files += [os.path.join(folder, n) for n in names if n.endswith(".py")]
    h = hashlib.blake2b(f"{sys.version_info[:2]} {msgspec.__version__}".encode(), digest_size=16)
    for path in sorted(files):
        try:
            st = os.stat(path)
        except OSError:
            continue
        h.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


class _Unpickler(pickle.Unpickler):
    """Builds only this package's classes and a few plain containers."""

    def find_class(self, module: str, name: str) -> Any:
        found = _FOUND.get((module, name))
        if found is not None:
            return found
        if (module, name) in _SAFE or module.split(".")[0] == "logger" or module.startswith(
                "tui.model."):
            found = super().find_class(module, name)
            if isinstance(found, type) or (module, name) in _SAFE:
                _FOUND[(module, name)] = found
                return found
        raise pickle.UnpicklingError(f"not in the app's cache: {module}.{name}")


_FOUND: dict[tuple[str, str], Any] = {}
Loaded = tuple[RunData, Path, str, str]  # a run read from the cache: run, its dir, project, id


def _reduce_run(run: RunData) -> Any:
    """A RunData as pickle keeps it, less what it holds for a while only: the whole history
    a screen asked for (meta mode's `full()`), the merged writers' view."""
    reduced: Any = run.__reduce_ex__(5)
    func, args, state, *rest = reduced
    attrs = state[0] if isinstance(state, tuple) else state
    attrs = {**attrs, **{k: None for k in ("_full", "_merged") if k in attrs}}
    return (func, args, (attrs, state[1]) if isinstance(state, tuple) else attrs, *rest)


def _reduce_decimator(dec: stats.Decimator) -> Any:
    """A decimation of one point a bucket (a chart's fine one of a run with <= FINE points:
    the newest runs, a reopen's first screenful) as its points: 2 arrays of its 6."""
    n = len(dec.n)
    if n and dec.n.count(1) == n and dec.x0 == dec.x1 and dec.lo == dec.hi == dec.sum:
        return _singles, (type(dec), dec.cap, dec.size, dec.fed, dec._open, dec.x0, dec.lo)
    return dec.__reduce_ex__(5)


def _singles(cls: type, cap: int, size: int, fed: int, open_: int, xs: Any, ys: Any) -> Any:
    """The decimation _reduce_decimator kept as its points, whole again."""
    if not (isinstance(cls, type) and issubclass(cls, stats.Decimator)):
        raise pickle.UnpicklingError(f"not a decimation: {cls!r}")
    xs, ys = array("d", xs), array("d", ys)
    dec = cls.__new__(cls)
    dec.cap, dec.size, dec.fed, dec._open = int(cap), int(size), int(fed), int(open_)
    dec.x0, dec.x1, dec.lo, dec.hi, dec.sum = xs, array("d", xs), ys, array("d", ys), array("d", ys)
    dec.n = array("q", [1]) * len(xs)
    return dec


def _dumps(run: RunData) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    # A reader's liveness observations are on its own monotonic clock: a new one starts afresh.
    pickler.dispatch_table = {Observations: lambda _o: (Observations, ()), RunData: _reduce_run,
                              stats.Decimator: _reduce_decimator, dm.Decimator: _reduce_decimator}
    pickler.dump(run)
    return buf.getvalue()


class AppCache:
    """Restores runs into a RootReader as the store meets them; saves them once read."""

    def __init__(self, reader: RootReader, book: SeriesBook | None) -> None:
        """`book`: the SeriesBook whose fine budget every run's decimations share."""
        self.reader = reader
        self.book = book
        self.path = cache_path(reader.root)
        self._index: Index | None = None
        self._code = ""
        self.restored = 0  # runs restored (tests and the benchmark look)
        self._began = False  # the newest runs were restored (the first call)
        self.saved_versions: dict[str, int] = {}  # run -> version in the file on disk
        self._lock = threading.Lock()  # one save at a time

    # -- reading -----------------------------------------------------------------------------
    def _load_index(self) -> Index | None:
        if self._index is None and self.path is not None:
            self._code = code_stamp()
            self._index = read_index(self.path, self._code, self._root_text())
            if self._index is not None:
                self.saved_versions = {k: e.version for k, e in self._index.runs.items()}
        return self._index

    def _root_text(self) -> str:
        return index.key(os.path.realpath(self.reader.root))

    def restore(self, paths: Iterable[Path]) -> list[Update]:
        """`install(load(paths))`: hold the reader's lock (tests, tools)."""
        return self.install(self.load(paths))

    def load(self, paths: Iterable[Path]) -> list[Loaded]:
        """Runs of these segment paths read from the cache, not yet the reader's: the first
        call also brings the NEWEST newest runs (the table's first screenful, whatever the
        paths). No lock: unpickling is most of a restore, and a screen's worker reading
        the runs already shown must not wait for it (the chart panel's first draw did)."""
        idx = self._load_index()
        if idx is None or not idx.runs or self.path is None:
            return []
        runs, wanted = self.reader.runs, {}
        if not self._began:
            self._began = True
            wanted = {k: e for k, e in islice(idx.runs.items(), NEWEST) if k not in runs}
        for path in paths:
            key = f"{path.parent.parent.name}/{path.parent.name}"
            if key not in runs and key in idx.runs:
                wanted[key] = idx.runs[key]
        loaded = []
        try:
            with open(self.path, "rb") as f:
                for key, entry in wanted.items():
                    try:
                        found = self._load_run(f.fileno(), key, entry)
                    except Exception:  # noqa: BLE001 - that run is read from its segments
                        found = None
                    if found is not None:
                        loaded.append(found)
        except OSError:
            pass
        return loaded

    def install(self, loaded: list[Loaded]) -> list[Update]:
        """Put loaded runs where the reader keeps its runs, as if it had read them (hold
        its lock); a run it read meanwhile keeps what it read."""
        updates = []
        for run, run_dir, project, run_id in loaded:
            if f"{project}/{run_id}" not in self.reader.runs:
                self._install(run, run_dir, project, run_id)
                updates.append(Update(run, [], True, False))
        self.restored += len(updates)
        return updates

    def _load_run(self, fd: int, key: str, entry: Entry) -> Loaded | None:
        project, run_id = key.split("/", 1)
        run_dir = self.reader.root / project / run_id
        if not entry.segs or not all(usable(run_dir / s.name, s) for s in entry.segs):
            return None
        data = read_blob(fd, entry)
        if data is None:
            return None
        try:
            run = _Unpickler(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - a damaged or foreign entry costs only itself
            return None
        if not isinstance(run, RunData) or not isinstance(run.sink, RunSeries):
            return None
        if set(run.segments) != {s.name for s in entry.segs}:
            return None
        return run, run_dir, project, run_id

    def _install(self, run: RunData, run_dir: Path, project: str, run_id: str) -> None:
        """Put a restored run where the reader keeps its runs, as if it had read it."""
        reader, rs = self.reader, run.sink
        run.dir, run.project, run.id, run.path = run_dir, project, run_id, f"{project}/{run_id}"
        book = rs.book = self.book  # the restored fine decimations come out of its budget
        if book is not None:
            fine = sum(1 for ks in rs.keys.values() if ks.fine is not None)
            book.fine_left = max(0, book.fine_left - fine * FINE)
        reader.runs[run.path] = run
        for name, seg in run.segments.items():
            seg.path = run_dir / name
            reader._segments[seg.path] = (run, seg)
            run.observe(seg)

    # -- writing -----------------------------------------------------------------------------
    def save_later(self, lock: Any) -> None:
        """`save` in a thread of its own: a first open of 10,000 runs pickles for seconds,
        which the live path (the reading thread) must not wait for. Runs are taken one at a
        time under `lock`; a process that exits meanwhile leaves the old file as it was."""
        threading.Thread(target=self.save, args=(lock,), name="runwatch-cache", daemon=True).start()

    def save(self, lock: Any) -> bool:
        """Write every run as read so far (taking `lock`, the reader's, one run at a time);
        runs unchanged since the file on disk are copied from it. False: nothing written."""
        if self.path is None:
            return False
        with self._lock:
            try:
                return self._save(lock)
            except Exception:  # noqa: BLE001 - a cache that cannot be written is no error
                return False

    def _save(self, lock: Any) -> bool:
        assert self.path is not None
        self._load_index()
        old = self._index
        with lock:
            order = sorted(self.reader.runs.values(), key=lambda r: -r.created_at)
        blobs: list[bytes] = []
        entries: dict[str, Entry] = {}
        total = changed = 0
        try:
            old_fd = os.open(self.path, os.O_RDONLY) if old is not None else None
        except OSError:
            old_fd = None
        try:
            for path, found in self._entries(order, lock, old, old_fd):
                entry, blob, fresh = found
                if total + len(blob) > MAX_BYTES:
                    break
                entry.at, total = total, total + len(blob)
                entries[path] = entry
                blobs.append(blob)
                changed += fresh
        finally:
            if old_fd is not None:
                os.close(old_fd)
        if not changed and old is not None and set(entries) == set(old.runs):
            return False
        idx = Index(self._code, self._root_text(), entries)
        if not write(self.path, idx, blobs):
            return False
        self._index = idx
        self.saved_versions = {k: e.version for k, e in entries.items()}
        return True

    def _entries(self, order: list[RunData], lock: Any, old: Index | None,
                 old_fd: int | None) -> Iterator[tuple[str, tuple[Entry, bytes, bool]]]:
        """Every run the reader holds, newest first; then the file's entries of runs it has
        not read (an app closed mid-load keeps them) whose directory is still there."""
        for run in order:
            with lock:
                found = self._entry(run, old, old_fd)
            if found is not None:
                yield run.path, found
        if old is None or old_fd is None:
            return
        for key, prev in old.runs.items():
            if key in self.reader.runs or not os.path.isdir(self.reader.root / key):
                continue
            blob = read_blob(old_fd, prev)
            if blob is not None:
                yield key, (Entry(0, prev.length, prev.digest, prev.version, prev.segs), blob, False)

    def _entry(self, run: RunData, old: Index | None,
               old_fd: int | None) -> tuple[Entry, bytes, bool] | None:
        """A run's entry and pickle (hold the reader's lock); None: not worth caching."""
        if not isinstance(run.sink, RunSeries) or not run.segments or not _encodes(run.path):
            return None
        segs = []
        for name, seg in sorted(run.segments.items()):
            if seg.error is not None or seg.start is None or seg.offset <= 0 or not _encodes(name):
                return None
            try:
                fd = os.open(seg.path, os.O_RDONLY | os.O_NONBLOCK)
                try:
                    st = os.fstat(fd)
                    tail = tail_checksum(fd, seg.offset)
                finally:
                    os.close(fd)
            except OSError:
                return None
            # An mtime for a file read to its end only: a later write of the same size is seen.
            mtime = st.st_mtime_ns if st.st_size == seg.size else 0
            segs.append(Seg(name, st.st_dev, st.st_ino, seg.size, mtime, seg.offset, tail))
        prev = old.runs.get(run.path) if old is not None else None
        if prev is not None and old_fd is not None and prev.version == run.version and prev.segs == segs:
            blob = read_blob(old_fd, prev)
            if blob is not None:
                return Entry(0, len(blob), prev.digest, run.version, segs), blob, False
        try:
            blob = _dumps(run)
        except Exception:  # noqa: BLE001 - a value pickle cannot hold: that run is not cached
            return None
        return Entry(0, len(blob), checksum(blob), run.version, segs), blob, True


def _encodes(name: str) -> bool:
    """Whether a name can go in the index (a file name that is not UTF-8 cannot: its run is
    simply not cached)."""
    try:
        name.encode()
    except UnicodeError:
        return False
    return True


