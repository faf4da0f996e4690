"""Statistical tests and intervals: the paper's comparison, and the tests that respect overlapping CV.

Two models evaluated by repeated k-fold cross-validation on the same patients share most of their
training data, fold after fold and repeat after repeat, so their per-fold and per-repeat values are
correlated: the plain t-test over repeats (the paper's) and the paired t-test treat them as
independent and are far too liberal (``osteolib.simulate`` measures how far, on a study's own splits).

* :func:`corrected_ttest`: the corrected resampled t-test of Nadeau & Bengio (2003) in the form of
  Bouckaert & Frank (2004) for r x k cross-validation: the project's primary test.
* :func:`bayes_correlated`: the Bayesian correlated t-test (Corani & Benavoli 2015, through
  ``baycomp``) with a region of practical equivalence: P(a better), P(equivalent), P(b better).
* :func:`compare`: the paper's independent two-sample t-test over per-repeat values and Hedges' g
  (pooled SD, small-sample corrected), by pingouin; :func:`paired`: the paired t-test over repeats
  (it ignores the overlap too).
* :func:`delong`: DeLong's test of two correlated AUCs on the same patients (DeLong et al. 1988, fast
  algorithm of Sun & Xu 2014), written here because no maintained Python library offers it.
* :func:`describe`: mean, SD, 95 % CI of the mean over repeats (on the logit scale for a metric
  bounded in [0, 1], so the interval stays inside it), Shapiro-Wilk.
* :func:`weighted_auc` and :func:`bootstrap_weights`: the patient-level bootstrap, vectorised over
  resamples (a resample is a vector of counts, so every model and repeat is resampled alike);
  :func:`holm`: Holm's step-down adjustment (statsmodels).

Every test returns one dict (its statistic, p-value or probabilities, and ``reason``); a degenerate
case (a single repeat, fewer than 3 values, an arm that is constant) gives NaN and a ``reason``,
never an infinite effect size.

References
----------
Nadeau C., Bengio Y. Inference for the generalization error. Machine Learning 52:239-281 (2003).
Bouckaert R.R., Frank E. Evaluating the replicability of significance tests for comparing learning
algorithms. PAKDD 2004, LNCS 3056:3-12.
Corani G., Benavoli A. A Bayesian approach for comparing cross-validated algorithms on multiple data
sets. Machine Learning 100:285-304 (2015).
DeLong E.R., DeLong D.M., Clarke-Pearson D.L. Comparing the areas under two or more correlated ROC
curves: a nonparametric approach. Biometrics 44:837-845 (1988).
Sun X., Xu W. Fast implementation of DeLong's algorithm for comparing the areas under correlated
ROC curves. IEEE Signal Processing Letters 21:1389-1393 (2014).
Hedges L.V. Distribution theory for Glass's estimator of effect size. J Educ Stat 6:107-128 (1981).
Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70 (1979).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats as st

__all__ = ["compare", "paired", "describe", "corrected_ttest", "bayes_correlated", "holm", "delong", "auc_variance",
           "bootstrap_weights", "weighted_auc", "percentile_ci"]

NAN = float("nan")


def compare(x, y) -> dict:
    """The paper's test of two samples of per-repeat values (``x`` ensemble, ``y`` image).

    Returns t, dof, p_value (two-sided Student t-test, equal variances), hedges_g
    (of x - y), g_ci_low, g_ci_high (95 % CI of g, full precision), mean_x, mean_y, reason (why a
    value is NaN: fewer than 2 repeats, or both arms constant).

    Examples
    --------
    >>> r = compare([0.82, 0.83, 0.81, 0.84], [0.80, 0.81, 0.79, 0.80])
    >>> round(r["t"], 3), int(r["dof"])
    (3.273, 6)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    row = {"t": NAN, "dof": NAN, "p_value": NAN, "hedges_g": NAN, "g_ci_low": NAN, "g_ci_high": NAN,
           "mean_x": x.mean(), "mean_y": y.mean(), "reason": ""}
    if min(len(x), len(y)) < 2:
        return {**row, "reason": "one repeat: no variance over repeats, no test"}
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return {**row, "reason": "both arms constant over repeats: no variance, no test"}
    with warnings.catch_warnings():
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            # one arm has the same value in every repeat (e.g. one false positive each time): scipy then
            # warns of "precision loss" in its variance, but that variance is exactly 0 and the pooled
            # variance is the other arm's, so the test is exact; other warnings still show
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        t = pg.ttest(x, y, paired=False, correction=False)
        g = float(pg.compute_effsize(x, y, paired=False, eftype="hedges"))
    lo, hi = pg.compute_esci(stat=g, nx=len(x), ny=len(y), eftype="hedges", confidence=0.95, decimals=12)
    return {**row, "t": float(t["T"].iloc[0]), "dof": float(t["dof"].iloc[0]), "p_value": float(t["p_val"].iloc[0]),
            "hedges_g": g, "g_ci_low": float(lo), "g_ci_high": float(hi)}


