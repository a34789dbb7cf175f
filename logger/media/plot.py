"""`logger.plot`: W&B's preset charts. Each is a `Table` plus a Vega spec name and field map.

Logged under key `k`, a chart stores its table in the history as `k_table` (W&B's key) and a
`Chart` event carrying W&B's `_wandb.visualize` entry, so readers know how to draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import curves
from .table import Table


class CustomChartSpec:
    """A Vega spec name and how the table's columns map onto its fields (W&B's shape).

    A plain class, not a dataclass: msgspec encodes dataclasses, and a chart must reach the
    media hook rather than be written as a bare dict."""

    def __init__(self, spec_name: str, fields: dict[str, Any], string_fields: dict[str, Any],
                 key: str = "", panel_type: str = "Vega2", split_table: bool = False) -> None:
        self.spec_name, self.fields, self.string_fields = spec_name, fields, string_fields
        self.key, self.panel_type, self.split_table = key, panel_type, split_table

    def table_key_for(self, key: str) -> str:
        """Where the chart's table goes in the history (W&B's naming)."""
        self.key = key
        if self.panel_type == "viz":  # wandb.visualize (the sklearn plots): the key itself
            return key
        return f"Custom Chart Tables/{key}_table" if self.split_table else f"{key}_table"

    def config_value(self, table_key: str) -> dict[str, Any]:
        """W&B's `_wandb.visualize.<key>` config entry (the query names the table's key)."""
        if self.panel_type == "viz":  # W&B's `_wandb.viz.<key>` entry
            return {"id": self.spec_name, "historyFieldSettings": {"key": table_key, "x-axis": "_step"}}
        return {"panel_type": self.panel_type, "panel_config": {
            "panelDefId": self.spec_name, "fieldSettings": dict(self.fields),
            "stringSettings": dict(self.string_fields),
            "transform": {"name": "tableWithLeafColNames"},
            "userQuery": {"queryFields": [{"name": "runSets", "args": [
                {"name": "runSets", "value": "${runSets}"}], "fields": [
                {"name": "id", "fields": []}, {"name": "name", "fields": []},
                {"name": "_defaultColorIndex", "fields": []},
                {"name": "summaryTable", "args": [{"name": "tableKey", "value": table_key}],
                 "fields": []}]}]}}}


class CustomChart:
    """What `plot.*` returns: log it as `{"key": chart}`."""

    def __init__(self, table: Table, spec: CustomChartSpec) -> None:
        self.table, self.spec = table, spec

    def __repr__(self) -> str:
        return f"<CustomChart {self.spec.spec_name} {self.table!r}>"

    def set_key(self, key: str) -> None:
        self.spec.key = key


def plot_table(vega_spec_name: str, data_table: Table, fields: dict[str, Any],
               string_fields: dict[str, Any] | None = None, split_table: bool = False) -> CustomChart:
    """A chart of `data_table` drawn by the Vega spec `vega_spec_name` (W&B's plot_table)."""
    if not isinstance(data_table, Table):
        raise TypeError(f"Expected `data_table` to be a Table, instead got {type(data_table).__name__}")
    return CustomChart(data_table, CustomChartSpec(vega_spec_name, dict(fields), dict(string_fields or {}),
                                                   split_table=split_table))


def visualize(id: str, value: Table) -> CustomChart:
    """W&B's `wandb.visualize(spec, table)`: the table under the logged key itself."""
    if not isinstance(value, Table):
        raise TypeError(f"visualize() takes a Table, not {type(value).__name__}")
    return CustomChart(value, CustomChartSpec(id, {}, {}, panel_type="viz"))


def line(table: Table, x: str, y: str, stroke: str | None = None, title: str = "",
         split_table: bool = False) -> CustomChart:
    return plot_table("wandb/line/v0", table, {"x": x, "y": y, "stroke": stroke}, {"title": title}, split_table)


def scatter(table: Table, x: str, y: str, title: str = "", split_table: bool = False) -> CustomChart:
    return plot_table("wandb/scatter/v0", table, {"x": x, "y": y}, {"title": title}, split_table)


def bar(table: Table, label: str, value: str, title: str = "", split_table: bool = False) -> CustomChart:
    return plot_table("wandb/bar/v0", table, {"label": label, "value": value}, {"title": title}, split_table)


def histogram(table: Table, value: str, title: str = "", split_table: bool = False) -> CustomChart:
    return plot_table("wandb/histogram/v0", table, {"value": value}, {"title": title}, split_table)


def line_series(xs: Any, ys: Any, keys: Sequence[str] | None = None, title: str = "",
                xname: str = "x", split_table: bool = False) -> CustomChart:
    """Several lines in one chart: one x series for all, or one per y series."""
    xs, ys = curves.as_list(xs), curves.as_list(ys)
    if not xs or not isinstance(xs[0], (list, tuple)):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise ValueError(f"Number of x-series ({len(xs)}) must match y-series ({len(ys)}).")
    keys = list(keys) if keys is not None else [f"line_{i}" for i in range(len(ys))]
    if len(keys) != len(ys):
        raise ValueError(f"Number of keys ({len(keys)}) must match y-series ({len(ys)}).")
    data = [[x, keys[i], y] for i, (xx, yy) in enumerate(zip(xs, ys)) for x, y in zip(xx, yy)]
    return plot_table("wandb/lineseries/v0", Table(columns=["step", "lineKey", "lineVal"], data=data),
                      {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
                      {"title": title, "xname": xname}, split_table)


def confusion_matrix(probs: Any = None, y_true: Any = None, preds: Any = None,
                     class_names: Sequence[str] | None = None, title: str = "Confusion Matrix Curve",
                     split_table: bool = False) -> CustomChart:
    """Counts of (actual, predicted) class pairs, from predictions or class probabilities."""
    if probs is not None and preds is not None:
        raise ValueError("Only one of `probs` or `preds` should be provided, not both.")
    if y_true is None or (probs is None and preds is None):
        raise ValueError("confusion_matrix needs y_true and one of preds or probs")
    truth = curves.as_list(y_true)
    predicted = curves.argmax_rows(curves.as_list(probs)) if probs is not None else curves.as_list(preds)
    if len(predicted) != len(truth):
        raise ValueError("The number of predictions and true labels must be equal.")
    if class_names is not None:
        classes: list[Any] = list(range(len(class_names)))
        names = list(class_names)
        if set(predicted) - set(classes) or set(truth) - set(classes):
            raise ValueError("labels and predictions must be class indices below len(class_names)")
    else:
        classes = sorted(set(predicted) | set(truth))
        names = [f"Class_{i + 1}" for i in range(len(classes))]
    counts = curves.confusion_counts(truth, predicted, classes)
    data = [[names[i], names[j], counts[i][j]] for i in range(len(classes)) for j in range(len(classes))]
    return plot_table("wandb/confusion_matrix/v1",
                      Table(columns=["Actual", "Predicted", "nPredictions"], data=data),
                      {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
                      {"title": title}, split_table)


def _per_class(y_true: Any, y_probas: Any, labels: Sequence[Any] | None,
               classes_to_plot: Sequence[Any] | None) -> list[tuple[Any, Any, list[float]]]:
    """(label, class, scores) for each class to plot, W&B's way of naming them."""
    truth = curves.as_list(y_true)
    probas = curves.as_list(y_probas)
    classes = sorted(set(truth))
    wanted = classes if classes_to_plot is None else [c for c in classes if c in set(curves.as_list(classes_to_plot))]
    out = []
    for c in wanted:
        i = classes.index(c)
        label = labels[c] if labels is not None and isinstance(c, int) else c
        out.append((label, c, [row[i] for row in probas]))
    return out


def roc_curve(y_true: Any, y_probas: Any = None, labels: Sequence[Any] | None = None,
              classes_to_plot: Sequence[Any] | None = None, title: str = "ROC Curve",
              split_table: bool = False) -> CustomChart:
    """One ROC curve per class (one-vs-rest), from true labels and class probabilities."""
    truth = curves.as_list(y_true)
    data = []
    for label, c, scores in _per_class(y_true, y_probas, labels, classes_to_plot):
        fpr, tpr = curves.roc(truth, scores, c)
        data += [[label, round(f, 3), round(t, 3)] for f, t in zip(fpr, tpr)]
    return plot_table("wandb/area-under-curve/v0", Table(columns=["class", "fpr", "tpr"], data=data),
                      {"x": "fpr", "y": "tpr", "class": "class"},
                      {"title": title, "x-axis-title": "False positive rate",
                       "y-axis-title": "True positive rate"}, split_table)


def pr_curve(y_true: Any = None, y_probas: Any = None, labels: Sequence[Any] | None = None,
             classes_to_plot: Sequence[Any] | None = None, interp_size: int = 21,
             title: str = "Precision-Recall Curve", split_table: bool = False) -> CustomChart:
    """One precision-recall curve per class, read at `interp_size` recall levels as W&B does."""
    truth = curves.as_list(y_true)
    data = []
    for label, c, scores in _per_class(y_true, y_probas, labels, classes_to_plot):
        precision, recall = curves.interpolated_precision(truth, scores, c, interp_size)
        data += [[label, round(p, 3), round(r, 3)] for p, r in zip(precision, recall)]
    return plot_table("wandb/area-under-curve/v0", Table(columns=["class", "precision", "recall"], data=data),
                      {"x": "recall", "y": "precision", "class": "class"},
                      {"title": title, "x-axis-title": "Recall", "y-axis-title": "Precision"}, split_table)
