"""Every JSON runwatch prints spells NaN and the infinities as W&B's make_safe_for_json does
(wandb/util.py): the strings "NaN", "Infinity", "-Infinity", in scalars, lists, nested values,
config and summary, on the bulk paths (float frames, mixed rows, a value held throughout a
frame) as on the general one. Each output is parsed strictly: a bare NaN fails."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from .test_cli_support import Lines, python, rw, spawn, stop

W = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # what each float reads as in JSON

# Run "floats": float-only rows (tail's float frames), loss diverging to NaN half way, "held"
# NaN on every row (a value the frame's skeleton holds throughout), "grad" an infinity every
# 7th step. Run "mixed": rows of lists, nested dicts, text and ints (the general bulk path).
WRITER = """
import math, sys
import logger
nan, inf = math.nan, math.inf
root = sys.argv[1]
with logger.init(project="p", name="floats", dir=root,
                 config={"lr": 0.1, "clip": inf, "opt": {"eps": -inf, "betas": [0.9, nan]}}) as run:
    for s in range(400):
        run.log({"loss": nan if s >= 200 else 1.0 / (s + 1), "held": nan, "lr": 0.1,
                 "grad": inf if s % 7 == 0 else float(s), "low": -inf if s % 5 == 0 else -1.5})
    run.summary["best"] = -inf
    run.summary["worst"] = {"at": 3, "value": nan}
with logger.init(project="p", name="mixed", dir=root) as run:
    for s in range(50):
        run.log({"vec": [1.0, nan, inf, -inf], "val": {"loss": nan if s % 2 else 0.5},
                 "tag": "x", "n": s, "f": inf if s == 3 else 2.5})
