"""When a run last logged and whether it has stalled: what `runwatch ls/show` need of the
app's run model, apart from it (tui/model/runview.py re-exports these), so the headless
commands never import the charts, palette and plots that RunView's module holds."""

from __future__ import annotations

from logger.rundata import RunData

from .decimate import RunSeries

STALL_AFTER = 60.0  # seconds without a log before a running run can read as stalled...
STALL_FACTOR = 10.0  # ...and this many times its usual (median) interval between logs


def last_logged(run: RunData) -> float:
    """When the run last logged (wandb.log, or its finish): not a heartbeat, system stats or
    an edit, so a hung run's "updated" keeps growing. Its start before the first log."""
    t = run.summary_flat().get("_timestamp")
    t = float(t) if isinstance(t, (int, float)) and t == t else 0.0
    if run.finished_at and run.finished_at > t:
        t = run.finished_at
    return t if t > 0 else run.created_at


def log_interval(run: RunData) -> float:
    """The median gap between the run's recent logs of its most logged metric (0: unknown)."""
    if isinstance(run.sink, RunSeries):  # the app's reader: recent row times are kept
        return run.sink.interval()
    history = run.history
    counts = {key: history.numeric_count(key) for key in history.numeric_keys()}
    if not counts:
        return 0.0
    key = max(counts, key=lambda k: counts[k])
    times, _values = history.values_since(key, max(0, counts[key] - 65), "_timestamp")
    ordered = sorted(times)
    gaps = sorted(b - a for a, b in zip(ordered, ordered[1:]) if b > a)
    return gaps[len(gaps) // 2] if gaps else 0.0


def is_stalled(state: str, logged: bool, logged_at: float, interval: float, now: float) -> bool:
    """A running run that has logged and then not for much longer than it usually takes."""
    limit = max(STALL_AFTER, STALL_FACTOR * interval)
    return state == "running" and logged and now - logged_at > limit
