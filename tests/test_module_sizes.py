"""The modules that had grown past STYLE.md's ~400 lines (run.py 406, history.py 420,
tui/screens/detail.py 402, snapshot.py 406, rundata.py 421) were split along their seams
(run_extras.py, history_column.py, detail_actions.py, digest.py, runhistory.py), every name
importable from where it was; this keeps them all under 400."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPLIT = ["logger/run.py", "logger/run_extras.py", "logger/history.py", "logger/history_column.py",
         "tui/screens/detail.py", "tui/screens/detail_actions.py", "logger/snapshot.py",
         "logger/digest.py", "logger/rundata.py", "logger/runhistory.py"]


@pytest.mark.parametrize("name", SPLIT)
def test_a_split_module_stays_under_400_lines(name: str) -> None:
    path = REPO / name
    assert path.is_file(), f"{path} is gone: update this list with where its code went"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < 400, f"{name} has {lines} lines (STYLE.md: under ~400): split it along a seam"


def test_names_stay_importable_from_where_they_were() -> None:
    from logger.history import Column, History, increasing  # noqa: F401
    from logger.run import Run
    from logger.snapshot import SNAPSHOT_EVERY, Digest, Found, KeyStat, Tracker, combine, find_last  # noqa: F401
    from tui.screens.detail import MAX_CHARTS, DetailScreen

    assert MAX_CHARTS == 4 and callable(DetailScreen.action_zoom)
    assert Run.name.fset is not None and Run.entity.__doc__ and Run.url.__doc__
