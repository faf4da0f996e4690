"""Metrics, the paper's comparison, the corrected tests and the baselines, against independent references."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from sklearn.metrics import roc_auc_score

from osteolib import baselines, metrics, runs, stats, tables
from osteolib.errors import InputError


def test_metrics_against_a_hand_made_confusion_matrix_and_sklearn():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.4, 0.7, 0.2, 0.1, 0.3, 0.55])
    m = metrics.classification(y, p)
    # calls at 0.5: TP 2, FN 1, FP 2, TN 3
    assert m["accuracy"] == pytest.approx(5 / 8) and m["precision"] == pytest.approx(2 / 4)
    assert m["recall"] == pytest.approx(2 / 3) and m["specificity"] == pytest.approx(3 / 5)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m["auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["auc"] != pytest.approx(roc_auc_score(y, p >= 0.5)), "AUC from probabilities, not labels"


def _exact(mean, sd, n, seed):
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_compare_against_scipy_and_a_hand_worked_hedges_g():
    """Means 0.824 (ensemble) and 0.809 (image), SD 0.012 each, n = 30 each:
    d = 0.015 / 0.012 = 1.25; g = d (1 - 3 / (4 * 60 - 9)) = 1.2338; t = 0.015 / (0.012 sqrt(2/30)) = 4.841."""
    x, y = _exact(0.824, 0.012, 30, 1), _exact(0.809, 0.012, 30, 2)
    r = stats.compare(x, y)
    ref = st.ttest_ind(x, y, equal_var=True)
    assert r["t"] == pytest.approx(ref.statistic) and r["p_value"] == pytest.approx(ref.pvalue)
    assert r["dof"] == 58
    assert r["t"] == pytest.approx(4.8412, abs=1e-3)
    assert r["hedges_g"] == pytest.approx(1.25 * (1 - 3 / 231), abs=1e-6)
    assert r["g_ci_low"] < r["hedges_g"] < r["g_ci_high"]



def test_compare_with_one_arm_constant_is_exact_and_quiet():
    """The demo's resnet18 ensemble had the same specificity (540/541) in both repeats: its variance is 0,
    the pooled variance is the image arm's alone, t = (x - y) / sqrt(s_y^2 / 2 * (1/2 + 1/2))."""
    x, y = [540 / 541, 540 / 541], [537 / 541, 529 / 541]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "precision loss" warning would fail here
        r = stats.compare(x, y)
    t = (np.mean(x) - np.mean(y)) / np.sqrt(np.var(y, ddof=1) / 2 * (1 / 2 + 1 / 2))
    assert r["t"] == pytest.approx(t, rel=1e-9) and r["dof"] == 2
    assert r["p_value"] == pytest.approx(2 * st.t.sf(abs(t), 2), rel=1e-9)

def test_describe_ci_and_shapiro_against_scipy():
    v = _exact(0.8, 0.02, 30, 3)
    d = stats.describe(v, bounded=False)
    lo, hi = st.t.interval(0.95, 29, loc=0.8, scale=0.02 / np.sqrt(30))
    assert d["ci_low"] == pytest.approx(lo) and d["ci_high"] == pytest.approx(hi)
    assert d["shapiro_p"] == pytest.approx(st.shapiro(v).pvalue)
    # a bounded metric: the t interval built on the logit of the mean (delta method), transformed back
    m, se = v.mean(), v.std(ddof=1) / np.sqrt(30)
    half = st.t.ppf(0.975, 29) * se / (m * (1 - m))
    b = stats.describe(v)
    expit = lambda a: 1 / (1 + np.exp(-a))
    assert b["ci_low"] == pytest.approx(expit(np.log(m / (1 - m)) - half))
    assert b["ci_high"] == pytest.approx(expit(np.log(m / (1 - m)) + half))
    # far from the bounds it is the plain t interval to first order
    assert b["ci_low"] == pytest.approx(lo, abs=2e-4) and b["ci_high"] == pytest.approx(hi, abs=2e-4)


@pytest.mark.parametrize("values", [[0.85, 0.86, 0.87], [0.99] * 29 + [0.5], [0.995, 0.999, 0.99, 1.0],
                                    [0.0, 0.01, 0.02, 0.001], [1.0] * 10 + [0.99] * 20, [0.97, 0.99, 0.999] * 10])
