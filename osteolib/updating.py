"""Updating a model's probabilities for a new site from a local sample (Steyerberg, *Clinical
Prediction Models*, ch. 20; Janssen et al., J Clin Epidemiol 61:76-86, 2008).

A model carried to another hospital may rank its patients as well as at home and still be wrong
about their risk: another prevalence moves every logit by a constant (calibration in the large),
another unit or population may spread them more or less (the calibration slope). The simplest
updates refit only those two numbers on a local sample kept apart from the evaluation:

* ``"none"``: the model as it came;
* ``"intercept"`` (recalibration in the large): ``logit p' = a + logit p``, ``a`` fitted with the
  model's logit as an offset; fixes a prevalence shift and leaves the ranking (AUC) unchanged;
* ``"logistic"`` (logistic recalibration): ``logit p' = a + b logit p``; fixes the spread as well.

The fits are statsmodels' binomial GLMs, as :func:`osteolib.calibration.calibration` measures them, so
an update fitted on a sample brings that sample's calibration intercept (and slope) to exactly 0 (and
1). :func:`learning_curve` says how many local patients an update needs: for each size, repeated
draws of a local sample (stratified by outcome), the update fitted on it and judged on the patients
left for evaluation.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> lp = rng.normal(-1, 1.5, 3000)
>>> y = rng.random(3000) < 1 / (1 + np.exp(-(lp + 1.0)))     # the new site: one logit unit more risk
>>> p = 1 / (1 + np.exp(-lp))                                 # what the model says there
>>> u = fit("intercept", y[:1000], p[:1000])
>>> round(u.a, 1), u.b
(1.0, 1.0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

from .calibration import calibration, fits, logit

__all__ = ["METHODS", "Update", "fit", "measure", "learning_curve"]

#: The updates, from none to the most local.
METHODS = ("none", "intercept", "logistic")


@dataclass(frozen=True)
class Update:
    """``logit p' = a + b logit p``, fitted on ``n`` local patients by ``method``."""

    method: str
    a: float = 0.0
    b: float = 1.0
    n: int = 0

    def apply(self, p) -> np.ndarray:
        """The updated probabilities."""
        return 1 / (1 + np.exp(-(self.a + self.b * logit(p))))


def fit(method: str, y_local, p_local) -> Update:
    """The update ``method`` (:data:`METHODS`) fitted on a local sample's outcomes and the model's
    probabilities for them; ValueError naming the problem when the sample cannot carry it."""
    if method not in METHODS:
        raise ValueError(f"update {method!r}: expected one of {', '.join(METHODS)}")
    y = np.asarray(y_local).astype(float)
    if len(y) != len(np.asarray(p_local)):
        raise ValueError(f"{len(y)} outcomes but {len(np.asarray(p_local))} probabilities")
    if method == "none":
        return Update("none", n=len(y))
    if len(np.unique(y)) < 2:
        raise ValueError(f"the local sample of {len(y)} holds one outcome only: no {method} update can be fitted")
    intercept, slope, reason = fits(y, p_local)  # the calibration GLMs: an update is what they measure
    if method == "intercept":
        if intercept is None:
            raise ValueError(f"no {method} update: {reason}")
        return Update("intercept", float(intercept.params[0]), 1.0, len(y))
    if slope is None:
        raise ValueError(f"no {method} update: {reason}")
    return Update("logistic", float(slope.params[0]), float(slope.params[1]), len(y))


def measure(y_true, p) -> dict[str, float]:
    """What an update is judged by on an evaluation part: ``auc``, the calibration ``intercept`` and
    ``slope`` (:func:`osteolib.calibration.calibration`), ``brier``."""
    c = calibration(y_true, p)
    return {"auc": float(roc_auc_score(np.asarray(y_true).astype(int), p)), "intercept": c["intercept"],
            "slope": c["slope"], "brier": c["brier"]}


def learning_curve(y, p, sizes, methods=METHODS, draws: int = 20, seed: int = 0) -> pd.DataFrame:
    """For each local sample size in ``sizes`` and each of ``draws`` stratified draws: each update of
    ``methods`` fitted on the local sample and judged on the rest of the site's patients (``auc``,
    calibration ``intercept`` and ``slope``, ``brier``). One row per size, draw and method; a draw an
    update cannot be fitted on (one class only, or separated by the model) has NaN and the ``reason``; a
    size that leaves fewer than 10 patients of a class to evaluate is refused."""
    y, p = np.asarray(y).astype(int), np.asarray(p, float)
    rows = []
    for size in sizes:
        if size < 2 or len(y) - size < 10 or min(np.bincount(y, minlength=2)) * (1 - size / len(y)) < 10:
            raise ValueError(f"a local sample of {size} of {len(y)} patients leaves too few to evaluate")
        split = StratifiedShuffleSplit(n_splits=draws, train_size=int(size), random_state=seed)
        for draw, (local, rest) in enumerate(split.split(np.zeros(len(y)), y)):
            for method in methods:
                row = {"n_local": int(size), "draw": draw, "update": method, "n_eval": len(rest), "auc": np.nan,
                       "intercept": np.nan, "slope": np.nan, "brier": np.nan, "reason": ""}
                try:
                    q = fit(method, y[local], p[local]).apply(p[rest])
                except ValueError as e:  # a small local sample the update cannot be fitted on: said, not skipped
                    rows.append(row | {"reason": str(e)})
                    continue
                rows.append(row | measure(y[rest], q))
    return pd.DataFrame(rows)
