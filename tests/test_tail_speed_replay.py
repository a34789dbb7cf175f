"""`tail --no-follow` at speed (tui/tail_replay.py, tui/tail_bulk.py): each frame decoded once
(names and states come from the writer's snapshot, as `ls` reads them), rows formatted by one
`%` per line, and every line byte for byte what a naive formatter, a value at a time, prints."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from logger import history_frames, segment
from logger.history_read import HistoryScan
from tui import tail_bulk
from tui.fmt import fmt_clock, fmt_value, short
from tui.tail import Tail, TailOptions, follower_for
from tui.tail_replay import replay

from .test_cli_support import REPO, env
from .writer_support import written_root

# A real writer's run: floats, ints, NaN and infinities, bools, strings with escapes and a
# "%", a key missing from some rows, key sets that change mid-run, a constant column.
WRITER = r"""
import math, sys
import logger
run = logger.init(project="p", name="mixed%s\x1b[2J", dir=sys.argv[1], id="r1")
odd = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-5, 1e7, 0.5, -0.25, 999999.99996]
for i in range(3000):
    row = {"loss": 1.0 / (i + 1) + 0.01, "lr": 3e-4, "epoch": i // 500, "odd": odd[i % len(odd)]}
    if i % 7 == 0:
        row["flag"] = i % 2 == 0
    if 1000 <= i < 1400:
        row = {"text": "a\x1bb%d\u202e" if i % 3 else "plain", "epoch": i // 500, "loss": float(i)}
    if i >= 2500:
        row["late/key"] = i
    run.log(row)
run.finish()
"""


@pytest.fixture(scope="module")
def mixed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return written_root(tmp_path_factory, "speed", WRITER)


def naive_lines(root: Path) -> list[str]:
    """The Log lines as a person would format them: a row, a key, a value at a time."""
    run_dir = root / "p" / "r1"
    rows = list(HistoryScan(run_dir).rows())
    label = short("p/mixed%s\x1b[2J", 48)
    out = []
    for row in rows:
        keys = [k for k in row if not k.startswith("_")]
        values = "  ".join(f"{short(k, 40)} {fmt_value(row[k])}" for k in keys)
        out.append(f"{fmt_clock(int(row['_timestamp']))}  {label}  step {row['_step']}  {values}\n")
    return out


def test_no_follow_prints_what_a_value_at_a_time_formatter_prints(mixed_root: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tui", "tail", str(mixed_root), "--no-follow"], cwd=REPO,
                          env=env(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines(keepends=True)
    logged = [line for line in lines if line.split("  ")[2].startswith("step ")]
    assert logged == naive_lines(mixed_root)
    assert len(logged) == 3000 and b"\x1b" not in proc.stdout


def test_a_finished_run_is_decoded_once(mixed_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names, states and ends come from the writer's last snapshot: no pass over every frame
    before the printing one (it cost a quarter of the floor again)."""
    decoded = [0]

    def counting(data: Any, decode: Any) -> tuple[list[Any], int]:
        events, used = real(data, decode)
        decoded[0] += used
        return events, used

    real = segment.clean_frames
    monkeypatch.setattr(segment, "clean_frames", counting)
    monkeypatch.setattr(history_frames, "clean_frames", counting)
    monkeypatch.setenv("RUNWATCH_CACHE", "0")  # not the index cache: the snapshot itself
    replay(Tail(TailOptions(follow=False), io.StringIO()), mixed_root)
    size = sum(p.stat().st_size for p in (mixed_root / "p" / "r1").glob("*.rws"))
    assert 0.9 * size < decoded[0] < 1.1 * size


def test_every_latest_line_shows_the_last_values(mixed_root: Path) -> None:
    """`--no-follow --every`: rows wait out their interval, so none is noted; the `latest`
    line still shows every key's last value, as a whole read of the run does."""
    got, want = io.StringIO(), io.StringIO()
    replay(Tail(TailOptions(follow=False, every=3600.0), got), mixed_root)
    whole = Tail(TailOptions(follow=False, every=3600.0), want)
    whole.initial(follower_for(mixed_root).initial())
    last = got.getvalue().splitlines()[-1]
    assert last == want.getvalue().splitlines()[-1]
    assert "step 2999" in last and "late/key 2999" in last


@pytest.mark.parametrize("col", [(0.5, 0.25, 1e6 - 1), (3, -7, 2**70), (0.01, 0.02), (-0.5, -1e5),
                                 (0.5, math.nan), (0.5, 0.0), (1, True), (0.5, 5e-5), ("a%", "b"), (2.5, 2.5)],
                         ids=repr)
def test_a_column_spec_prints_each_value_as_fmt_value(col: tuple[Any, ...]) -> None:
    spec, values = tail_bulk.value_column(col)
    texts = [spec] * len(col) if values is None else [spec % v for v in values]
    assert texts == [fmt_value(v) for v in col]


@pytest.mark.parametrize("value", [0.5, math.nan, None, [1.0, math.inf], "p\udcff", "null", 2**70, True])
def test_json_rows_read_as_each_row_encoded_alone(value: Any) -> None:
    """One msgspec call per chunk, checked by the text it gave ("null": a NaN, an infinity or a
    None was there), reads as `json_line` of each row, whatever the values (a lone surrogate,
    from a file name that is not UTF-8, included)."""
    from tui.fmt import iso_time, json_line

    head = {"run": "p/r", "project": "p", "id": "r", "name": "n\udcfe"}
    rows = [{"a": 0.25, "k\udcfd": value}, {"a": 0.5, "k\udcfd": 1}]
    times, steps = [1796126212.25, 1796126213.5], [0, 1]
    isos = [iso_time(t) for t in times]
    want = [json_line({"kind": "log", **head, "time": i, "ts": t, "step": s, "values": r})
            for i, t, s, r in zip(isos, times, steps, rows)]
    assert tail_bulk.json_block(head, ("a", "k\udcfd"), isos, times, steps, rows) == want
