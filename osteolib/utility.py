"""Clinical utility: net benefit over threshold probabilities (decision curve analysis) and operating
points (sensitivity at a fixed specificity; the threshold chosen on validation data).

Decision curve analysis (Vickers & Elkin, Med Decis Making 26:565-574, 2006): a patient is referred
for DXA when the model's probability reaches the threshold probability pt, at which a clinician is
indifferent between referring and not; referring n patients of whom TP have osteoporosis and FP do
not is worth

    net benefit(pt) = TP / n - FP / n * pt / (1 - pt),

in units of true positives per patient. "Treat all" refers everyone (prevalence - (1 - prevalence)
pt / (1 - pt)), "treat none" no one (0). A fixed rule such as OSTA <= -1 refers the same patients at
every pt. The ``harm`` of a test (what obtaining it costs each patient, in the same units: e.g. an
extra examination) is subtracted from its net benefit (Vickers, Van Calster & Steyerberg, BMJ
352:i6, 2016); the net interventions avoided (Vickers et al., BMC Med Inform Decis Mak 8:53, 2008),

    net interventions avoided(pt) = (net benefit(pt) - net benefit of treat all(pt)) / (pt / (1 - pt)),

count per patient the referrals a model saves against referring everyone, at the same benefit (x 100:
per 100 patients). Written here (a few lines of arithmetic; the ``dcurves`` package would add a
survival analysis library as a dependency) and tested against the R package dcurves' own reference
outputs (``tests/data/dcurves``).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

__all__ = ["THRESHOLDS", "net_benefit", "model_net_benefit", "treat_all", "net_interventions_avoided",
           "sensitivity_at_specificity"]

#: Threshold probabilities of the decision curves: referral to DXA is considered from 5 % to 60 % risk.
THRESHOLDS = np.round(np.arange(0.05, 0.605, 0.01), 2)


def net_benefit(y_true, refer: np.ndarray, pt: np.ndarray, harm: float = 0.0) -> np.ndarray:
    """Net benefit of referring the patients flagged in ``refer`` at each threshold probability, less
    the test's ``harm`` (default 0).

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
    return tp - fp * pt / (1 - pt) - harm


def model_net_benefit(y_true, p, pt: np.ndarray = THRESHOLDS, harm: float = 0.0) -> np.ndarray:
    """Net benefit of a model that refers a patient when its probability is at least the threshold."""
    return net_benefit(y_true, np.asarray(p, float)[None, :] >= np.asarray(pt, float)[:, None], pt, harm)


def treat_all(y_true, pt: np.ndarray = THRESHOLDS) -> np.ndarray:
    """Net benefit of referring everyone."""
    return net_benefit(y_true, np.ones(len(np.asarray(y_true)), bool), pt)


def net_interventions_avoided(net_benefit_model, net_benefit_all, pt: np.ndarray = THRESHOLDS) -> np.ndarray:
    """Net interventions avoided per patient against treating all, at each threshold probability
    (multiply by 100 for "per 100 patients"; NaN at pt = 0, where it is not defined).

    >>> pt = np.array([0.2])
    >>> net_interventions_avoided(np.array([0.10]), np.array([0.05]), pt).round(3).tolist()
    [0.2]
    """
    pt = np.asarray(pt, float)
    odds = np.where(pt > 0, pt / np.where(pt < 1, 1 - pt, np.nan), np.nan)
    return (np.asarray(net_benefit_model, float) - np.asarray(net_benefit_all, float)) / odds


def sensitivity_at_specificity(y_true, p, specificity: float) -> tuple[float, float]:
    """(sensitivity, threshold): the best sensitivity among the thresholds whose specificity is at
    least ``specificity``, at the *highest* threshold that reaches it (where several thresholds give
    that sensitivity, the highest keeps the most specificity); a reading of the ROC curve
    (scikit-learn's ``roc_curve``, every distinct score a threshold), not a threshold chosen beforehand.

    >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.6, 0.9], 0.75)
    (1.0, 0.6)

    At a required specificity of 0.5, lowering the threshold from 0.6 to 0.3 is still allowed (specificity
    0.5) but adds no sensitivity, so 0.6 (specificity 0.75) is reported, not the lowest admissible 0.3:

    >>> sensitivity_at_specificity([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.6, 0.9], 0.5)
    (1.0, 0.6)
    """
    fpr, tpr, thresholds = roc_curve(np.asarray(y_true).astype(int), np.asarray(p, float), drop_intermediate=False)
    ok = (1 - fpr) >= specificity - 1e-12
    i = np.flatnonzero(ok)[np.argmax(tpr[ok])]
    return float(tpr[i]), float(min(thresholds[i], 1.0))
