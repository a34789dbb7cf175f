"""System-metric charts of one run (no Textual or Rich): SystemStats samples read incrementally
from the run's segments, and the Plots the System tab draws from them (one chart per metric,
one line per GPU; then CPU and memory)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from logger import events as ev
from logger.segment import SegmentReader

from .plot import DIM, PALETTE, Line, Plot
from .stats import band

READ_CHUNK = 1024 * 1024  # bytes per segment per read: a live run's update stays small
MAX_POINTS = 2000  # points per line drawn; more are thinned by stride
EMPTY = "no system metrics stored (sampling off, or the run is older)"
GPU_CHARTS = (("gpu", "GPU util %"), ("memoryAllocated", "GPU memory %"),
              ("temp", "GPU temperature °C"), ("powerWatts", "GPU power W"))
HOST_CHARTS = (("cpu", "CPU % (process tree)"), ("memory_percent", "system memory %"))
_OLD_NAMES = {"memory_percent": "memory"}  # W&B's name before 0.17, read when the new is absent
GPU_COLUMN = "system:gpu"  # the metric picker's key for the run table's GPU column
GPU_LABEL = "GPU (latest system sample: util, memory)"
_GPU_KEY = re.compile(r"gpu\.(\d+)\.")
Sample = tuple[float, dict[str, Any]]


@dataclass
class SystemSamples:
    """Follows a run directory's SystemStats events by offset (new segments taken up as they
    appear): each `read_new()` reads only what was written since the last one."""

    run_dir: Path
    samples: list[Sample] = field(default_factory=list)
    _segs: dict[Path, SegmentReader] = field(default_factory=dict)

    def read_new(self) -> int:
        """Read what was appended; return how many samples were new."""
        try:
            paths = sorted(p for p in self.run_dir.iterdir() if p.name.endswith(ev.SEGMENT_SUFFIX))
        except OSError:
            paths = []
        new: list[Sample] = []
        for path in paths:
            seg = self._segs.setdefault(path, SegmentReader(path))
            while True:
                before = seg.offset
                new.extend((e.time, e.values) for e in seg.read_new(READ_CHUNK)
                           if type(e) is ev.SystemStats)
                if seg.offset == before:
                    break
        if new:
            self.samples.extend(new)
            self.samples.sort(key=lambda s: s[0])
        return len(new)


def gpu_indices(samples: list[Sample]) -> list[int]:
    """The GPUs any sample names, in order."""
    found = {int(m.group(1)) for _t, values in samples for k in values
             if (m := _GPU_KEY.match(k))}
    return sorted(found)


def _series(samples: list[Sample], key: str, t0: float) -> tuple[list[float], list[float]]:
    stride = max(1, len(samples) // MAX_POINTS)
    xs: list[float] = []
    ys: list[float] = []
    for t, values in samples[::stride]:
        v = values.get(key)
        if _finite(v):
            xs.append(t - t0)
            ys.append(float(v))
    return xs, ys


def system_plots(samples: list[Sample], created_at: float) -> list[Plot]:
    """The System tab's charts: util, memory, temperature and power with a line per GPU (when
    any GPU was sampled), then CPU and memory; x is the time since the run started."""
    if not samples:
        return []
    t0 = created_at or samples[0][0]
    gpus = gpu_indices(samples)
    plots: list[Plot] = []
    for suffix, title in GPU_CHARTS if gpus else ():
        lines = []
        for i in gpus:
            xs, ys = _series(samples, f"gpu.{i}.{suffix}", t0)
            if xs:
                lines.append(Line(xs, ys, PALETTE[i % len(PALETTE)], f"gpu {i}"))
        plots.append(_plot(title, lines))
    for key, title in HOST_CHARTS:
        xs, ys = _series(samples, key, t0)
        if not xs and key == "memory_percent":
            xs, ys = _series(samples, "memory", t0)  # W&B's name before 0.17
        plots.append(_plot(title, [Line(xs, ys, PALETTE[0])] if xs else []))
    return plots


RunSamples = tuple[str, list[Sample], float]  # (run name, its samples, its created_at)


def overlay_plots(runs: list[RunSamples], group: bool = False, columns: int = 100) -> list[Plot]:
    """The System tab over several runs, by the Charts tab's rules: one chart per metric with
    a line per run (legend: the run's name), or with `group` the runs' mean and ±std band.
    A run's GPU line is the mean over its GPUs (the title says so when any run has several)."""
    gpus = [gpu_indices(samples) for _name, samples, _created in runs]
    several = any(len(g) > 1 for g in gpus)
    charts = [(suffix, title + (" (mean of GPUs)" if several else ""), True)
              for suffix, title in GPU_CHARTS] if any(gpus) else []
    charts += [(key, title, False) for key, title in HOST_CHARTS]
    plots = []
    for key, title, per_gpu in charts:
        series = []
        for (name, samples, created), indices in zip(runs, gpus):
            t0 = created or (samples[0][0] if samples else 0.0)
            keys = [f"gpu.{i}.{key}" for i in indices] if per_gpu else [key, _OLD_NAMES.get(key, "")]
            series.append((name, _mean_series(samples, keys, t0, first=not per_gpu)))
        plots.append(_group(title, series, columns) if group else _plot(title, [
            Line(xs, ys, PALETTE[i % len(PALETTE)], name)
            for i, (name, (xs, ys)) in enumerate(series) if xs]))
    return plots


def _mean_series(samples: list[Sample], keys: list[str], t0: float,
                 first: bool) -> tuple[list[float], list[float]]:
    """At each sample, the mean of `keys` (a run's GPUs), or with `first` the first of them
    that has a value (a key, then its older name)."""
    stride = max(1, len(samples) // MAX_POINTS)
    xs: list[float] = []
    ys: list[float] = []
    for t, values in samples[::stride]:
        found = [float(v) for k in keys if _finite(v := values.get(k))]
        if found:
            xs.append(t - t0)
            ys.append(found[0] if first else sum(found) / len(found))
    return xs, ys


def _group(title: str, series: list[tuple[str, tuple[list[float], list[float]]]],
           columns: int) -> Plot:
    """The runs' mean with a ±std band on a common grid, as the Charts tab draws a group."""
    have = [s for _name, s in series if s[0]]
    grid, mean, std, _lo, _hi = band(have, max(16, columns // 2))
    if not grid:
        return _plot(title, [])
    n = len(have)
    lines = [Line(grid, [m - d for m, d in zip(mean, std)], DIM, "±std"),
             Line(grid, [m + d for m, d in zip(mean, std)], DIM),
             Line(grid, mean, PALETTE[0], f"mean of {n} run{'s' if n != 1 else ''}")]
    return Plot(title, tuple(lines), x_axis="_runtime", note=f"mean ±std of {n} runs")


def _plot(title: str, lines: list[Line]) -> Plot:
    return Plot(title, tuple(lines), x_axis="_runtime",
                message="" if lines else "not sampled in this run")


def gpu_cell(values: dict[str, Any] | None) -> str:
    """The run table's compact GPU cell from one sample, e.g. "GPU 97% 71/80G" (mean util
    and summed memory over the GPUs); "" when the sample names no GPU."""
    if not values:
        return ""
    utils, used, total = [], 0.0, 0.0
    for i in gpu_indices([(0.0, values)]):
        u = values.get(f"gpu.{i}.gpu")
        if _finite(u):
            utils.append(float(u))
        used += _num(values.get(f"gpu.{i}.memoryAllocatedBytes"))
        total += _num(values.get(f"gpu.{i}.memoryTotalBytes"))
    if not utils and not used:
        return ""
    text = f"GPU {sum(utils) / len(utils):.0f}%" if utils else "GPU"
    if used:
        g = 2**30
        text += f" {used / g:.0f}/{total / g:.0f}G" if total else f" {used / g:.0f}G"
    return text


def _finite(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num(v: Any) -> float:
    return float(v) if _finite(v) else 0.0
