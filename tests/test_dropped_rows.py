"""Rows a reader cannot hold (a step outside 64 bits, from a foreign or damaged writer: ours
refuses such a step) are counted and said, where damaged frames are: `runwatch show`, the
app's run detail, `Api` (a warning). They were counted by the full read's History only, and
reported nowhere; a listing's digest did not count them at all."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest

import logger
from logger import events as ev
from logger.api import Api
from logger.reader import RootReader
from logger.writer import RunwatchWarning
from tests.test_cli_support import rw
from tests.test_tui_detail import open_detail
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen

BAD_STEPS = (2**63, 2**64 - 1)  # msgpack holds them; History's int64 steps cannot
WARNING = r"run p/r: 2 row\(s\) with a step outside 64 bits were skipped"


def _run_with_foreign_rows(root: Path) -> Path:
    """A real run (5 rows, finished) and a second writer's segment of the same run holding
    two rows at steps past int64 between two good ones."""
    run = logger.init(project="p", id="r", name="bad-steps", dir=str(root))
    for i in range(5):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    run_dir = root / "p" / "r"
    t = time.time()
    events: list[ev.Event] = [ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="r", role="rank 1",
                                              host="elsewhere", pid=1, proc_start=0, boot_id="b",
                                              time=t)]
    events.append(ev.Log(step=5, time=t, values={"loss": 0.1}))
    events += [ev.Log(step=s, time=t, values={"loss": 0.0}) for s in BAD_STEPS]
    events.append(ev.Log(step=6, time=t, values={"loss": 0.05}))
    events.append(ev.Finish(time=t, exit_code=0, state="finished", error=None))
    # Named to sort after the script's own segment: its rows follow the script's.
    segment = run_dir / f"99990101T000000-rank1-1-abcdef{ev.SEGMENT_SUFFIX}"
    segment.write_bytes(ev.HEADER + b"".join(map(ev.encode, events)))
    return run_dir


@pytest.mark.parametrize("meta", [False, True])
def test_every_reader_counts_the_rows_it_drops(root: Path, meta: bool) -> None:
    _run_with_foreign_rows(root)
    for _ in range(2):  # cold, then from the index cache a first read left
        reader = RootReader(root, meta=meta)
        reader.scan()
        run = reader.runs["p/r"]
        assert (run.rows, run.step, run.rewritten, run.dropped_rows) == (7, 6, 0, 2)
    follower = RootReader(root, keep_history=False)  # the app's and tail's reader
    follower.scan()
    assert follower.runs["p/r"].dropped_rows == 2


def test_api_warns_of_dropped_rows_as_of_damaged_frames(root: Path) -> None:
    _run_with_foreign_rows(root)
    with pytest.warns(RunwatchWarning, match=WARNING):
        run = Api(str(root)).run("p/r")
    assert run.dropped_rows == 2
    for _ in range(2):  # a listing (no rows read), cold then cached
        with pytest.warns(RunwatchWarning, match=WARNING):
            (listed,) = Api(str(root)).runs("p")
        assert listed.dropped_rows == 2


def test_a_clean_run_says_nothing(root: Path) -> None:
    run = logger.init(project="p", id="ok", dir=str(root))
    run.log({"loss": 1.0})
    run.finish()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Api(str(root)).run("p/ok").dropped_rows == 0
    assert "dropped rows" not in rw("show", "p/ok", "--root", str(root)).stdout


def test_show_says_how_many_rows_were_dropped(root: Path) -> None:
    _run_with_foreign_rows(root)
    for _ in range(2):  # cold, then cached
        proc = rw("show", "p/r", "--root", str(root))
        assert proc.returncode == 0, proc.stderr
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("dropped rows")), "")
        assert line.split()[2:] == ["2", "with", "a", "step", "outside", "64", "bits,", "skipped"], proc.stdout
    proc = rw("show", "p/r", "--root", str(root), "--json")
    assert (json.loads(proc.stdout)["dropped_rows"], json.loads(proc.stdout)["skipped_frames"]) == (2, 0)


async def test_the_run_detail_notes_the_dropped_rows(root: Path) -> None:
    _run_with_foreign_rows(root)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and len(app.screen.model.visible_runs) == 1)
        detail = await open_detail(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: "bad-steps" in str(detail.query_one("#info-run").render()))
        text = str(detail.query_one("#info-run").render())
    assert "! 2 row(s) with a step outside 64 bits skipped while reading" in text


def test_the_apis_warnings_name_the_run_escaped(root: Path) -> None:
    """A warning goes to a terminal: a directory named with control characters is escaped there
    as everywhere else (the run's path came through raw)."""
    _run_with_foreign_rows(root)
    (root / "p").rename(root / "p\x1b[2J")
    with pytest.warns(RunwatchWarning) as caught:
        Api(str(root)).runs()
    texts = [str(w.message) for w in caught]
    assert texts and all("\x1b" not in t for t in texts), texts
    assert any("2 row(s) with a step outside 64 bits" in t for t in texts), texts
