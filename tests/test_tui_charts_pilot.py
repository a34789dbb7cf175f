"""Pilot tests of the detail screen's Charts tab: seven overlaid runs in the legend, zoom and
pan by keys, wheel and drag, the inspect cursor, highlight, the x-axis picker and define_metric
axes, smoothing kinds and the outlier toggle."""

from __future__ import annotations

import math
import re

import pytest
from textual import events

from logger import events as ev
from tests.test_tui_charts import _write
from tests.test_tui_support import run_events, wait_for
from tui.app import RunwatchApp
from tui.screens.detail import DetailScreen
from tui.screens.pick import PickScreen
from tui.widgets.chart import Chart

NAMES = ["resnet50-lr3e-4-bs128", "resnet50-lr1e-3-bs128", "vit-b16-lr3e-4-warmup",
         "vit-b16-lr1e-3-warmup", "convnext-t-lr5e-4", "efficientnet-b0-lr1e-3", "baseline-sgd"]


@pytest.fixture
def seven(tmp_path):
    """Seven runs of 200 steps logging HF-style train/loss on train/global_step, and a spike."""
    root = tmp_path / "runs"
    for i, name in enumerate(NAMES):
        def metrics(s, i=i):
            loss = 2.0 * math.exp(-s / (40 + 10 * i)) + 0.1 * i
            return {"loss": 60.0 if (i == 3 and s == 100) else loss,
                    "train/loss": loss, "train/global_step": s * 16}
        events = run_events(f"run{i:03d}", name=name, steps=200, metrics=metrics)
        events.insert(2, ev.DefineMetric(name="train/*", step_metric="train/global_step",
                                         summary=None, hidden=False, time=1_700_000_000.0))
        _write(root, f"run{i:03d}", events)
    return root


