"""Pilot tests of the detail screen's Media tab over runs logged with real NumPy/PIL objects:
keys, the step slider, half-block images, tables, histogram heatmaps and plot.* charts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from textual.widgets import DataTable, OptionList, TabbedContent

import logger
from tests.test_tui_main import started
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.screens.detail import DetailScreen
from tui.screens.media import MediaPanel
from tui.widgets.media_view import MediaChart

STEPS = 3


def _gradient(step: int) -> np.ndarray:
    """A 32x32 image, red on top and blue below, brighter each step."""
    img = np.zeros((32, 32, 3), dtype=np.uint8)
    img[:16, :, 0] = 100 + 50 * step
    img[16:, :, 2] = 200
    return img


def log_media(root: Path) -> None:
    logger.init(dir=root, project="p", name="media-run")
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        table = logger.Table(columns=["x", "y", "note"],
                             data=[[i, float(i * step), f"r{i}\x1b[31m"] for i in range(5)])
        logger.log({"img": logger.Image(_gradient(step), caption=f"step {step}"),
                    "pil": logger.Image(PILImage.new("RGB", (8, 8), (0, 255, 0))),
                    "preds": table,
                    "weights": logger.Histogram(rng.normal(step, 1.0, 500)),
                    "curve": logger.plot.line(table, "x", "y", title="y over x"),
                    "loss": 1.0 / (step + 1)}, step=step)
    logger.finish()


async def open_media(pilot) -> MediaPanel:
    await started(pilot, runs=1)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    detail = pilot.app.screen
    detail.query_one("#detail-tabs", TabbedContent).active = "media"
    panel = detail.query_one(MediaPanel)
    await wait_for(pilot, lambda: panel.loads >= 1)
    return panel


@asynccontextmanager
async def media_app(root: Path) -> AsyncIterator[tuple[Any, MediaPanel]]:
    """The app at 120x40 on a run logged by log_media, its Media tab open."""
    log_media(root)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        yield pilot, await open_media(pilot)


def highlight(panel: MediaPanel, key: str) -> None:
    """Move the key list's cursor to `key`, as the arrow keys do."""
    options = panel.query_one("#media-keys", OptionList)
    options.highlighted = [str(o.id) for o in options.options].index(key)


async def select(pilot, panel: MediaPanel, key: str) -> None:
    before = panel.loads - (panel.key == key)  # the first key shows without a change
    highlight(panel, key)
    await wait_for(pilot, lambda: panel.loads > before and panel.key == key
                   and panel.shown is not None and key in panel.shown.title)


async def test_media_keys_listed_and_an_image_drawn_in_half_blocks_per_step(root: Path) -> None:
    async with media_app(root) as (pilot, panel):
        assert [k.key for k in panel.keys] == ["curve", "curve_table", "img", "pil", "preds", "weights"]
        assert all(k.steps == (0, 1, 2) for k in panel.keys)
        await select(pilot, panel, "img")
        assert panel.shown.view == "image" and panel.step == 2
        cells = panel.shown.cells
        assert cells[0][0][0] == "▀"
        assert cells[0][0][1] == (200, 0, 0)  # top: red at step 2
        assert cells[-1][0][2] == (0, 0, 200)  # bottom: blue
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: panel.shown.cells[0][0][1] == (150, 0, 0))
        assert panel.step == 1 and "step 1" in panel.shown.title
        await pilot.press("home")
        await wait_for(pilot, lambda: panel.shown.cells[0][0][1] == (100, 0, 0))
        await pilot.press("end")
        await wait_for(pilot, lambda: panel.step == 2 and panel.shown.cells[0][0][1] == (200, 0, 0))
        await pilot.press("right_square_bracket")  # past the last step: stays there
        assert panel.step == 2


async def test_a_step_key_right_after_moving_the_key_list_steps_the_new_key(root: Path) -> None:
    # The key under the list's cursor was taken on OptionHighlighted, which bubbles up after
    # the key that moved it: "↓ [" in one burst stepped the old key, then the new key's
    # arrival reset its step to the last, so the "[" was lost.
    async with media_app(root) as (pilot, panel):
        await select(pilot, panel, "curve")
        highlight(panel, "img")
        panel.action_step(-1)  # "[" before OptionHighlighted arrives
        assert panel.key == "img" and panel.step == 1
        await wait_for(pilot, lambda: panel.shown is not None and "img" in panel.shown.title
                       and panel.shown.cells[0][0][1] == (150, 0, 0))
        assert panel.key == "img" and panel.step == 1  # the late message changed nothing
        highlight(panel, "pil")
        panel.action_step_to(0)  # home, likewise
        assert panel.key == "pil" and panel.step == 0


