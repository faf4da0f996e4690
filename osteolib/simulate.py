"""Can I trust p < 0.0001? Each test's type-I error and power, measured on a study's own splits.

Cross-validated models share most of their training data from fold to fold and repeat to repeat, so
their per-fold and per-repeat scores are correlated, and a test that treats them as independent
rejects too often. How often, for *this* study's splits, is measured here with a cheap learner in
place of the CNNs: simulated data sets of the study's size and labels, two "arms" each a linear
discriminant (closed form) fitted on every fold's training part of the study's own ``splits.csv``,
scored on its test part, exactly as the CNNs are, and every test of notebook 04 applied to them:

* under the null, both arms learn from features of equal strength (their true AUCs are equal): the
  share of data sets in which a test rejects at alpha = 0.05 is its type-I error;
* under an alternative, the second arm's features are stronger by ``difference`` in Bayes AUC: the
  share in which the test finds the second arm better is its power.

The Bayesian correlated t-test does not give a p-value: it "rejects" when P(an arm better) exceeds
1 - alpha / 2 (0.975), and finds the second arm better when P(second better) does, so that every test
is judged at the same two-sided alpha (a rule at 0.95 would be a two-sided test at twice the alpha:
with no region of practical equivalence, as here, and baycomp's correlation 1/k, P(b better) is
1 - p/2 of the one-sided corrected t-test, to the difference between n_test / n_train and 1 / (k - 1)).
DeLong's test is applied to the first repeat alone, as a single-repeat analysis would.
Written here (no library simulates CV comparisons on given splits); vectorised over the simulated
data sets, so 200 of them on 30 x 5 folds take seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from .stats import bayes_correlated, corrected_ttest, delong

__all__ = ["N_FEATURES", "BASE_AUC", "test_calibration", "study_designs"]

#: Features per arm, and the Bayes AUC of the weaker arm.
N_FEATURES, BASE_AUC = 10, 0.80


def _signal(auc: float) -> float:
    """Per-feature mean shift giving a Bayes AUC of ``auc`` (equal-covariance Gaussian classes:
    AUC = Phi(||delta|| / sqrt(2)))."""
    return float(st.norm.ppf(auc) * np.sqrt(2) / np.sqrt(N_FEATURES))


def _lda_scores(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Linear discriminant scores of ``test`` rows, fitted on ``train`` rows, for every data set.
    x: (S, n, p); returns (S, len(test))."""
    xt, yt = x[:, train], y[train]  # a copy, centred in place below
    m1, m0 = xt[:, yt].mean(axis=1), xt[:, ~yt].mean(axis=1)
    xt[:, yt] -= m1[:, None]
    xt[:, ~yt] -= m0[:, None]
    cov = np.matmul(xt.transpose(0, 2, 1), xt) / (len(train) - 2)
    w = np.linalg.solve(cov, (m1 - m0)[..., None])
    return np.matmul(x[:, test], w)[..., 0]


