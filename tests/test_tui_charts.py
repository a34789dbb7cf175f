"""The chart model without Textual: run colours in every colour system, the legend's pages,
zoom windows, y ranges, W&B's smoothing kinds, define_metric x axes and overlays."""

from __future__ import annotations

import math
import sys
import time
import types

import pytest
from rich._palettes import EIGHT_BIT_PALETTE, STANDARD_PALETTE
from rich.color import Color, ColorSystem
from textual._ansi_theme import MONOKAI

from logger import events as ev
from logger.reader import RootReader
from tests.test_tui_support import run_events
from tui.model import palette, smooth
from tui.model.series import (
    AUTO,
    ChartOptions,
    SeriesCache,
    build_plots,
    refine,
    step_metric,
    x_axes,
)
from tui.model.store import RunStore
from tui.model.zoom import View, clip, readout, value_at, y_range

SYSTEMS = {"truecolor": ColorSystem.TRUECOLOR, "256": ColorSystem.EIGHT_BIT,
           "standard": ColorSystem.STANDARD}


def drawn(style: str, system: str) -> object:
    """What a terminal of `system` shows for a Rich colour, the way Textual sends it: an ANSI
    or 256-colour index first becomes RGB (Textual's ANSIToTruecolor filter, its default
    MONOKAI theme), then Rich downgrades the RGB to the terminal's colour system."""
    color = Color.parse(style)
    rgb = color.get_truecolor(MONOKAI) if color.triplet is None else color.triplet
    rich = Color.from_triplet(rgb).downgrade(SYSTEMS[system])
    return rich.number if rich.number is not None else rich.triplet


def test_the_palette_tables_are_richs():
    assert palette.ANSI16 == tuple(tuple(STANDARD_PALETTE[i]) for i in range(16))
    assert all(palette.xterm_rgb(n) == tuple(EIGHT_BIT_PALETTE[n]) for n in range(16, 256))


@pytest.mark.parametrize("system", list(SYSTEMS))
def test_seven_runs_get_seven_distinct_colours_in_every_colour_system(system):
    old = [drawn(f"color({c})", system) for c in (12, 10, 9, 14, 13, 11, 208)]
    if system == "256":
        assert len(set(old)) < 7  # the palette before: two runs shared a colour in tmux
    for runs in (7, 8):
        shown = [drawn(palette.style(palette.run_color(i), system), system) for i in range(runs)]
        assert len(set(shown)) == runs, (system, shown)
        dim = drawn(palette.style(palette.DIM, system), system)
        assert dim not in shown  # a raw curve's grey is no run's colour


def test_the_palette_is_okabe_ito_first():
    okabe_ito = {(0x56, 0xB4, 0xE9), (0xE6, 0x9F, 0x00), (0x00, 0x9E, 0x73), (0xD5, 0x5E, 0x00),
                 (0xCC, 0x79, 0xA7), (0xF0, 0xE4, 0x42), (0x00, 0x72, 0xB2)}
    assert {s.rgb for s in palette.SWATCHES[:7]} == okabe_ito
    assert palette.for_system(palette.run_color(0), "truecolor") == (0x56, 0xB4, 0xE9)


def test_legend_pages_hold_every_entry_once():
    widths = [20] * 7
    shown, page, pages = palette.legend_page(widths, 60, 3, 0)
    assert shown == list(range(7)) and pages == 1  # three a row, three rows
    seen = []
    first, _page, pages = palette.legend_page(widths, 60, 1, 0)
    for p in range(pages):
        seen += palette.legend_page(widths, 60, 1, p)[0]
    assert first == [0, 1, 2] and pages == 3 and seen == list(range(7))
    assert palette.legend_page(widths, 60, 1, 3)[1] == 0  # paging wraps round


def test_zoom_keeps_the_point_under_the_cursor_and_pan_stops_at_the_ends():
    view = View().zoom(0.5, at=0.25)
    assert (view.lo, view.hi) == pytest.approx((0.125, 0.625))
    assert view.window(0, 1000) == pytest.approx((125, 625))
    assert View(0.5, 0.75).pan(10) == View(0.75, 1.0)
    assert View(0.5, 0.75).pan(-10) == View(0.0, 0.25)
    assert View(0.2, 0.4).zoom(100) == View(0.0, 1.0) and View().zoom(100).whole
    assert View().zoom(1e-9).hi - View().zoom(1e-9).lo > 0


def test_clip_keeps_a_neighbour_each_side():
    xs = [0.0, 10.0, 20.0, 30.0, 40.0]
    cx, (cy,) = clip(xs, [[0, 1, 2, 3, 4]], 12, 28)
    assert cx == [10.0, 20.0, 30.0] and cy == [1, 2, 3]


