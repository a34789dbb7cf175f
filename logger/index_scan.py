"""A meta-mode reader's first scan of a root the index cache (logger/index.py) knows.

A run whose every segment is as the cache left it (same identity, size and mtime, read to its
end, the run's listing made from exactly those sizes) is restored at once: one stat per
segment, taken from the directory walk, and no event read, decoded or replayed (RunData
applies an entry's detail when first needed: logger/runrestore.py). Any other run is read as
RootReader._read reads it. Discovery is RootReader's: ROOT/<project>/<run>/*.rws, projects
whose name starts with a dot left out, only regular segment files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events as ev
from . import index
from .rundata import RunData
from .segment import SegmentReader

if TYPE_CHECKING:
    from .reader import RootReader, Update


def first_scan(reader: RootReader, limit: int | None) -> list[Update | tuple[Any, ...]]:
    """Every run under the reader's root, in the order the walk meets them: restored from the
    cache where it holds the run unchanged (an Update's fields), read otherwise (Updates)."""
    cached = reader._index = index.load(reader.root)
    updates: list[Update | tuple[Any, ...]] = []
    for project in _scandir(reader.root):
        if not _is_dir(project) or project.name.startswith("."):
            continue
        for run_dir in _scandir(project.path):
            if not _is_dir(run_dir):
                continue
            segs = _segments(run_dir.path)
            if not segs:
                continue
            done = _restore(reader, cached, project.name, run_dir, segs) if cached.runs else None
            if done is not None:
                updates.append(done)
            else:
                updates += reader._read([Path(e.path) for e in segs], limit, stat_first=True)
    return updates


def _segments(run_dir: str) -> list[os.DirEntry[str]]:
    """A run directory's segment files, by name (as reader.segment_files finds them)."""
    found = []
    for entry in _scandir(run_dir):
        name = entry.name
        if name.endswith(ev.SEGMENT_SUFFIX) and name[:1] != ".":
            try:
                regular = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if regular:
                found.append((name, entry))
    found.sort(key=lambda f: f[0])
    return [e for _, e in found]


def _scandir(path: str | os.PathLike[str]) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(os.fspath(path)) as it:
            return list(it)
    except (OSError, ValueError):  # gone, unreadable, or a name with a NUL in it
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _restore(reader: RootReader, cached: index.Cached, project: str, run_dir: os.DirEntry[str],
             segs: list[os.DirEntry[str]]) -> tuple[RunData, list[Any], bool, bool] | None:
    """The run restored and followed by `reader` (as an Update's fields), when the cache
    holds it unchanged."""
    key = f"{project}/{run_dir.name}"
    listing = cached.runs.get(index.key(key))
    if type(listing) is not index.Listing or len(listing.sizes) != len(segs):
        return None
    taken: list[tuple[os.DirEntry[str], os.stat_result, index.Restored]] = []
    for dentry in segs:
        entry = cached.entries.get(index.key(f"{key}{os.sep}{dentry.name}"))
        if entry is None or listing.sizes.get(index.key(dentry.name)) != entry.offset:
            return None
        try:
            st = dentry.stat(follow_symlinks=False)  # a regular file: what os.stat says
        except OSError:
            return None
        if (not stat.S_ISREG(st.st_mode) or st.st_size != entry.offset or entry.size != entry.offset
                or (entry.dev, entry.ino, entry.mtime_ns) != (st.st_dev, st.st_ino, st.st_mtime_ns)):
            return None
        found = index.found(entry)
        if found is None:
            return None
        taken.append((dentry, st, found))
    got = index.restored(listing, listing.sizes)  # the sizes checked above, segment by segment
    if got is None:
        return None
    run = _follow(reader, project, run_dir, taken)
    changed = run.refresh_state()
    run.restore_listing(*got)
    reader._listed[run.path] = listing
    return run, [], True, changed


def _follow(reader: RootReader, project: str, run_dir: os.DirEntry[str],
            taken: list[tuple[os.DirEntry[str], os.stat_result, Any]]) -> RunData:
    """A new run of `reader` whose segments start where their entries end (as _read_meta
    leaves a segment the cache holds unchanged)."""
    run_path = Path(run_dir.path)
    run = reader.runs[f"{project}/{run_dir.name}"] = RunData(
        run_path, project, run_dir.name, reader.keep_history, reader.meta)
    run.sink = reader.sink(run) if reader.sink is not None else None
    for dentry, st, found in taken:
        path = run_path / dentry.name
        seg = run.segments[dentry.name] = SegmentReader(path)
        reader._segments[path] = (run, seg)
        seg._header_ok = True  # checked when the entry was made
        seg.skipped = found.entry.skipped
        reader._apply_found(run, seg, found)
        seg.size, seg.mtime = st.st_size, st.st_mtime
        reader._unchanged.add(path)
        run.observe(seg)
    return run
