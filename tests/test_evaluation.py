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


def test_the_bayesian_test_is_judged_at_the_alpha_of_the_others():
    """With no ROPE and baycomp's correlation 1/k, P(b better) is 1 - p/2 of the one-sided corrected
    t-test (up to n_test/n_train against 1/(k-1)), so judged at 1 - alpha/2 the Bayesian rule decides as
    the corrected test does; judged at 0.95 (the old rule) it was a test at twice the alpha."""
    rng = np.random.default_rng(0)
    n = 240
    cohort = pd.DataFrame({"patient_id": [f"p{i:03d}" for i in range(n)], "label": (rng.random(n) < 0.3).astype(int)})
    folds = splits.make(cohort, n_repeats=5, n_folds=5, seed=0)
    t = simulate.test_calibration(cohort.set_index("patient_id")["label"], folds, n_sim=100, seed=1).set_index("test")
    bay, cor = t.loc["Bayesian correlated t-test"], t.loc["corrected t-test"]
    assert abs(bay["type_I_error"] - cor["type_I_error"]) <= 0.02 and abs(bay["power"] - cor["power"]) <= 0.02
    assert "0.975" in bay["decision_rule"] and "p < 0.05" in cor["decision_rule"]
    # the identity itself, on one set of per-fold differences
    from osteolib import stats
    a = rng.normal(0.80, 0.02, 25)
    b = a + rng.normal(0.01, 0.02, 25)
    p = stats.corrected_ttest((b - a).reshape(5, 5), n_train=4, n_test=1)["p_value"]   # 1/(k-1) = n_test/n_train
    bayes = stats.bayes_correlated(a, b, rope=0.0, runs=5)
    assert max(bayes["p_a_better"], bayes["p_b_better"]) == pytest.approx(1 - p / 2, abs=1e-9)


def test_perfect_separation_gives_no_slope_and_says_why():
    """statsmodels only warns under separation and returns its last iterate (a slope of about 50)."""
    y = np.array([0] * 50 + [1] * 50)
    p = np.r_[np.linspace(0.1, 0.4, 50), np.linspace(0.6, 0.9, 50)]
    c = calibration.calibration(y, p)
    assert np.isnan(c["slope"]) and "separate" in c["reason"]
    assert np.isfinite(c["intercept"]) and c["brier"] == pytest.approx(np.mean((p - y) ** 2))
    tied = calibration.calibration(y, np.r_[np.linspace(0.1, 0.5, 50), np.linspace(0.5, 0.9, 50)])  # quasi-complete
    assert np.isnan(tied["slope"]) and tied["reason"]
    overlap = calibration.calibration(y, np.r_[np.linspace(0.1, 0.6, 50), np.linspace(0.4, 0.9, 50)])
    assert np.isfinite(overlap["slope"]) and overlap["reason"] == ""


DCURVES = __import__("pathlib").Path(__file__).parent / "data" / "dcurves"


def _dcurves_reference(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """An R dcurves result (tests/data/dcurves, from the package's own benchmark data) and the cohort."""
    data = pd.read_csv(DCURVES / "df_cancer_dx.csv")
    return pd.read_csv(DCURVES / name), data


def test_net_benefit_and_interventions_avoided_equal_r_dcurves():
    """R: dcurves::dca(cancer ~ famhistory); net benefit and net interventions avoided of the test, treat
    all and treat none at every threshold of 0.01 ... 0.99 (at 0, where the odds vanish, R's dcurves
    refers only test positives and reports no interventions avoided; the study's curves start at 0.05)."""
    ref, d = _dcurves_reference("r_case1_results.csv")
    ref = ref[ref["threshold"] > 0]
    y = d["cancer"].to_numpy()
    pt = np.sort(ref["threshold"].unique())
    everyone = utility.treat_all(y, pt)
    ours = {"all": everyone, "none": np.zeros(len(pt)),
            "famhistory": utility.net_benefit(y, d["famhistory"].to_numpy()[None, :] >= pt[:, None], pt)}
    for model, nb in ours.items():
        r = ref[ref["variable"] == model].sort_values("threshold")
        np.testing.assert_allclose(nb, r["net_benefit"], atol=1e-12)
        np.testing.assert_allclose(utility.net_interventions_avoided(nb, everyone, pt),
                                   r["net_intervention_avoided"], atol=1e-9)


def test_the_harm_of_a_test_equals_r_dcurves():
    """R: dcurves::dca(cancer ~ marker, as_probability = "marker", harm = list(marker = 0.0333)): the
    marker turned into a probability by a logistic regression on the whole cohort (R's glm; statsmodels
    here), net benefit less the harm and net interventions avoided at 0.01 ... 0.35."""
    import statsmodels.api as sm
    ref, d = _dcurves_reference("r_case3_results.csv")
    ref = ref[(ref["variable"] == "marker") & (ref["threshold"] > 0)].sort_values("threshold")
    assert (ref["harm"] == 0.0333).all()
    y = d["cancer"].to_numpy()
    p = sm.Logit(y, sm.add_constant(d["marker"].to_numpy())).fit(disp=0).predict()
    pt = ref["threshold"].to_numpy()
    nb = utility.model_net_benefit(y, p, pt, harm=0.0333)
    np.testing.assert_allclose(nb, ref["net_benefit"], atol=1e-9)
    np.testing.assert_allclose(utility.net_interventions_avoided(nb, utility.treat_all(y, pt), pt),
                               ref["net_intervention_avoided"], atol=1e-7)