def test_a_bounded_interval_near_the_bounds_holds_its_mean(values):
    """The old interval clipped every value to [0.5/n, 1 - 0.5/n] (n the repeats: [0.833, 0.833] for
    three repeats near 0.86) and was an interval of the mean logit, which skewed values near a bound
    pull away from the arithmetic mean: every interval now contains the mean printed beside it."""
    d = stats.describe(values)
    assert 0 < d["ci_low"] < d["mean"] < d["ci_high"] < 1, d
    assert d["ci_high"] - d["ci_low"] > 0.001


def test_a_bounded_interval_of_values_that_do_not_vary_is_the_mean():
    d = stats.describe([1.0, 1.0, 1.0])
    assert d["ci_low"] == d["ci_high"] == d["mean"] == 1.0 and "do not vary" in d["reason"]


def test_bounded_intervals_stay_in_0_1_and_degenerate_cases_say_why():
    """The old t interval of precision over two repeats was 0.14-1.56; now: no interval from 2 values,
    and from 3 or more an interval that stays inside (0, 1)."""
    two = stats.describe([0.85, 0.99])
    assert np.isnan(two["ci_low"]) and "needs 3" in two["reason"]
    three = stats.describe([0.5, 0.99, 1.0])
    assert 0 < three["ci_low"] < three["ci_high"] < 1
    g = stats.compare([0.9, 0.9], [0.8, 0.8])
    assert np.isnan(g["hedges_g"]) and "constant" in g["reason"], "never an infinite effect size"
    one = stats.compare([0.9], [0.8])
    assert np.isnan(one["p_value"]) and "one repeat" in one["reason"]


def test_hedges_g_interval_at_full_precision():
    """pingouin rounds its interval to 2 decimals unless told otherwise."""
    x, y = _exact(0.824, 0.012, 30, 1), _exact(0.809, 0.012, 30, 2)
    r = stats.compare(x, y)
    assert round(r["g_ci_low"], 2) != r["g_ci_low"] or round(r["g_ci_high"], 2) != r["g_ci_high"]


def test_bayesian_correlated_ttest_against_its_formula():
    """Corani & Benavoli (2015): the posterior of the mean difference is Student t with n - 1
    degrees of freedom, location mean(d) and scale sqrt((1/n + rho/(1 - rho)) var(d)), rho = 1/k."""
    rng = np.random.default_rng(4)
    a = rng.normal(0.80, 0.02, 10)        # 2 repeats x 5 folds
    b = a + rng.normal(0.015, 0.01, 10)
    r = stats.bayes_correlated(a, b, rope=0.01, runs=2)
    d = b - a
    scale = np.sqrt((1 / 10 + 1 / (5 - 1)) * d.var(ddof=1))
    post = st.t(9, loc=d.mean(), scale=scale)
    assert r["p_a_better"] == pytest.approx(post.cdf(-0.01))
    assert r["p_b_better"] == pytest.approx(post.sf(0.01))
    assert r["p_rope"] == pytest.approx(post.cdf(0.01) - post.cdf(-0.01))


def test_holm_against_a_hand_worked_example():
    """p = .01, .04, .03 (m = 3): sorted .01 x 3 = .03, .03 x 2 = .06, .04 x 1 = .04 -> max-cumulated .06."""
    assert stats.holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])


def test_weighted_auc_against_sklearn():
    rng = np.random.default_rng(2)
    y = (rng.random(200) < 0.3).astype(int)
    s = np.round(y + rng.normal(0, 1, 200), 1)        # with ties
    w = stats.bootstrap_weights(200, 5, seed=0)
    ours = stats.weighted_auc(y, s, w)
    ref = [roc_auc_score(y, s, sample_weight=row) for row in w]
    assert np.allclose(ours, ref)
    assert stats.weighted_auc(y, s, np.ones((1, 200)))[0] == pytest.approx(roc_auc_score(y, s))


def test_corrected_ttest_worked_example():
    """d = [[.01, .02], [.03, 0]], n_train 8, n_test 2: mean .015, var .0005/3,
    t = .015 / sqrt((1/4 + 2/8) * .0005/3) = 1.6432 with 3 degrees of freedom (Bouckaert & Frank 2004)."""
    r = stats.corrected_ttest(np.array([[0.01, 0.02], [0.03, 0.0]]), n_train=8, n_test=2)
    assert r["t"] == pytest.approx(0.015 / np.sqrt(0.5 * 0.0005 / 3)) and r["t"] == pytest.approx(1.6432, abs=1e-4)
    assert r["dof"] == 3 and r["p_value"] == pytest.approx(2 * st.t.sf(1.6432, 3), abs=1e-4)
    # without the correction term it is the ordinary one-sample t: the correction makes it smaller
    assert r["t"] < st.ttest_1samp([0.01, 0.02, 0.03, 0.0], 0).statistic


