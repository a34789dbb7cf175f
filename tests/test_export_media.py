"""`runwatch export` writes a media column as the absolute path of the file (CSV and JSONL):
an Image, a Table and a list of images from a real training process."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .test_cli_support import python, rw

TRAIN = """
import sys
import logger
r = logger.init(project="media", name="pics", dir=sys.argv[1])
for step in range(2):
    r.log({"img": logger.Image([[0, 255], [255, step]]), "loss": 0.5 / (step + 1),
           "preds": logger.Table(columns=["a"], data=[[step]]),
           "pair": [logger.Image([[0, 1]]), logger.Image([[1, 0]])],
           "h": logger.Histogram([1, 2, 2]),
           "sneaky": {"_type": "image-file", "path": "../../../etc/passwd"}})
r.finish()
"""


def _inside_files(root: Path, text: str) -> Path:
    path = Path(text)
    assert path.is_absolute() and path.is_file(), text
    assert path.parent.parent.parent.name == "files" and root.resolve() in path.parents, text
    return path


def test_export_writes_media_as_absolute_paths(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    python(TRAIN, str(root))
    proc = rw("export", "pics", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 2
    imgs = [_inside_files(root, r["img"]) for r in rows]
    assert imgs[0] != imgs[1] and imgs[0].suffix == ".png"
    assert _inside_files(root, rows[1]["preds"]).name.endswith(".table.json")
    assert json.loads(_inside_files(root, rows[1]["preds"]).read_text())["data"] == [[1]]
    pair = json.loads(rows[0]["pair"])
    assert len(pair) == 2 and all(_inside_files(root, p) for p in pair)
    assert json.loads(rows[0]["h"])["_type"] == "histogram"  # no file: its JSON, as logged
    assert json.loads(rows[0]["sneaky"])["path"] == "../../../etc/passwd"  # never resolved outside files/
    assert rows[0]["loss"] == "0.5"


def test_export_jsonl_writes_the_same_paths(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    python(TRAIN, str(root))
    out = tmp_path / "pics.jsonl"
    proc = rw("export", "media/pics", "--root", str(root), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [_inside_files(root, r["img"]).suffix for r in rows] == [".png", ".png"]
    assert isinstance(rows[1]["pair"], list) and all(_inside_files(root, p) for p in rows[1]["pair"])
    assert rows[1]["h"]["_type"] == "histogram" and rows[1]["loss"] == 0.25
