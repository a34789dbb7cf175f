"""`runwatch export` streams (a chunk of frames at a time, CSV a column at a time per chunk)
and still writes the merged history's rows: every shape a run can have."""

from __future__ import annotations

import csv
import io
import json

import pytest

from logger import history_read
from tests.test_scale_read import (
    _one_writer,
    _ranks,
    _reference,
    _resumed,
    _resumed_back,
    _rewritten,
)
from tui.cli.export import cmd_export


@pytest.mark.parametrize("shape", [_one_writer, _rewritten, _resumed, _resumed_back, _ranks],
                         ids=lambda f: f.__name__)
def test_export_writes_the_merged_history_a_chunk_at_a_time(tmp_path, monkeypatch, shape):
    monkeypatch.setattr(history_read, "CHUNK", 2048)
    root = tmp_path / "runs"
    shape(root / "p" / "r")
    want = _reference(root, None, None, None)
    out = io.StringIO()
    cmd_export("p/r", str(root), "jsonl", None, [], out)
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == want
    assert all(line.startswith('{"_step":') for line in lines)
    out = io.StringIO()
    cmd_export("p/r", str(root), "csv", None, ["val", "loss"], out)
    got = list(csv.reader(io.StringIO(out.getvalue())))
    assert got[0] == ["_step", "_timestamp", "_runtime", "val", "loss"]
    some = [r for r in want if "val" in r or "loss" in r]
    assert [row[0] for row in got[1:]] == [str(r["_step"]) for r in some]
    assert [row[3] for row in got[1:]] == [str(r["val"]) if "val" in r else "" for r in some]
    assert [row[4] for row in got[1:]] == [repr(r["loss"]) for r in some]
