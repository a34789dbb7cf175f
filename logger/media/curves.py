"""ROC and precision-recall curves and confusion counts in pure Python, computed as
scikit-learn's `roc_curve` (drop_intermediate=True) and `precision_recall_curve` do, so
`plot.roc_curve`/`plot.pr_curve` need neither scikit-learn nor pandas (W&B needs both).
"""

from __future__ import annotations

from typing import Any


def as_list(values: Any) -> list[Any]:
    """A NumPy array, tensor or sequence as a plain (nested) list of Python values."""
    tolist = getattr(values, "tolist", None)
    return tolist() if callable(tolist) else [as_list(v) if hasattr(v, "tolist") else v for v in values]


def _counts(y_true: list[Any], scores: list[float], pos: Any) -> tuple[list[int], list[int], list[float]]:
    """(false positives, true positives, threshold) at each distinct score, highest first."""
    pairs = sorted(zip(scores, (t == pos for t in y_true)), key=lambda p: -p[0])
    fps: list[int] = []
    tps: list[int] = []
    thresholds: list[float] = []
    tp = fp = 0
    for i, (score, positive) in enumerate(pairs):
        tp += positive
        fp += not positive
        if i + 1 == len(pairs) or pairs[i + 1][0] != score:
            fps.append(fp)
            tps.append(tp)
            thresholds.append(score)
    return fps, tps, thresholds


def roc(y_true: list[Any], scores: list[float], pos: Any) -> tuple[list[float], list[float]]:
    """(fpr, tpr), as sklearn.metrics.roc_curve(y_true, scores, pos_label=pos)."""
    fps, tps, _ = _counts(y_true, scores, pos)
    if len(fps) > 2:  # drop points on a straight line between their neighbours
        keep = [0] + [i for i in range(1, len(fps) - 1)
                      if fps[i - 1] - 2 * fps[i] + fps[i + 1] or tps[i - 1] - 2 * tps[i] + tps[i + 1]]
        keep.append(len(fps) - 1)
        fps, tps = [fps[i] for i in keep], [tps[i] for i in keep]
    fps, tps = [0, *fps], [0, *tps]
    nf, nt = fps[-1] or 1, tps[-1] or 1
    return [f / nf for f in fps], [t / nt for t in tps]


def precision_recall(y_true: list[Any], scores: list[float], pos: Any) -> tuple[list[float], list[float]]:
    """(precision, recall) in sklearn's order: thresholds rising, ending at (1, 0)."""
    fps, tps, _ = _counts(y_true, scores, pos)
    total = tps[-1] if tps else 0
    precision = [t / (t + f) if t + f else 0.0 for f, t in zip(fps, tps)]
    recall = [t / total if total else 1.0 for t in tps]
    return [*precision[::-1], 1.0], [*recall[::-1], 0.0]


def interpolated_precision(y_true: list[Any], scores: list[float], pos: Any,
                           points: int) -> tuple[list[float], list[float]]:
    """W&B's pr_curve points: precision made monotone, read at `points` evenly spaced recalls."""
    precision, recall = precision_recall(y_true, scores, pos)
    for i in range(1, len(precision)):
        precision[i] = max(precision[i], precision[i - 1])
    precision, recall = precision[::-1], recall[::-1]
    grid = [1 - i / (points - 1) for i in range(points)] if points > 1 else [1.0]
    out = []
    for r in grid:
        j = next((k for k, v in enumerate(recall) if v >= r), len(recall) - 1)
        out.append(precision[j])
    return out, grid


def confusion_counts(y_true: list[Any], preds: list[Any], classes: list[Any]) -> list[list[int]]:
    """counts[i][j]: how many of class i were predicted as class j."""
    index = {c: i for i, c in enumerate(classes)}
    counts = [[0] * len(classes) for _ in classes]
    for t, p in zip(y_true, preds):
        counts[index[t]][index[p]] += 1
    return counts


def argmax_rows(probs: list[list[float]]) -> list[int]:
    return [max(range(len(row)), key=row.__getitem__) for row in probs]
