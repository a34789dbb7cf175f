"""The app idle (issue 14: <= 0.5 % of a core with a silent running run): a ticking age
repaints its cell alone, not its line across the table (Textual redraws every widget under a
dirty region's span), the chart panel does no work while its runs do not change, and a
system sample updates the table only for a GPU cell it shows."""

from __future__ import annotations

import time

from textual.geometry import Region

from logger import events as ev
from tests.idle_support import live_root, loaded
from tests.test_tui_support import append_events, wait_for
from tui.app import RunwatchApp
from tui.fmt import fmt_ago
from tui.model.system_plots import GPU_COLUMN
from tui.widgets.chart_panel import LIVE_INTERVAL, ChartPanel
from tui.widgets.run_table import RunTable

IDLE = 2.5  # seconds watched idle


async def test_a_silent_running_runs_ticking_age_repaints_its_cell_alone(tmp_path):
    root, live = live_root(tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot, 7, settle=0.3)
        # A log now: its age ticks each second from here, however long the app took to start.
        panel = screen.query_one(ChartPanel)
        append_events(live, [ev.Log(step=3, time=time.time(), values={"loss": 0.01})])
        await wait_for(pilot, lambda: screen.model.views["proj/live01"].step == 3
                       and panel.up_to_date(), timeout=LIVE_INTERVAL + 3)
        await pilot.pause(0.3)
        frames: list[list[Region]] = []
        compositor = screen._compositor
        render = compositor.render_partial_update

        def watched():  # what each frame repaints, then Textual's own rendering
            frames.append(sorted(compositor._dirty_regions))
            return render()

        compositor.render_partial_update = watched  # type: ignore[method-assign]
        await pilot.pause(IDLE)
        table = screen.query_one(RunTable)
        updated = next(c for c in screen.model.cols if c.key.name == "updated")
        regions = [r for frame in frames for r in frame]
        assert regions, "the live run's age did not tick on screen"
        assert len(frames) <= IDLE + 2  # about once a second
        # Only the age cell of the live row (the top one): not its line, nor a row off screen.
        top = table.region.y + 1
        assert all(r.width <= updated.width and r.height == 1 and r.y == top for r in regions), \
            regions


async def test_the_chart_panel_does_no_work_while_its_runs_do_not_change(tmp_path, monkeypatch):
    root, live = live_root(tmp_path)
    looks: list[float] = []
    look = ChartPanel._tick

    def counted(self):
        looks.append(time.monotonic())
        look(self)

    monkeypatch.setattr(ChartPanel, "_tick", counted)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot, 7, settle=0.3)
        panel = screen.query_one(ChartPanel)
        assert panel.target is not None and panel.target.paths == ("proj/live01",)
        before = len(looks)
        await pilot.pause(IDLE)
        assert len(looks) == before, "the panel looked for changes with nothing changed"
        # ...and a step the run logs is still charted, within LIVE_INTERVAL of the last draw.
        draws = panel.draws
        append_events(live, [ev.Log(step=3, time=time.time(), values={"loss": 0.01})])
        await wait_for(pilot, lambda: panel.draws > draws and panel.up_to_date(),
                       timeout=LIVE_INTERVAL + 2)


def test_a_silent_runs_age_changes_fifteen_times_in_its_first_minute_not_sixty():
    # Each change is a repaint (~2.5 ms of a frame): seconds while it is fresh, then tens.
    t = 1_700_000_000.0
    shown = [fmt_ago(t, t + s) for s in range(60)]
    assert len(set(shown)) == 15
    assert shown[:10] == [f"{s}s" for s in range(10)] and shown[10] == shown[19] == "10s"
    assert shown[59] == "50s" and fmt_ago(t, t + 60) == "1m"


async def test_a_gpu_sample_reaches_the_table_only_while_its_gpu_column_shows(tmp_path):
    root, live = live_root(tmp_path)
    path = "proj/live01"

    def sample(util: float) -> None:
        append_events(live, [ev.SystemStats(time=time.time(), values={
            "gpu.0.gpu": util, "gpu.0.memoryAllocatedBytes": 1e9, "gpu.0.memoryTotalBytes": 8e10})])

    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot, 7, settle=0.3)
        store = pilot.app.store

        def read() -> object:  # the sample the reader holds (it has read the file that far)
            last = store.with_runs([path], lambda runs: runs[0].extras.get("system"))
            return None if last is None else last.values.get("gpu.0.gpu")

        applied = screen.applied
        for util in (10.0, 90.0):
            sample(util)
            await wait_for(pilot, lambda u=util: read() == u)
        await pilot.pause(0.3)  # the table's MIN_INTERVAL, had anything been posted
        assert screen.applied == applied, "a sample made a table update with no GPU column shown"
        screen._set_metrics((*screen.model.metrics, GPU_COLUMN))  # as the metric picker does
        screen.refresh_table()
        await wait_for(pilot, lambda: screen.model.views[path].gpu.startswith("GPU 90%"))
        sample(40.0)  # shown: a new cell is drawn
        await wait_for(pilot, lambda: screen.model.views[path].gpu.startswith("GPU 40%"))