def test_one_point_gets_a_range_around_it_not_minus_point_four():
    lo, hi, clipped = y_range([0.42])
    assert 0 < lo < 0.42 < hi < 1 and not clipped
    assert y_range([0.0]) == (-1.0, 1.0, False)
    lo, hi, _ = y_range([5.0, 5.0, 5.0], log=True)
    assert lo < 5 < hi and lo > 0


def test_robust_scaling_ignores_a_spike_unless_asked():
    ys = [1.0 + 0.01 * (i % 7) for i in range(200)] + [60.0]
    lo, hi, clipped = y_range(ys)
    assert clipped and hi < 2
    lo, hi, clipped = y_range(ys, robust=False)
    assert not clipped and hi > 60
    assert not y_range([1.0, 2.0, 60.0])[2]  # a few points: every one is shown


def wandb_twema(xs, ys, param):
    """docs.wandb.ai's sample code for its default smoothing, transcribed."""
    weight = min(math.sqrt(param), 0.999)
    last, debias, out = 0.0, 0.0, []
    range_of_x = xs[-1] - xs[0]
    for i, y in enumerate(ys):
        prev = i - 1 if i > 0 else 0
        adj = weight ** ((xs[i] - xs[prev]) / range_of_x * 1000)
        last = last * adj + y
        debias = debias * adj + 1
        out.append(last / debias)
    return out


def test_default_smoothing_is_wandbs_time_weighted_ema():
    assert ChartOptions(()).smoother == "twema" and smooth.KINDS[0] == "twema"
    xs = [float(i * 3) for i in range(500)]
    ys = [math.sin(i / 10) + (i % 5) * 0.1 for i in range(500)]
    got = smooth.smooth("twema", xs, ys, [1] * 500, 0.9, xs[-1] - xs[0])
    assert got == pytest.approx(wandb_twema(xs, ys, 0.9))
    assert smooth.smooth("twema", xs, ys, [1] * 500, 0.0, 1.0) == ys


def test_running_average_and_gaussian_are_centred_windows():
    ys = [0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0]
    avg = smooth.running_average(ys, [1] * 7, 3)
    assert avg[3] == pytest.approx(3.0) and avg[2] == pytest.approx(3.0) and avg[0] == 0.0
    # A bucket of k points counts k times: [a, (b x 3)] averages to (a + 3b) / 4.
    assert smooth.running_average([0.0, 4.0], [1, 3], 100)[0] == pytest.approx(3.0)
    g = smooth.gaussian(ys, [1] * 7, 1.0)
    assert g[2] == pytest.approx(g[4]) and g[3] < 9 and g[3] == max(g)
    big = smooth.gaussian([float(i % 2) for i in range(2000)], [1] * 2000, 20)
    assert len(big) == 2000 and all(0.4 < v < 0.6 for v in big[100:-100])


def test_define_metric_step_metric_is_a_metrics_default_x_axis(tmp_path):
    root = tmp_path / "runs"
    events = run_events("hf0001", steps=30, metrics=lambda i: {
        "train/loss": 1 / (i + 1), "train/global_step": i * 8, "loss": 1.0})
    events.insert(2, ev.DefineMetric(name="train/*", step_metric="train/global_step",
                                     summary=None, hidden=False, time=1_700_000_000.0))
    _write(root, "hf0001", events)
    store = RunStore(root, None, lambda _b: None)
    store.ingest((root / "proj" / "hf0001").iterdir())
    opts = ChartOptions(("train/loss", "loss"), columns=400)

    def collect(runs):
        axes = x_axes(runs, opts)
        return axes, SeriesCache().collect(runs, opts, axes), step_metric(runs[0].metrics, "loss")

    axes, got, plain = store.with_runs(["proj/hf0001"], collect)
    assert axes == {"train/loss": "train/global_step", "loss": "_step"} and plain is None
    plots = build_plots(got, ["hf"], opts, axes)
    assert plots[0].x_axis == "train/global_step" and "x: train/global_step" in plots[0].note
    assert plots[0].lines[0].xs[-1] == 29 * 8 and plots[1].lines[0].xs[-1] == 29
    assert x_axes([], ChartOptions(("a",), x_axis="_runtime")) == {"a": "_runtime"}
    assert AUTO == ChartOptions(()).x_axis


def _write(root, run_id, events):
    run_dir = root / "proj" / run_id
    run_dir.mkdir(parents=True)
    data = bytearray(ev.HEADER)
    for e in events:
        data += ev.encode(e)
    (run_dir / f"20240101T000000-script-1-{run_id}{ev.SEGMENT_SUFFIX}").write_bytes(bytes(data))


