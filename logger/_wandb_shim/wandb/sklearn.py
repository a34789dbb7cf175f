"""`wandb.sklearn`: W&B's scikit-learn charts, from logger.media.sklearn."""

from __future__ import annotations

from typing import Any

from logger.media.sklearn import (
    plot_class_proportions,
    plot_classifier,
    plot_confusion_matrix,
    plot_feature_importances,
    plot_precision_recall,
    plot_roc,
    plot_summary_metrics,
)

from ._missing import missing

__all__ = ["plot_class_proportions", "plot_classifier", "plot_confusion_matrix", "plot_feature_importances",
           "plot_precision_recall", "plot_roc", "plot_summary_metrics"]


def __getattr__(name: str) -> Any:
    raise missing(__name__, name)