def paired(x, y) -> dict:
    """Paired t-test on the per-repeat differences x - y (it ignores the overlap of training sets):
    t, dof, p_value, mean_difference, reason."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    d = x - y
    if len(d) < 2 or np.ptp(d) == 0:
        return {"t": NAN, "dof": NAN, "p_value": NAN, "mean_difference": float(d.mean()),
                "reason": "fewer than 2 repeats" if len(d) < 2 else "constant difference"}
    t = pg.ttest(x, y, paired=True)
    return {"t": float(t["T"].iloc[0]), "dof": float(t["dof"].iloc[0]), "p_value": float(t["p_val"].iloc[0]),
            "mean_difference": float(d.mean()), "reason": ""}


def _logit(p):
    return np.log(p / (1 - p))


def describe(values, bounded: bool = True) -> dict:
    """n, mean, SD, 95 % CI of the mean, Shapiro-Wilk W and p of per-repeat values.

    The interval is the t interval of the mean (t quantile of n - 1 degrees of freedom, standard
    error SD / sqrt(n)). For a metric bounded in [0, 1] (``bounded``) it is built on the logit scale
    *of the mean* and transformed back: logit(mean) +- t * SE / (mean (1 - mean)) (the delta method,
    as the logit-transformed interval of an AUC or a proportion is built). So it stays inside (0, 1),
    it always contains the mean it is printed beside, and far from the bounds it is the plain t
    interval to first order. (Transforming each value instead gives an interval of the mean logit,
    which can exclude the arithmetic mean of skewed values near a bound, and needs values of exactly 0
    or 1 moved inside.) Values that do not vary give the mean as both limits; with fewer than 3 values
    there is no interval: NaN, and ``reason`` says so.

    >>> d = describe([0.85, 0.86, 0.87])
    >>> round(d["ci_low"], 4), d["mean"], round(d["ci_high"], 4)
    (0.8333, 0.86, 0.883)
    """
    v = np.asarray(values, float)
    n, mean = len(v), float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else NAN
    out = {"n": n, "mean": mean, "sd": sd, "ci_low": NAN, "ci_high": NAN, "shapiro_w": NAN, "shapiro_p": NAN,
           "reason": ""}
    if n < 3:
        return {**out, "reason": f"{n} value(s): no interval or normality test (needs 3)"}
    if sd == 0:
        return {**out, "ci_low": mean, "ci_high": mean, "reason": "the values do not vary: the interval is the mean"}
    out["shapiro_w"], out["shapiro_p"] = (float(a) for a in st.shapiro(v))
    half = st.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    if not bounded:
        return {**out, "ci_low": mean - half, "ci_high": mean + half}
    if not 0 <= mean <= 1:
        raise ValueError(f"a bounded metric's mean {mean} lies outside [0, 1]")
    centre, spread = _logit(mean), half / (mean * (1 - mean))
    expit = lambda a: float(1 / (1 + np.exp(-a)))
    return {**out, "ci_low": expit(centre - spread), "ci_high": expit(centre + spread)}


def corrected_ttest(differences: np.ndarray, n_train: float, n_test: float) -> dict[str, float]:
    """Corrected repeated k-fold CV t-test (Nadeau-Bengio, Bouckaert-Frank form).

    Parameters
    ----------
    differences : (r, k) per-fold differences of a metric between two models (r repeats, k folds).
    n_train, n_test : sizes of the training and test parts of a fold.

    t = mean(d) / sqrt((1 / (k r) + n_test / n_train) * var(d)), with r k - 1 degrees of freedom.

    Examples
    --------
    >>> d = np.array([[0.01, 0.02], [0.03, 0.00]])
    >>> round(corrected_ttest(d, n_train=8, n_test=2)["t"], 4)
    1.6432
    """
    d = np.asarray(differences, float)
    r, k = d.shape
    var = d.var(ddof=1) if d.size > 1 else 0.0
    if var == 0:
        return {"t": NAN, "dof": r * k - 1, "p_value": NAN, "reason": "no variance of the per-fold differences"}
    t = d.mean() / np.sqrt((1 / (k * r) + n_test / n_train) * var)
    return {"t": float(t), "dof": r * k - 1, "p_value": float(2 * st.t.sf(abs(t), r * k - 1)), "reason": ""}


def bayes_correlated(a, b, rope: float, runs: int) -> dict[str, float]:
    """Bayesian correlated t-test of per-fold values ``a`` and ``b`` (r x k of them, flattened by
    repeat; ``runs`` = r), by ``baycomp``: the posterior of the mean difference b - a is a Student t
    with the Nadeau-Bengio correlation 1/k, and the probabilities that a is better by more than
    ``rope``, that the two are practically equivalent (|b - a| <= rope), and that b is better.

    >>> r = bayes_correlated([0.80, 0.81, 0.79, 0.80, 0.82], [0.84, 0.86, 0.83, 0.85, 0.85], rope=0.01, runs=1)
    >>> r["p_b_better"] > 0.9 > r["p_a_better"]
    True
    """
    from baycomp import CorrelatedTTest  # lazy: baycomp takes about a second to import; one test needs it
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2:
        return {"p_a_better": NAN, "p_rope": NAN, "p_b_better": NAN, "reason": "fewer than 2 folds"}
    probs = CorrelatedTTest.probs(a, b, rope=rope, runs=runs)
    p_a, p_rope, p_b = probs if len(probs) == 3 else (probs[0], 0.0, probs[1])  # rope 0: two probabilities
    return {"p_a_better": float(p_a), "p_rope": float(p_rope), "p_b_better": float(p_b), "reason": ""}


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels), NaN kept where a test could not be done.

    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    from statsmodels.stats.multitest import multipletests  # lazy: statsmodels takes seconds to import
    p = np.asarray(p_values, float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def _midrank(x: np.ndarray) -> np.ndarray:
    return st.rankdata(x, method="average")


def _delong(y_true, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The AUCs of the rows of ``scores`` and their DeLong covariance matrix. Fast algorithm (Sun & Xu
    2014): the structural components come from mid-ranks within positives, negatives and all."""
    y = np.asarray(y_true).astype(bool)
    m, n = y.sum(), (~y).sum()
    pos, neg = scores[:, y], scores[:, ~y]
    tz = np.vstack([_midrank(s) for s in scores])
    tx = np.vstack([_midrank(s) for s in pos])
    ty = np.vstack([_midrank(s) for s in neg])
    auc = (tz[:, y].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v01 = (tz[:, y] - tx) / n          # placement of each positive among the negatives
    v10 = 1.0 - (tz[:, ~y] - ty) / m   # placement of each negative among the positives
    cov = np.atleast_2d(np.cov(v01) / m + np.cov(v10) / n)
    return auc, cov


def delong(y_true, p_a, p_b) -> dict[str, float]:
    """DeLong's test of AUC(a) = AUC(b) for two scores of the same patients.

    Returns auc_a, auc_b, z and the two-sided p_value.
    """
    auc, cov = _delong(y_true, np.vstack([np.asarray(p_a, float), np.asarray(p_b, float)]))
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (auc[0] - auc[1]) / np.sqrt(var) if var > 0 else float("nan")
    p = 2 * st.norm.sf(abs(z)) if var > 0 else 1.0
    return {"auc_a": float(auc[0]), "auc_b": float(auc[1]), "z": float(z), "p_value": float(p)}


def auc_variance(y_true, p) -> tuple[float, float]:
    """One score's AUC and DeLong's variance of it (what a per-site AUC is pooled with)."""
    auc, cov = _delong(y_true, np.asarray(p, float)[None, :])
    return float(auc[0]), float(cov[0, 0])


# --- the patient-level bootstrap ------------------------------------------------------------------

def bootstrap_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) counts: how often each of ``n`` patients is drawn in each resample (with
    replacement). One matrix serves every model and repeat, so they are resampled alike (paired)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def weighted_auc(y_true, score, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of ``score`` for each row of ``weights`` (patient weights, e.g. bootstrap counts):
    the Mann-Whitney statistic with ties counted half, vectorised over rows. Written here because
    scikit-learn takes one weight vector per call, which is too slow for thousands of resamples.

    >>> y, s = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    >>> weighted_auc(y, s, np.ones((1, 4))).tolist()
    [0.75]
    """
    y = np.asarray(y_true).astype(bool)
    w = np.atleast_2d(np.asarray(weights, float))
    _, group = np.unique(np.asarray(score, float), return_inverse=True)
    n_groups = group.max() + 1
    onehot = np.zeros((len(y), n_groups))
    onehot[np.arange(len(y)), group] = 1.0
    pos = (w * y) @ onehot                     # (B, G): positives' weight per distinct score
    neg = (w * ~y) @ onehot
    below = np.cumsum(neg, axis=1) - neg       # negatives' weight strictly below each score
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def percentile_ci(samples: np.ndarray) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of bootstrap ``samples`` (NaN resamples left out)."""
    s = np.asarray(samples, float)
    s = s[np.isfinite(s)]
    return (float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))) if len(s) else (NAN, NAN)
