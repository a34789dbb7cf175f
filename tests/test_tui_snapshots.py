"""SVG snapshots of the main screens over the committed sample root (tests/data/sample_root).

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`,
then look at the SVGs in tests/snapshots/ before committing them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from pytest_textual_snapshot import SVGImageExtension

from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.model import runview
from tui.model.columns import ColumnKey
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.widgets.chart import Chart
from tui.widgets.chart_panel import ChartPanel
from tui.widgets.run_table import RunTable
from tui.widgets.workspace import Workspace

SAMPLE = Path(__file__).parent / "data" / "sample_root"
NOW = 1_700_010_000.0  # the clock the table reads: "updated" columns stay put


class Snapshots(SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location):  # type: ignore[no-untyped-def]
        return str(Path(__file__).parent / "snapshots" / test_location.basename)


@pytest.fixture
def sample(tmp_path, monkeypatch):
    """A copy of the sample root whose files look old, so the crashed run reads crashed."""
    root = tmp_path / "sample_root"
    shutil.copytree(SAMPLE, root)
    for path in root.rglob("*"):
        os.utime(path, (NOW - 3600, NOW - 3600))
    monkeypatch.setattr(runview, "clock", lambda: NOW)
    monkeypatch.chdir(tmp_path)  # the status line shows the root as given: keep it constant
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield Path("sample_root")
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def svg(snapshot):
    return snapshot.use_extension(Snapshots)


async def loaded(pilot) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.store.loaded and len(screen.model.views) == 14
                   and screen.model.metrics and all(v.sparks for v in screen.model.views.values()))
    await charts_drawn(pilot, screen)
    await pilot.pause(0.2)
    return screen


async def charts_drawn(pilot, screen: MainScreen) -> None:
    """The workspace's chart panel (where the size shows it) has drawn what it charts now."""
    work, panel = screen.query_one(Workspace), screen.query_one(ChartPanel)
    await wait_for(pilot, lambda: work.placement == "hidden" or (
        panel.charts() and all(c.plot is not None for c in panel.charts())
        and all(legend_is(c.plot, panel) for c in panel.charts())
        and (not screen.store.loaded or panel.up_to_date())), timeout=15)


def legend_is(plot, panel: ChartPanel) -> bool:  # type: ignore[no-untyped-def]
    """The plot is of the panel's current target (not one drawn before the cursor moved)."""
    target = panel.target
    want = len(target.paths) if target is not None and not target.group else None
    return want is None or sum(1 for ln in plot.lines if ln.label) == want


async def shot(pilot) -> str:
    await pilot.pause(0.1)
    return pilot.app.export_screenshot()


async def test_main_table(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert await shot(pilot) == svg


async def test_main_table_80x24(sample, svg):
    async with RunwatchApp(sample).run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert await shot(pilot) == svg


async def test_workspace_120x40(sample, svg):
    """The main screen at 120x40: the charts of the run under the cursor below the table."""
    async with RunwatchApp(sample).run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("down")
        await charts_drawn(pilot, screen)
        assert await shot(pilot) == svg


async def test_workspace_marked_overlay_120x40(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("down", *["space"] * 7)
        assert len(screen.model.marked) == 7
        await charts_drawn(pilot, screen)
        assert await shot(pilot) == svg


async def test_workspace_beside_200x50(sample, svg):
    async with RunwatchApp(sample).run_test(size=(200, 50)) as pilot:
        screen = await loaded(pilot)
        await wait_for(pilot, lambda: screen.query_one(Workspace).placement == "right")
        await charts_drawn(pilot, screen)
        assert await shot(pilot) == svg


async def test_grouped_all_but_seed_with_marks(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("g", *"except seed", "enter", "enter")
        screen.query_one(RunTable).move_to(0)  # the cursor kept its run, inside a group
        await pilot.press("down", "space", "space")
        assert len(screen.model.marked) == 4  # a group of one, then a group of three
        assert await shot(pilot) == svg


async def test_filtered_and_sorted(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash", *"optimizer:adam lr<=3e-3", "enter", "s", *"loss", "enter")
        assert screen.model.sort_key == ColumnKey.metric("loss")
        assert await shot(pilot) == svg


async def test_detail_charts_overlay(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 34)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("space", "space", "enter")
        detail = pilot.app.screen
        assert isinstance(detail, DetailScreen)
        await wait_for(pilot, lambda: detail.draws >= 1 and all(
            c.plot is not None for c in detail.query(Chart) if c.display))
        await pilot.press("plus", "plus", "plus")
        await wait_for(pilot, lambda: "smoothing 0.7" in detail.query(Chart).first().plot.note)
        del screen
        assert await shot(pilot) == svg


async def test_group_band_chart(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 34)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("g", *"lr", "enter", "enter")
        screen.query_one(RunTable).move_to(0)
        await pilot.press("enter")
        detail = pilot.app.screen
        await wait_for(pilot, lambda: detail.draws >= 1 and all(
            c.plot is not None for c in detail.query(Chart) if c.display))
        assert await shot(pilot) == svg


async def test_help(sample, svg):
    async with RunwatchApp(sample).run_test(size=(100, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("c")  # the charts hidden: the snapshot is of the help, not of live data
        await pilot.pause(0.2)
        await pilot.press("question_mark")
        assert await shot(pilot) == svg


async def test_importance(sample, svg):
    async with RunwatchApp(sample).run_test(size=(120, 34)) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        assert await shot(pilot) == svg
