"""Every string from a file that the app shows is plain, escaped text: a crafted finish state,
a run directory's name and an artifact digest included (issue 8: an OSC 52 clipboard write
reached the terminal)."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from logger import events as ev
from tests.test_tui_support import run_events, wait_for
from tui.app import RunwatchApp
from tui.screens.detail import DetailScreen
from tui.screens.main import MainScreen
from tui.widgets.run_table import RunTable

OSC52 = "\x1b]52;c;aGVsbG8=\x07"  # "set the clipboard to 'hello'"
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile_run(root: Path, run_id: str) -> None:
    """A run whose directory, id, state and artifact digest all carry an escape sequence."""
    run_dir = root / "proj" / run_id
    run_dir.mkdir(parents=True)
    events = [e for e in run_events(run_id, steps=3, state=None)]
    events.append(ev.ArtifactLogged(name="model", type="model", version=0, digest=OSC52 * 2,
                                    size=10, aliases=["latest"], time=1_700_000_010.0))
    events.append(ev.Finish(time=1_700_000_011.0, exit_code=0, state="done" + OSC52, error=None))
    data = bytearray(ev.HEADER)
    for event in events:
        data += ev.encode(event)
    (run_dir / f"20240101T000000-script-1-abcdef{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))


def shown(static: Static) -> str:
    content = static.render()
    return content.plain if isinstance(content, Text) else str(content)


async def test_hostile_state_directory_and_digest_are_shown_escaped(tmp_path):
    root = tmp_path / "runs"
    hostile_run(root, "r" + OSC52)
    async with RunwatchApp(root).run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.model.rows and screen.store.loaded)
        await wait_for(pilot, lambda: "\\x1b]52" in screen.query_one(RunTable).render_line(1).text)
        row = screen.query_one(RunTable).render_line(1).text
        assert not RAW.search(row), repr(row)
        assert "? done\\x1" in row  # the state cell: glyph "?", the escape (cut to fit)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        assert not RAW.search(shown(detail.query_one("#detail-title", Static)))
        for tab, wid in (("run", "#info-run"), ("files", "#info-files")):
            await pilot.press({"run": "2", "files": "5"}[tab])
            await wait_for(pilot, lambda wid=wid: "\\x1b" in shown(detail.query_one(wid, Static)))
            text = shown(detail.query_one(wid, Static))
            assert not RAW.search(text), (tab, repr(text))
        assert "model:v0  model  10 bytes  \\x1b]52;c;aGVsb  latest" in text  # the digest's 12


async def test_a_group_of_hostile_runs_lists_their_states_escaped(tmp_path):
    root = tmp_path / "runs"
    hostile_run(root, "ra")
    hostile_run(root, "rb")
    async with RunwatchApp(root).run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: len(screen.model.views) == 2 and screen.store.loaded)
        await pilot.press("g", *"except seed", "enter", "enter")
        await wait_for(pilot, lambda: screen.model.rows and screen.model.rows[0].kind == "group")
        screen.query_one(RunTable).move_to(0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
        detail = pilot.app.screen
        await pilot.press("2")
        await wait_for(pilot, lambda: "done" in shown(detail.query_one("#info-run", Static)))
        text = shown(detail.query_one("#info-run", Static))
        assert not RAW.search(text.replace("\n", "")), repr(text)
        assert "done\\x1b]52" in text
