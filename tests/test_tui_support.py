"""Helpers shared by the TUI tests (imported as `test_tui_support`), and tests of the pure parts.

Runs are written frame by frame with `logger.events`, as a training script's writer would,
so a test can make any state: a dead pid reads "crashed", our own pid reads "running".
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logger import events as ev
from logger.host import boot_id, process_start_ticks
from tui.model.param_importance import importance
from tui.model.stats import Decimator, band, ema, rebucket, sparkline


def run_events(
    run_id: str, *, project: str = "proj", name: str | None = None, config: dict[str, Any] | None = None,
    tags: list[str] | None = None, notes: str | None = None, steps: int = 10,
    metrics: Callable[[int], dict[str, Any]] | None = None, state: str | None = "finished",
    pid: int | None = None, t0: float = 1_700_000_000.0, group: str | None = None,
    host: str | None = None, dt: float = 1.0,
) -> list[ev.Event]:
    """The events of one script segment. state None: no finish (running or crashed by pid)."""
    pid = os.getpid() if pid is None else pid
    out: list[ev.Event] = [
        ev.SegmentStart(version=ev.FORMAT_VERSION, run_id=run_id, role="script",
                        host=host or socket.gethostname(), pid=pid,
                        proc_start=process_start_ticks(pid) if pid > 0 and not host else 0,
                        boot_id="sample-boot" if host else boot_id(), time=t0),
        ev.RunStart(project=project, name=name or run_id, notes=notes, tags=list(tags or []),
                    group=group, job_type=None, config=config or {}, command=["train.py"],
                    python="3.11", cwd="/tmp", git_commit="abc123", git_branch="main",
                    resumed=False, time=t0),
    ]
    metrics = metrics or (lambda i: {"loss": 1.0 / (i + 1), "acc": i / max(1, steps)})
    for i in range(steps):
        out.append(ev.Log(step=i, time=t0 + i * dt, values=metrics(i)))
    if state is not None:
        code = {"finished": 0, "failed": 1, "killed": 143}[state]
        out.append(ev.Finish(time=t0 + steps * dt, exit_code=code, state=state,
                             error="Traceback: boom" if state == "failed" else None))
    return out


def write_run(root: Path, run_id: str, project: str = "proj", **kw: Any) -> Path:
    """Write one run's segment under root/project/run_id; returns the run directory."""
    run_dir = root / project / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    data = bytearray(ev.HEADER)
    for event in run_events(run_id, project=project, **kw):
        data += ev.encode(event)
    (run_dir / f"20240101T000000-script-1-{run_id[:6]}{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))
    return run_dir


def append_events(run_dir: Path, events: list[ev.Event]) -> None:
    seg = sorted(p for p in run_dir.glob("*" + ev.SEGMENT_SUFFIX) if "script" in p.name)[0]
    with open(seg, "ab") as f:
        for event in events:
            f.write(ev.encode(event))


def sweep(root: Path, n: int = 6) -> list[Path]:
    """A small sweep: lr x seed, one failed, one crashed (dead pid), the rest finished."""
    dirs = []
    for i in range(n):
        lr = [1e-3, 1e-2, 1e-1][i % 3]
        state: str | None = "finished"
        pid = None
        if i == 1:
            state = "failed"
        if i == 2:
            state, pid = None, 0
        dirs.append(write_run(
            root, f"run{i:03d}", name=f"run-{i}", config={"lr": lr, "seed": i // 3, "bs": 32},
            tags=["sweep"] + (["baseline"] if i == 0 else []), notes=f"note {i}", state=state,
            pid=pid, steps=20, t0=1_700_000_000.0 + i * 100,
            metrics=lambda s, lr=lr: {"loss": lr * 10 / (s + 1), "acc": 1 - lr / (s + 1)}))
    return dirs


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds (or fail after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


# -- tests of the pure parts -----------------------------------------------------------------
def test_decimator_keeps_extremes_and_counts():
    d = Decimator(cap=16)
    xs = list(range(1000))
    ys = [math.sin(i / 50) for i in xs]
    ys[500] = 10.0
    d.extend(xs[:300], ys[:300])
    d.extend(xs[300:], ys[300:])
    assert d.fed == 1000 and len(d) <= 16
    x, mean, lo, hi = d.points()
    assert max(hi) == 10.0 and min(lo) == min(ys)
    assert sum(d.n) == 1000
    assert x == sorted(x)


def test_decimator_skips_nan():
    d = Decimator(cap=8)
    d.extend([0, 1, 2, 3], [1.0, math.nan, 3.0, math.inf])
    x, mean, lo, hi = d.points()
    assert x == [0.0, 2.0] and lo == [1.0, 3.0] and mean == [1.0, 3.0]  # NaN, inf dropped


def test_rebucket_and_ema():
    x, m, lo, hi = rebucket(list(range(100)), [float(i) for i in range(100)], list(range(100)),
                            list(range(100)), 10)
    assert len(x) == 10 and lo[0] == 0 and hi[-1] == 99
    assert ema([1.0, 1.0, 1.0], 0.9) == [1.0, 1.0, 1.0]
    smoothed = ema([0.0, 10.0], 0.5)
    assert 0 < smoothed[1] < 10


def test_sparkline_shape():
    assert sparkline([0, 1, 2, 3], 4) == "▁▃▆█"
    assert sparkline([], 3) == "   "
    assert len(sparkline(list(range(100)), 10)) == 10


def test_band_mean_std():
    g, m, s, lo, hi = band([([0, 10], [0.0, 10.0]), ([0, 10], [2.0, 12.0])], 3)
    assert g == [0, 5, 10] and m == [1.0, 6.0, 11.0] and s == [1.0, 1.0, 1.0]


def test_importance_ranks_the_key_that_matters():
    configs = [{"lr": lr, "seed": s, "opt": o} for lr in (1e-3, 1e-2, 1e-1) for s in range(4)
               for o in ("adam", "sgd")]
    metric = [c["lr"] * 10 + (c["seed"] % 2) * 0.001 for c in configs]
    rows = importance(configs, metric)
    assert rows[0][0] == "lr" and rows[0][1] > 0.9
    assert rows[0][2] > 0.9  # rank correlation
    opt = [r for r in rows if r[0] == "opt"][0]
    assert math.isnan(opt[2])


def test_decimator_in_random_chunks_keeps_counts_extremes_and_order():
    import random

    rng = random.Random(1)
    for cap in (8, 16, 64):
        d = Decimator(cap=cap)
        ys = [rng.gauss(0, 1) if rng.random() > 0.05 else math.nan for _ in range(3000)]
        i = 0
        while i < len(ys):
            k = rng.choice([1, 2, 5, 17, 100])
            d.extend(range(i, i + len(ys[i:i + k])), ys[i:i + k])
            i += k
        finite = [y for y in ys if not math.isnan(y)]
        x, mean, lo, hi = d.points()
        assert d.fed == 3000 and len(d) <= cap
        assert sum(d.n) == len(finite)
        assert min(lo) == min(finite) and max(hi) == max(finite)
        assert x == sorted(x)
        assert sum(m * n for m, n in zip(mean, [c for c in d.n if c])) == pytest.approx(sum(finite))


def test_decimator_takes_int_arrays_and_ranges():
    from array import array

    d = Decimator(cap=8)
    d.extend(array("q", range(100)), array("q", range(100)))
    d.extend(range(100, 164), [1.5] * 64)
    x, mean, lo, hi = d.points()
    assert d.fed == 164 and len(d) <= 8 and lo[0] == 0 and hi[-1] == 1.5
    assert sum(d.n) == 164


def test_first_pass_reads_every_run_start_even_a_long_one(tmp_path):
    from tui.model.store import RunStore

    root = tmp_path / "runs"
    big = {f"key_{i}": "x" * 40 for i in range(200)}  # ~9 KB of config
    write_run(root, "big001", name="big-config", config=big, steps=500)
    write_run(root, "small1", name="small", steps=500)
    posted: dict = {}
    store = RunStore(root, None, posted.update)
    store.first_pass()
    views = {v.name: v for v in posted.values()}
    assert set(views) == {"big-config", "small"}
    assert views["big-config"].config_flat["key_199"] == "x" * 40
    assert views["small"].step == 499  # the whole row: a listing's read
    assert store.with_runs(["proj/small1"], lambda runs: runs[0].unfed())  # histories later


def test_step_axis_ticks_are_round_integers():
    from tui.model.plot import step_ticks

    assert step_ticks(0, 119) == ([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100"])
    assert step_ticks(0, 100_000)[1] == ["0", "20k", "40k", "60k", "80k", "100k"]
    assert step_ticks(0, 3)[0] == [0, 1, 2, 3]
    assert step_ticks(7, 7) == ([7], ["7"])