async def open_all(pilot) -> DetailScreen:
    app = pilot.app
    await wait_for(pilot, lambda: len(app.screen.model.visible_runs) == 7)
    await pilot.press(*["space"] * 6, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
    detail = app.screen
    await wait_for(pilot, lambda: detail.draws >= 1 and charts(detail)[0].builds >= 1)
    return detail


def charts(detail: DetailScreen) -> list[Chart]:
    return [c for c in detail.query_one("#chart-grid").query(Chart) if c.display]


def lines_text(chart: Chart) -> list[str]:
    return [str(s.text) for s in chart.render_lines(chart.region.reset_offset)]


async def redraw(pilot, detail: DetailScreen, check) -> None:
    await wait_for(pilot, lambda: all(c.plot is not None and check(c.plot) for c in charts(detail)))


async def test_seven_runs_are_all_in_the_legend_in_seven_colours(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        assert len(detail.paths) == 7
        chart = charts(detail)[0]
        await wait_for(pilot, lambda: chart.builds >= 1)
        legend = [ln for ln in chart.plot.lines if ln.label]
        assert len({ln.color for ln in legend}) == 7
        text = "\n".join(lines_text(chart))
        assert chart.legend_pages == 1
        for name in NAMES:  # each name, perhaps shortened in the middle, is on screen
            assert name[:5] in text and name[-4:] in text


async def test_a_small_legend_pages_and_says_how_many_it_leaves_out(seven):
    async with RunwatchApp(seven).run_test(size=(80, 24)) as pilot:
        detail = await open_all(pilot)
        chart = charts(detail)[0]
        await wait_for(pilot, lambda: chart.legend_pages > 1)
        assert any("p›" in line for line in lines_text(chart))
        await pilot.press("p")
        await wait_for(pilot, lambda: chart.legend_page == 1)
        assert any(f"2/{chart.legend_pages}" in line for line in lines_text(chart))


async def test_zoom_pan_and_reset_with_keys(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        full = charts(detail)[0].plot.x_range
        await pilot.press("z")
        await redraw(pilot, detail, lambda p: p.zoomed)
        lo, hi = charts(detail)[0].plot.x_range
        assert hi - lo == pytest.approx((full[1] - full[0]) / 2)
        assert all(lo - 2 <= x <= hi + 2 for ln in charts(detail)[0].plot.lines for x in ln.xs)
        await pilot.press("right_square_bracket")
        await redraw(pilot, detail, lambda p: p.x_range[0] > lo)
        assert "zoom 2x" in str(detail.query_one("#detail-title").render())
        await pilot.press("0")
        await redraw(pilot, detail, lambda p: not p.zoomed)
        assert charts(detail)[0].plot.x_range == full


def mouse(kind, chart: Chart, x: int, y: int):
    return kind(chart, x, y, 0, 0, 0, False, False, False, screen_x=chart.region.x + x,
                screen_y=chart.region.y + y)


async def test_the_wheel_zooms_where_the_pointer_is_and_a_drag_pans(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        chart = charts(detail)[0]
        top, left, right = chart._area
        x = left + (right - left) // 4
        chart.post_message(mouse(events.MouseScrollUp, chart, x, top + 3))
        await redraw(pilot, detail, lambda p: p.zoomed)
        view = detail.opts.view
        assert view.lo > 0 and view.hi < 1 and view.lo < 0.25 < view.hi  # around the pointer
        await pilot.mouse_down(chart, offset=(x, top + 3))
        await pilot.hover(chart, offset=(x - 10, top + 3))
        await pilot.mouse_up(chart, offset=(x - 10, top + 3))
        await wait_for(pilot, lambda: detail.opts.view.lo > view.lo)  # dragged left: later x
        assert detail.opts.view.hi - detail.opts.view.lo == pytest.approx(view.hi - view.lo)


async def test_inspect_shows_every_runs_value_under_the_cursor(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        await pilot.press("c")
        chart = charts(detail)[0]
        await wait_for(pilot, lambda: chart.cursor == 0.5)
        await wait_for(pilot, lambda: "x=" in lines_text(chart)[0])
        entries = 0
        for page in range(chart.legend_pages):  # every run, with its value, on some page
            await wait_for(pilot, lambda page=page: chart.legend_page == page)
            legend = [line for line in lines_text(chart) if "■" in line]
            entries += sum(len(re.findall(r"■ \S+ (?:[-\d.e]+|—)", line)) for line in legend)
            await pilot.press("p")
        assert entries == 7
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: chart.cursor == pytest.approx(0.52))
        top, left, right = chart._area
        await pilot.hover(chart, offset=(left + 2, top + 4))
        await wait_for(pilot, lambda: chart.cursor is not None and chart.cursor < 0.1)
        await pilot.press("c")
        await wait_for(pilot, lambda: chart.cursor is None)


async def test_highlight_one_run_dims_the_rest(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        await pilot.press("h")
        await redraw(pilot, detail, lambda p: any(ln.dim for ln in p.lines))
        labelled = [ln for ln in charts(detail)[0].plot.lines if ln.label]
        assert [ln.dim for ln in labelled].count(False) == 1
        assert not labelled[0].dim  # `h` once: the first run; the legend keeps its order
        await pilot.press("h")
        await redraw(pilot, detail, lambda p: not [ln for ln in p.lines if ln.label][1].dim)
        await pilot.press(*["h"] * 6)  # past the last run: none highlighted
        await redraw(pilot, detail, lambda p: not any(ln.dim for ln in p.lines))


async def test_define_metric_axis_by_default_and_the_picker_lists_metrics(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        assert "train/loss" in detail.opts.metrics
        plot = next(c.plot for c in charts(detail) if c.plot.title == "train/loss")
        assert plot.x_axis == "train/global_step" and plot.lines[0].xs[-1] > 1000
        await pilot.press("X")
        assert isinstance(pilot.app.screen, PickScreen)
        values = [v for v, _label in pilot.app.screen.options]
        assert {"_step", "_runtime", "loss", "train/global_step"} <= set(values)
        await pilot.press(*"_step", "enter")
        await redraw(pilot, detail, lambda p: p.x_axis == "_step")
        plot = next(c.plot for c in charts(detail) if c.plot.title == "train/loss")
        assert plot.lines[0].xs[-1] < 200


async def test_smoothing_kinds_and_the_outlier_toggle(seven):
    async with RunwatchApp(seven).run_test(size=(120, 40)) as pilot:
        detail = await open_all(pilot)
        await redraw(pilot, detail, lambda p: p.title != "loss" or "outliers off-scale" in p.note)
        loss = charts(detail)[0].plot
        assert loss.title == "loss" and loss.y_range[1] < 10  # the spike at 60 is off-scale
        await pilot.press("o")
        await redraw(pilot, detail, lambda p: p.title != "loss" or p.y_range[1] > 60)
        await pilot.press("plus", "plus")
        await redraw(pilot, detail, lambda p: "smoothing 0.6" in p.note)
        await pilot.press("s")
        await redraw(pilot, detail, lambda p: "EMA 0.6" in p.note)
        await pilot.press("s")
        await redraw(pilot, detail, lambda p: "running average 5" in p.note)
        await pilot.press("s")
        await redraw(pilot, detail, lambda p: "gaussian 2" in p.note)
