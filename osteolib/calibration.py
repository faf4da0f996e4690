"""Calibration of predicted probabilities: do they mean what they say? (TRIPOD+AI, item 23a)

* calibration intercept (calibration-in-the-large): the intercept of a logistic regression of the
  outcome with the model's logit as an offset; 0 when the mean prediction matches the prevalence;
* calibration slope: the slope of a logistic regression of the outcome on the model's logit; 1 for
  well-spread predictions, below 1 when they are too extreme (overfitting), above 1 when too modest;
* Brier score: the mean squared error of the probabilities (scikit-learn);
* the reliability diagram: observed frequency against mean prediction in quantile bins
  (scikit-learn's ``calibration_curve``).

The logistic regressions are statsmodels' GLM (binomial family, offset for the intercept), as in
Van Calster et al., J Clin Epidemiol 74:167-176 (2016).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

__all__ = ["EPS", "logit", "fits", "calibration", "reliability"]

#: Probabilities are kept this far from 0 and 1 before the logit (a probability of exactly 0 or 1
#: would give an infinite logit).
EPS = 1e-6


def logit(p) -> np.ndarray:
    """The log-odds of probabilities ``p``, kept :data:`EPS` away from 0 and 1."""
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def fits(y_true, p) -> tuple:
    """The two logistic regressions behind :func:`calibration` (statsmodels results): the intercept's
    (outcome on a constant, the model's logit as offset) and the slope's (outcome on the logit), and why
    one is None ("" when both were fitted). Shared by :mod:`osteolib.updating` (the same fits, as
    updates) and :mod:`osteolib.sites` (their standard errors)."""
    import statsmodels.api as sm  # lazy: statsmodels takes seconds to import
    y = np.asarray(y_true).astype(float)
    lp = logit(p)
    if len(np.unique(y)) < 2:
        return None, None, "one class only"
    binomial = sm.families.Binomial()
    try:
        intercept = sm.GLM(y, np.ones((len(y), 1)), family=binomial, offset=lp).fit()
    except (np.linalg.LinAlgError, ValueError) as e:
        return None, None, f"no fit of the intercept ({type(e).__name__})"
    if _separated(y, lp):
        # statsmodels only warns here and returns the slope of its last iteration (tens, growing with them)
        return intercept, None, ("the predictions separate the classes: the calibration slope is infinite "
                                 "(no maximum-likelihood fit)")
    try:
        slope = sm.GLM(y, sm.add_constant(lp), family=binomial).fit()
    except (np.linalg.LinAlgError, ValueError) as e:
        return intercept, None, f"no fit of the slope ({type(e).__name__})"
    return intercept, slope, ""


def calibration(y_true, p) -> dict[str, float]:
    """Calibration intercept and slope, and the Brier score, of probabilities ``p`` for outcomes ``y_true``.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.05, 0.95, 4000)
    >>> c = calibration(rng.random(4000) < p, p)   # outcomes drawn from p itself: well calibrated
    >>> abs(c["intercept"]) < 0.1 and abs(c["slope"] - 1) < 0.1
    True
    """
    intercept, slope, reason = fits(y_true, p)
    return {"intercept": float(intercept.params[0]) if intercept is not None else np.nan,
            "slope": float(slope.params[1]) if slope is not None else np.nan,
            "brier": float(brier_score_loss(np.asarray(y_true).astype(float), np.asarray(p, float))),
            "reason": reason}


def _separated(y: np.ndarray, lp: np.ndarray) -> bool:
    """Whether a threshold on ``lp`` splits the classes (completely, or with ties only at the threshold:
    quasi-complete separation), so that the logistic regression of ``y`` on ``lp`` has no finite slope."""
    pos, neg = lp[y == 1], lp[y == 0]
    return bool(pos.min() >= neg.max() or neg.min() >= pos.max())


def reliability(y_true, p, n_bins: int = 10) -> pd.DataFrame:
    """Reliability diagram data: per quantile bin of the predictions, the mean prediction and the
    observed frequency (scikit-learn's ``calibration_curve``)."""
    observed, predicted = calibration_curve(np.asarray(y_true).astype(int), np.asarray(p, float),
                                            n_bins=n_bins, strategy="quantile")
    return pd.DataFrame({"mean_predicted": predicted, "observed": observed})