def _auc(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC of each row of ``scores`` (S, m) from ranks (continuous scores: no ties)."""
    r = st.rankdata(scores, axis=1)
    n1 = y.sum()
    return (r[:, y].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1))


def _arms(y: np.ndarray, folds: pd.DataFrame, index: pd.Series, aucs: tuple[float, float],
          n_sim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-fold AUCs (S, r, k, 2), per-repeat pooled AUCs (S, r, 2) and repeat 0's scores (S, n, 2)."""
    n = len(y)
    x = [rng.standard_normal((n_sim, n, N_FEATURES)) + _signal(a) * y[None, :, None] for a in aucs]
    repeats, ks = sorted(folds["repeat"].unique()), sorted(folds["fold"].unique())
    fold_auc = np.empty((n_sim, len(repeats), len(ks), 2))
    repeat_auc = np.empty((n_sim, len(repeats), 2))
    first = np.empty((n_sim, n, 2))
    for i, r in enumerate(repeats):
        pooled = np.empty((n_sim, n, 2))
        for j, k in enumerate(ks):
            part = folds[(folds["repeat"] == r) & (folds["fold"] == k)]
            train = index[part.loc[part["role"] == "train", "patient_id"]].to_numpy()
            test = index[part.loc[part["role"] == "test", "patient_id"]].to_numpy()
            for a in range(2):
                s = _lda_scores(x[a], y, train, test)
                pooled[:, test, a] = s
                fold_auc[:, i, j, a] = _auc(y[test], s)
        for a in range(2):
            repeat_auc[:, i, a] = _auc(y, pooled[:, :, a])
        if i == 0:
            first = pooled
    return fold_auc, repeat_auc, first


def _decisions(y, fold_auc, repeat_auc, first, n_train, n_test, alpha) -> pd.DataFrame:
    """Per data set and test: rejected (two-sided) and found the second arm better."""
    rows = []
    n_sim, r, k, _ = fold_auc.shape
    for s in range(n_sim):
        a, b = repeat_auc[s, :, 0], repeat_auc[s, :, 1]
        d = fold_auc[s, :, :, 1] - fold_auc[s, :, :, 0]
        # scipy's t-tests, as stats.compare and stats.paired compute them (pingouin), but faster
        tests = {"t-test (paper)": st.ttest_ind(b, a).pvalue if r > 1 else np.nan,
                 "paired t-test": st.ttest_rel(b, a).pvalue if r > 1 else np.nan,
                 "corrected t-test": corrected_ttest(d, n_train, n_test)["p_value"]}
        sign = np.sign(b.mean() - a.mean())
        for name, p in tests.items():  # NaN where a test cannot be done (one repeat: no t-test over repeats)
            rows.append({"sim": s, "test": name, "rejected": p < alpha if np.isfinite(p) else np.nan,
                         "second_better": (p < alpha and sign > 0) if np.isfinite(p) else np.nan})
        bay = bayes_correlated(fold_auc[s, :, :, 0].ravel(), fold_auc[s, :, :, 1].ravel(), rope=0.0, runs=r)
        # judged at the two-sided alpha of the others (module docstring)
        rows.append({"sim": s, "test": "Bayesian correlated t-test",
                     "rejected": max(bay["p_a_better"], bay["p_b_better"]) > 1 - alpha / 2,
                     "second_better": bay["p_b_better"] > 1 - alpha / 2})
        dl = delong(y, first[s, :, 1], first[s, :, 0])
        rows.append({"sim": s, "test": "DeLong (one repeat)", "rejected": dl["p_value"] < alpha,
                     "second_better": dl["p_value"] < alpha and dl["z"] > 0})
    return pd.DataFrame(rows)


def test_calibration(labels: pd.Series, folds: pd.DataFrame, n_sim: int = 200, difference: float = 0.03,
                     seed: int = 0, alpha: float = 0.05) -> pd.DataFrame:
    """Type-I error and power of every test of notebook 04 on these splits.

    Parameters
    ----------
    labels : 0/1 outcome per patient, indexed by patient_id (the cohort's labels).
    folds : the study's splits (repeat, fold, patient_id, role); all their repeats are used.
    n_sim : simulated data sets per scenario.
    difference : the second arm's advantage in Bayes AUC under the alternative (over 0.80).

    Returns one row per test: type_I_error (null), power (alternative), their 95 % Wilson intervals,
    the mean AUC difference the alternative realised, and the design (data sets, repeats, folds).
    """
    y = labels.to_numpy().astype(bool)
    index = pd.Series(np.arange(len(labels)), index=labels.index)
    rng = np.random.default_rng(seed)
    n = folds.groupby(["repeat", "fold", "role"]).size().unstack()
    n_train, n_test = float((n["train"] + n["val"]).mean()), float(n["test"].mean())
    out = {}
    for scenario, aucs in (("null", (BASE_AUC, BASE_AUC)), ("alternative", (BASE_AUC, BASE_AUC + difference))):
        fold_auc, repeat_auc, first = _arms(y, folds, index, aucs, n_sim, rng)
        dec = _decisions(y, fold_auc, repeat_auc, first, n_train, n_test, alpha)
        out[scenario] = (dec, float((repeat_auc[..., 1] - repeat_auc[..., 0]).mean()))
    rows = []
    for test, null in out["null"][0].groupby("test", sort=False):
        alt = out["alternative"][0]
        (t1, t1_lo, t1_hi), (pw, pw_lo, pw_hi) = _rate(null["rejected"]), _rate(alt.loc[alt["test"] == test, "second_better"])
        rule = (f"P(an arm better) > {1 - alpha / 2:g} (ROPE 0); power: P(second better) > {1 - alpha / 2:g}"
                if test.startswith("Bayesian") else f"p < {alpha:g}, two-sided; power: that and the second arm higher")
        rows.append({"test": test, "alpha": alpha, "decision_rule": rule, "type_I_error": t1, "type_I_ci_low": t1_lo, "type_I_ci_high": t1_hi,
                     "power": pw, "power_ci_low": pw_lo, "power_ci_high": pw_hi,
                     "reason": "" if np.isfinite(t1) else "needs at least 2 repeats",
                     "auc_difference": out["alternative"][1], "n_sim": n_sim,
                     "repeats": int(folds["repeat"].nunique()), "folds": int(folds["fold"].nunique()),
                     "learner": f"linear discriminant on {N_FEATURES} simulated features per arm (Bayes AUC "
                                f"{BASE_AUC:.2f} and {BASE_AUC:.2f} or {BASE_AUC + difference:.2f})"})
    return pd.DataFrame(rows)


def _rate(decisions: pd.Series) -> tuple[float, float, float]:
    """Share of True among the data sets where the test could be done, with its 95 % Wilson interval."""
    from statsmodels.stats.proportion import proportion_confint  # lazy: statsmodels takes seconds to import
    done = decisions.dropna().astype(bool)
    if not len(done):
        return np.nan, np.nan, np.nan
    lo, hi = proportion_confint(int(done.sum()), len(done), method="wilson")
    return float(done.mean()), float(lo), float(hi)


def study_designs(cohort: pd.DataFrame, folds: pd.DataFrame, trained_repeats, n_sim: int = 200,
                  seed: int = 0) -> pd.DataFrame:
    """:func:`test_calibration` for the repeats the study trained and, when the splits hold more, for
    all of them (the paper's 30 x 5 design): one table, its ``design`` column saying which.
    ``n_sim`` 0 gives an empty table."""
    if n_sim <= 0:
        return pd.DataFrame()
    labels = cohort.set_index("patient_id")["label"]
    trained = sorted(set(trained_repeats))
    designs = {f"trained repeats ({len(trained)} x {folds['fold'].nunique()})": folds[folds["repeat"].isin(trained)]}
    if folds["repeat"].nunique() > len(trained):
        designs[f"all repeats of splits.csv ({folds['repeat'].nunique()} x {folds['fold'].nunique()})"] = folds
    return pd.concat([test_calibration(labels, f, n_sim, seed=seed).assign(design=name)
                      for name, f in designs.items()], ignore_index=True)