"""


def _strict(text: str) -> Any:
    def fail(name: str) -> None:
        raise AssertionError(f"a bare {name} in JSON output: {text[:200]!r}")
    return json.loads(text, parse_constant=fail)


def _spelled(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    return W[repr(value)] if math.isinf(value) else value


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nonfinite") / "runs"
    python(WRITER, str(path))
    return path


def _floats_row(s: int) -> dict[str, Any]:
    return {"loss": _spelled(math.nan if s >= 200 else 1.0 / (s + 1)), "held": "NaN", "lr": 0.1,
            "grad": "Infinity" if s % 7 == 0 else float(s), "low": "-Infinity" if s % 5 == 0 else -1.5}


def _mixed_row(s: int) -> dict[str, Any]:
    return {"vec": [1.0, "NaN", "Infinity", "-Infinity"], "val.loss": "NaN" if s % 2 else 0.5,
            "tag": "x", "n": s, "f": "Infinity" if s == 3 else 2.5}


CONFIG = {"lr": 0.1, "clip": "Infinity", "opt": {"eps": "-Infinity", "betas": [0.9, "NaN"]}}


def test_tail_json_spells_them_on_every_path(root: Path) -> None:
    proc = rw("tail", str(root), "--no-follow", "--json")
    assert proc.returncode == 0, proc.stderr
    records = [_strict(line) for line in proc.stdout.splitlines()]
    logs = {name: [r for r in records if r["kind"] == "log" and r["name"] == name] for name in ("floats", "mixed")}
    assert [r["values"] for r in logs["floats"]] == [_floats_row(s) for s in range(400)]
    assert [r["values"] for r in logs["mixed"]] == [_mixed_row(s) for s in range(50)]
    start = next(r for r in records if r["kind"] == "start" and r["name"] == "floats")
    assert start["config"] == CONFIG
    latest = next(r for r in records if r["kind"] == "latest" and r["name"] == "floats")
    assert latest["values"] == _floats_row(399)


def test_tail_json_with_every_and_chosen_keys(root: Path) -> None:
    """--every and -m print rows another way (the latest values per interval, a subset)."""
    proc = rw("tail", str(root), "--no-follow", "--json", "--every", "3600", "-r", "floats")
    assert proc.returncode == 0, proc.stderr
    logs = [_strict(line)["values"] for line in proc.stdout.splitlines() if '"kind":"log"' in line]
    assert logs == [_floats_row(0), _floats_row(399)]
    proc = rw("tail", str(root), "--no-follow", "--json", "-m", "held,vec", "-r", "mixed")
    assert proc.returncode == 0, proc.stderr
    logs = [_strict(line)["values"] for line in proc.stdout.splitlines() if '"kind":"log"' in line]
    assert logs == [{"vec": [1.0, "NaN", "Infinity", "-Infinity"]}] * 50
    proc = rw("tail", str(root), "--no-follow", "--json", "-m", "held,loss", "-r", "floats")
    logs = [_strict(line)["values"] for line in proc.stdout.splitlines() if '"kind":"log"' in line]
    assert logs == [{"held": "NaN", "loss": _floats_row(s)["loss"]} for s in range(400)]


def test_a_followed_run_is_spelled_the_same(tmp_path: Path) -> None:
    """Following: the rows as they arrive (each flush's frames), not a replay of the file."""
    live = tmp_path / "runs"
    live.mkdir()
    tail = spawn("tail", str(live), "--json")
    lines = Lines(tail)
    try:
        assert tail.stderr is not None and "following" in tail.stderr.readline()  # before the runs
        python(WRITER, str(live))
        for name in ("floats", "mixed"):  # the two runs' lines in either order
            lines.wait_for(lambda line, name=name: '"kind":"state"' in line and f'"{name}"' in line)
        records = [_strict(line) for line in lines.lines]
    finally:
        stop(tail)
    logs = [r["values"] for r in records if r["kind"] == "log" and r["name"] == "floats"]
    assert logs == [_floats_row(s) for s in range(400)]
    logs = [r["values"] for r in records if r["kind"] == "log" and r["name"] == "mixed"]
    assert logs == [_mixed_row(s) for s in range(50)]


def test_ls_and_show_json_spell_them_in_config_and_summary(root: Path) -> None:
    proc = rw("ls", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    runs = {r["name"]: r for r in map(_strict, proc.stdout.splitlines())}
    assert runs["floats"]["config"] == CONFIG
    summary = runs["floats"]["summary"]
    assert summary["best"] == "-Infinity" and summary["worst.value"] == "NaN" and summary["held"] == "NaN"
    assert runs["mixed"]["summary"]["vec"] == [1.0, "NaN", "Infinity", "-Infinity"]
    proc = rw("show", "p/" + runs["floats"]["id"], "--root", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    record = _strict(proc.stdout)
    assert record["config"] == CONFIG
    assert record["summary"]["best"] == "-Infinity" and record["summary"]["loss"] == "NaN"
    assert "worst" in json.dumps(record["summary"]) and '"NaN"' in json.dumps(record["summary"])


@pytest.mark.parametrize("to_file", [False, True])
def test_export_jsonl_spells_them(root: Path, tmp_path: Path, to_file: bool) -> None:
    out = tmp_path / "floats.jsonl"
    args = ["export", "floats", "--root", str(root), "-f", "jsonl"] + (["-o", str(out)] if to_file else [])
    proc = rw(*args)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text() if to_file else proc.stdout
    rows = [_strict(line) for line in text.splitlines()]
    assert [{k: r[k] for k in _floats_row(0)} for r in rows] == [_floats_row(s) for s in range(400)]
    proc = rw("export", "mixed", "--root", str(root), "-f", "jsonl")
    rows = [_strict(line) for line in proc.stdout.splitlines()]
    assert [{k: r[k] for k in _mixed_row(0)} for r in rows] == [_mixed_row(s) for s in range(50)]


def test_export_project_jsonl_and_csv_lists(root: Path) -> None:
    """A project's export (the union of keys), and a list in CSV: a cell of JSON text."""
    proc = rw("export", "p", "--root", str(root), "-f", "jsonl")
    assert proc.returncode == 0, proc.stderr
    rows = [_strict(line) for line in proc.stdout.splitlines()]
    assert sum(r.get("held") == "NaN" for r in rows) == 400
    assert sum(r.get("vec") == [1.0, "NaN", "Infinity", "-Infinity"] for r in rows) == 50
    proc = rw("export", "mixed", "--root", str(root), "-f", "csv", "-m", "vec")
    cells = [row[-1] for row in csv.reader(io.StringIO(proc.stdout))][1:]
    assert [_strict(c) for c in cells] == [[1.0, "NaN", "Infinity", "-Infinity"]] * 50

