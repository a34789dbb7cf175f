"""An incremental table in a resumed run continues the run's numbering, as W&B's does
(wandb/sdk/data_types/table.py, `_load_incremental_table_state_from_resumed_run`: a fresh
`Table(log_mode="INCREMENTAL")` logged under a key whose summary is an incremental table takes
`increment_num + 1` and the earlier increments' paths), so it reads back whole, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import logger

COLUMNS = ["i", "text"]


def _log_rows(table: logger.Table, rows: range, by_step: bool) -> None:
    for i in rows:
        table.add_data(i, f"row {i}")
    if by_step:  # the path that stores media at the call (step=), not at the commit
        logger.log({"preds": table, "loss": 0.5}, step=logger.run.step, commit=True)
    else:
        logger.log({"preds": table, "loss": 0.5})


def _first_run(root: Path, run_id: str, by_step: bool) -> None:
    logger.init(dir=root, project="p", id=run_id)
    table = logger.Table(columns=COLUMNS, log_mode="INCREMENTAL")
    _log_rows(table, range(0, 2), by_step)
    _log_rows(table, range(2, 3), by_step)
    logger.finish()


def _refs(root: Path, run_id: str) -> list[dict]:
    read = logger.Api(root).run(f"p/{run_id}")
    return [r["preds"] for r in read.history(pandas=False) if "preds" in r]


@pytest.mark.parametrize("by_step", [False, True], ids=["log", "log-step"])
def test_a_resumed_incremental_table_continues_numbering_and_reads_back_whole(
        root: Path, by_step: bool) -> None:
    _first_run(root, "r1", by_step)
    run = logger.init(dir=root, project="p", id="r1", resume="must")
    table = logger.Table(columns=COLUMNS, log_mode="INCREMENTAL")  # a fresh table, as a restarted script has
    _log_rows(table, range(3, 5), by_step)
    _log_rows(table, range(5, 6), by_step)
    logger.finish()

    refs = _refs(root, "r1")
    assert [r["increment_num"] for r in refs] == [0, 1, 2, 3]  # before: 0, 1, 0, 1
    assert refs[3]["previous_increments_paths"] == [r["path"] for r in refs[:3]]
    read = logger.Api(root).run("p/r1")
    whole = read.load_table("preds")
    assert whole.get_column("i") == list(range(6))  # before: [3, 4, 5]
    assert read.load_table("preds", step=2).get_column("i") == [0, 1, 2, 3, 4]
    body = json.loads(Path(read.file(refs[2]["path"]).path).read_text())
    assert body["increment_num"] == 2 and [r[0] for r in body["data"]] == [3, 4]

    art = logger.Api(root).artifact(f"p/run-{run.id}-incr-preds:latest")
    assert art.get("preds").get_column("text") == [f"row {i}" for i in range(6)]
    names = _entry_names(art)
    assert [n.split("-", 1)[0] for n in names] == ["0", "1", "2", "3"]
    first = logger.Api(root).artifact(f"p/run-{run.id}-incr-preds:v1")  # the first run's last
    assert set(_entry_names(first)) <= set(names)  # its entries carried over, named as they were


def _entry_names(art) -> list[str]:
    return sorted((art._manifest or {}).get("files", {}))


def test_a_second_fresh_table_continues_after_the_first_and_other_keys_start_at_zero(root: Path) -> None:
    """W&B reads the key's summary, which by then holds the resumed run's own increments; a key
    whose last value is not an incremental table (a number, an immutable table, a dict naming
    files outside the run) has nothing to continue."""
    logger.init(dir=root, project="p", id="r2")
    first = logger.Table(columns=COLUMNS, log_mode="INCREMENTAL")
    _log_rows(first, range(0, 3), False)
    forged = {"_type": "incremental-table-file", "path": "/etc/hostname", "increment_num": 4,
              "previous_increments_paths": ["../../outside.table.json"]}  # a dict logged by hand
    logger.log({"n": 1.0, "other": logger.Table(columns=COLUMNS, data=[[0, "x"]]), "forged": forged})
    logger.finish()
    logger.init(dir=root, project="p", id="r2", resume="must")
    _log_rows(logger.Table(columns=COLUMNS, log_mode="INCREMENTAL"), range(3, 4), False)
    _log_rows(logger.Table(columns=COLUMNS, log_mode="INCREMENTAL"), range(4, 6), False)
    fresh = {key: logger.Table(columns=COLUMNS, data=[[7, "y"]], log_mode="INCREMENTAL")
             for key in ("n", "other", "forged")}
    logger.log(fresh)
    logger.finish()
    assert [r["increment_num"] for r in _refs(root, "r2")] == [0, 1, 2]
    read = logger.Api(root).run("p/r2")
    assert read.load_table("preds").get_column("i") == list(range(6))
    rows = read.history(pandas=False)
    for key in ("n", "other", "forged"):  # nothing outside the run's files/ is ever copied
        assert rows[-1][key]["increment_num"] == 0 and rows[-1][key]["previous_increments_paths"] == []
        assert read.load_table(key).get_column("text") == ["y"]
