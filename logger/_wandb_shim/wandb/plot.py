"""`wandb.plot`: W&B's preset charts (`line`, `scatter`, `roc_curve`, ...), from logger.media.plot."""

from __future__ import annotations

from typing import Any

from logger.media.plot import (
    CustomChart,
    CustomChartSpec,
    bar,
    confusion_matrix,
    histogram,
    line,
    line_series,
    plot_table,
    pr_curve,
    roc_curve,
    scatter,
    visualize,
)

from ._missing import missing

__all__ = ["CustomChart", "CustomChartSpec", "bar", "confusion_matrix", "histogram", "line", "line_series",
           "plot_table", "pr_curve", "roc_curve", "scatter", "visualize"]


def __getattr__(name: str) -> Any:
    raise missing(__name__, name)
