"""Classification metrics from out-of-fold predictions.

Positive class: osteoporosis; a patient is called positive when its predicted probability of
osteoporosis is >= 0.5. The AUC is computed from the probabilities, never from the hard calls.
All metrics come from scikit-learn except specificity, which scikit-learn has no function for
(it is the recall of the negative class, computed as such).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

__all__ = ["THRESHOLD", "NAMES", "classification", "youden_threshold", "per_fold", "per_repeat"]

THRESHOLD = 0.5
#: Metric names in the order of the paper's tables.
NAMES = ("accuracy", "auc", "precision", "recall", "specificity", "f1")


def classification(y_true, p_osteoporosis, threshold=THRESHOLD) -> dict[str, float]:
    """Accuracy, ROC AUC, precision, recall (sensitivity), specificity and F1.

    Parameters
    ----------
    y_true : 0/1 labels (1: osteoporosis).
    p_osteoporosis : predicted probability of osteoporosis, same length.
    threshold : a patient is called positive at ``p >= threshold``: one number, or one per patient
        (each fold's own threshold, chosen on its validation part).

    Examples
    --------
    >>> m = classification([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    >>> m["accuracy"], m["auc"], m["specificity"]
    (0.5, 0.75, 0.5)
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(p_osteoporosis, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError("y_true and p_osteoporosis must be 1-D and of equal length")
    call = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {"accuracy": skm.accuracy_score(y, call),
            "auc": skm.roc_auc_score(y, p) if both else float("nan"),
            "precision": skm.precision_score(y, call, zero_division=0.0),
            "recall": skm.recall_score(y, call, zero_division=0.0),
            "specificity": skm.recall_score(y, call, pos_label=0, zero_division=0.0),
            "f1": skm.f1_score(y, call, zero_division=0.0)}


def youden_threshold(y_true, p_osteoporosis) -> float:
    """The threshold that maximises Youden's J = sensitivity + specificity - 1 (ties: the highest
    such threshold; scikit-learn's ``roc_curve`` gives the candidates). nan when ``y_true`` holds
    one class only.

    >>> youden_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8
    >>> youden_threshold([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7])
    0.6
    """
    y, p = np.asarray(y_true).astype(int), np.asarray(p_osteoporosis, dtype=float)
    if len(np.unique(y)) < 2:
        return float("nan")
    fpr, tpr, thresholds = skm.roc_curve(y, p, drop_intermediate=False)
    j = tpr - fpr
    best = np.flatnonzero(j == j.max())
    return float(min(thresholds[best].max(), 1.0))


def _table(predictions: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    rows = [{**dict(zip(by, key)), **classification(g["y_true"], g["p_osteoporosis"])}
            for key, g in predictions.groupby(by)]
    return pd.DataFrame(rows)


def per_fold(predictions: pd.DataFrame, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (``keys``..., repeat, fold) of ``predictions`` (columns repeat, fold, y_true,
    p_osteoporosis, and the ``keys``, e.g. backbone and arm)."""
    return _table(predictions, [*keys, "repeat", "fold"])


def per_repeat(predictions: pd.DataFrame, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (``keys``..., repeat), over that repeat's out-of-fold predictions of all patients."""
    return _table(predictions, [*keys, "repeat"])
