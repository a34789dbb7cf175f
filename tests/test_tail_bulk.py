"""tail's Log lines in bulk (tui/tail_bulk.py): byte for byte the lines formatted a value at a
time, over odd values; a value the same on every row formatted once per chunk, not per row;
times no clock holds (a damaged file) print instead of ending tail."""

from __future__ import annotations

import io
import json
import math
import random

import pytest

from logger import events as ev
from logger import history_read
from logger.values import flatten_into
from tests.test_scale_read import A, _log, _start, _write
from tui import tail_bulk
from tui.fmt import fmt_value, short
from tui.tail import Tail, TailOptions
from tui.tail_replay import read_meta, replay

MEDIA = {"_type": "image-file", "path": "media/images/x_1_ab.png", "width": 4, "height": 4, "format": "png",
         "sha256": "ab", "size": 10}
ODD = [math.nan, math.inf, -math.inf, 0.0, -0.0, 3, -7, 2**62, True, False, None, 1e-300, 1e300, 5e-5,
       123456.7, 0.25, 999999.99996, 0.009999, -0.5, "a\x1bb%s\n", "e\u202e%", "", "d\x7fel", "ünï\x85", [1, 2.5, math.nan],
       MEDIA, {"b": {"c": 1.5}}]
KEYS = ["loss", "acc%d", "lr", "k\x1b[2J", "epoch", "_hidden", "x" * 50]


def _odd_root(tmp_path, seed: int):
    """One run whose rows hold odd values: runs of one value (inlined), columns of one kind,
    mixed kinds, missing keys, keys in another order, many rows in one second and not."""
    rng = random.Random(seed)
    logs, value = [], {k: rng.choice(ODD) for k in KEYS}
    for step in range(400):
        for k in KEYS:
            if rng.random() < 0.05:
                value[k] = rng.choice(ODD)  # a new value that then holds for a while
        keys = KEYS if step % 50 < 40 else rng.sample(KEYS, rng.randint(1, len(KEYS)))
        row = {k: (rng.uniform(0.02, 9) if k == "loss" and step % 3 else value[k]) for k in keys}
        logs.append(_log(step, 1796126212.0 + step * 0.05 + (step // 120) * 7, **row))
    fin = ev.Finish(time=1796126300.0, exit_code=0, state="finished", error=None)
    root = tmp_path / "runs"
    _write(root / "p" / "r", A, [*_start("script", 1796126211.0), *logs, fin])
    return root, logs


def _reference(root, logs, **opts) -> list[str]:
    """The Log lines as tail formats one row at a time (Tail._log_line, fmt_value per value)."""
    out = io.StringIO()
    tail = Tail(TailOptions(follow=False, **opts), out)
    run = read_meta(root)[0]
    tail._label_of(run)
    for e in logs:
        flat: dict = {}
        flatten_into(flat, e.values, "", {})
        tail._log_line(run, e.step, e.time, flat)
    tail.emit()
    return out.getvalue().splitlines(keepends=True)


def _log_lines(text: str, json_lines: bool) -> list[str]:
    lines = text.splitlines(keepends=True)
    if json_lines:
        return [line for line in lines if json.loads(line)["kind"] == "log"]
    return [line for line in lines if line.split("  ")[2].startswith("step ")]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("opts", [{}, {"json": True}, {"metrics": ("lr", "loss", "acc*")},
                                  {"json": True, "metrics": ("epoch", "k*", "lr")}], ids=str)
def test_bulk_lines_are_the_lines_of_one_row_at_a_time(tmp_path, monkeypatch, seed, opts):
    monkeypatch.setattr(history_read, "CHUNK", 2048)  # many chunks, each its own key sets
    root, logs = _odd_root(tmp_path, seed)
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False, **opts), out), root)
    got = _log_lines(out.getvalue(), bool(opts.get("json")))
    assert got == _reference(root, logs, **opts)
    assert len(got) > 300 and "\x1b" not in out.getvalue()


def test_a_value_the_same_on_every_row_is_formatted_once_per_chunk(monkeypatch):
    calls = []

    def counting(value, *args, **kwargs):
        calls.append(value)
        return fmt_value(value, *args, **kwargs)

    monkeypatch.setattr(tail_bulk, "fmt_value", counting)
    rows = [{"lr": 3e-4, "epoch": s // 100, "loss": 0.5 + s / 1e4, "note": "warm%up", "done": False}
            for s in range(1000)]
    stamps = ["12:00:00"] * 1000
    lines = tail_bulk.log_block("p/r", tuple(rows[0]), stamps, list(range(1000)), rows)
    assert len(calls) <= 3  # lr, note, done: once each, not once per row
    want = [f"12:00:00  p/r  step {s}  " + "  ".join(f"{short(k, 40)} {fmt_value(v)}" for k, v in r.items())
            + "\n" for s, r in enumerate(rows)]
    assert lines == want


@pytest.mark.parametrize("json_lines", [False, True])
def test_times_no_clock_holds_print_rather_than_end_tail(tmp_path, json_lines):
    root = tmp_path / "runs"
    logs = [_log(0, 1000.0, loss=0.5), _log(1, math.nan, loss=0.4), _log(2, 1e20, loss=0.3),
            _log(3, -1e20, loss=0.2), _log(4, 1001.0, loss=0.1)]
    _write(root / "p" / "r", A, [*_start("script", 999.0), *logs])
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False, json=json_lines), out), root)
    lines = _log_lines(out.getvalue(), json_lines)
    assert len(lines) == 5
    if json_lines:
        assert sorted(json.loads(line)["values"]["loss"] for line in lines) == [0.1, 0.2, 0.3, 0.4, 0.5]
    else:
        assert all("loss 0." in line for line in lines)


@pytest.mark.parametrize("col", [[1.0, 1, True], [0.0, -0.0, 0, False], [0.5, 0.5, 0.5], [None, None], ["a", "a"],
                                 [math.nan, math.nan], [math.inf, math.inf], [2.5, 2.5, "2.5"], [7, 7, 7.0]],
                         ids=repr)
def test_values_equal_but_of_another_kind_print_as_their_own(col):
    rows = [{"x": v} for v in col]
    lines = tail_bulk.log_block("p/r", ("x",), ["t"] * len(col), list(range(len(col))), rows)
    assert lines == [f"t  p/r  step {s}  x {fmt_value(v)}\n" for s, v in enumerate(col)]
