"""The detail screen's Files tab shows an artifact's lineage: which runs used each version a
run logged, and which versions a run used."""

from __future__ import annotations

from pathlib import Path

import logger
from tests.test_tui_detail import open_detail
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen
from tui.widgets.run_table import RunTable


def _producer_and_consumer(root: Path, tmp_path: Path) -> tuple[str, str]:
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n")
    producer = logger.init(project="p", name="make-data", dir=str(root))
    producer.log({"rows": 1})
    producer.log_artifact(str(data), name="dataset", type="dataset")
    producer.finish()
    consumer = logger.init(project="p", name="train-model", dir=str(root))
    consumer.use_artifact("dataset:latest")
    consumer.log({"loss": 0.5})
    consumer.finish()
    return producer.id, consumer.id


async def _files_tab(pilot, name: str) -> str:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and len(app.screen.model.visible_runs) == 2)
    table = app.screen.query_one(RunTable)
    for _ in range(3):  # two runs: the one asked for is at most one row down
        if table.current is not None and table.current.run is not None and table.current.run.name == name:
            break
        await pilot.press("down")
    assert table.current is not None and table.current.run is not None and table.current.run.name == name
    detail = await open_detail(pilot)
    await pilot.press("5")
    await wait_for(pilot, lambda: "artifacts used" in str(detail.query_one("#info-files").render()))
    return str(detail.query_one("#info-files").render())


async def test_the_files_tab_shows_who_used_a_logged_version(root: Path, tmp_path: Path) -> None:
    _producer, consumer = _producer_and_consumer(root, tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        text = await _files_tab(pilot, "make-data")
    assert "dataset:v0" in text and f"used by {consumer}" in text


async def test_the_files_tab_lists_the_versions_a_run_used(root: Path, tmp_path: Path) -> None:
    _producer_and_consumer(root, tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        text = await _files_tab(pilot, "train-model")
    used = text.split("artifacts used", 1)[1].split("files (saved", 1)[0]
    assert "dataset:v0" in used and "dataset" in used
