"""W&B's table log modes (wandb/sdk/data_types/table.py): INCREMENTAL tables store each log's
new rows and read back whole; MUTABLE and IMMUTABLE store the table as logged. And media set
in the summary (`run.summary["img"] = Image(...)`) stored as media, not as repr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import logger


def _incremental(root: Path) -> logger.Run:
    run = logger.init(dir=root, project="p")
    table = logger.Table(columns=["step", "text"], log_mode="INCREMENTAL")
    added = 0
    for step, new in enumerate([2, 2, 0, 1]):
        for _ in range(new):
            table.add_data(added, f"row {added}")
            added += 1
        logger.log({"preds": table, "loss": float(step)})
    logger.finish()
    return run


def test_an_incremental_table_stores_each_log_s_new_rows_and_reads_back_whole(root: Path) -> None:
    run = _incremental(root)
    (read,) = logger.Api(root).runs()
    refs = [r["preds"] for r in read.history(pandas=False)]
    assert [r["_type"] for r in refs] == ["incremental-table-file"] * 4
    assert [(r["increment_num"], r["nrows"]) for r in refs] == [(0, 2), (1, 4), (1, 4), (2, 5)]
    assert refs[2] == refs[1]  # logged again with no new rows: the same increment, as in W&B
    assert refs[3]["previous_increments_paths"] == [refs[0]["path"], refs[1]["path"]]
    body = json.loads(Path(read.file(refs[1]["path"]).path).read_text())
    assert body["data"] == [[2, "row 2"], [3, "row 3"]]  # only what that log added
    whole = read.load_table("preds")
    assert whole.get_column("step") == [0, 1, 2, 3, 4] and whole.log_mode == "INCREMENTAL"
    assert read.load_table("preds", step=1).get_column("step") == [0, 1, 2, 3]
    art = logger.Api(root).artifact(f"p/run-{run.id}-incr-preds:latest")
    assert art.type == "wandb-run-incremental-table"
    assert art.get("preds").get_column("text") == [f"row {i}" for i in range(5)]
    assert art.get("missing") is None


def test_an_incremental_table_refuses_add_column_as_w_and_b_does() -> None:
    table = logger.Table(columns=["a"], data=[[1]], log_mode="INCREMENTAL")
    with pytest.raises(ValueError, match="INCREMENTAL"):
        table.add_column("b", [2])


def test_mutable_and_immutable_tables_store_what_they_held_at_each_log(root: Path) -> None:
    logger.init(dir=root, project="p")
    mutable = logger.Table(columns=["v"], data=[[0]], log_mode="MUTABLE")
    fixed = logger.Table(columns=["v"], data=[[0]])
    for step in range(3):
        logger.log({"m": mutable, "i": fixed})
        if step == 0:
            mutable.add_data(1)
    logger.finish()
    (read,) = logger.Api(root).runs()
    rows = read.history(pandas=False)
    assert [read.load_table("m", step=s).get_column("v") for s in range(3)] == [[0], [0, 1], [0, 1]]
    assert rows[1]["m"]["path"] == rows[2]["m"]["path"] != rows[0]["m"]["path"]
    assert rows[0]["i"] == rows[1]["i"] == rows[2]["i"]  # logged unchanged: one file, as W&B keeps it
    assert [r["m"]["log_mode"] for r in rows] == ["MUTABLE"] * 3


def test_a_table_of_images_logged_again_unchanged_writes_no_new_files(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    table = logger.Table(columns=["img"], data=[[logger.Image(np.zeros((4, 4), dtype=np.uint8))]])
    for _ in range(3):
        logger.log({"t": table})
    table.add_data(logger.Image(np.ones((4, 4), dtype=np.uint8)))
    logger.log({"t": table})
    logger.finish()
    images = sorted(p.name for p in (run.run_dir / "files/media/images").iterdir())
    assert len(images) == 3 and [n.split("_")[1] for n in images] == ["0", "3", "3"], images
    (read,) = logger.Api(root).runs()
    cells = read.load_table("t").get_column("img")
    assert all(Path(read.file(c["path"]).path).is_file() for c in cells)


def test_a_table_in_a_row_left_open_is_stored_as_it_was_when_logged(root: Path) -> None:
    """W&B converts media at the log() call, also for `step=N` and `commit=False` rows."""
    logger.init(dir=root, project="p")
    table = logger.Table(columns=["v"], log_mode="MUTABLE")
    for step in range(3):
        table.add_data(step)
        logger.log({"t": table}, step=step)  # committed only by the next step
        logger.log({"loss": 0.1}, commit=False)
    logger.finish()
    (read,) = logger.Api(root).runs()
    assert [read.load_table("t", step=s).get_column("v") for s in range(3)] == [[0], [0, 1], [0, 1, 2]]


def test_media_set_in_the_summary_is_stored_as_media(root: Path) -> None:
    run = logger.init(dir=root, project="p")
    pixels = np.zeros((6, 4, 3), dtype=np.uint8)
    pixels[:, :, 1] = 200
    run.summary["best"] = logger.Image(pixels, caption="best sample")
    run.summary.update({"table": logger.Table(columns=["a"], data=[[1], [2]]), "score": 0.5})
    logger.log({"loss": 1.0})
    logger.finish()
    (read,) = logger.Api(root).runs()
    best = read.summary["best"]
    assert best["_type"] == "image-file" and (best["width"], best["height"]) == (4, 6)
    assert best["caption"] == "best sample" and best["path"].startswith("media/images/best_summary_")
    with PILImage.open(read.file(best["path"]).path) as img:
        assert img.size == (4, 6) and img.getpixel((0, 0)) == (0, 200, 0)
    assert read.summary["table"]["_type"] == "table-file" and read.summary["score"] == 0.5
    assert read.load_table(read.summary["table"]).get_column("a") == [1, 2]
