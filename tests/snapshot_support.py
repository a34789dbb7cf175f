"""Runs written with the writer's snapshots, for the tests (test_tui_support.write_run writes
files without any, as before snapshots existed).

The logger's own Tracker (logger/snapshot.py) counts what the frames hold and makes each
Snapshot frame, left where the writer leaves them: every SNAPSHOT_EVERY bytes of frames and
after the Finish (the framer drains the finish's request with the Finish event itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logger import events as ev
from logger.snapshot import SNAPSHOT_EVERY, KeyStat, Tracker
from tests.test_tui_support import run_events


def snapshot_segment(events: list[ev.Event]) -> bytes:
    """A segment of these events (the first a SegmentStart), one frame each, with snapshots."""
    seen = Tracker()
    data = bytearray(ev.HEADER) + ev.encode(events[0])
    last: dict[str, Any] = {}

    def snapshot() -> None:
        seen.since = 0
        # A run's stats for keys without define_metric (logger/run_extras.py): last values.
        frame = seen.snapshot({k: KeyStat(last=v, agg=False,
                                          numeric=type(v) in (int, float))
                               for k, v in last.items()})
        assert frame is not None
        data.extend(frame)

    for event in events[1:]:
        chunk = ev.encode_event(event)
        seen.note([chunk])
        framed = ev.frame([chunk])
        data += framed
        seen.since += len(framed)
        if type(event) is ev.Log:
            last.update(event.values)
        if seen.since >= SNAPSHOT_EVERY:
            snapshot()
    if type(events[-1]) is ev.Finish:  # finish() asks for one; a crashed writer leaves none
        snapshot()
    return bytes(data)


def write_snap_run(root: Path, run_id: str, project: str = "proj", **kw: Any) -> Path:
    """write_run's run (same arguments, same events), with the writer's snapshots."""
    run_dir = root / project / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    data = snapshot_segment(run_events(run_id, project=project, **kw))
    (run_dir / f"20240101T000000-script-1-{run_id[:6]}{ev.SEGMENT_SUFFIX}").write_bytes(data)
    return run_dir
