"""`_runtime` counts from the run's start (RunData.created_at: its writers' earliest
SegmentStart), as W&B's counts from wandb.init and as the summary's `_runtime` does: the same
number through scan_history, history(), export, the live History and the app's charts. Runs
are written by the real logger, with a sleep before the first log so the gap shows."""

from __future__ import annotations

import csv
import io
import json
import time
import warnings
from pathlib import Path

import pytest

import logger
from logger import Api
from logger import events as ev
from logger.history_read import HistoryScan
from logger.history_table import frame
from logger.reader import RootReader
from logger.segfile import RunwatchWarning
from tui.cli.export import cmd_export
from tui.model.decimate import points
from tui.model.run_series import SeriesBook
from tui.model.system_plots import SystemSamples, system_plots

GAP = 0.3  # seconds before the first log: a script's data loading, much shortened


def _write(root: Path, steps: int = 6, held: bool = False, **settings: float) -> str:
    """`held`: many rows of floats, all but one held, as a training run's learning rate and the
    like (frames the scan builds from their bytes, logger/history_floats.py)."""
    run = logger.init(project="p", name="r", reinit=True, settings=logger.Settings(**settings))
    time.sleep(GAP)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1), **({"lr": 1e-3, "wd": 0.1, "mom": 0.9} if held else {})})
        if not held:
            time.sleep(0.01)
    run.finish()
    return f"p/{run.id}"


def _run_data(root: Path) -> logger.rundata.RunData:
    reader = RootReader(root)
    reader.scan()
    (data,) = reader.runs.values()
    return data


def _check(rows: list[dict], created: float, summary: float | None = None) -> None:
    """Every row's `_runtime` is its `_timestamp` less the run's start; the last's is the summary's."""
    assert rows
    assert [r["_runtime"] for r in rows] == pytest.approx([r["_timestamp"] - created for r in rows], abs=1e-9)
    assert rows[0]["_runtime"] >= GAP  # counted from the start: the sleep before the first log is in it
    if summary is not None:
        assert rows[-1]["_runtime"] == pytest.approx(summary, abs=1e-9)


def test_scan_history_and_history_count_from_the_runs_start(root):
    path = _write(root)
    data = _run_data(root)
    run = Api(root).run(path)
    summary = run.summary["_runtime"]
    assert summary == pytest.approx(data.digest().last_time - data.created_at)
    _check(list(run.scan_history()), data.created_at, summary)
    _check(list(run.scan_history(keys=["loss"])), data.created_at, summary)  # the keyed build
    _check(list(run.scan_history(min_step=2, max_step=4)), data.created_at)  # a window
    _check(list(run.scan_history(writer="script")), data.created_at, summary)
    _check(run.history(pandas=False, samples=1000), data.created_at, summary)
    at = dict(zip(data.history.steps, data.history.times))
    picked = run.history(keys=["loss"], x_axis="_runtime", pandas=False, samples=3)  # keyed, sampled
    assert [r["_runtime"] for r in picked] == pytest.approx([at[r["_step"]] - data.created_at for r in picked])
    # history(pandas=True)'s columns, gathered without a row dict
    cols = frame(run._scan(None), 0)
    _check([dict(zip(cols, vals)) for vals in zip(*cols.values())], data.created_at, summary)


def test_a_scan_of_a_bare_run_directory_takes_the_start_its_first_pass_reads(root):
    _write(root)
    data = _run_data(root)
    scan = HistoryScan(data.dir)  # no start= passed: the writers' SegmentStart times
    _check(list(scan.rows()), data.created_at, data.digest().last_time - data.created_at)
    assert scan.start == data.created_at


