"""Clinical utility: net benefit over threshold probabilities (decision curve analysis) and operating
points (sensitivity at a fixed specificity; the threshold chosen on validation data).

Decision curve analysis (Vickers & Elkin, Med Decis Making 26:565-574, 2006): a patient is referred
for DXA when the model's probability reaches the threshold probability pt, at which a clinician is
indifferent between referring and not; referring n patients of whom TP have osteoporosis and FP do
not is worth

    net benefit(pt) = TP / n - FP / n * pt / (1 - pt),

in units of true positives per patient. "Treat all" refers everyone (prevalence - (1 - prevalence)
pt / (1 - pt)), "treat none" no one (0). A fixed rule such as OSTA <= -1 refers the same patients at
every pt. Written here (a few lines of arithmetic; the ``dcurves`` package would add a survival
analysis library as a dependency) and tested against a hand count.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

__all__ = ["THRESHOLDS", "net_benefit", "model_net_benefit", "treat_all", "sensitivity_at_specificity"]

#: Threshold probabilities of the decision curves: referral to DXA is considered from 5 % to 60 % risk.
THRESHOLDS = np.round(np.arange(0.05, 0.605, 0.01), 2)


def net_benefit(y_true, refer: np.ndarray, pt: np.ndarray) -> np.ndarray:
    """Net benefit of referring the patients flagged in ``refer`` at each threshold probability.

    ``refer``: (n,) bool, one decision for every threshold (a fixed rule), or (len(pt), n) bool, one
    row per threshold (a model: ``p >= pt``).

    >>> net_benefit([1, 1, 0, 0], np.array([True, False, True, False]), np.array([0.5]))
    array([0.])
    """
    y = np.asarray(y_true).astype(bool)
    pt = np.asarray(pt, float)
    refer = np.broadcast_to(np.asarray(refer, bool), (len(pt), len(y)))
    tp = (refer & y).sum(axis=1) / len(y)
    fp = (refer & ~y).sum(axis=1) / len(y)
    return tp - fp * pt / (1 - pt)


def model_net_benefit(y_true, p, pt: np.ndarray = THRESHOLDS) -> np.ndarray:
    """Net benefit of a model that refers a patient when its probability is at least the threshold."""
    return net_benefit(y_true, np.asarray(p, float)[None, :] >= np.asarray(pt, float)[:, None], pt)


def treat_all(y_true, pt: np.ndarray = THRESHOLDS) -> np.ndarray:
    """Net benefit of referring everyone."""
    return net_benefit(y_true, np.ones(len(np.asarray(y_true)), bool), pt)


def sensitivity_at_specificity(y_true, p, specificity: float) -> tuple[float, float]:
    """(sensitivity, threshold) at the lowest threshold whose specificity is at least ``specificity``:
    a reading of the ROC curve (scikit-learn's ``roc_curve``), not a threshold chosen beforehand.

    >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.6, 0.9], 0.75)
    (1.0, 0.6)
    """
    fpr, tpr, thresholds = roc_curve(np.asarray(y_true).astype(int), np.asarray(p, float), drop_intermediate=False)
    ok = (1 - fpr) >= specificity - 1e-12
    i = np.flatnonzero(ok)[np.argmax(tpr[ok])]
    return float(tpr[i]), float(min(thresholds[i], 1.0))