async def test_a_table_is_a_scrollable_data_table_with_escaped_cells(root: Path) -> None:
    async with media_app(root) as (pilot, panel):
        await select(pilot, panel, "preds")
        table = panel.query_one("#media-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 5)
        assert [str(c.label) for c in table.columns.values()] == ["x", "y", "note"]
        assert str(table.get_row_at(3)[1]) == "6"  # y = i * step at step 2
        assert str(table.get_row_at(0)[2]) == "r0\\x1b[31m"  # the escape is shown, not sent
        await pilot.press("home")
        await wait_for(pilot, lambda: "step 0" in panel.shown.title)
        await wait_for(pilot, lambda: str(table.get_row_at(3)[1]) == "0")


async def test_histograms_over_steps_draw_as_a_heatmap(root: Path) -> None:
    async with media_app(root) as (pilot, panel):
        await select(pilot, panel, "weights")
        heat = panel.shown.heatmap
        assert panel.shown.view == "heatmap" and heat is not None
        assert heat.steps == [0, 1, 2]
        peaks = [max(range(len(heat.cells)), key=lambda r: heat.cells[r][c]) for c in range(3)]
        assert peaks[0] > peaks[1] > peaks[2]  # the mean climbs: its band moves up (row 0 on top)


async def test_a_plot_line_chart_draws_with_plotext(root: Path) -> None:
    async with media_app(root) as (pilot, panel):
        await select(pilot, panel, "curve")
        data = panel.shown.chart
        assert panel.shown.view == "chart" and data is not None and data.kind == "line"
        assert data.title == "y over x"
        assert data.series[0][1] == [0.0, 1.0, 2.0, 3.0, 4.0] and data.series[0][2] == [0, 2, 4, 6, 8]
        chart = panel.query_one(MediaChart)
        await wait_for(pilot, lambda: chart.builds >= 1)
        lines = [str(s.text) for s in chart.render_lines(chart.region.reset_offset)]
        assert "y over x" in lines[0] and any("┤" in line for line in lines)


async def test_a_run_without_media_says_so(root: Path) -> None:
    logger.init(dir=root, project="p", name="plain")
    logger.log({"loss": 1.0})
    logger.finish()
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        await started(pilot, runs=1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        pilot.app.screen.query_one("#detail-tabs", TabbedContent).active = "media"
        panel = pilot.app.screen.query_one(MediaPanel)
        empty = panel.query_one("#media-empty")
        await wait_for(pilot, lambda: str(empty.render()) == "no media logged")
        assert empty.display and not panel.query_one("#media-main").display


async def test_a_live_run_s_new_step_moves_the_slider_to_it(root: Path) -> None:
    run = logger.init(dir=root, project="p", name="live")
    run.log({"img": logger.Image(_gradient(0)), "loss": 1.0}, step=0)
    run.log({"loss": 0.5}, step=1)  # step 0's row is written once the step moves on
    try:
        async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
            panel = await open_media(pilot)
            assert panel.key == "img" and panel.step == 0
            run.log({"img": logger.Image(_gradient(2)), "loss": 0.2}, step=2)
            run.log({"loss": 0.1}, step=3)
            await wait_for(pilot, lambda: panel.step == 2 and panel.shown.cells[0][0][1] == (200, 0, 0),
                           timeout=10)
            assert panel.current.steps == (0, 2)
    finally:
        logger.finish()


async def test_bar_charts_and_confusion_matrices_draw(root: Path) -> None:
    logger.init(dir=root, project="p", name="charts")
    table = logger.Table(columns=["cls", "n"], data=[["cat", 3], ["dog\x1b[1m", 5]])
    logger.log({"counts": logger.plot.bar(table, "cls", "n", title="per class"),
                "cm": logger.plot.confusion_matrix(y_true=np.array([0, 1, 1, 0]), preds=np.array([0, 1, 0, 0]),
                                                   class_names=["neg", "pos"]), "loss": 1.0}, step=0)
    logger.finish()
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        panel = await open_media(pilot)
        await select(pilot, panel, "counts")
        data = panel.shown.chart
        assert data.kind == "bar" and data.labels == ["cat", "dog\\x1b[1m"] and data.values == [3.0, 5.0]
        chart = panel.query_one(MediaChart)
        await wait_for(pilot, lambda: chart.builds >= 1)
        lines = [str(s.text) for s in chart.render_lines(chart.region.reset_offset)]
        assert "2=dog\\x1b[1m" in lines[-1] or any("2=dog\\x1b[1m" in line for line in lines)
        await select(pilot, panel, "cm")
        data = panel.shown.chart
        assert data.kind == "matrix" and data.labels == ["neg", "pos"]
        assert data.matrix == [[2.0, 0.0], [1.0, 1.0]]  # actual neg: 2 right; actual pos: 1 missed



async def test_an_image_shown_first_is_drawn_at_the_panels_size(tmp_path: Path) -> None:
    """The first image drawn when the tab opens (key 8) fills the body, not the one cell the
    body had before its first layout."""
    root = tmp_path / "runs"
    logger.init(dir=root, project="p", name="one-image")
    logger.log({"img": logger.Image(_gradient(0)), "loss": 0.5})
    logger.finish()
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        await pilot.press("8")
        panel = pilot.app.screen.query_one(MediaPanel)
        await wait_for(pilot, lambda: panel.loads >= 1)
        image = panel.query_one("#media-image")
        await wait_for(pilot, lambda: len(str(image.render()).splitlines()) >= 8)
        assert min(len(line) for line in str(image.render()).splitlines()) >= 16