def test_frames_of_held_floats_count_from_the_runs_start(root):
    path = _write(root, steps=3000, held=True)
    data = _run_data(root)
    summary = data.digest().last_time - data.created_at
    _check(list(Api(root).run(path).scan_history()), data.created_at, summary)
    # a window: the frames before it passed over (logger/history_seek.py), the zero not moved
    _check(list(Api(root).run(path).scan_history(min_step=2900)), data.created_at, summary)
    _check(list(HistoryScan(data.dir, None, 2900).rows()), data.created_at, summary)
    out = io.StringIO()
    assert cmd_export(path, str(root), "csv", None, [], out) == 0  # columns read from the frames' bytes
    _check([{k: float(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(out.getvalue()))],
           data.created_at, summary)


def test_pandas_history_counts_from_the_runs_start(root):
    pytest.importorskip("pandas")
    path = _write(root)
    data = _run_data(root)
    df = Api(root).run(path).history(samples=1000)
    _check(df.to_dict("records"), data.created_at)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_counts_from_the_runs_start(root, fmt):
    path = _write(root)
    data = _run_data(root)
    out = io.StringIO()
    assert cmd_export(path, str(root), fmt, None, [], out) == 0
    text = out.getvalue()
    if fmt == "csv":
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(text))]
    else:
        rows = [json.loads(line) for line in text.splitlines() if line]
    _check(rows, data.created_at, data.digest().last_time - data.created_at)


def test_the_live_history_counts_from_the_runs_start(root):
    _write(root)
    data = _run_data(root)
    history, created = data.history, data.created_at
    times = list(history.times)
    _check(list(history.rows()), created, data.digest().last_time - created)
    assert history.series("loss", "_runtime")[0] == pytest.approx([t - created for t in times])
    assert history.values_since("loss", 2, "_runtime")[0] == pytest.approx([t - created for t in times[2:]])
    assert data.writer_history("script").series("loss", "_runtime")[0] == pytest.approx(
        [t - created for t in times])


def test_metric_and_system_charts_share_one_relative_time_axis(root):
    """The app's reader (rows decimated as read, no history kept): a metric chart's x and the
    System tab's x are both seconds since the run's start, so a loss value and a GPU sample
    taken at one moment sit at one x."""
    _write(root, x_stats_sampling_interval=0.05)
    app_reader = RootReader(root, keep_history=False, sink=SeriesBook())
    app_reader.scan()
    (run,) = app_reader.runs.values()
    full = _run_data(root)
    created, times = full.created_at, list(full.history.times)
    xs = points(run, "loss", "_runtime")[0]
    assert xs == pytest.approx([t - created for t in times])
    samples = SystemSamples(run.dir)
    samples.read_new()
    if not samples.samples:
        pytest.skip("no system sample taken (sampling off on this machine)")
    plots = system_plots(samples.samples, run.created_at)
    line = next(p.lines[0] for p in plots if p.lines)
    sample_times = [t for t, values in samples.samples if any(k in values for k in ("cpu", "memory_percent"))]
    # At one wall-clock time both charts give one x: each is that time less the same zero.
    first_row, first_sample = times[0], sample_times[0]
    assert xs[0] - line.xs[0] == pytest.approx(first_row - first_sample, abs=1e-9)


def test_a_run_whose_segment_start_is_damaged_falls_back_as_created_at_does(root):
    """No SegmentStart readable (its frame damaged): created_at takes the RunStart's time, and
    so does the scan of the bare directory, its first pass reading the same head."""
    _write(root)
    (seg,) = _run_data(root).segments.values()
    data = bytearray(seg.path.read_bytes())
    data[ev.HEADER_SIZE + 12] ^= 0x55  # inside the first frame: the SegmentStart
    seg.path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)  # the damage is reported: not the point here
        damaged = _run_data(root)
        assert all(s.start is None for s in damaged.segments.values())
        assert damaged.created_at == damaged.start.time  # the fallback, not the first row's time
        scan = HistoryScan(damaged.dir)
        _check(list(scan.rows()), damaged.created_at, damaged.digest().last_time - damaged.created_at)
    assert scan.start == damaged.created_at


def test_a_resumed_run_counts_from_its_first_start(root):
    """A resume's rows count on from the run's first start, as its summary's `_runtime` and its
    runtime do (W&B carries the runtime on too, though by its timer, which the pause between
    the two processes does not advance: see the report)."""
    path = _write(root)
    first = _run_data(root).created_at
    run = logger.init(project="p", id=path.split("/")[1], resume="must", reinit=True)
    run.log({"loss": 0.01})
    run.finish()
    data = _run_data(root)
    assert data.created_at == first and len(data.segments) == 2
    summary = Api(root).run(path).summary["_runtime"]
    _check(list(Api(root).run(path).scan_history()), first, summary)
    _check(list(HistoryScan(data.dir).rows()), first, summary)
    _check(list(data.history.rows()), first, summary)
