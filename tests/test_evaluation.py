"""Calibration, clinical utility, subgroups and the tests' own calibration, against independent
computations (scipy's optimiser, scikit-learn, hand counts)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from osteolib import calibration, simulate, splits, subgroups, utility


def _miscalibrated(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    true = rng.uniform(0.05, 0.95, n)
    y = (rng.random(n) < true).astype(int)
    logit = np.log(true / (1 - true))
    p = 1 / (1 + np.exp(-(1.8 * logit - 0.4)))   # too extreme and too low: slope < 1, intercept > 0
    return y, p


def test_calibration_intercept_and_slope_against_maximum_likelihood():
    """The slope: a logistic regression of y on logit(p) (scikit-learn, unpenalised); the intercept:
    the maximum-likelihood a of y ~ expit(a + logit(p)) (scipy's optimiser on the log-likelihood)."""
    y, p = _miscalibrated()
    c = calibration.calibration(y, p)
    lp = np.log(p / (1 - p))
    slope = LogisticRegression(C=np.inf).fit(lp[:, None], y).coef_[0, 0]
    nll = lambda a: -np.sum(y * (a + lp) - np.log1p(np.exp(a + lp)))
    intercept = optimize.minimize_scalar(nll, bounds=(-5, 5), method="bounded").x
    assert c["slope"] == pytest.approx(slope, rel=1e-4) and c["intercept"] == pytest.approx(intercept, abs=1e-4)
    assert c["slope"] < 0.7 and c["intercept"] > 0.1
    assert c["brier"] == pytest.approx(np.mean((p - y) ** 2))


def test_reliability_bins_are_deciles_of_the_prediction():
    y, p = _miscalibrated(1)
    r = calibration.reliability(y, p, n_bins=10)
    edges = np.quantile(p, np.linspace(0, 1, 11))
    first = p <= edges[1]
    assert r["mean_predicted"].iloc[0] == pytest.approx(p[first].mean())
    assert r["observed"].iloc[0] == pytest.approx(y[first].mean())


def test_net_benefit_against_a_hand_count():
    """10 patients, 3 osteoporotic. Refer at p >= 0.3: TP 2, FP 2 -> NB = 2/10 - 2/10 * 0.3/0.7."""
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.4, 0.1, 0.35, 0.5, 0.1, 0.2, 0.05, 0.25, 0.15])
    nb = utility.model_net_benefit(y, p, np.array([0.3]))[0]
    assert nb == pytest.approx(0.2 - 0.2 * 0.3 / 0.7)
    assert utility.treat_all(y, np.array([0.2]))[0] == pytest.approx(0.3 - 0.7 * 0.2 / 0.8)
    rule = np.array([True] * 3 + [False] * 7)   # a rule that refers exactly the osteoporotic: NB = prevalence
    assert utility.net_benefit(y, rule, np.array([0.1, 0.5])) == pytest.approx([0.3, 0.3])


def test_sensitivity_at_specificity_reads_the_roc_curve():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.3).astype(int)
    p = y * 0.8 + rng.normal(0, 0.5, 400)
    sens, t = utility.sensitivity_at_specificity(y, p, 0.9)
    assert (p[y == 0] < t).mean() >= 0.9 and sens == pytest.approx((p[y == 1] >= t).mean())
    # no lower threshold keeps specificity >= 0.9
    lower = np.max(p[p < t])
    assert (p[y == 0] < lower).mean() < 0.9


def test_subgroup_measures_equal_direct_computations():
    rng = np.random.default_rng(5)
    n = 300
    cohort = pd.DataFrame({"sex": np.where(rng.random(n) < 0.6, "F", "M"), "age": rng.integers(50, 90, n)})
    y = (rng.random(n) < 0.35).astype(int)
    p = np.clip(0.35 + 0.3 * (y - 0.35) + rng.normal(0, 0.2, (2, n)), 0, 1)   # 2 repeats
    t = np.full_like(p, 0.4)
    mask = subgroups.groups(cohort)["sex M"]
    out = subgroups.evaluate(y, p, t, mask, np.ones((1, n)))
    assert out["auc"][0] == pytest.approx(np.mean([roc_auc_score(y[mask], p[r, mask]) for r in range(2)]))
    sens = np.mean([(p[r, mask & (y == 1)] >= 0.4).mean() for r in range(2)])
    spec = np.mean([(p[r, mask & (y == 0)] < 0.5).mean() for r in range(2)])
    assert out["sensitivity_at_validation"][0] == pytest.approx(sens)
    assert out["specificity_at_0.5"][0] == pytest.approx(spec)
    bands = subgroups.groups(cohort)
    assert (bands["age <65"] | bands["age 65-74"] | bands["age >=75"]).all()
    assert not (bands["age <65"] & bands["age >=75"]).any()


def test_the_paper_test_is_liberal_and_the_corrected_test_is_not():
    """On repeated CV, two arms of equal strength: the t-test over repeats rejects far more often than
    5 %, the corrected resampled t-test does not (a small simulation: 60 data sets, 5 x 5 folds)."""
    rng = np.random.default_rng(0)
    n = 240
    cohort = pd.DataFrame({"patient_id": [f"p{i:03d}" for i in range(n)], "label": (rng.random(n) < 0.3).astype(int)})
    folds = splits.make(cohort, n_repeats=5, n_folds=5, seed=0)
    t = simulate.test_calibration(cohort.set_index("patient_id")["label"], folds, n_sim=60, seed=1).set_index("test")
    assert t.loc["t-test (paper)", "type_I_error"] > 0.3
    assert t.loc["corrected t-test", "type_I_error"] <= 0.12
    assert t.loc["corrected t-test", "power"] >= t.loc["corrected t-test", "type_I_error"]
    assert (t["repeats"] == 5).all() and (t["n_sim"] == 60).all()
    assert (t["type_I_ci_low"] <= t["type_I_error"]).all() and (t["type_I_error"] <= t["type_I_ci_high"]).all()
    one = simulate.test_calibration(cohort.set_index("patient_id")["label"], folds[folds["repeat"] == 0], n_sim=10)
    paper = one.set_index("test").loc["t-test (paper)"]
    assert np.isnan(paper["type_I_error"]) and "2 repeats" in paper["reason"]