def _delong_bruteforce(y, a, b):
    """DeLong et al. (1988) from the definition: psi kernel over all positive-negative pairs."""
    pos, neg = y == 1, y == 0
    def components(s):
        psi = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)
    (auc_a, v10a, v01a), (auc_b, v10b, v01b) = components(a), components(b)
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    s = s10 / pos.sum() + s01 / neg.sum()
    return (auc_a - auc_b) / np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])


def test_delong_against_the_definition_and_sklearn():
    rng = np.random.default_rng(0)
    y = (rng.random(150) < 0.35).astype(int)
    a = y + rng.normal(0, 1.0, 150)
    b = np.round(y + rng.normal(0, 1.4, 150), 1)  # with ties
    r = stats.delong(y, a, b)
    assert r["auc_a"] == pytest.approx(roc_auc_score(y, a)) and r["auc_b"] == pytest.approx(roc_auc_score(y, b))
    assert r["z"] == pytest.approx(_delong_bruteforce(y, a, b), rel=1e-9)
    assert r["p_value"] == pytest.approx(2 * st.norm.sf(abs(r["z"])))
    assert stats.delong(y, a, a)["p_value"] == 1.0


def test_bootstrap_ci_covers_the_auc():
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.3).astype(int)
    s = y + rng.normal(0, 1, 300)
    values = stats.weighted_auc(y, s, stats.bootstrap_weights(300, 300, seed=0))
    lo, hi = stats.percentile_ci(values)
    assert lo < roc_auc_score(y, s) < hi and hi - lo < 0.2


def test_osta_formula_and_cutoff():
    assert baselines.osta([50.0, 70.0], [75, 60]).tolist() == pytest.approx([-5.0, 2.0])
    p = baselines.osta_probability([-1.0, -1.01, -0.99, -5.0])
    assert p[0] == 0.5 and p[1] > 0.5 > p[2] and p[3] > 0.9


def _cohort_and_splits():
    from osteolib import splits
    rng = np.random.default_rng(0)
    n = 120
    cohort = pd.DataFrame({"patient_id": [f"p{i:03d}" for i in range(n)], "label": (rng.random(n) < 0.3).astype(int),
                           "sex": np.where(rng.random(n) < 0.7, "F", "M"), "age": rng.integers(50, 90, n),
                           "bmi": rng.normal(22, 3, n), "weight_kg": rng.normal(52, 8, n)})
    return cohort, splits.make(cohort, n_repeats=2, n_folds=5, seed=0)


def test_logistic_baseline_uses_training_rows_only():
    cohort, folds = _cohort_and_splits()
    part = folds[(folds.repeat == 0) & (folds.fold == 0)]
    not_train = part.loc[part.role != "train", "patient_id"]
    changed = cohort.copy()
    rows = changed.patient_id.isin(not_train)
    changed.loc[rows, "label"] = 1 - changed.loc[rows, "label"]
    changed.loc[rows, "age"] = 99
    after = baselines.predict(changed, folds)
    sel = lambda d: d[(d.arm == "covariates") & (d.repeat == 0) & (d.fold == 0)].set_index("patient_id")["p_osteoporosis"]
    # the test rows' predictions change only through their own (changed) covariates, never through the
    # fit: a model refitted by hand on the unchanged training rows gives exactly the same predictions
    from sklearn.linear_model import LogisticRegression
    from osteolib.datasets import CovariateScaler
    train = cohort.set_index("patient_id").loc[part.loc[part.role == "train", "patient_id"]]
    scaler = CovariateScaler.fit(train)
    model = LogisticRegression(C=np.inf, max_iter=1000).fit(scaler.transform(train).numpy(), train["label"])
    test_ids = part.loc[part.role == "test", "patient_id"]
    expected = model.predict_proba(scaler.transform(changed.set_index("patient_id").loc[test_ids]).numpy())[:, 1]
    assert np.allclose(sel(after).loc[test_ids].to_numpy(), expected)
    osta = after[after.arm == "osta"]
    assert osta.groupby("repeat")["patient_id"].nunique().eq(len(cohort)).all()