def points(n, start=0.0):
    xs = [start + i for i in range(n)]
    return xs, [1.0 / (i + 1) for i in range(n)], [0.0] * n, [0.0] * n, [1] * n


def test_highlight_dims_the_others_and_keeps_their_colours():
    pts = [points(100), points(100), points(100)]
    pts = [(xs, ys, list(ys), list(ys), c) for xs, ys, _a, _b, c in pts]
    plot = build_plots({"loss": pts}, ["a", "b", "c"], ChartOptions(("loss",), highlight=1))[0]
    labelled = [ln for ln in plot.lines if ln.label]
    assert [ln.label for ln in labelled] == ["a", "b", "c"]  # the legend keeps the run order
    assert {ln.label: ln.dim for ln in labelled} == {"a": True, "b": False, "c": True}
    assert len({ln.color for ln in labelled}) == 3  # dimmed runs keep their own colour


def test_sparse_series_get_their_points_marked_and_zoom_clips_to_the_window():
    few = [(xs, ys, list(ys), list(ys), c) for xs, ys, _a, _b, c in [points(12)]]
    plot = build_plots({"acc": few}, ["a"], ChartOptions(("acc",)))[0]
    assert plot.lines[0].marks and plot.y_range is not None
    many = [(xs, ys, list(ys), list(ys), c) for xs, ys, _a, _b, c in [points(1000)]]
    assert not build_plots({"acc": many}, ["a"], ChartOptions(("acc",), columns=2000))[0].lines[0].marks
    zoomed = build_plots({"acc": many}, ["a"], ChartOptions(("acc",), view=View(0.5, 0.6)))[0]
    assert zoomed.zoomed and zoomed.x_range == pytest.approx((499.5, 599.4))
    assert 498 <= min(zoomed.lines[0].xs) and max(zoomed.lines[0].xs) <= 601
    assert "zoom 10x" in zoomed.note


def test_one_logged_point_plots_around_its_value():
    plot = build_plots({"single": [([3.0], [0.42], [0.42], [0.42], [1])]}, ["a"],
                       ChartOptions(("single",)))[0]
    assert plot.y_range[0] > 0 and plot.y_range[0] < 0.42 < plot.y_range[1]
    assert plot.x_range[0] < 3 < plot.x_range[1] and plot.lines[0].marks


def test_inspect_reads_every_runs_value_at_x():
    pts = [points(10), points(5, start=20.0)]
    plot = build_plots({"loss": pts}, ["a", "b"], ChartOptions(("loss",)))[0]
    got = readout(plot.lines, 4.5)
    assert [(label, value) for label, _c, value in got] == [("a", pytest.approx((1 / 5 + 1 / 6) / 2)),
                                                             ("b", None)]
    assert value_at([0.0, 2.0], [0.0, 4.0], 1.0) == 2.0


def test_zoom_past_the_decimation_asks_decimate_points_for_the_window(monkeypatch):
    calls = []

    def full(run, key, x_axis, x_lo, x_hi, cap):
        calls.append((run, key, x_axis, round(x_lo), round(x_hi), cap))
        return [x_lo], [1.0], [1.0], [1.0], [1]

    module = types.ModuleType("tui.model.decimate")
    module.points = full  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.model.decimate", module)
    coarse = ([0.0, 500.0, 1000.0], [1.0, 2.0, 3.0], [1.0] * 3, [3.0] * 3, [500, 500, 1])
    got = {"loss": [coarse]}
    refine(["run"], got, ChartOptions(("loss",)), {"loss": "_step"})
    assert calls == []  # the whole range: the decimated points are enough
    refine(["run"], got, ChartOptions(("loss",), view=View(0.1, 0.2)), {"loss": "_step"})
    assert calls == [("run", "loss", "_step", 100, 200, 2048)] and got["loss"][0][0] == [100.0]


def test_build_plots_of_seven_runs_stays_cheap():
    runs = [points(2048) for _ in range(7)]
    runs = [(xs, ys, list(ys), list(ys), [50] * len(xs)) for xs, ys, _a, _b, _c in runs]
    t0 = time.perf_counter()
    for kind in smooth.KINDS:
        build_plots({"loss": runs}, [str(i) for i in range(7)],
                    ChartOptions(("loss",), smoothing=smooth.LEVELS[kind][4], smoother=kind))
    assert time.perf_counter() - t0 < 2.0  # ~0.1 s each when the machine is idle


