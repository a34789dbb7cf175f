"""`tail --until-done` waits for the runs it is asked about, or for a run that starts after it
when none is named: old failed runs in the root do not end the wait at once (issue 13)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.test_cli_support import reap, spawn, stop
from tests.test_tui_support import write_run


def test_until_done_ignores_old_failed_runs_and_waits_for_a_new_one(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_run(root, "old00001", name="old-failure", state="failed", steps=3, t0=1_600_000_000.0)
    write_run(root, "old00002", name="old-success", steps=3, t0=1_600_000_100.0)
    tail = spawn("tail", str(root), "--until-done")
    try:
        assert tail.stderr is not None
        said = tail.stderr.readline()
        assert "waiting for a run to start" in said and "-r" in said
        time.sleep(1.5)
        assert tail.poll() is None, "tail --until-done ended on runs that ended before it started"
        write_run(root, "new00001", name="new-run", steps=3, t0=time.time())
        assert reap(tail, timeout=20) == 0  # the new run finished: the old failure is not its
    finally:
        stop(tail)
