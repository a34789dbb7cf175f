"""The main screen as a workspace: the chart panel beside or below the table (of the run under
the cursor, the marked runs, or a group), its pages, glob, toggle and resizing; the table at
80x24 (essentials in view, whole-column scrolling, a project column, abbreviated headers);
and "follow newest"."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from logger import events as ev
from tests.test_tui_support import append_events, sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.model import workspace as ws
from tui.model.columns import abbreviate
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.widgets.chart_panel import ChartPanel, DragBar
from tui.widgets.run_table import RunTable
from tui.widgets.workspace import Workspace


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 6)
    return root


async def started(pilot, runs: int = 6) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == runs and screen.model.metrics
                   and screen.store.loaded)
    await wait_for(pilot, lambda: screen.query_one(ChartPanel).region.height > 0
                   or screen.query_one(Workspace).placement == "hidden")
    return screen


def panel_of(screen: MainScreen) -> ChartPanel:
    return screen.query_one(ChartPanel)


def plots(screen: MainScreen) -> list:
    return [c.plot for c in panel_of(screen).charts()]


async def charted(pilot, screen: MainScreen, check) -> list:  # type: ignore[no-untyped-def]
    """Wait until every shown chart has a plot and `check(plots)` holds."""
    panel = panel_of(screen)
    await wait_for(pilot, lambda: panel.charts() and all(p is not None for p in plots(screen))
                   and check(plots(screen)))
    return plots(screen)


def legend(plot) -> set[str]:  # type: ignore[no-untyped-def]
    return {line.label for line in plot.lines if line.label}


async def burst(pilot, *keys: str) -> None:  # type: ignore[no-untyped-def]
    """Keys as a paste or a laggy link delivers them: all queued before any is handled."""
    for key in keys:
        char = key if len(key) == 1 else "\r" if key == "enter" else None
        pilot.app.post_message(events.Key(key, char))
    await pilot.pause(0.1)


def table_y(screen: MainScreen) -> int:
    return screen.query_one(RunTable).region.y


def header(screen: MainScreen) -> str:
    return screen.query_one(RunTable).render_line(0).text


# -- the chart panel -----------------------------------------------------------------------
async def test_panel_below_charts_the_run_under_the_cursor_and_follows_it(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        work = screen.query_one(Workspace)
        table = screen.query_one(RunTable)
        assert work.placement == "below"
        assert panel_of(screen).region.y > table.region.y
        first = table.current.run.name
        got = await charted(pilot, screen, lambda ps: legend(ps[0]) == {first})
        assert [p.title for p in got] == ["loss", "acc"]  # a chart for every metric
        await pilot.press("down")
        second = table.current.run.name
        await charted(pilot, screen, lambda ps: legend(ps[0]) == {second})
        await pilot.press("enter")  # the full-screen charts stay one key away
        assert isinstance(pilot.app.screen, DetailScreen)


async def test_panel_goes_beside_the_table_when_wide(root):
    async with RunwatchApp(root).run_test(size=(220, 40)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: screen.query_one(Workspace).placement == "right")
        panel, table = panel_of(screen), screen.query_one(RunTable)
        await wait_for(pilot, lambda: panel.region.x > table.region.x
                       and panel.region.y == table.region.y)
        await charted(pilot, screen, lambda ps: len(ps) == 2)


async def test_seven_marked_runs_overlaid_and_a_group_band(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 7)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot, 7)
        await pilot.press("a")
        names = {v.name for v in screen.model.views.values()}
        await charted(pilot, screen, lambda ps: legend(ps[0]) == names)
        assert "7 marked runs" in str(panel_of(screen).query_one(DragBar).render())
        await pilot.press("slash", *"lr<=1e-2", "enter")  # the charts follow the runs shown
        shown = {v.name for v in screen.model.visible_runs}
        assert len(shown) == 5
        await charted(pilot, screen, lambda ps: legend(ps[0]) == shown)
        await pilot.press("slash", "ctrl+u", "enter")
        await pilot.press("u", "g", *"lr", "enter", "enter")
        table = screen.query_one(RunTable)
        table.move_to(0)
        group = table.current.group
        await charted(pilot, screen, lambda ps: f"of {len(group.runs)} runs" in ps[0].note)
        assert "±std" in plots(screen)[0].note


async def test_pages_glob_and_keys_in_the_panel(tmp_path):
    root = tmp_path / "runs"
    keys = [f"train/m{i}" for i in range(9)] + ["val/loss", "val/acc"]
    write_run(root, "many", steps=5, metrics=lambda s: {k: s * (i + 1) for i, k in enumerate(keys)})
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot, 1)
        panel = panel_of(screen)
        await charted(pilot, screen, lambda ps: True)
        assert panel.page.total == 11 and panel.page.count > 1
        first = panel.page.metrics
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: panel.page.index == 1)
        await charted(pilot, screen, lambda ps: ps[0].title not in first)
        await pilot.press("left_square_bracket")
        assert panel.page.index == 0
        await pilot.press("tab")  # into the panel: n/p and page up/down page there
        assert screen.focused is panel
        await pilot.press("n")
        assert panel.page.index == 1
        await pilot.press("pageup")
        assert panel.page.index == 0
        await pilot.press("escape")
        assert screen.focused is screen.query_one(RunTable)
        await burst(pilot, "f", *"val/*", "enter", "F")  # typed in one burst: no key lost
        await wait_for(pilot, lambda: screen.model.follow_newest)
        assert panel.settings.glob == "val/*" and not screen.model.marked  # "a" was not "mark all"
        await pilot.press("f")  # and with the box open: what follows enter is not typed into it
        await burst(pilot, *"val/acc", "enter", "F")  # typing replaces the selected old glob
        await wait_for(pilot, lambda: not screen.model.follow_newest)
        assert panel.settings.glob == "val/acc"
        await pilot.press("f", "ctrl+u", *"val/*", "enter")
        await charted(pilot, screen, lambda ps: sorted(p.title for p in ps) == ["val/acc", "val/loss"])
        assert "val/*" in str(panel.query_one(DragBar).render())
        assert screen.focused is screen.query_one(RunTable)


async def test_toggle_resize_and_drag(root):
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot)
        work, panel = screen.query_one(Workspace), panel_of(screen)
        await pilot.pause()
        # Six runs: the table keeps its 8 rows (header and scrollbar too), the charts the rest.
        tall = panel.size.height
        assert tall == work.size.height - 8
        await pilot.press("less_than_sign")
        await wait_for(pilot, lambda: 0 < panel.size.height < tall)
        small = panel.size.height
        await pilot.press("greater_than_sign", "greater_than_sign")
        await wait_for(pilot, lambda: panel.size.height > small)
        await pilot.press("c")
        assert work.placement == "hidden" and not panel.display
        await pilot.press("c")
        assert work.placement == "below" and panel.display
        await pilot.pause()
        # Drag the panel's title bar down six rows: the panel shrinks to the pointer.
        bar = panel.query_one(DragBar)
        top = bar.region.y
        await pilot.mouse_down(bar)
        await pilot.hover(RunTable, offset=(5, top + 6 - table_y(screen)))
        await pilot.mouse_up(RunTable, offset=(5, top + 6 - table_y(screen)))
        await wait_for(pilot, lambda: panel.region.y == top + 6)


async def test_charts_update_live(tmp_path):
    root = tmp_path / "runs"
    run_dir = write_run(root, "live", steps=5, state=None)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot, 1)
        await charted(pilot, screen, lambda ps: max(ps[0].lines[0].xs) == 4)
        append_events(run_dir, [ev.Log(step=s, time=1_700_000_000.0 + s, values={"loss": 1 / (s + 1)})
                                for s in range(5, 40)])
        await charted(pilot, screen, lambda ps: max(ps[0].lines[0].xs) == 39)


# -- the table at 80x24, projects ------------------------------------------------------------
async def test_80x24_shows_the_essentials_and_scrolls_by_columns(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 6)
    write_run(root, "other", project="second-project", name="other-run", config={
        "optimizer.learning_rate": 0.1, "warmup_steps": 10},
        metrics=lambda s: {"reward": float(s)})
    async with RunwatchApp(root).run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, 7)
        table = screen.query_one(RunTable)
        # The columns are laid out for 120 cells until the table's first resize (a loaded
        # machine read the header before it): wait for the table to have taken its width.
        await wait_for(pilot, lambda: screen.model.width == table.scrollable_content_region.width)
        head = header(screen)
        for label in ("state", "name", "project", "loss", "step", "updated"):
            assert label in head, head
        # Rows come first, histories after (the status line says "loading histories" until
        # then): the sparklines are drawn once the filler has read them back, and the table
        # has taken that post. `started` waits for the rows only.
        await wait_for(pilot, lambda: screen.store.filled)
        await wait_for(pilot, lambda: "▁" in (line := table.render_line(1).text) or "█" in line)
        # Headers are whole words or cut with an ellipsis, never to one letter.
        assert all(len(word.strip("…▲▼")) >= 2 for word in head.split())
        starts = table._starts()
        for _ in range(3):
            await pilot.press("right")
            assert table._snapped_x() in starts
            head = header(screen)
            assert all(len(word.strip("…▲▼")) >= 2 for word in head.split()), head
        assert int(table.scroll_x) in starts
        await pilot.press("left", "left", "left")
        assert int(table.scroll_x) == 0


async def test_project_column_only_with_several_projects(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        assert "project" not in header(screen)
        write_run(root, "other", project="second-project", metrics=lambda s: {"reward": float(s)})
        await wait_for(pilot, lambda: len(screen.model.views) == 7)
        await wait_for(pilot, lambda: "project" in header(screen))


async def test_metrics_and_charts_follow_the_runs_shown(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    write_run(root, "rl", project="rl", name="rl-run", metrics=lambda s: {"reward": float(s)})
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        screen = await started(pilot, 4)
        await pilot.press("slash", *"rl-run", "enter")
        await wait_for(pilot, lambda: screen.model.metrics == ("reward",))
        got = await charted(pilot, screen, lambda ps: legend(ps[0]) == {"rl-run"})
        assert [p.title for p in got] == ["reward"]
        assert not any(p.message for p in got)  # no "no numeric values of loss"
        await pilot.press("slash", "ctrl+u", "enter")
        await wait_for(pilot, lambda: "loss" in screen.model.metrics)
        table = screen.query_one(RunTable)
        table.move_to(table.index_of("rl/rl"))
        await charted(pilot, screen, lambda ps: [p.title for p in ps] == ["reward"])
        await pilot.press("enter")  # nor full screen, with loss among the table's columns
        detail = pilot.app.screen
        assert isinstance(detail, DetailScreen) and detail.opts.metrics == ("reward",)


# -- follow newest ---------------------------------------------------------------------------
def newer_run(root: Path, i: int) -> None:
    write_run(root, f"new{i}", name=f"new-{i}", t0=1_700_100_000.0 + i, steps=3)


async def test_selection_stays_put_when_new_runs_arrive(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        await pilot.press("down", "down")
        chosen = table.current.key
        newer_run(root, 0)
        await wait_for(pilot, lambda: len(screen.model.views) == 7)
        await pilot.pause(0.2)
        assert table.current.key == chosen and table.cursor == 3


async def test_follow_newest_keeps_the_cursor_on_the_newest_run(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        await pilot.press("s", *"name", "enter")  # the newest run is not the top row
        await burst(pilot, "down", "F")  # a move typed just before F does not end it
        await wait_for(pilot, lambda: screen.model.follow_newest)
        await pilot.pause(0.1)
        assert screen.model.follow_newest
        assert table.current.run.name == "run-5"
        assert "following newest" in str(screen.query_one("#status").render())
        newer_run(root, 1)
        await wait_for(pilot, lambda: table.current is not None and table.current.run.name == "new-1")
        await charted(pilot, screen, lambda ps: legend(ps[0]) == {"new-1"})
        await pilot.press("up")  # moving away ends following
        assert not screen.model.follow_newest
        newer_run(root, 2)
        await wait_for(pilot, lambda: len(screen.model.views) == 8)
        await pilot.pause(0.2)
        assert table.current.run.name != "new-2"


# -- the pure parts --------------------------------------------------------------------------
def test_placement_by_size():
    assert ws.placement(220, 40, None) == "right" and ws.placement(180, 40, None) == "below"
    assert ws.placement(120, 37, None) == "below"
    assert ws.placement(80, 19, None) == "below"
    assert ws.placement(80, 12, None) == "hidden"
    assert ws.placement(80, 12, True) == "below"
    assert ws.placement(220, 40, False) == "hidden"


def test_glob_pages_and_grid():
    assert ws.glob_matches("val/*", "val/loss") and not ws.glob_matches("val/*", "train/loss")
    assert ws.glob_matches("loss", "val/Loss") and ws.glob_matches("", "x")
    page = ws.page_of([f"m{i}" for i in range(7)], 3, 5)
    assert page == ws.Page(("m6",), 2, 3, 7)
    assert ws.grid_shape(120, 17) == (3, 1) and ws.grid_shape(80, 9) == (2, 1)
    assert ws.step_split(0.5, 1) > 0.5 > ws.step_split(0.5, -1)


def test_config_headers_abbreviate():
    assert abbreviate("lr", 6) == "lr"
    assert abbreviate("optimizer.learning_rate", 8) == "l_rate"
    assert abbreviate("model.depth", 6) == "depth"
    assert abbreviate("a.extraordinarily", 6) == "extra…"



async def test_config_cells_show_ints_whole_and_floats_uncut_at_80x24(tmp_path):
    """Ints 123456789 and 123456790 read alike as 1.23e+08 (cut to "1.23e…" in a six-cell
    column), as lr's short form was cut to "0.000…": ints read whole where the column has room."""
    root = tmp_path / "runs"
    for i, (lr, tokens) in enumerate([(0.000314159265, 123456789), (0.0003, 123456790)]):
        write_run(root, f"r{i}", name=f"r-{i}", config={"lr": lr, "tokens": tokens},
                  t0=1_700_000_000.0 + i)
    async with RunwatchApp(root).run_test(size=(80, 24)) as pilot:
        screen = await started(pilot, 2)
        table = screen.query_one(RunTable)
        await wait_for(pilot, lambda: "tokens" in [c.label for c in screen.model.cols])
        for _ in range(6):
            if {"lr", "tokens"} <= set(header(screen).split()):
                break
            await pilot.press("right")
        rows = [table.render_line(y).text for y in (1, 2)]
        assert any("123456789" in r for r in rows) and any("123456790" in r for r in rows), rows
        assert any("0.0003142" in r for r in rows) and not any("…" in r for r in rows), rows
