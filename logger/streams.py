"""Reading back the system-metrics and console streams of a run.

    system_rows(run_dir, created_at)   W&B's `history(stream="system")` rows: system.* keys
    ConsoleFollower(run_dir)           new console chunks, segment by segment, by offset
    OutputRenderer                     chunks -> lines as the terminal showed them
    ConsoleLog(run_dir)                W&B's `run.file("output.log").download()`

Segments are read in bounded chunks and chunks are turned into lines as they come, so memory
stays bounded by the longest line, not by the run's output.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import events as ev
from .atomic import write_atomic
from .runfiles import File
from .sampling import positions
from .segment import SegmentReader

READ_CHUNK = 4 * 1024 * 1024
SYSTEM_PREFIX = "system."
_SGR = re.compile(r"\x1b\[[0-9;:]*m")  # colour and attribute sequences: they carry no text


def _segments(run_dir: Path) -> list[Path]:
    try:
        return sorted(p for p in run_dir.iterdir() if p.name.endswith(ev.SEGMENT_SUFFIX))
    except OSError:
        return []


def _events_of(seg: SegmentReader, kind: type) -> Iterator[Any]:
    """Every event of `kind` that `seg` has beyond its offset, read a bounded chunk at a time."""
    while True:
        before = seg.offset
        events = seg.read_new(READ_CHUNK)
        yield from (e for e in events if type(e) is kind)
        if seg.offset == before:
            return


def _by_time(run_dir: Path, kind: type) -> Iterator[Any]:
    """Events of `kind` from every segment of the run, merged in time order."""
    streams = [_events_of(SegmentReader(p), kind) for p in _segments(run_dir)]
    return heapq.merge(*streams, key=lambda e: e.time)


# -- system metrics ---------------------------------------------------------------------------
def system_rows(run_dir: Path, created_at: float) -> list[dict[str, Any]]:
    """Every system sample, as W&B's Public API returns them for `stream="system"`."""
    rows = []
    for e in _by_time(run_dir, ev.SystemStats):
        row: dict[str, Any] = {SYSTEM_PREFIX + k: v for k, v in e.values.items()}
        row.update(_wandb={"runtime": e.time - created_at}, _timestamp=e.time,
                   _runtime=e.time - created_at)
        rows.append(row)
    return rows


def system_history(run_dir: Path, created_at: float, samples: int, keys: Any, pandas: bool,
                   stream: str = "system") -> Any:
    """`Run.history(stream="system")` (or "events"): up to `samples` rows, picked as the logged
    metrics' are (logger/sampling.py: the first, the last, seeded picks between)."""
    if stream not in ("system", "events"):
        raise ValueError(f"history(stream={stream!r}): use 'default' for logged metrics or "
                         "'system' for system metrics")
    rows = system_rows(run_dir, created_at)
    if keys is not None:
        wanted = [k if k.startswith(SYSTEM_PREFIX) or k.startswith("_") else SYSTEM_PREFIX + k
                  for k in keys]
        rows = [{k: r[k] for k in ("_timestamp", "_runtime", *wanted) if k in r} for r in rows
                if any(k in r for k in wanted)]
    if samples < 0:
        raise ValueError(f"history(samples={samples}): a number of rows, or 0 for every row")
    if samples and len(rows) > samples:
        rows = [rows[i] for i in positions(len(rows), samples)]
    if not pandas:
        return rows
    try:
        import pandas as pd  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise ImportError("history() returns a pandas DataFrame, and pandas is not installed: "
                          "pip install 'runwatch[pandas]', or pass pandas=False") from None
    return pd.DataFrame(rows)


# -- console ----------------------------------------------------------------------------------
class OutputRenderer:
    """Console chunks in, lines out, each `(time, stream, text)` as the terminal last showed
    it: a chunk that starts with "\\r" redraws its stream's unfinished line."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[float, str]] = {}  # stream -> (time, unfinished line)

    def feed(self, chunk: ev.ConsoleChunk) -> list[tuple[float, str, str]]:
        text, stream = chunk.text, chunk.stream
        t, line = self._open.pop(stream, (chunk.time, ""))
        if text.startswith("\r"):
            text, line, t = text[1:], "", chunk.time
        parts = text.split("\n")
        out = []
        for part in parts[:-1]:
            out.append((t, stream, line + part))
            line, t = "", chunk.time
        line += parts[-1]
        if line:
            self._open[stream] = (t, line)
        return out

    def unfinished(self) -> list[tuple[float, str, str]]:
        """The lines still open (a progress bar when the run stopped), oldest first."""
        out = sorted((t, s, line) for s, (t, line) in self._open.items())
        self._open.clear()
        return out


def console_lines(run_dir: Path) -> Iterator[tuple[float, str, str]]:
    """Every console line of the run, in order, the unfinished ones last."""
    renderer = OutputRenderer()
    for chunk in _by_time(run_dir, ev.ConsoleChunk):
        yield from renderer.feed(chunk)
    yield from renderer.unfinished()


class ConsoleFollower:
    """Follows a run directory's console chunks by offset, taking up new segments as they come."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._segs: dict[Path, SegmentReader] = {}

    def read_new(self) -> list[ev.ConsoleChunk]:
        """What was written since the last call, in time order."""
        for path in _segments(self.run_dir):
            if path not in self._segs:
                self._segs[path] = SegmentReader(path)
        chunks = [c for seg in self._segs.values() for c in _events_of(seg, ev.ConsoleChunk)]
        chunks.sort(key=lambda c: c.time)
        return chunks


LAST_LINE_KEEP = 1024  # characters of the last console line a reader keeps per run


def last_line(text: str, previous: str = "") -> str:
    """The last non-blank line a console chunk leaves on screen (a `\\r` bar at its last redraw),
    or `previous` when the chunk has none: what the run table's console column shows."""
    tail = text.rstrip()
    line = tail[tail.rfind("\n") + 1:]
    parts = [part for part in line.split("\r") if part.strip()]
    return parts[-1][:LAST_LINE_KEEP] if parts else previous


def terminal_text(line: str) -> str:
    """A stored console line as it may be printed: colours dropped, every other control
    character and escape sequence shown as an escape (textsafe)."""
    from .textsafe import safe_text

    return safe_text(_SGR.sub("", line))


# -- files ------------------------------------------------------------------------------------
class ConsoleLog(File):
    """W&B's `run.file("output.log")`: the console, rendered from the run's ConsoleChunk
    events (a run whose script saved a file of that name gets that file instead)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        size = sum(len(text.encode()) + 1 for _t, _s, text in console_lines(run_dir))
        super().__init__("output.log", size, run_dir / "files", "end")

    def download(self, root: str | os.PathLike[str] = ".", replace: bool = False,
                 exist_ok: bool = False, api: Any = None) -> Any:
        """Write the console under `root` (as W&B does) and return it opened for reading."""
        dest = Path(root) / self.name
        if dest.exists() and not replace:
            if exist_ok:
                return open(dest, encoding="utf-8", errors="replace")
            raise ValueError(f"{dest} already exists: pass replace=True to overwrite it, or "
                             "exist_ok=True to keep it")
        # A copy out of the run, made again at will: no fsync.
        write_atomic(dest, ((text + "\n").encode("utf-8", "replace")
                            for _t, _s, text in console_lines(self.run_dir)))
        return open(dest, encoding="utf-8", errors="replace")
