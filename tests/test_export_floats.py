"""`runwatch export` CSV in one pass (tui/cli/export.py): the header from the listing's
digests, frames of float rows as columns read from their bytes; the file reads byte for byte
as csv.writer over every row, a cell at a time, on runs of float frames with every odd thing
between them (logger/float_frames.py, tests/test_scan_floats.py's runs). Where the digests
cannot give the rows' key order, or name fewer keys than the rows hold, it says so."""

from __future__ import annotations

import io
from pathlib import Path

import msgspec
import pytest

from logger import events as ev
from logger.snapshot import KeyStat
from tests.test_scale_read import A, _log, _start, _write
from tests.test_scan_floats import _run
from tests.test_tail_speed_export import naive_csv
from tests.writer_support import decoded_bytes
from tui.cli import export, export_columns


def _export(root: Path, ref: str = "p/r", metrics: list[str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    return export.cmd_export(ref, str(root), None, None, metrics or [], out), out.getvalue()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("damaged", [False, True])
def test_csv_of_float_frames_reads_as_csv_writer_a_cell_at_a_time(tmp_path, monkeypatch, seed, damaged):
    root = tmp_path / "runs"
    _run(root, seed, damaged)
    tables = []
    real = export_columns._table_columns
    monkeypatch.setattr(export_columns, "_table_columns", lambda rows, *a: tables.append(rows) or real(rows, *a))
    code, got = _export(root)
    assert code == 0 and len(tables) >= 3  # frames of float rows went out as their columns
    assert got == naive_csv(root, False)
    assert got.splitlines()[0].startswith("_step,_timestamp,_runtime,loss,lr,epoch,")
    code, some = _export(root, metrics=["acc", "extra"])
    assert code == 0 and some == naive_csv(root, False, ["acc", "extra"])


def test_steps_that_go_back_take_the_key_pass_for_the_header(tmp_path, monkeypatch):
    """A key first met in step order is not the first logged: the header keeps the rows'
    order (as before), from a pass over them."""
    root = tmp_path / "runs"
    logs = [_log(s, 10.0 + s, b=1.0) for s in range(100, 400)] + [_log(s, 500.0 + s, a=2.0) for s in range(50)]
    path = _write(root / "p" / "r", A, [*_start("script", 10.0), *logs])
    decoded = decoded_bytes(monkeypatch)
    code, got = _export(root)
    assert code == 0 and got == naive_csv(root, False)
    assert got.splitlines()[0] == "_step,_timestamp,_runtime,a,b"
    assert decoded[0] > 1.8 * path.stat().st_size


def test_a_key_the_snapshot_does_not_list_is_said_left_out(tmp_path, capsys):
    """A snapshot names every key its writer logged; one that names fewer (edited, or made by
    hand) gives a header without the others: export says which, and fails."""
    root = tmp_path / "runs"
    logs = [_log(s, 10.0 + s, loss=0.5 * s, **({"rare": 1.0} if s == 7 else {})) for s in range(300)]
    stat = msgspec.to_builtins(KeyStat(last=149.5, first=0.0, count=300, max=149.5, total=1.0))
    snap = ev.Snapshot(time=400.0, events=302, rows=300, max_step=299, last_time=309.0, stats={"loss": stat},
                       first_step=0)
    run = root / "p" / "r"
    run.mkdir(parents=True)
    chunks = [ev.encode_event(e) for e in [*_start("script", 10.0), *logs]]
    (run / A).write_bytes(ev.HEADER + ev.frames_from([*chunks, ev.encode(snap)]))  # the snapshot: its own frame
    code, got = _export(root)
    assert code == 1 and "rare" not in got.splitlines()[0] and len(got.splitlines()) == 301
    assert "do not list, left out of the CSV: rare" in capsys.readouterr().err
    code, got = _export(root, metrics=["rare"])
    assert code == 0 and got.splitlines()[1:] == ["7,17.0,7.0,1.0"]
