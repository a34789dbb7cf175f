"""`runwatch export` CSV in bulk (tui/cli/export.py): a page of numbers is one `%` over a
template, a value the same on every row is its cell made once, and rows are the decoded ones
rather than rebuilt; the file reads byte for byte as csv.writer over every row, a cell at a time."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from logger.history_read import HistoryScan
from tui.cli import export

from .test_cli_support import REPO, env
from .writer_support import decoded_bytes, written_root

WRITER = r"""
import math, sys
import logger
for name in ("first", "sec,ond"):
    run = logger.init(project="p", name=name, dir=sys.argv[1], reinit=True)
    for i in range(2500):
        row = {"loss": 1.0 / (i + 1), "lr": 3e-4, "zero": 0.0 if i % 2 else -0.0, "epoch": i // 1000,
               "one": 1 if i % 3 else 1.0}
        if i % 11 == 0:
            row["odd"] = [math.nan, math.inf, "x,\"y\"", True, None, "\x1b[2J%s"][i % 6]
        if 800 <= i < 900:
            row = {}  # a step with no value: no row in a CSV of every key
        run.log(row)
    run.finish()
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return written_root(tmp_path_factory, "export", WRITER)


def naive_csv(root: Path, project: bool, metrics: list[str] | None = None) -> str:
    """What export wrote before it went in bulk: csv.writer, a row of `_cell`s at a time."""
    from tui.tail_replay import read_meta

    runs = [r.dir for r in sorted(read_meta(root), key=lambda r: r.created_at)]  # as export orders them
    keys: dict[str, None] = {}
    for d in runs:
        for row in HistoryScan(d).rows():
            keys.update(dict.fromkeys(k for k in row if k not in export.BASE))
    names = [k for k in (metrics or keys) if k in keys]
    columns = (["run", "name"] if project else []) + list(export.BASE) + names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for d in runs:
        label = {"run": f"p/{d.name}", "name": _name(root, d.name)}
        for row in HistoryScan(d, names, any_key=True).rows():
            row = {**label, **row} if project else row
            writer.writerow(["" if row.get(c) is None else export._cell(row[c], False) for c in columns])
    return out.getvalue()


def _name(root: Path, run_id: str) -> str:
    from tui.tail_replay import read_meta

    return next(r.name for r in read_meta(root) if r.id == run_id)


@pytest.mark.parametrize("target, project, metrics", [("first", False, []), ("p", True, []),
                                                      ("first", False, ["odd", "loss", "zero"])], ids=str)
def test_bulk_csv_reads_as_csv_writer_a_cell_at_a_time(root: Path, tmp_path: Path, target: str, project: bool,
                                                       metrics: list[str]) -> None:
    args = ["export", target, "--root", str(root)] + (["-m", ",".join(metrics)] if metrics else [])
    piped = subprocess.run([sys.executable, "-m", "tui", *args], cwd=REPO, env=env(), capture_output=True,
                           timeout=60)
    assert piped.returncode == 0, piped.stderr
    got = piped.stdout.decode()
    assert got == (naive_csv(root, True) if project else _one_run(root, metrics))
    to_file = tmp_path / "out.csv"
    wrote = subprocess.run([sys.executable, "-m", "tui", *args, "-o", str(to_file)], cwd=REPO, env=env(),
                           check=True, capture_output=True, text=True, timeout=60).stderr
    assert to_file.read_text() == got
    assert f"wrote {got.count(chr(10)) - 1} rows" in wrote
    assert got.count("\n") > 2400 and ("sec,ond" in got) == project


def _one_run(root: Path, metrics: list[str]) -> str:
    """naive_csv of the run named "first" alone."""
    only = root.parent / "only"
    if not only.exists():
        from tui.tail_replay import read_meta

        run = next(r for r in read_meta(root) if r.name == "first")
        (only / "p").mkdir(parents=True)
        (only / "p" / run.id).symlink_to(run.dir)
    return naive_csv(only, False, metrics or None)


def test_export_reads_each_frame_once_where_the_snapshots_list_the_keys(root: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs are found as `ls` finds them (their snapshots), and the keys, the CSV's header,
    are the ones `ls` lists (the snapshots' digests): a CSV of every key costs the row pass."""
    decoded = decoded_bytes(monkeypatch)
    assert export.cmd_export("p", str(root), None, None, [], io.StringIO()) == 0
    size = sum(p.stat().st_size for p in root.glob("p/*/*.rws"))
    # one pass, and the first and last frames each reader of a small run reads (a pass for the
    # keys first, as before, is 2.2x)
    assert 0.9 * size < decoded[0] < 1.6 * size
