"""`logger.sklearn.plot_*`: the charts W&B's scikit-learn integration logs, under W&B's keys.

Each computes a table (in pure Python where W&B uses scikit-learn for it) and logs it on the
current run as `wandb.visualize` / `plot.*` charts do: `roc`, `precision_recall`,
`confusion_matrix`, `feature_importances`, `class_proportions`, `summary_metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import curves, plot
from .table import Table


def _log(key: str, chart: Any) -> None:
    from ..toplevel import current_run

    current_run(f"logger.sklearn, to log {key!r},", allow_disabled=True).log({key: chart})


def plot_roc(y_true: Any = None, y_probas: Any = None, labels: Sequence[Any] | None = None,
             plot_micro: bool = True, plot_macro: bool = True, classes_to_plot: Any = None) -> None:
    _log("roc", plot.roc_curve(y_true, y_probas, labels, classes_to_plot))


def plot_precision_recall(y_true: Any = None, y_probas: Any = None, labels: Sequence[Any] | None = None,
                          plot_micro: bool = True, classes_to_plot: Any = None) -> None:
    _log("precision_recall", plot.pr_curve(y_true, y_probas, labels, classes_to_plot))


def plot_confusion_matrix(y_true: Any = None, y_pred: Any = None, labels: Sequence[Any] | None = None,
                          true_labels: Any = None, pred_labels: Any = None, normalize: bool = False) -> None:
    """W&B's table: one row per (predicted, actual) pair with its count (or row share)."""
    truth, preds = curves.as_list(y_true), curves.as_list(y_pred)
    classes = sorted(set(truth) | set(preds))
    counts: list[list[Any]] = curves.confusion_counts(truth, preds, classes)
    if normalize:
        counts = [[round(c / (sum(row) or 1), 2) for c in row] for row in counts]
    def name(c: Any) -> Any:
        return labels[c] if labels is not None and isinstance(c, int) else c
    data = [[name(classes[j]), name(classes[i]), counts[i][j]]
            for j in range(len(classes)) for i in range(len(classes))]
    table = Table(columns=["Predicted", "Actual", "Count"], data=data)
    _log("confusion_matrix", plot.visualize("wandb/confusion_matrix/v1", table))


def plot_feature_importances(model: Any = None, feature_names: Sequence[str] | None = None,
                             title: str = "Feature Importance", max_num_features: int | None = None) -> None:
    """The model's `feature_importances_` (or `coef_`, `feature_log_prob_`), largest first."""
    attr = next((a for a in ("feature_importances_", "feature_log_prob_", "coef_") if hasattr(model, a)), None)
    if attr is None:
        raise ValueError("plot_feature_importances needs a fitted model with feature_importances_ or coef_")
    values = curves.as_list(getattr(model, attr))
    while isinstance(values, list) and len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    order = sorted(range(len(values)), key=lambda i: -values[i])[:max_num_features]
    names = [feature_names[i] if feature_names is not None else i for i in order]
    table = Table(columns=["feature_names", "importances"], data=[[n, values[i]] for n, i in zip(names, order)])
    _log("feature_importances", plot.visualize("wandb/feature_importances/v1", table))


def plot_class_proportions(y_train: Any = None, y_test: Any = None, labels: Sequence[Any] | None = None) -> None:
    train = curves.as_list(y_train)
    test = curves.as_list(y_test) if y_test is not None else []
    data = []
    for c in sorted(set(train) | set(test)):
        label = labels[c] if labels is not None and isinstance(c, int) else c
        data += [[label, "train", train.count(c)], [label, "test", test.count(c)]]
    table = Table(columns=["class", "dataset", "count"], data=data)
    _log("class_proportions", plot.visualize("wandb/class_proportions/v1", table))


def plot_summary_metrics(model: Any = None, X: Any = None, y: Any = None, X_test: Any = None,  # noqa: N803
                         y_test: Any = None) -> None:
    """Accuracy, precision, recall and F1 (classifiers) or MAE, MSE, R2 (regressors)."""
    from sklearn import base, metrics  # type: ignore[import-untyped, unused-ignore]  # the model is scikit-learn's: so is the scoring

    y_pred = model.predict(X_test)
    if base.is_classifier(model):
        scores = {"accuracy_score": metrics.accuracy_score(y_test, y_pred),
                  "precision": metrics.precision_score(y_test, y_pred, average="weighted"),
                  "recall": metrics.recall_score(y_test, y_pred, average="weighted"),
                  "f1_score": metrics.f1_score(y_test, y_pred, average="weighted")}
    else:
        scores = {"mae": metrics.mean_absolute_error(y_test, y_pred),
                  "mse": metrics.mean_squared_error(y_test, y_pred), "r2_score": metrics.r2_score(y_test, y_pred)}
    rows = [[k, round(float(v), 2), type(model).__name__] for k, v in scores.items()]
    table = Table(columns=["metric_name", "metric_value", "model_name"], data=rows)
    _log("summary_metrics", plot.visualize("wandb/metrics/v1", table))


def plot_classifier(model: Any, X_train: Any, X_test: Any, y_train: Any, y_test: Any,  # noqa: N803
                    y_pred: Any, y_probas: Any, labels: Sequence[Any] | None = None,
                    model_name: str = "Classifier", feature_names: Sequence[str] | None = None,
                    **_ignored: Any) -> None:
    """The classifier charts W&B's plot_classifier logs that runwatch computes."""
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    plot_class_proportions(y_train, y_test, labels)
    plot_confusion_matrix(y_test, y_pred, labels)
    plot_roc(y_test, y_probas, labels)
    plot_precision_recall(y_test, y_probas, labels)
    if any(hasattr(model, a) for a in ("feature_importances_", "feature_log_prob_", "coef_")):
        plot_feature_importances(model, feature_names)