def test_comparisons_and_paper_tables_on_fabricated_predictions():
    cohort, folds = _cohort_and_splits()
    rng = np.random.default_rng(5)
    parts = []
    for b, shift in (("resnet18", 0.0), ("efficientnet-b0", 0.3)):
        for arm, strength in (("image", 1.0), ("ensemble", 1.6)):
            for r in range(2):
                t = folds[(folds.repeat == r) & (folds.role == "test")].merge(cohort[["patient_id", "label"]])
                score = 1 / (1 + np.exp(-(strength + shift) * (t["label"] * 2 - 1) - rng.normal(0, 1.5, len(t))))
                parts.append(pd.DataFrame({"repeat": r, "fold": t["fold"], "patient_id": t["patient_id"],
                                           "y_true": t["label"], "p_osteoporosis": score, "backbone": b, "arm": arm}))
    preds = pd.concat(parts, ignore_index=True)
    out = tables.compute(preds, baselines.predict(cohort, folds), folds, cohort, n_boot=200)
    comp = out["comparisons"]
    assert set(comp["test"]) == set(tables.TESTS.values())
    assert set(comp["comparison"]) == {"ensemble vs image", "image vs covariates", "ensemble vs covariates"}
    auc_rows = comp[(comp.metric == "auc") & (comp.backbone == "resnet18") & (comp.comparison == "ensemble vs image")]
    paper = auc_rows.set_index("test").loc[tables.TESTS["paper"]]
    assert paper["mean_b"] > paper["mean_a"] and paper["difference"] == pytest.approx(paper["mean_b"] - paper["mean_a"])
    # Holm beside the raw p-values, within each test
    corrected = comp[comp.test == tables.TESTS["corrected"]]
    assert (corrected["p_holm"] >= corrected["p_value"] - 1e-12).all()
    assert corrected["p_holm"].to_numpy() == pytest.approx(stats.holm(corrected["p_value"]))
    table = out["table_resnet"]
    assert table["model"].tolist()[:2] == ["Image", "Ensemble"]
    assert "p, corrected t-test" in table["model"].tolist() and "p, t-test (paper)" in table["model"].tolist()
    assert table["backbone"].iloc[-1] == "note"
    assert set(out["baselines"]["arm"]) == {"covariates", "osta"}
    pooling = set(out["summary"]["pooling"])
    assert pooling == {"pooled out-of-fold (tables)", "mean of the folds"}
    # the paired bootstrap of the AUC difference, within each repeat: its point estimate is the plain
    # AUC difference of that repeat (scikit-learn), and its interval holds it
    per = out["auc_differences_per_repeat"].set_index(["backbone", "comparison", "repeat"])
    for r in (0, 1):
        g = preds[(preds.backbone == "resnet18") & (preds.repeat == r)]
        e, i = (g[g.arm == a].set_index("patient_id").sort_index() for a in ("ensemble", "image"))
        ref = roc_auc_score(e["y_true"], e["p_osteoporosis"]) - roc_auc_score(i["y_true"], i["p_osteoporosis"])
        row = per.loc[("resnet18", "ensemble vs image", r)]
        assert row["difference"] == pytest.approx(ref) and row["ci_low"] < ref < row["ci_high"]


def test_corrupt_or_partial_predictions_name_the_file(tmp_path):
    cohort = pd.DataFrame({"patient_id": ["a", "b", "c"], "label": [1, 0, 0]})
    good = pd.DataFrame({"repeat": 0, "fold": [0, 1, 2], "patient_id": ["a", "b", "c"], "y_true": [1, 0, 0],
                         "p_osteoporosis": [0.8, 0.1, 0.3]})
    f = tmp_path / "predictions.csv"
    good.to_csv(f, index=False)
    assert len(runs.read_predictions(f, cohort, 0)) == 3
    for bad, words in ((good.iloc[:2], "partial"), (good.assign(p_osteoporosis=[0.8, 1.2, 0.3]), "not a probability"),
                       (good.drop(columns="y_true"), "missing column"), (good.assign(y_true=[0, 0, 0]), "disagrees")):
        bad.to_csv(f, index=False)
        with pytest.raises(InputError, match=words) as err:
            runs.read_predictions(f, cohort, 0)
        assert "predictions.csv" in str(err.value)
    f.write_bytes(b"\x00\xff garbage")
    with pytest.raises(InputError):
        runs.read_predictions(f, cohort, 0)
