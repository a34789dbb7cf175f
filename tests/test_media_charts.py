"""tui/media_charts.py: logged plot.* charts and tables read back as data the panel draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import logger
from tui.media_charts import chart_series, table_text


def _charts(root: Path, values: dict) -> tuple[logger.api.Run, dict]:
    logger.init(dir=root, project="p")
    logger.log(values)
    logger.finish()
    (run,) = logger.Api(root).runs()
    return run, run.charts


def _data(run: logger.api.Run, charts: dict, key: str):
    table = run.load_table(charts[key]["table_key"])
    return chart_series(charts[key], table.columns, table.data)


def test_line_scatter_bar_histogram_and_series_charts(root: Path) -> None:
    t = logger.Table(columns=["x", "y", "run", "name"],
                     data=[[1, 2.0, "a", "p"], [2, 3.0, "a", "q"], [1, 5.0, "b", "r"], [2, None, "b", "s"]])
    run, charts = _charts(root, {
        "line": logger.plot.line(t, "x", "y", stroke="run", title="loss \x1b[2J"),
        "scatter": logger.plot.scatter(t, "x", "y"), "bar": logger.plot.bar(t, "name", "y"),
        "hist": logger.plot.histogram(t, "y"),
        "series": logger.plot.line_series([0, 1], [[1, 2], [4, 3]], keys=["up", "down"])})
    line = _data(run, charts, "line")
    assert line.kind == "line" and line.title == "loss \\x1b[2J"
    assert line.series == [("a", [1.0, 2.0], [2.0, 3.0]), ("b", [1.0], [5.0])]  # None is skipped
    assert _data(run, charts, "scatter").series == [("y", [1.0, 2.0, 1.0], [2.0, 3.0, 5.0])]
    bar = _data(run, charts, "bar")
    assert (bar.kind, bar.labels, bar.values) == ("bar", ["p", "q", "r"], [2.0, 3.0, 5.0])
    assert _data(run, charts, "hist").values == [2.0, 3.0, 5.0]
    assert _data(run, charts, "series").series == [("up", [0.0, 1.0], [1.0, 2.0]), ("down", [0.0, 1.0], [4.0, 3.0])]


def test_curves_and_confusion_matrices_from_plot_and_sklearn(root: Path) -> None:
    y = np.array([0, 1, 1, 0, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.1, 0.9], [0.4, 0.6]])
    logger.init(dir=root, project="p")
    logger.log({"roc": logger.plot.roc_curve(y, probs, labels=["cat", "dog"]),
                "cm": logger.plot.confusion_matrix(probs=probs, y_true=y, class_names=["cat", "dog"])})
    logger.sklearn.plot_confusion_matrix(y, probs.argmax(1), labels=["cat", "dog"])
    logger.finish()
    (run,) = logger.Api(root).runs()
    charts = run.charts
    roc = _data(run, charts, "roc")
    assert roc.kind == "line" and [s[0] for s in roc.series] == ["cat", "dog"]
    assert roc.x_title == "False positive rate" and roc.series[0][1][0] == 0.0 and roc.series[0][1][-1] == 1.0
    for key in ("cm", "confusion_matrix"):
        cm = _data(run, charts, key)
        assert cm.kind == "matrix" and cm.labels == ["cat", "dog"]
        assert cm.matrix == [[2.0, 1.0], [1.0, 2.0]], key  # [actual][predicted]


def test_table_cells_as_safe_text(root: Path) -> None:
    header, rows = table_text(["id", "img\nx", "score", "none"],
                              [[1, {"_type": "image-file", "width": 28, "height": 28, "format": "png"},
                                0.123456789, None], ["\x1b[31mred", [1, 2], 1e-9, True]])
    assert header == ["id", "img\\nx", "score", "none"]
    assert rows == [["1", "Image 28x28 png", "0.123457", ""], ["\\x1b[31mred", "[1, 2]", "1e-09", "True"]]
    assert chart_series({"panel_config": {"panelDefId": "custom/thing"}}, [], []) is None
