"""`runwatch export --format parquet` streams: row groups of ROW_GROUP rows, each column typed
from every value first, so memory is bounded by a row group, not the run; the file holds what
one table of every value (the columns typed whole) would."""

from __future__ import annotations

import io
import math
import tracemalloc

import pytest

from logger import events as ev
from logger import history_read, snapshot
from tests.test_scale_read import A, _log, _start, _write
from tui import tail_replay
from tui.cli import export
from tui.cli.export import cmd_export
from tui.fmt import to_json

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _run(root, steps: int) -> None:
    """Columns whose kinds change page to page: ints then floats, a text column that turns
    mixed, a list column, one that is None until late, a NaN."""
    logs = []
    for s in range(steps):
        row = {"loss": 0.5 + s if s % 2 else s, "acc": s * 0.25, "tag": f"x{s}" if s < steps - 3 else 7,
               "late": None if s < steps // 2 else s, "vec": [s, s + 0.5], "nan": math.nan if s == 5 else 1.0}
        logs.append(_log(s, 1000.0 + s, **{k: v for k, v in row.items() if v is not None}))
    _write(root / "p" / "r", A, [*_start("script", 999.0), *logs,
                                 ev.Finish(time=2e6, exit_code=0, state="finished", error=None)])


def _whole_table(root) -> pa.Table:
    """What export wrote before it streamed: one pa.array per whole column, text where mixed."""
    out = io.StringIO()
    cmd_export("p/r", str(root), "jsonl", None, [], out)
    import json

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    for r in rows:  # JSON spells NaN "NaN" (W&B's): the file holds the float
        r.update({k: math.nan for k, v in r.items() if v == "NaN"})
    columns = ["_step", "_timestamp", "_runtime", "loss", "acc", "tag", "vec", "nan", "late"]  # as first logged
    arrays = {}
    for c in columns:
        values = [r.get(c) for r in rows]
        try:
            arrays[c] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[c] = pa.array([None if v is None else v if isinstance(v, str) else to_json(v).decode()
                                  for v in values])
    return pa.table(arrays)


def test_parquet_is_written_a_row_group_at_a_time_with_the_whole_columns_types(tmp_path, monkeypatch):
    monkeypatch.setattr(history_read, "CHUNK", 4096)
    monkeypatch.setattr(export, "ROW_GROUP", 500)
    root = tmp_path / "runs"
    _run(root, 3000)
    path = tmp_path / "r.parquet"
    assert cmd_export("p/r", str(root), None, str(path), [], io.StringIO()) == 0
    got = pq.ParquetFile(path)
    assert got.num_row_groups >= 3 and got.metadata.num_rows == 3000
    table = got.read()
    want = _whole_table(root)
    assert table.schema == want.schema
    assert table.column("loss").type == pa.float64() and table.column("tag").type == pa.string()
    assert table.drop(["nan"]).equals(want.drop(["nan"]))
    nans = table.column("nan").to_pylist()
    assert math.isnan(nans[5]) and nans[:5] == [1.0] * 5


def _peak(tmp_path, steps: int) -> tuple[int, int]:
    """(Python heap peak, Arrow pool peak) of one export: the batches held for a row group
    live in Arrow's pool, which tracemalloc does not see (holding every batch read 1x there)."""
    root = tmp_path / f"runs{steps}"
    _run(root, steps)
    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)  # its own max_memory(), counted from zero
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        cmd_export("p/r", str(root), "parquet", str(tmp_path / f"{steps}.parquet"), [], io.StringIO())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)
    return peak, pool.max_memory()


def test_parquet_export_memory_is_bounded_by_a_row_group_not_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(history_read, "CHUNK", 8192)
    monkeypatch.setattr(export, "ROW_GROUP", 1000)
    # Finding a segment's last snapshot reads up to SEARCH_MAX (8 MiB and more) from its end
    # at once: a bound of its own, but one past these runs (0.2 and 1.7 MB), so unscaled it
    # read each file whole (twice: the listing, then the scan's writers) and grew with the run.
    monkeypatch.setattr(snapshot, "SEARCH_MAX", 64 * 1024)
    # The listing that finds the run reads a chunk per segment too (how much of one it holds
    # depended on what ran before in the process: after an in-process `main(["export", ...])`
    # its 1 MiB chunk of these files held ~5 MB): scaled like the scan's.
    monkeypatch.setattr(tail_replay, "CHUNK", 8192)
    _peak(tmp_path, 500)  # warm: what the first export loads and caches is not the run's
    (small, small_arrow), (big, big_arrow) = _peak(tmp_path, 2000), _peak(tmp_path, 20000)
    # 10x the rows: the whole-table write held ~10x on the heap, every batch held ~10x in Arrow
    assert big < 2 * small, (small, big)
    assert big_arrow < 2 * small_arrow, (small_arrow, big_arrow)
