"""The App looks for new alerts in one worker at a time (issue 14): a cold open posts
hundreds of RunsChanged, and a thread worker for each one was as many threads."""

from __future__ import annotations

import threading

from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.messages import RunsChanged
from tui.model.alerts import AlertTracker


async def test_alert_workers_are_coalesced_and_look_once_more(tmp_path, monkeypatch):
    sweep(tmp_path / "runs", 3)
    gate, calls = threading.Event(), []
    drain = AlertTracker.drain

    def slow_drain(self, with_runs):  # type: ignore[no-untyped-def]
        calls.append(len(self._queue))
        gate.wait(10)
        return drain(self, with_runs)

    monkeypatch.setattr(AlertTracker, "drain", slow_drain)
    app = RunwatchApp(tmp_path / "runs")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(calls) and app.store.loaded)
        for _ in range(20):
            app.on_runs_changed(RunsChanged({}))
        await pilot.pause(0.2)
        assert len(calls) == 1  # one worker waits in drain; the messages only mark "again"
        assert len([w for w in app.workers if w.group == "alerts"]) == 1
        gate.set()
        await wait_for(pilot, lambda: not [w for w in app.workers
                                           if w.group == "alerts" and w.is_running])
        assert len(calls) == 2 and not app.alerts._queue  # looked once more: nothing left
        app.on_runs_changed(RunsChanged({}))  # idle again: the next message starts a worker
        await wait_for(pilot, lambda: len(calls) == 3)
