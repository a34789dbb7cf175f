"""Pilot tests of the run table: filter, sort, mark, group, fold, metrics, help, edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from logger import events as ev
from logger.reader import RootReader
from tests.test_tui_support import append_events, sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.model.columns import ColumnKey
from tui.screens.edit import NotesScreen, TagsScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.pick import PickScreen
from tui.widgets.run_table import RunTable


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 6)
    return root


async def started(pilot, runs: int = 6) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == runs and screen.model.metrics)
    await wait_for(pilot, lambda: all(v.sparks for v in screen.model.views.values()))
    return screen


def names(screen: MainScreen) -> list[str]:
    return [r.run.name for r in screen.model.rows if r.run is not None]


def line_text(screen: MainScreen, y: int) -> str:
    return screen.query_one(RunTable).render_line(y).text


async def test_table_shows_runs_states_and_metrics(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        assert set(names(screen)) == {f"run-{i}" for i in range(6)}
        assert screen.model.metrics[0] == "loss"
        header = line_text(screen, 0)
        assert "state" in header and "name" in header and "loss" in header and "lr" in header
        text = "\n".join(line_text(screen, y) for y in range(1, 7))
        assert "✗ failed" in text and "! crashed" in text and "✓ finished" in text
        assert "▁" in text  # sparklines drawn


async def test_filter_terms_and_words(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", *"lr<=1e-2", "enter")
        assert screen.model.filter_text == "lr<=1e-2"
        assert sorted(names(screen)) == ["run-0", "run-1", "run-3", "run-4"]
        assert screen.focused is screen.query_one(RunTable)
        await pilot.press("slash", "ctrl+u", *"state:failed", "enter")
        assert names(screen) == ["run-1"]
        await pilot.press("slash", "ctrl+u", *"baseline", "enter")
        assert names(screen) == ["run-0"]
        # A filter that does not parse keeps the last good one and says why.
        await pilot.press("slash")
        box = screen.query_one("#filter")
        box.value = "lr<="  # as pasted: every keystroke filters live, so type it whole
        await pilot.pause()
        assert "no value" in str(box.border_subtitle)
        assert names(screen) == ["run-0"]
        await pilot.press("escape")
        assert not box.display


async def test_sort_by_picker_header_and_reverse(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("s")
        assert isinstance(pilot.app.screen, PickScreen)
        await pilot.press(*"loss", "enter")
        assert screen.model.sort_key == ColumnKey.metric("loss")
        losses = [r.run.metric("loss") for r in screen.model.rows]
        assert losses == sorted(losses)
        await pilot.press("S")
        losses = [r.run.metric("loss") for r in screen.model.rows]
        assert losses == sorted(losses, reverse=True)
        # Clicking the name header sorts by name.
        table = screen.query_one(RunTable)
        await pilot.click(RunTable, offset=(14, 0))
        assert screen.model.sort_key == ColumnKey.field("name")
        assert names(screen) == sorted(names(screen)) or names(screen) == sorted(names(screen))[::-1]
        assert "name ▲" in line_text(screen, 0) or "name ▼" in line_text(screen, 0)
        del table


async def test_mark_unmark_and_mark_all(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        first = table.current.key
        await pilot.press("space")
        assert screen.model.marked == {first}
        assert table.cursor == 1
        assert line_text(screen, 1).startswith("* ")
        await pilot.press("space")
        assert len(screen.model.marked) == 2
        await pilot.press("u")
        assert not screen.model.marked
        await pilot.press("a")
        assert len(screen.model.marked) == 6


async def test_group_by_key_shows_mean_std_and_folds(root):
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("g")
        assert isinstance(pilot.app.screen, PickScreen)
        await pilot.press(*"lr", "enter")  # the search finds "lr"; enter toggles it
        await pilot.press("enter")  # accept
        assert screen.model.group_keys == ("lr",)
        groups = [r for r in screen.model.rows if r.kind == "group"]
        assert len(groups) == 3 and all(len(g.group.runs) == 2 for g in groups)
        table = screen.query_one(RunTable)
        table.move_to(screen.model.rows.index(groups[0]))
        await pilot.pause()
        text = line_text(screen, table.cursor + 1)
        assert "2 runs" in text and "±" in text
        before = len(screen.model.rows)
        await pilot.press("o")
        assert len(screen.model.rows) == before - 2
        await pilot.press("o")
        assert len(screen.model.rows) == before


async def test_group_all_keys_except_seed(root):
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("g", *"except seed", "enter", "enter")
        groups = [r.group for r in screen.model.rows if r.kind == "group"]
        assert len(groups) == 3  # seeds 0 and 1 of each lr collapse together
        assert all("seed" not in g.label for g in groups)


async def test_metric_columns_picker(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("m")
        picker = pilot.app.screen
        assert isinstance(picker, PickScreen) and picker.multi
        await pilot.press(*"loss", "enter", "enter")  # toggle loss off, accept
        assert screen.model.metrics == ("acc",)
        assert "loss" not in line_text(screen, 0)
        await pilot.press("m", "escape")  # cancel leaves it alone
        assert screen.model.metrics == ("acc",)


async def test_help_lists_every_key(root):
    async with RunwatchApp(root).run_test(size=(100, 40)) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        help_screen = pilot.app.screen
        assert isinstance(help_screen, HelpScreen)
        described = dict(help_screen.keys)
        for key in ("/", "s", "g", "space", "t", "n", "m", "q"):
            assert key in described, key
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, MainScreen)


async def test_edit_tags_writes_an_editor_segment_and_reads_back(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        await pilot.press("t")
        assert isinstance(pilot.app.screen, TagsScreen)
        await pilot.press("ctrl+u", *"keep, [bold]x[/]", "enter")
        await wait_for(pilot, lambda: screen.model.views[run.path].tags == ("keep", "[bold]x[/]"))
        editors = list(run.dir.glob("*editor*.rws"))
        assert len(editors) == 1
        back = RootReader(root)
        back.scan()
        assert back.get(run.path).tags == ("keep", "[bold]x[/]")
        # Escape cancels: nothing more is written.
        await pilot.press("t", "ctrl+u", *"nope", "escape")
        assert len(list(run.dir.glob("*editor*.rws"))) == 1


async def test_edit_tags_of_marked_runs_keeps_their_other_tags(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("a", "t")
        tags_screen = pilot.app.screen
        assert tags_screen.tags == ["sweep"]  # the shared tags
        await pilot.press("ctrl+u", *"sweep, v2", "enter")
        await wait_for(pilot, lambda: all("v2" in v.tags for v in screen.model.views.values()))
        baseline = [v for v in screen.model.views.values() if v.name == "run-0"][0]
        assert baseline.tags == ("sweep", "baseline", "v2")


async def test_tag_completion_from_known_tags(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        await started(pilot)
        await pilot.press("t", "ctrl+u", *"sweep, base")
        await pilot.pause(0.1)
        await pilot.press("right", "enter")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: any(v.tags == ("sweep", "baseline")
                                          for v in screen.model.views.values()
                                          if v.name != "run-0"))


async def test_edit_notes_multiline(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        await pilot.press("n")
        assert isinstance(pilot.app.screen, NotesScreen)
        await pilot.press("enter", *"second line", "ctrl+s")
        want = run.notes + "\nsecond line"
        await wait_for(pilot, lambda: screen.model.views[run.path].notes == want)
        back = RootReader(root)
        back.scan()
        assert back.get(run.path).notes == want
        await pilot.press("n", *"zzz", "escape")
        assert screen.model.views[run.path].notes == want


async def test_notes_edited_elsewhere_meanwhile_are_kept(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        await pilot.press("n", *" mine")
        # Another app saves notes while this editor is open.
        from logger.edit import edit_notes

        edit_notes(run.dir, run.id, "theirs")
        await wait_for(pilot, lambda: screen.model.views[run.path].notes == "theirs")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "theirs" in screen.model.views[run.path].notes
                       and "mine" in screen.model.views[run.path].notes)


async def test_live_run_appears_and_advances(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        assert screen.query_one("#empty").display
        run_dir = write_run(root, "live01", name="live", state=None, steps=3)
        await wait_for(pilot, lambda: "proj/live01" in screen.model.views)
        assert screen.model.views["proj/live01"].state == "running"
        assert not screen.query_one("#empty").display
        append_events(run_dir, [ev.Log(step=3, time=1_700_000_010.0, values={"loss": 0.1})])
        await wait_for(pilot, lambda: screen.model.views["proj/live01"].step == 3)
        append_events(run_dir, [ev.Finish(time=1_700_000_011.0, exit_code=0, state="finished",
                                          error=None)])
        await wait_for(pilot, lambda: screen.model.views["proj/live01"].state == "finished")


async def test_missing_root_is_watched_until_runs_appear(tmp_path):
    root = tmp_path / "not-yet"
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        empty = screen.query_one("#empty")
        assert "does not exist yet" in str(empty.render())
        write_run(root, "late01", name="late")
        await wait_for(pilot, lambda: "proj/late01" in screen.model.views, timeout=8)


async def test_text_from_files_is_shown_literally(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "evil01", name="[bold]x[/] \x1b[31mred", tags=["\x1b]52;c;aGk=\x07"],
              notes="[red]n[/]\nsecond")
    async with RunwatchApp(root).run_test(size=(160, 20)) as pilot:
        screen = await started(pilot, runs=1)
        text = line_text(screen, 1)
        assert "[bold]x[/] \\x1b[31mred" in text
        assert "\\x1b]52;c;aGk=" in text  # escaped (and cut to the column width)
        assert "[red]n[/]" in text and "second" not in text
        assert "\x1b" not in text and "\x07" not in text


async def test_quit_key(root):
    app = RunwatchApp(root)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)


async def test_command_palette_lists_screen_actions(root):
    app = RunwatchApp(root)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        for title in ("Filter", "Sort", "Group", "Mark", "Tags", "Notes", "Chart", "Help"):
            assert title in titles, title


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(root):
    from textual import events

    app = RunwatchApp(root)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await started(pilot)
        # A terminal delivers "/lr<=1e-3" at once: all keys are queued before "/" is handled.
        for ch in "/lr<=1e-3":
            app.post_message(events.Key("slash" if ch == "/" else ch, ch))
        await wait_for(pilot, lambda: screen.model.filter_text == "lr<=1e-3")
        assert sorted(names(screen)) == ["run-0", "run-3"]


async def test_a_relative_root_follows_live_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    async with RunwatchApp(Path("runs")).run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.store.loaded)
        run_dir = write_run(tmp_path / "runs", "rel001", state=None, steps=2)
        await wait_for(pilot, lambda: "proj/rel001" in screen.model.views)
        append_events(run_dir, [ev.Log(step=2, time=1_700_000_010.0, values={"loss": 0.1})])
        await wait_for(pilot, lambda: screen.model.views["proj/rel001"].step == 2)


async def test_default_metric_columns_follow_keys_that_appear_later(tmp_path):
    root = tmp_path / "runs"
    run_dir = write_run(root, "late01", state=None, steps=5,
                        metrics=lambda i: {"loss": 1.0 / (i + 1), "acc": i / 5, "epoch": 0})
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot, runs=1)
        assert screen.model.metrics == ("loss", "acc", "epoch")
        append_events(run_dir, [ev.Log(step=5, time=1_700_000_010.0, values={"val/loss": 0.5})])
        await wait_for(pilot, lambda: screen.model.metrics == ("loss", "val/loss", "acc"))
        # Once the user picks, the columns stay as picked.
        await pilot.press("m", *"epoch", "enter", "enter")
        picked = screen.model.metrics
        assert picked == ("acc", "epoch", "loss", "val/loss")  # in the picker's order
        append_events(run_dir, [ev.Log(step=6, time=1_700_000_011.0, values={"val/acc": 0.5})])
        await wait_for(pilot, lambda: "val/acc" in screen.model.all_metric_keys())
        assert screen.model.metrics == picked


async def test_mouse_rows_groups_and_keys(root):
    from tui.widgets.keybar import KeyBar

    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        await pilot.click(RunTable, offset=(5, 3))  # the third row
        assert table.cursor == 2
        await pilot.click(RunTable, offset=(5, 3), times=2)  # double click opens its charts
        from tui.screens.detail import DetailScreen

        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        await pilot.press("escape")
        bar = screen.query_one(KeyBar)
        x = next(x0 for y, x0, _x1, key in bar._hits if key == "s" and y == 0)
        await pilot.click(KeyBar, offset=(x, 0))  # a key in the bar runs its action
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PickScreen))


async def test_a_hostile_tag_is_edited_as_its_escape_and_kept_as_stored(root):
    from logger.edit import edit_tags

    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        run = screen.query_one(RunTable).current.run
        hostile = "evil\x1b]2;PWNED\x07"
        edit_tags(run.dir, run.id, add=[hostile])
        await wait_for(pilot, lambda: hostile in screen.model.views[run.path].tags)
        await pilot.press("t")
        shown = pilot.app.screen.query_one("#tags-input").value
        assert "\x1b" not in shown and "evil\\x1b]2;PWNED\\x07" in shown
        await pilot.press("end", *", fresh", "enter")  # add one tag, leave the hostile one be
        await wait_for(pilot, lambda: "fresh" in screen.model.views[run.path].tags)
        back = RootReader(root)
        back.scan()
        tags = back.get(run.path).tags
        assert hostile in tags and "fresh" in tags
        assert not any("\\x1b" in t for t in tags)  # the escape was not saved as text
