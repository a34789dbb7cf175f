"""The app's memory is bounded by the screen (issue 14): the store keeps decimations and last
values, not histories, and reads full resolution back from disk when a chart zooms in."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from logger import events as ev
from logger.media.readback import media_steps
from logger.reader import RootReader
from tests.test_tui_support import run_events, write_run
from tui.model.decimate import FINE, RunSeries, media_history, points
from tui.model.stats import Decimator
from tui.model.store import RunStore


def loaded(root: Path) -> RunStore:
    store = RunStore(root)
    store.first_pass()
    store.catch_up()
    return store


def full(root: Path, path: str) -> Any:
    """The run as a reader that keeps every row sees it (the reference)."""
    reader = RootReader(root)
    reader.scan()
    return reader.runs[path]


def decimated(xs: list[float], ys: list[float], cap: int = FINE) -> tuple[list[Any], ...]:
    dec = Decimator(cap)
    dec.extend(xs, ys)
    return dec.points_counted()


def close(a: tuple[list[Any], ...], b: tuple[list[Any], ...]) -> bool:
    return all(len(u) == len(v) and all(math.isclose(p, q) for p, q in zip(u, v))
               for u, v in zip(a, b))


def wave(i: int) -> dict[str, float]:
    return {"loss": 1.0 / (i + 1) + (i % 7) * 1e-3, "acc": math.sin(i / 50)}


def test_the_store_keeps_a_bounded_decimation_of_a_long_run_not_its_history(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "long0001", steps=30_000, metrics=wave)
    store = loaded(root)
    run, series = store.with_runs(["proj/long0001"], lambda runs: (runs[0], runs[0].sink))
    assert isinstance(series, RunSeries)
    assert len(run.history) < 10  # last values only: the summary, not 30,000 rows
    for ks in series.keys.values():
        kept = ks.fine if ks.fine is not None else ks.coarse
        assert kept is not None and len(kept) <= FINE + 1
    ref = full(root, "proj/long0001")
    for key in ("loss", "acc"):
        got = store.with_runs([run.path], lambda runs, k=key: points(runs[0], k))
        assert close(got, decimated(*ref.history.series(key)))
    assert run.summary_flat()["loss"] == ref.summary_flat()["loss"]
    assert run.step == 29_999


def test_a_zoom_reads_every_point_of_the_range_back_from_disk(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "long0002", steps=20_000, metrics=wave, dt=0.5)
    store = loaded(root)
    whole = store.with_runs(["proj/long0002"], lambda runs: points(runs[0], "loss"))
    assert max(whole[4]) > 1  # the kept decimation folds several steps a bucket
    ref = full(root, "proj/long0002").history
    xs, ys = ref.series("loss")
    for x_axis, lo, hi in (("_step", 12_000, 12_150), ("_runtime", 6000.0, 6075.0),
                           ("_timestamp", 1_700_006_000.0, 1_700_006_075.0)):
        got = store.with_runs(["proj/long0002"],
                              lambda runs, x=x_axis, a=lo, b=hi: points(runs[0], "loss", x, a, b))
        assert got[4] == [1] * 151  # full resolution: one point a bucket
        assert got[1] == ys[12_000:12_151]
    got = store.with_runs(["proj/long0002"], lambda runs: points(runs[0], "loss", "_step",
                                                                   None, 99.5, cap=10))
    assert close(got, decimated(xs[:100], ys[:100], 10))


def test_two_writers_of_one_run_chart_as_the_merged_history(tmp_path):
    root = tmp_path / "runs"
    run_dir = write_run(root, "ddp00001", steps=300, state=None, pid=0,
                        metrics=lambda i: {"loss": float(i)})
    data = bytearray(ev.HEADER)
    for event in run_events("ddp00001", steps=400, state="finished", pid=0,
                            metrics=lambda i: {"loss": 1000.0 + i}):
        data += ev.encode(event)
    (run_dir / f"20240101T000001-script-2-ddp000{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))
    store = loaded(root)
    ref = full(root, "proj/ddp00001").history
    for x_axis in ("_step", "_runtime"):
        got = store.with_runs(["proj/ddp00001"], lambda runs, x=x_axis: points(runs[0], "loss", x))
        assert close(got, decimated(*ref.series("loss", x_axis)))


def test_media_steps_and_define_metric_summaries_survive_without_history(tmp_path):
    root = tmp_path / "runs"

    def rows(i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"val/loss": [0.9, 0.44, 0.6, 0.7][i % 4], "nested": {"x": i}}
        if i % 5 == 0:
            out["img"] = {"_type": "image-file", "path": f"media/images/img_{i}.png",
                          "width": 2, "height": 2, "format": "png"}
        return out

    events = run_events("media001", steps=20, metrics=rows)
    define = ev.DefineMetric(name="val/loss", step_metric=None, summary="min,mean",
                             hidden=False, time=events[1].time)  # type: ignore[attr-defined]
    run_dir = root / "proj" / "media001"
    run_dir.mkdir(parents=True)
    data = bytearray(ev.HEADER)
    for event in [*events[:2], define, *events[2:]]:
        data += ev.encode(event)
    (run_dir / f"20240101T000000-script-1-media0{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))
    store = loaded(root)
    ref = full(root, "proj/media001")
    steps, summary, nested = store.with_runs(["proj/media001"], lambda runs: (
        [s for s, _ in media_steps(media_history(runs[0]), "img")], runs[0].summary_flat(),
        points(runs[0], "nested.x")))
    assert steps == [0, 5, 10, 15]
    assert summary["val/loss"] == ref.summary_flat()["val/loss"] == {"min": 0.44, "mean":
                                                                     ref.summary_flat()["val/loss"]["mean"]}
    assert nested[1] == [float(i) for i in range(20)]
