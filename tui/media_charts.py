"""`plot.*` charts and tables as plain data for the media panel (plotext draws the series).

A logged chart is a table plus W&B's spec (`run.charts[key]`: the Vega spec id and which
column plays which part). `chart_series` reads the spec the way W&B's preset panels do and
returns what to draw; `table_text` gives a table's cells as safe one-line strings, media cells
named by `describe`. No Textual, no plotext import: the panel owns the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logger.media.readback import describe
from logger.textsafe import one_line, safe_text


@dataclass
class ChartData:
    """What a chart shows: `kind` is line, scatter, bar, histogram or matrix."""

    kind: str
    title: str = ""
    series: list[tuple[str, list[float], list[float]]] = field(default_factory=list)  # (name, xs, ys)
    labels: list[str] = field(default_factory=list)  # bar labels, or matrix row/column names
    values: list[float] = field(default_factory=list)  # bar heights, or histogram samples
    matrix: list[list[float]] = field(default_factory=list)  # matrix[actual][predicted]
    x_title: str = ""
    y_title: str = ""


_KINDS = {"wandb/line/v0": "line", "wandb/scatter/v0": "scatter", "wandb/bar/v0": "bar",
          "wandb/histogram/v0": "histogram", "wandb/lineseries/v0": "line",
          "wandb/area-under-curve/v0": "line", "wandb/confusion_matrix/v1": "matrix",
          "wandb/feature_importances/v1": "bar", "wandb/class_proportions/v1": "bar",
          "wandb/metrics/v1": "bar"}


def chart_series(chart: dict[str, Any], columns: list[Any], rows: list[list[Any]]) -> ChartData | None:
    """The data of a chart (a `run.charts` entry) over its table; None for a spec not known."""
    config = chart.get("panel_config") or {}
    spec = config.get("panelDefId") or chart.get("id")
    kind = _KINDS.get(spec) if isinstance(spec, str) else None
    if kind is None:
        return None
    fields = dict(config.get("fieldSettings") or {})
    strings = config.get("stringSettings") or {}
    col = {c: i for i, c in enumerate(columns)}
    out = ChartData(kind, one_line(strings.get("title", "")), x_title=one_line(strings.get("x-axis-title", "")),
                    y_title=one_line(strings.get("y-axis-title", "")))
    if spec == "wandb/lineseries/v0":
        fields = {"x": "step", "y": "lineVal", "stroke": "lineKey"}
    elif spec == "wandb/area-under-curve/v0":
        fields["stroke"] = fields.get("class")
    elif spec in _FIXED:
        fields = dict(_FIXED[spec])
    if kind in ("line", "scatter"):
        out.series = _grouped(rows, col, fields.get("x"), fields.get("y"), fields.get("stroke"))
    elif kind == "bar":
        pairs = [(r[col[fields["label"]]], r[col[fields["value"]]]) for r in rows
                 if fields.get("label") in col and fields.get("value") in col]
        out.labels = [one_line(p[0], 30) for p in pairs if _num(p[1])]
        out.values = [float(p[1]) for p in pairs if _num(p[1])]
    elif kind == "histogram":
        i = col.get(fields.get("value"))
        out.values = [float(r[i]) for r in rows if i is not None and _num(r[i])]
    else:
        out.labels, out.matrix = _matrix(rows, col)
    return out


_FIXED = {"wandb/feature_importances/v1": {"label": "feature_names", "value": "importances"},
          "wandb/class_proportions/v1": {"label": "class", "value": "count"},
          "wandb/metrics/v1": {"label": "metric_name", "value": "metric_value"}}


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _grouped(rows: list[list[Any]], col: dict[Any, int], x: Any, y: Any,
             stroke: Any) -> list[tuple[str, list[float], list[float]]]:
    """(name, xs, ys) per value of the stroke column (one series when there is none)."""
    if x not in col or y not in col:
        return []
    xi, yi, si = col[x], col[y], col.get(stroke)
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for r in rows:
        if _num(r[xi]) and _num(r[yi]):
            name = one_line(r[si], 30) if si is not None else one_line(y, 30)
            xs, ys = groups.setdefault(name, ([], []))
            xs.append(float(r[xi]))
            ys.append(float(r[yi]))
    return [(name, xs, ys) for name, (xs, ys) in groups.items()]


def _matrix(rows: list[list[Any]], col: dict[Any, int]) -> tuple[list[str], list[list[float]]]:
    """A confusion matrix from (actual, predicted, count) rows, in the order classes appear.

    The sklearn confusion table names its columns Predicted/Actual/Count; plot.* uses
    Actual/Predicted/nPredictions: either is read."""
    count = "nPredictions" if "nPredictions" in col else "Count"
    a, p, c = col.get("Actual"), col.get("Predicted"), col.get(count)
    if a is None or p is None or c is None:
        return [], []
    names: list[str] = []
    for r in rows:
        for v in (r[a], r[p]):
            if one_line(v, 30) not in names:
                names.append(one_line(v, 30))
    index = {n: i for i, n in enumerate(names)}
    matrix = [[0.0] * len(names) for _ in names]
    for r in rows:
        if _num(r[c]):
            matrix[index[one_line(r[a], 30)]][index[one_line(r[p], 30)]] += float(r[c])
    return names, matrix


def table_text(columns: list[Any], rows: list[list[Any]], width: int = 40) -> tuple[list[str], list[list[str]]]:
    """A table's header and cells as escaped one-line strings; media cells as "Image 28x28 png"."""
    header = [_cell(c, width) for c in columns]
    return header, [[describe(v) or _cell(v, width) for v in row] for row in rows]


def _cell(v: Any, width: int) -> str:
    """Every line of a value, newlines shown as \n and controls escaped, cut to `width`."""
    text = safe_text(f"{v:.6g}" if isinstance(v, float) else ("" if v is None else str(v)))
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
