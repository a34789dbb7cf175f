"""`runwatch show` reads what a listing reads (snapshots, digests), never a run's history,
and prints exactly what a full read prints."""

from __future__ import annotations

import io
import math
from pathlib import Path

import logger
from logger.history import History
from logger.reader import RootReader
from tui.cli.runs import cmd_show, show_lines


def _runs(root: Path) -> list[str]:
    paths = []
    with logger.init(project="p", dir=str(root), config={"lr": 0.1}) as run:
        run.define_metric("val/loss", summary="min,mean")
        for i in range(300):
            row = {"loss": 1 / (i + 1), "val/loss": [0.9, 0.44, 0.6][i % 3]}
            if i % 7 == 0:
                row["acc"] = i / 300  # a key in rows of two key sets
            run.log(row)
        run.summary["best"] = "epoch 3"
        paths.append(f"{run.project}/{run.id}")
    run = logger.init(project="p", dir=str(root))
    for i in range(50):
        run.log({"loss": math.nan if i == 10 else i, "tag": f"t{i}"})
    paths.append(f"{run.project}/{run.id}")
    run.finish(exit_code=1)
    return paths


def test_show_prints_what_a_full_read_prints_without_reading_rows(tmp_path: Path,
                                                                  monkeypatch) -> None:
    root = tmp_path / "runs"
    for path in _runs(root):
        full = RootReader(root)
        full.scan()
        expected = "".join(show_lines(full.runs[path]))
        rows: list[int] = []
        monkeypatch.setattr(History, "add_logs", lambda self, logs, rows=rows, add=History.add_logs:
                            (rows.append(len(logs)), add(self, logs)))
        out = io.StringIO()
        assert cmd_show(path, str(root), False, out) == 0
        monkeypatch.undo()
        assert out.getvalue() == expected
        assert rows == []  # no history was built: a 1M-step run shows in constant memory
