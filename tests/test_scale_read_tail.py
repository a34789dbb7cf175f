"""`tail --no-follow` streams (tui/tail_replay.py): the same lines as reading every run whole
first, in memory bounded by a chunk per segment; Log lines formatted in bulk read the same
as formatted a value at a time."""

from __future__ import annotations

import io
import math
import random

import pytest

from logger import events as ev
from logger import history_read
from tests.test_scale_read import A, B, _log, _start, _write
from tui.fmt import fmt_value, iso_time, json_line, short
from tui.tail import Tail, TailOptions, follower_for
from tui.tail_lines import json_block, log_block
from tui.tail_replay import read_meta, replay


def _root(tmp_path):
    root = tmp_path / "runs"
    d = root / "p" / "r"
    logs = [_log(s, 1000.0 + s / 10, loss=0.5 + s, acc=s, **({"val": {"x": s}} if s % 9 == 0 else {}))
            for s in range(500)]
    fin = ev.Finish(time=1100.0, exit_code=1, state="failed", error="Boom\x1b[2J")
    _write(d, A, [*_start("script", 1000.0), *logs, fin])
    edits = [ev.SetTags(tags=None, add=["t1"], remove=[], time=1050.0),
             ev.SetNotes(notes="late \x1b]52;x", time=2000.0)]
    _write(d, B, [*_start("editor", 1050.0)[:1], *edits])
    _write(root / "p" / "q", A, [*_start("script", 990.0), *[_log(s, 995.0 + s, m=s * 0.25) for s in range(50)],
                                        ev.Finish(time=1200.0, exit_code=0, state="finished", error=None)])
    return root


def _old(root, **opts) -> str:
    out = io.StringIO()
    tail = Tail(TailOptions(follow=False, **opts), out)
    tail.initial(follower_for(root).initial())  # every run read whole, as before
    return out.getvalue()


def _new(root, **opts) -> str:
    out = io.StringIO()
    replay(Tail(TailOptions(follow=False, **opts), out), root)
    return out.getvalue()


@pytest.mark.parametrize("opts", [{}, {"json": True}, {"metrics": ("loss", "val.*")}, {"since": 1030.0},
                                  {"json": True, "since": 1030.0}], ids=str)
def test_no_follow_streams_the_lines_a_whole_read_gives(tmp_path, monkeypatch, opts):
    monkeypatch.setattr(history_read, "CHUNK", 1024)  # many chunks: the merge by time is exercised
    root = _root(tmp_path)
    new = _new(root, **opts)
    assert new == _old(root, **opts)
    assert "\x1b" not in new and "step 499" in new or opts.get("json") or "since" in opts


def test_the_first_pass_holds_no_history(tmp_path):
    runs = {r.path: r for r in read_meta(_root(tmp_path))}
    run = runs["p/r"]
    assert run.state == "failed" and run.finished_at == 1100.0 and "t1" in run.tags
    assert len(run.history) == 0 and run.step is None  # values were skipped, not built


def test_bulk_lines_read_as_lines_formatted_one_value_at_a_time():
    pool = [0.0, -0.0, 1.5, -2.25, 1e-5, 1e7, math.nan, math.inf, -math.inf, 3, True, None,
            "a\x1bb%s", [1, 2.5], 0.011, 999999.9, -0.5, "e\u202e"]
    rng = random.Random(1)
    tail = Tail(TailOptions(json=True), io.StringIO())
    head = {"run": "p/r", "project": "p", "id": "r", "name": "n\x7f"}
    for _ in range(200):
        keys = tuple(f"k%{i}" for i in range(rng.randint(1, 4)))
        rows = [{k: (rng.uniform(0.02, 5) if rng.random() < 0.5 else rng.choice(pool)) for k in keys}
                for _ in range(rng.randint(1, 20))]
        steps = list(range(len(rows)))
        times = [1796126212.3 + rng.random() * 5 for _ in rows]
        want = [f"12:00:00  l%b  step {s}  " + "  ".join(f"{short(k, 40)} {fmt_value(r[k])}" for k in keys) + "\n"
                for s, r in zip(steps, rows)]
        assert log_block("l%b", keys, ["12:00:00"] * len(rows), steps, rows) == want
        want = [json_line({"kind": "log", **head, "time": iso_time(t), "ts": t, "step": s,
                           "values": {k: r[k] for k in keys}}) for t, s, r in zip(times, steps, rows)]
        assert json_block(head, keys, list(map(tail._iso, times)), times, steps, rows) == want
