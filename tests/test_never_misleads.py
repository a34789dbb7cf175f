"""A screen that never misleads (issue 13): blank for "not logged yet", `nan` only for a
logged NaN, and define_metric summaries under one name (`val/loss.min`) everywhere."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from logger import events as ev
from tests.test_tui_support import run_events, wait_for
from tui.app import RunwatchApp
from tui.cli import main
from tui.model.run_info import run_info
from tui.screens.main import MainScreen
from tui.widgets.run_table import RunTable


def write_events(root: Path, run_id: str, events: list[ev.Event]) -> Path:
    run_dir = root / "proj" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    data = bytearray(ev.HEADER)
    for event in events:
        data += ev.encode(event)
    (run_dir / f"20240101T000000-script-1-{run_id[:6]}{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))
    return run_dir


def with_min(events: list[ev.Event], key: str = "val/loss", how: str = "min") -> list[ev.Event]:
    """The run's events with define_metric(key, summary=how) right after its RunStart."""
    define = ev.DefineMetric(name=key, step_metric=None, summary=how, hidden=False,
                             time=events[1].time)  # type: ignore[attr-defined]
    return [*events[:2], define, *events[2:]]


def curve(i: int) -> dict[str, Any]:
    return {"loss": 1.0 / (i + 1), "val/loss": [0.9, 0.44, 0.6, 0.7][i % 4]}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_events(root, "agg00001", with_min(run_events(
        "agg00001", name="with-min", steps=4, metrics=curve, config={"lr": 0.1})))
    write_events(root, "nanrun01", run_events(
        "nanrun01", name="diverged", steps=3, config={"lr": 0.2},
        metrics=lambda i: {"loss": math.nan if i == 2 else 0.5}))
    write_events(root, "noval001", run_events(
        "noval001", name="no-val", steps=3, config={"lr": 0.3},
        metrics=lambda i: {"loss": 0.3}))
    return root


async def started(pilot: Any, runs: int = 3) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == runs and screen.model.metrics)
    return screen


def row_of(screen: MainScreen, name: str) -> str:
    table = screen.query_one(RunTable)
    for y, row in enumerate(screen.model.rows, start=1):
        if row.run is not None and row.run.name == name:
            return table.render_line(y).text
    raise AssertionError(f"no row for {name}")


def cell(screen: MainScreen, name: str, label: str) -> str:
    view = next(v for v in screen.model.views.values() if v.name == name)
    col = next(c for c in screen.model.cols if c.label == label)
    return screen.model.run_cells(view, 0.0)[screen.model.cols.index(col)][0]


async def test_table_leaves_unlogged_metric_blank_and_shows_logged_nan(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: "val/loss" in screen.model.metrics)
        table = screen.query_one(RunTable)  # the header is drawn a refresh after the metrics
        await wait_for(pilot, lambda: "val/loss.min" in table.render_line(0).text)
        assert cell(screen, "no-val", "val/loss.min").split() == []
        assert "nan" not in row_of(screen, "no-val")
        assert cell(screen, "diverged", "loss").split()[0] == "nan"  # a logged NaN is seen


async def test_table_names_and_shows_the_define_metric_aggregate(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await started(pilot)
        await wait_for(pilot, lambda: "val/loss" in screen.model.metrics)
        table = screen.query_one(RunTable)
        await wait_for(pilot, lambda: "val/loss.min" in table.render_line(0).text)
        assert cell(screen, "with-min", "val/loss.min").split()[0] == "0.44"


async def test_a_filter_on_an_aggregate_means_the_value_the_table_shows(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await started(pilot)
        for text in ("val/loss<0.5", "val/loss.min<0.5", "summary.val/loss.min<0.5"):
            screen.model.set_filter(text)
            screen.refresh_table()
            assert [v.name for v in screen.model.visible_runs] == ["with-min"], text


def test_summary_tab_reads_the_aggregate_as_dotted_key(root):
    from logger.reader import RootReader

    reader = RootReader(root)
    reader.scan()
    run = next(r for r in reader.runs.values() if r.name == "with-min")
    summary = dict(run_info(run).summary)
    assert summary["val/loss.min"] == "0.44"
    assert not any("{" in v for v in summary.values())


def test_ls_shows_the_aggregate_and_takes_its_dotted_name(root, capsys):
    assert main(["ls", str(root), "-m", "val/loss.min,val/loss,loss"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "with-min" in ln)
    assert line.split()[-3:] == ["0.4400", "0.4400", "0.2500"]  # never a raw {'min': 0.44}
    assert "{" not in out
    line = next(ln for ln in out.splitlines() if "no-val" in ln)
    assert "nan" not in line and line.split()[-3:-1] == ["-", "-"]
    line = next(ln for ln in out.splitlines() if "diverged" in ln)
    assert line.split()[-1] == "nan"


def test_ls_json_and_show_name_the_aggregate_val_loss_min(root, capsys):
    assert main(["ls", str(root), "--json"]) == 0
    records = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    rec = next(r for r in records if r["name"] == "with-min")
    assert rec["summary"]["val/loss.min"] == 0.44 and "val/loss" not in rec["summary"]
    assert main(["show", "proj/agg00001", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert any(ln.split() == ["val/loss.min", "0.44"] for ln in out.splitlines())


def test_filter_on_aggregate_in_ls(root, capsys):
    assert main(["ls", str(root), "-f", "val/loss<0.5"]) == 0
    out = capsys.readouterr().out
    assert "with-min" in out and "no-val" not in out
