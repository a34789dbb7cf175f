"""`runwatch export -o FILE` where a row holds a key no snapshot lists (a damaged or edited
file): the CSV header comes from the snapshots' digests, so the first write leaves that key
out; to a file, export writes it again with a pass for the keys and loses nothing (exit 0).
To a pipe, already written, it names the keys left out and fails, as before. Parquet types
every column in a first pass anyway: the key is found there and written, to a file or not."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from logger import events as ev
from logger.snapshot import KeyStat
from tests.test_scale_read import A, _log, _start
from tests.test_tail_speed_export import naive_csv
from tui.cli import export

REPO = Path(__file__).resolve().parents[1]


def _unlisted_run(root: Path, run_id: str = "r", rare_at: int = 7, also: str | None = None) -> Path:
    """A run whose snapshot lists `loss` only (and `also`, logged as 2.0 on every row), while
    the row at step `rare_at` also holds `rare` (a snapshot made by hand, or edited): as the
    real reader meets such a file."""
    more = {also: 2.0} if also else {}
    logs = [_log(s, 10.0 + s, loss=0.5 * s, **more, **({"rare": 1.0} if s == rare_at else {}))
            for s in range(300)]
    stat = msgspec.to_builtins(KeyStat(last=149.5, first=0.0, count=300, max=149.5, total=1.0))
    stats = {"loss": stat, **dict.fromkeys(more, stat)}
    snap = ev.Snapshot(time=400.0, events=302, rows=300, max_step=299, last_time=309.0,
                       stats=stats, first_step=0)
    run = root / "p" / run_id
    run.mkdir(parents=True)
    chunks = [ev.encode_event(e) for e in [*_start("script", 10.0), *logs]]
    (run / A).write_bytes(ev.HEADER + ev.frames_from([*chunks, ev.encode(snap)]))
    return run


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "export", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_csv_to_a_file_takes_the_key_pass_and_loses_nothing(tmp_path):
    root = tmp_path / "runs"
    _unlisted_run(root)
    out = tmp_path / "r.csv"
    got = _cli("p/r", "--root", str(root), "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert "left out" not in got.stderr and "wrote 300 rows" in got.stderr
    text = out.read_text()
    assert text.splitlines()[0] == "_step,_timestamp,_runtime,loss,rare"
    assert text == naive_csv(root, False)  # every key, every row, as csv.writer writes them
    assert text.splitlines()[8] == "7,17.0,7.0,3.5,1.0"


def test_csv_to_a_pipe_says_what_it_left_out_and_fails(tmp_path):
    root = tmp_path / "runs"
    _unlisted_run(root)
    got = _cli("p/r", "--root", str(root))
    assert got.returncode == 1
    assert "left out of the CSV: rare" in got.stderr and "-o" in got.stderr
    assert got.stdout.splitlines()[0] == "_step,_timestamp,_runtime,loss"


def test_a_project_to_a_file_loses_no_run_s_key(tmp_path):
    root = tmp_path / "runs"
    _unlisted_run(root, "r1", rare_at=3)
    _unlisted_run(root, "r2", rare_at=9)
    out = tmp_path / "p.csv"
    code = export.cmd_export("p", str(root), None, str(out), [], io.StringIO())
    assert code == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 600 and list(rows[0]) == ["run", "name", *export.BASE, "loss", "rare"]
    assert [(r["run"], r["_step"]) for r in rows if r["rare"]] == [("p/r1", "3"), ("p/r2", "9")]
    assert all(float(r["loss"]) == 0.5 * int(r["_step"]) for r in rows)


def test_a_project_whose_runs_logged_a_key_named_name_loses_nothing_either(tmp_path):
    """Rows, not columns, go out where a run logged `name` (the project's own column): the
    key no snapshot lists is noted there too, and written."""
    root = tmp_path / "runs"
    _unlisted_run(root, "r1", rare_at=3, also="name")
    out = tmp_path / "p.csv"
    code = export.cmd_export("p", str(root), None, str(out), [], io.StringIO())
    assert code == 0
    with out.open() as f:
        header, *rows = list(csv.reader(f))
    assert header[-1] == "rare" and len(rows) == 300
    assert [r[0] for r in rows if r[-1]] == ["p/r1"] and rows[3][-1] == "1.0"
    pipe = io.StringIO()
    assert export.cmd_export("p", str(root), None, None, [], pipe) == 1  # a pipe: said, as ever
    assert "rare" not in pipe.getvalue().splitlines()[0]


@pytest.mark.parametrize("to_file", [True, False])
def test_parquet_writes_a_key_no_snapshot_lists(tmp_path, to_file):
    pq = pytest.importorskip("pyarrow.parquet")
    root = tmp_path / "runs"
    _unlisted_run(root)
    out = tmp_path / "r.parquet"
    if to_file:
        got = _cli("p/r", "--root", str(root), "-o", str(out))
    else:
        with out.open("wb") as f:
            got = subprocess.run([sys.executable, "-m", "tui", "export", "p/r", "--root", str(root),
                                  "--format", "parquet"], cwd=REPO, stdout=f, stderr=subprocess.PIPE,
                                 text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    table = pq.read_table(out)
    assert table.column_names == [*export.BASE, "loss", "rare"]
    rare = table.column("rare").to_pylist()
    assert rare[7] == 1.0 and rare.count(None) == 299
