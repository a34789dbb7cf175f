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
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events as ev
from . import index
from .discover import run_dirs, segment_entries
from .rundata import RunData
from .segment import SegmentReader

if TYPE_CHECKING:
    from .reader import RootReader, Update

SETTLED_NS = 2_000_000_000  # a run directory unchanged this long is trusted by its mtime


def first_scan(reader: RootReader, limit: int | None) -> list[Update | tuple[Any, ...]]:
    """Every run under the reader's root, in the order the walk meets them: restored from the
    cache where it holds the run unchanged (an Update's fields), read otherwise (Updates)."""
    cached = reader._index = index.load(reader.root)
    settled = time.time_ns() - SETTLED_NS
    updates: list[Update | tuple[Any, ...]] = []
    for project, run_dir in run_dirs(reader.root):
        key = f"{project.name}/{run_dir.name}"
        listing = cached.runs.get(index.key(key)) if cached.runs else None
        ident = _dir_id(run_dir, settled)
        if type(listing) is index.Listing and ident is not None and listing.dir_id == ident:
            done = _restore(reader, cached, project.name, run_dir, listing, _known(run_dir, listing))
            if done is not None:
                updates.append(done)
                continue
        segs = segment_entries(run_dir.path)
        if not segs:
            continue
        done = None
        if type(listing) is index.Listing:
            done = _restore(reader, cached, project.name, run_dir, listing, _listed(segs))
        if done is not None:
            if listing.dir_id != ident:  # type: ignore[union-attr]
                listing.dir_id, reader._index_dirty = ident, True  # type: ignore[union-attr]
            updates.append(done)
            continue
        updates += reader._read([Path(e.path) for e in segs], limit, stat_first=True)
        if key in reader.runs:
            reader.runs[key].dir_id = ident
    return updates


def _dir_id(run_dir: os.DirEntry[str], settled: int) -> tuple[int, int, int] | None:
    """A run directory's (device, inode, mtime), taken before it is listed; None unless it
    last changed before `settled` (a change within the same tick of a coarse filesystem clock
    would not move its mtime)."""
    try:
        st = run_dir.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns) if st.st_mtime_ns < settled else None


def _known(run_dir: os.DirEntry[str], listing: index.Listing) -> list[tuple[str, os.stat_result]] | None:
    """The segments of a directory unchanged since its listing was made: the listing's names
    (plain ASCII ones only), each stat'ed (not through a symlink); None if one is not there."""
    out = []
    for name in sorted(listing.sizes):
        if not (name.isascii() and name.endswith(ev.SEGMENT_SUFFIX) and name[:1] != "."
                and os.sep not in name and "\0" not in name):  # what a directory could list
            return None
        try:
            out.append((name, os.lstat(f"{run_dir.path}{os.sep}{name}")))
        except (OSError, ValueError):
            return None
    return out


def _listed(segs: list[os.DirEntry[str]]) -> list[tuple[str, os.stat_result]] | None:
    """The segments a directory listing found, each stat'ed (not through a symlink)."""
    try:
        return [(e.name, e.stat(follow_symlinks=False)) for e in segs]
    except OSError:
        return None


def _restore(reader: RootReader, cached: index.Cached, project: str, run_dir: os.DirEntry[str],
             listing: index.Listing, segs: list[tuple[str, os.stat_result]] | None,
             ) -> tuple[RunData, list[Any], bool, bool] | None:
    """The run restored and followed by `reader` (as an Update's fields), when its listing
    and every segment's entry hold it unchanged: `segs` (name, stat) are all its segments."""
    if not segs or len(listing.sizes) != len(segs):
        return None
    key = f"{project}/{run_dir.name}"
    taken: list[tuple[str, os.stat_result, index.Restored]] = []
    for name, st in segs:
        entry = cached.entries.get(index.key(f"{key}{os.sep}{name}"))
        if (entry is None or listing.sizes.get(index.key(name)) != entry.offset
                or not stat.S_ISREG(st.st_mode) or st.st_size != entry.offset or entry.size != entry.offset
                or (entry.dev, entry.ino, entry.mtime_ns) != (st.st_dev, st.st_ino, st.st_mtime_ns)):
            return None
        found = index.found(entry)
        if found is None:
            return None
        taken.append((name, st, found))
    got = index.restored(listing, listing.sizes)  # the sizes checked above, segment by segment
    if got is None:
        return None
    run = _follow(reader, project, run_dir, taken)
    changed = run.refresh_state()
    run.restore_listing(*got)
    reader._listed[run.path] = (listing.sizes, listing)
    return run, [], True, changed


def _follow(reader: RootReader, project: str, run_dir: os.DirEntry[str],
            taken: list[tuple[str, os.stat_result, Any]]) -> RunData:
    """A new run of `reader` whose segments start where their entries end (as _read_meta
    leaves a segment the cache holds unchanged)."""
    first = Path(f"{run_dir.path}{os.sep}{taken[0][0]}")  # one path parsed, its parent taken
    run_path = first.parent
    run = reader.runs[f"{project}/{run_dir.name}"] = RunData(
        run_path, project, run_dir.name, reader.keep_history, reader.meta)
    run.sink = reader.sink(run) if reader.sink is not None else None
    for name, st, found in taken:
        path = first if name == taken[0][0] else run_path / name
        seg = run.segments[name] = SegmentReader(path)
        reader._segments[path] = (run, seg)
        seg._header_ok = True  # checked when the entry was made
        seg.skipped, seg.counted_from = found.entry.skipped, found.entry.counted_from
        reader._apply_found(run, seg, found)
        seg.size, seg.mtime = st.st_size, st.st_mtime
        reader._unchanged.add(path)
        run.observe(seg)
    return run
