"""logger.plot.* and logger.sklearn.plot_*: a table under W&B's key plus a chart spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics

import logger


def _run(root: Path) -> logger.api.Run:
    (run,) = logger.Api(root).runs()
    return run


def _probas(n: int = 60, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, classes, n)
    p = rng.random((n, classes))
    p[np.arange(n), y] += 0.6 * rng.random(n)  # better than chance, with ties broken randomly
    p = np.round(p / p.sum(1, keepdims=True), 2)  # rounding makes tied scores
    return y, p


def test_preset_charts_store_their_table_as_key_table_and_a_chart_spec(root: Path) -> None:
    logger.init(dir=root, project="p")
    table = logger.Table(data=[[1, 2.0], [2, 3.5]], columns=["x", "y"])
    logger.log({"line": logger.plot.line(table, "x", "y", title="T"),
                "scatter": logger.plot.scatter(table, "x", "y"),
                "bar": logger.plot.bar(table, "x", "y"),
                "hist": logger.plot.histogram(table, "y"),
                "split": logger.plot.line(table, "x", "y", split_table=True),
                "series": logger.plot.line_series([1, 2, 3], [[1, 2, 3], [3, 2, 1]], keys=["up", "down"])})
    logger.finish()
    run = _run(root)
    row = run.history(pandas=False)[0]
    assert "line" not in row and row["line_table"]["_type"] == "table-file"
    assert "Custom Chart Tables/split_table" in row
    charts = run.charts
    assert set(charts) == {"line", "scatter", "bar", "hist", "split", "series"}
    line = charts["line"]
    assert line["table_key"] == "line_table" and line["panel_type"] == "Vega2"
    config = line["panel_config"]
    assert config["panelDefId"] == "wandb/line/v0"
    assert config["fieldSettings"] == {"x": "x", "y": "y", "stroke": None}
    assert config["stringSettings"] == {"title": "T"}
    query = config["userQuery"]["queryFields"][0]["fields"][-1]
    assert query["args"] == [{"name": "tableKey", "value": "line_table"}]
    series = run.load_table("series_table")
    assert series.columns == ["step", "lineKey", "lineVal"]
    assert series.data[:4] == [[1, "up", 1], [2, "up", 2], [3, "up", 3], [1, "down", 3]]
    assert charts["series"]["panel_config"]["panelDefId"] == "wandb/lineseries/v0"


def test_confusion_matrix_counts_from_preds_or_probs(root: Path) -> None:
    y_true = [0, 1, 2, 2, 1, 0]
    preds = [0, 2, 2, 2, 1, 1]
    probs = np.eye(3)[preds] * 0.8 + 0.05
    logger.init(dir=root, project="p")
    logger.log({"cm": logger.plot.confusion_matrix(y_true=y_true, preds=preds, class_names=["a", "b", "c"]),
                "cm2": logger.plot.confusion_matrix(probs=probs, y_true=np.array(y_true))})
    logger.finish()
    run = _run(root)
    table = run.load_table("cm_table")
    assert table.columns == ["Actual", "Predicted", "nPredictions"]
    expected = metrics.confusion_matrix(y_true, preds)
    assert [r[2] for r in table.data] == expected.ravel().tolist()
    assert table.data[5][:2] == ["b", "c"]
    assert [r[2] for r in run.load_table("cm2_table").data] == expected.ravel().tolist()
    assert run.load_table("cm2_table").data[0][:2] == ["Class_1", "Class_1"]
    with pytest.raises(ValueError, match="Only one of"):
        logger.plot.confusion_matrix(probs=probs, y_true=y_true, preds=preds)


def test_roc_curve_matches_scikit_learn(root: Path) -> None:
    y, p = _probas()
    chart = logger.plot.roc_curve(y, p, labels=["cat", "dog", "owl"])
    rows = chart.table.data
    for i, name in enumerate(["cat", "dog", "owl"]):
        fpr, tpr, _ = metrics.roc_curve(y, p[:, i], pos_label=i)
        ours = [r[1:] for r in rows if r[0] == name]
        assert ours == [[round(f, 3), round(t, 3)] for f, t in zip(fpr.tolist(), tpr.tolist())]
    assert chart.spec.fields == {"x": "fpr", "y": "tpr", "class": "class"}
    only = logger.plot.roc_curve(y, p, classes_to_plot=[1])
    assert {r[0] for r in only.table.data} == {1}


def test_pr_curve_matches_w_and_b_on_scikit_learn(root: Path) -> None:
    y, p = _probas()
    rows = logger.plot.pr_curve(y, p).table.data
    interp_recall = np.linspace(0, 1, 21)[::-1]
    for i in range(3):  # W&B's own computation, on scikit-learn's curve
        precision, recall, _ = metrics.precision_recall_curve(y, p[:, i], pos_label=i)
        precision = np.maximum.accumulate(precision)[::-1]
        recall = recall[::-1]
        expected = precision[np.searchsorted(recall, interp_recall, side="left")]
        ours = [r for r in rows if r[0] == i]
        assert [r[1] for r in ours] == np.round(expected, 3).tolist()
        assert [r[2] for r in ours] == np.round(interp_recall, 3).tolist()


def test_sklearn_plots_log_under_w_and_b_keys(root: Path) -> None:
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(3)
    X = rng.random((80, 4))  # noqa: N806
    y = (X[:, 0] + 0.2 * rng.random(80) > 0.6).astype(int)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X[:60], y[:60])
    logger.init(dir=root, project="p")
    logger.sklearn.plot_classifier(model, X[:60], X[60:], y[:60], y[60:], model.predict(X[60:]),
                                   model.predict_proba(X[60:]), labels=["no", "yes"],
                                   feature_names=["a", "b", "c", "d"])
    logger.finish()
    run = _run(root)
    keys = set().union(*(r.keys() for r in run.history(pandas=False)))
    assert {"summary_metrics", "class_proportions", "confusion_matrix", "roc_table",
            "precision_recall_table", "feature_importances"} <= keys
    fi = run.load_table("feature_importances")
    assert fi.get_column("feature_names")[0] == "a"  # the informative feature ranks first
    assert run.charts["feature_importances"] == {
        "table_key": "feature_importances", "id": "wandb/feature_importances/v1",
        "historyFieldSettings": {"key": "feature_importances", "x-axis": "_step"}}
    cm = run.load_table("confusion_matrix")
    assert cm.columns == ["Predicted", "Actual", "Count"]
    assert sum(r[2] for r in cm.data) == 20
    props = run.load_table("class_proportions").data
    assert ["yes", "train", int((y[:60] == 1).sum())] in props
    summary = dict((r[0], r[1]) for r in run.load_table("summary_metrics").data)
    assert summary["accuracy_score"] == round(metrics.accuracy_score(y[60:], model.predict(X[60:])), 2)
