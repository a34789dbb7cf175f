"""When the run table's text next changes by time alone (no Textual here): an age stepping
on (seconds, tens, minutes), a running run's runtime, a running run turning stalled. The main
screen sets one timer for the soonest of these, instead of a tick each second that mostly
found nothing to repaint (an idle table of finished runs: a wakeup a minute, or none).
Changes less than GATHER apart are drawn at once, at the last of them (an age and a runtime
tick at their own fractions of a second: one frame a second, not two), so a text shows at
most GATHER late: as late as a tick each second showed it."""

from __future__ import annotations

from collections.abc import Iterable

from ..fmt import ago_changes_at, duration_changes_at
from ..model import runview
from ..model.table_model import Row

GATHER = 1.0  # seconds


def next_change(rows: Iterable[Row], now: float, ages: bool, runtimes: bool) -> float | None:
    """The moment to draw the next texts of `rows` (the last change within GATHER of the
    soonest after `now`); None: none will change. `ages`, `runtimes`: whether the "updated"
    and "runtime" columns are on screen."""
    times: list[float | None] = []
    for row in rows:
        if row.run is None:
            if ages and row.group is not None and row.group.runs:
                times.append(ago_changes_at(max(v.logged_at for v in row.group.runs), now))
            continue
        v = row.run
        if ages:
            times.append(ago_changes_at(v.logged_at, now))
        if v.state == "running":
            if runtimes:
                times.append(duration_changes_at(v.created_at, now))
            if v.logged and not v.stalled(now):  # runview.is_stalled's deadline
                times.append(v.logged_at + max(runview.STALL_AFTER,
                                               runview.STALL_FACTOR * v.log_interval))
    due = [t for t in times if t is not None]
    if not due:
        return None
    soonest = min(due)
    return max(t for t in due if t < soonest + GATHER)
