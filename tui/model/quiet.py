"""Reads that change nothing a screen shows, left unposted (no Textual here).

A running run that logs nothing still writes: a heartbeat when it wrote nothing for 10 s
(logger/writer.py) and a system sample every 10 s (logger/system.py), so that a crash is
noticed. Posted, each was a RunsChanged: a table update, an alerts pass and a chart look for
a screen that stays the same. What they carry needs no post: the reader itself notes that the
file moved (its liveness: a gone writer is a state change, posted), the stall marker is the
screen's clock against the last *logged* time, and the System tab reads samples on its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from logger import events as ev
from logger.reader import Update

from .system_plots import GPU_COLUMN, gpu_cell

__all__ = ["Quiet", "QUIET_KINDS"]

# What such a read brings: nothing of it reaches a RunView but the sample's GPU cell.
QUIET_KINDS = frozenset({ev.Heartbeat, ev.SystemStats})


class Quiet:
    """Drops updates that bring only heartbeats and system samples, unless the table shows
    the GPU column and the run's GPU cell (all a sample moves on screen) changed. Called by
    the reading thread (and an edit's worker): a lost race costs one extra post."""

    def __init__(self) -> None:
        self._gpu: dict[str, str] = {}  # run path -> its GPU cell as last read

    def news(self, updates: Iterable[Update], columns: tuple[str, ...]) -> list[Update]:
        """The updates a screen has to hear of, in order; `columns`: the table's metric
        columns (RunStore.metrics). Choosing them again re-snapshots every run, so a GPU cell
        left stale while its column was hidden is fresh when it shows."""
        out = []
        shown = GPU_COLUMN in columns
        for u in updates:
            path = u.run.path
            gpu = gpu_cell(getattr(u.run.extras.get("system"), "values", None))
            same = self._gpu.get(path) == gpu or (not shown and path in self._gpu)
            self._gpu[path] = gpu
            if (same and not u.new and not u.state_changed and u.events
                    and all(type(e) in QUIET_KINDS for e in u.events)):
                continue
            out.append(u)
        return out