def test_metric_and_zoomed_axes_get_round_ticks_that_read_differently():
    from tui.model.plot import Plot, step_ticks

    zoomed = Plot("train/loss", (), x_axis="train/global_step", zoomed=True)
    pos, labels = zoomed.x_ticks_between(6800.0, 20000.0, whole=False)
    assert labels == ["10k", "15k", "20k"]  # plotext wrote 6.8e3 9.1e3 1.1e4
    pos, labels = Plot("epoch", (), x_axis="epoch/epoch").x_ticks_between(0.1, 0.35, False)
    assert labels[:2] == ["0.1", "0.15"]
    pos, labels = step_ticks(-3e-5, 2e-5, integer=False)
    assert 0.0 in pos and "0" in labels
    assert len(set(step_ticks(1e6, 1e6 + 3)[1])) == 4


def test_legend_names_are_cut_where_they_still_tell_runs_apart():
    names = ["vit-b16-lr3e-4-warmup", "vit-b16-lr1e-3-warmup", "baseline-sgd"]
    short = palette.shorten(names, 16)
    assert len(set(short)) == 3 and all(len(s) <= 16 for s in short)
    assert short[2] == "baseline-sgd" and short[0].startswith("vit-b16")


def test_step_metric_follows_the_frameworks_globs():
    def dm(name, step):
        return ev.DefineMetric(name=name, step_metric=step, summary=None, hidden=False, time=0.0)

    lightning = {"trainer/global_step": dm("trainer/global_step", None),
                 "*": dm("*", "trainer/global_step")}
    assert step_metric(lightning, "val/loss") == "trainer/global_step"
    assert step_metric(lightning, "trainer/global_step") is None  # not its own x axis
    keras = {"epoch/*": dm("epoch/*", "epoch/epoch"), "batch/*": dm("batch/*", "batch/batch")}
    assert step_metric(keras, "epoch/val_loss") == "epoch/epoch"
    assert step_metric(keras, "batch/loss") == "batch/batch"
    assert step_metric(keras, "loss") is None and step_metric(keras, "_runtime") is None
    exact = {"*": dm("*", "a"), "val/loss": dm("val/loss", "epoch")}
    assert step_metric(exact, "val/loss") == "epoch"


def test_a_live_run_on_a_step_metric_is_decimated_as_it_grows(tmp_path):
    from tests.test_tui_support import append_events

    root = tmp_path / "runs"
    events = run_events("hf0002", steps=50, state=None, metrics=lambda i: {
        "train/loss": 1 / (i + 1), "train/global_step": i * 8})
    _write(root, "hf0002", events)
    run_dir = root / "proj" / "hf0002"
    # A reader that keeps whole histories (Api scripts, tail): the metric axis is decimated
    # incrementally. (The app's store keeps decimations, and reads a metric axis from disk.)
    reader = RootReader(root)
    reader.scan()
    cache, opts = SeriesCache(), ChartOptions(("train/loss",), x_axis="train/global_step")
    first = cache.collect([reader.runs["proj/hf0002"]], opts)
    dec = next(iter(cache._dec.values()))[0]
    append_events(run_dir, [ev.Log(step=i, time=1_700_000_000.0 + i, values={
        "train/loss": 1 / (i + 1), "train/global_step": i * 8}) for i in range(50, 80)])
    reader.scan()
    second = cache.collect([reader.runs["proj/hf0002"]], opts)
    assert first["train/loss"][0][0][-1] == 49 * 8 and second["train/loss"][0][0][-1] == 79 * 8
    assert next(iter(cache._dec.values()))[0] is dec and dec.fed == 80  # appended, not rebuilt
    append_events(run_dir, [ev.Log(step=80, time=1_700_000_100.0, values={
        "train/loss": 5.0, "train/global_step": 3})])  # x steps back: rebuilt, sorted by x
    reader.scan()
    third = cache.collect([reader.runs["proj/hf0002"]], opts)
    xs, ys = third["train/loss"][0][0], third["train/loss"][0][1]
    assert xs == sorted(xs) and 5.0 in ys and len(xs) == 81
    store = RunStore(root, None, lambda _b: None)  # the app's store: the same points, from disk
    store.ingest(run_dir.iterdir())
    in_app = store.with_runs(["proj/hf0002"], lambda runs: SeriesCache().collect(runs, opts))
    assert in_app["train/loss"][0][0] == xs and in_app["train/loss"][0][1] == ys


def test_a_metric_never_logged_with_the_x_axis_says_so():
    plot = build_plots({"loss": [([], [], [], [], [])]}, ["a"], ChartOptions(("loss",)),
                       {"loss": "epoch/epoch"})[0]
    assert "no row logs both loss and epoch/epoch" in plot.message
    assert "not" not in build_plots({"loss": [([], [], [], [], [])]}, ["a"],
                                    ChartOptions(("loss",)))[0].message
