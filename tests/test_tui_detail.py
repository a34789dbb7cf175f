"""Pilot tests of the detail screen (charts and their controls, info tabs, group bands) and
of the parameter-importance screen."""

from __future__ import annotations

import math

import pytest

from tests.test_tui_main import started
from tests.test_tui_support import sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.model.plot import DIM
from tui.screens.detail import DetailScreen
from tui.screens.edit import TagsScreen
from tui.screens.help import HelpScreen
from tui.screens.importance import ImportanceScreen
from tui.screens.pick import PickScreen
from tui.widgets.chart import Chart
from tui.widgets.run_table import RunTable


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 6)
    return root


async def open_detail(pilot, keys=("enter",)) -> DetailScreen:
    await pilot.press(*keys)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    detail = pilot.app.screen
    await wait_for(pilot, lambda: detail.draws >= 1)
    return detail


def plots(detail: DetailScreen):
    return [c.plot for c in detail.query(Chart) if c.display]


async def redrawn(pilot, detail: DetailScreen, check) -> None:
    await wait_for(pilot, lambda: all(p is not None and check(p) for p in plots(detail)))


async def test_detail_charts_the_run_and_overlays_marked_runs(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        first = screen.query_one(RunTable).current.run
        await pilot.press("space")  # mark the first run; the cursor moves to the second
        second = screen.query_one(RunTable).current.run
        detail = await open_detail(pilot)
        assert detail.paths == [second.path, first.path]
        loss = plots(detail)[0]
        assert loss.title == "loss"
        assert {line.label for line in loss.lines if line.label} == {first.name, second.name}
        ys = [line.ys for line in loss.lines if line.label == second.name][0]
        assert max(ys) == pytest.approx(second.metric("loss") * 20)  # step 0 of lr*10/(s+1)
        chart = detail.query(Chart).first()
        await wait_for(pilot, lambda: chart.builds >= 1)
        assert "loss" in str(chart.render_lines(chart.region.reset_offset)[0].text)
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_chart_controls_smoothing_log_x_axis(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot)
        detail = await open_detail(pilot)
        await pilot.press("plus")
        assert detail.opts.smoothing == 0.5
        await redrawn(pilot, detail, lambda p: "smoothing 0.5" in p.note)
        loss = plots(detail)[0]
        smooth = [line for line in loss.lines if line.label]
        raw = [line for line in loss.lines if line.color == DIM]
        assert len(smooth) == 1 and len(raw) == 1  # the raw curve stays, dimmed, behind
        assert smooth[0].ys[-1] > raw[0].ys[-1]  # an EMA lags behind a falling curve
        await pilot.press("minus")
        assert detail.opts.smoothing == 0.0
        await pilot.press("l")
        await redrawn(pilot, detail, lambda p: p.log_y)
        await pilot.press("x")
        await redrawn(pilot, detail, lambda p: p.x_axis == "_runtime")
        assert plots(detail)[0].lines[0].xs[0] == 0.0  # seconds since the run's first row
        await pilot.press("x")
        await redrawn(pilot, detail, lambda p: p.x_axis == "_timestamp")
        assert plots(detail)[0].lines[0].xs[0] > 1e9
        await pilot.press("x")
        assert detail.opts.x_axis == "_step"


async def test_pick_metrics_to_chart(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot)
        detail = await open_detail(pilot)
        assert detail.opts.metrics == ("loss", "acc")
        await pilot.press("m")
        assert isinstance(pilot.app.screen, PickScreen)
        await pilot.press(*"loss", "enter", "enter")
        assert detail.opts.metrics == ("acc",)
        await redrawn(pilot, detail, lambda p: p.title == "acc")
        assert len(plots(detail)) == 1


async def test_group_chart_draws_mean_and_band(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        await pilot.press("g", *"lr", "enter", "enter")
        table = screen.query_one(RunTable)
        group_row = next(i for i, r in enumerate(screen.model.rows) if r.kind == "group")
        table.move_to(group_row)
        group = screen.model.rows[group_row].group
        detail = await open_detail(pilot)
        assert detail.group and len(detail.paths) == 2
        loss = plots(detail)[0]
        mean = [line for line in loss.lines if line.label and line.label.startswith("mean of 2")]
        assert len(mean) == 1
        lr = group.runs[0].config_flat["lr"]
        assert mean[0].ys[0] == pytest.approx(lr * 10, rel=1e-6)  # both seeds log the same curve
        band = [line for line in loss.lines if line.color == DIM]
        assert len(band) == 2 and band[0].label == "±std"
        await pilot.press("b")
        await redrawn(pilot, detail, lambda p: any(ln.label == "min-max" for ln in p.lines))
        await pilot.press("2")
        text = str(detail.query_one("#info-run").render())
        assert all(v.name in text for v in group.runs)


async def test_info_tabs_show_metadata_config_summary_files(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        detail = await open_detail(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: "train.py" in str(detail.query_one("#info-run").render()))
        text = str(detail.query_one("#info-run").render())
        for field in ("host", "pid", "command", "git", "abc123", run.id):
            assert field in text
        await pilot.press("3")
        await wait_for(pilot, lambda: "lr" in str(detail.query_one("#info-config").render()))
        await pilot.press("4")
        await wait_for(pilot, lambda: "loss" in str(detail.query_one("#info-summary").render()))
        await pilot.press("5")
        await wait_for(pilot, lambda: "artifacts" in str(detail.query_one("#info-files").render()))
        await pilot.press("1")
        assert detail.query_one("#detail-tabs").active == "charts"


async def test_edit_tags_from_the_detail_screen(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        await open_detail(pilot)
        await pilot.press("t")
        assert isinstance(pilot.app.screen, TagsScreen)
        await pilot.press(*", from-detail", "enter")
        await wait_for(pilot, lambda: "from-detail" in screen.model.views[run.path].tags)


async def test_help_on_the_detail_screen(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await open_detail(pilot)
        await pilot.press("question_mark")
        keys = dict(pilot.app.screen.keys)
        assert isinstance(pilot.app.screen, HelpScreen)
        for key in ("+", "-", "l", "x", "m", "esc"):
            assert key in keys, key


async def test_a_long_history_is_decimated_to_the_chart_width(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "long01", name="long", steps=50_000,
              metrics=lambda i: {"loss": math.sin(i / 1000) + (5.0 if i == 31_337 else 0.0)})
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        screen = await started(pilot, runs=1)
        await wait_for(pilot, lambda: screen.store.loaded)
        detail = await open_detail(pilot)
        await wait_for(pilot, lambda: plots(detail)[0].lines)
        line = plots(detail)[0].lines[0]
        assert len(line.xs) <= 2 * detail.query(Chart).first().size.width * 2
        assert max(line.ys) == pytest.approx(5.0 + math.sin(31.337))  # the spike survives


async def test_importance_table_and_parallel_coordinates(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot)
        await pilot.press("i")
        screen = pilot.app.screen
        assert isinstance(screen, ImportanceScreen)
        assert screen.metric == "loss"
        assert screen.rows[0][0] == "lr" and screen.rows[0][2] > 0.9
        chart = screen.query_one("#imp-parallel", Chart)
        assert len(chart.plot.lines) == 6  # one line per run with a loss
        await pilot.press("m", *"acc", "enter")
        assert screen.metric == "acc"
        assert screen.rows[0][0] == "lr" and screen.rows[0][2] < -0.9
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, ImportanceScreen)
