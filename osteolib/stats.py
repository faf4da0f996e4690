"""Statistics across repeats: the paper's comparison and the tests that respect overlapping CV.

* :func:`compare`: the paper's comparison of two samples of per-repeat values: an independent
  two-sample t-test (Student) and Hedges' g (pooled SD, small-sample corrected), by pingouin.
* :func:`describe`: mean, SD, 95 % CI of the mean (t distribution) and Shapiro-Wilk per group.
* :func:`corrected_ttest`: the corrected resampled t-test of Nadeau & Bengio (2003) in the form of
  Bouckaert & Frank (2004) for r x k cross-validation, which accounts for the overlap of training
  sets that makes the plain t-test over repeats far too liberal.
* :func:`delong`: DeLong's test of two correlated AUCs on the same patients (DeLong et al. 1988,
  fast algorithm of Sun & Xu 2014), written here because no maintained Python library offers it.
* :func:`bootstrap_auc`: patient-level bootstrap CI of an AUC.

References
----------
Nadeau C., Bengio Y. Inference for the generalization error. Machine Learning 52:239-281 (2003).
Bouckaert R.R., Frank E. Evaluating the replicability of significance tests for comparing learning
algorithms. PAKDD 2004, LNCS 3056:3-12.
DeLong E.R., DeLong D.M., Clarke-Pearson D.L. Comparing the areas under two or more correlated ROC
curves: a nonparametric approach. Biometrics 44:837-845 (1988).
Sun X., Xu W. Fast implementation of DeLong's algorithm for comparing the areas under correlated
ROC curves. IEEE Signal Processing Letters 21:1389-1393 (2014).
Hedges L.V. Distribution theory for Glass's estimator of effect size. J Educ Stat 6:107-128 (1981).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import stats as st
from sklearn.metrics import roc_auc_score


def compare(x, y) -> pd.DataFrame:
    """The paper's test of two samples of per-repeat values (``x`` ensemble, ``y`` image).

    Returns a one-row table: t, dof, p_value (two-sided Student t-test, equal variances), hedges_g
    (of x - y), g_ci_low, g_ci_high (95 % CI of g), mean_x, mean_y.

    Examples
    --------
    >>> r = compare([0.82, 0.83, 0.81, 0.84], [0.80, 0.81, 0.79, 0.80])
    >>> round(float(r["t"].iloc[0]), 3), int(r["dof"].iloc[0])
    (3.273, 6)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if min(len(x), len(y)) < 2:  # one repeat: no variance, no test
        return pd.DataFrame([{"t": np.nan, "dof": np.nan, "p_value": np.nan, "hedges_g": np.nan,
                              "g_ci_low": np.nan, "g_ci_high": np.nan, "mean_x": x.mean(), "mean_y": y.mean()}])
    with warnings.catch_warnings():
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            # one arm has the same value in every repeat (e.g. one false positive each time): scipy then
            # warns of "precision loss" in its variance, but that variance is exactly 0 and the pooled
            # variance is the other arm's, so the test is exact; other warnings still show
            warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        t = pg.ttest(x, y, paired=False, correction=False)
        g = float(pg.compute_effsize(x, y, paired=False, eftype="hedges"))
    lo, hi = pg.compute_esci(stat=g, nx=len(x), ny=len(y), eftype="hedges", confidence=0.95)
    return pd.DataFrame([{"t": float(t["T"].iloc[0]), "dof": float(t["dof"].iloc[0]),
                          "p_value": float(t["p_val"].iloc[0]), "hedges_g": g, "g_ci_low": float(lo),
                          "g_ci_high": float(hi), "mean_x": x.mean(), "mean_y": y.mean()}])


def paired(x, y) -> pd.DataFrame:
    """Paired t-test on the per-repeat differences x - y (both arms share each repeat's splits)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    t = pg.ttest(x, y, paired=True)
    return pd.DataFrame([{"t": float(t["T"].iloc[0]), "dof": float(t["dof"].iloc[0]),
                          "p_value": float(t["p_val"].iloc[0]), "mean_difference": float((x - y).mean())}])


def describe(values) -> dict[str, float]:
    """n, mean, SD, 95 % CI of the mean (t distribution), Shapiro-Wilk W and p."""
    v = np.asarray(values, float)
    n, mean = len(v), float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    half = float(st.t.ppf(0.975, n - 1) * sd / np.sqrt(n)) if n > 1 else float("nan")
    w, p = (st.shapiro(v) if n >= 3 and sd > 0 else (float("nan"), float("nan")))
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half,
            "shapiro_w": float(w), "shapiro_p": float(p)}


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
    var = d.var(ddof=1)
    if var == 0:
        return {"t": float("nan"), "dof": r * k - 1, "p_value": float("nan")}
    t = d.mean() / np.sqrt((1 / (k * r) + n_test / n_train) * var)
    return {"t": float(t), "dof": r * k - 1, "p_value": float(2 * st.t.sf(abs(t), r * k - 1))}


def _midrank(x: np.ndarray) -> np.ndarray:
    return st.rankdata(x, method="average")


def delong(y_true, p_a, p_b) -> dict[str, float]:
    """DeLong's test of AUC(a) = AUC(b) for two scores of the same patients.

    Returns auc_a, auc_b, z and the two-sided p_value. Fast algorithm (Sun & Xu 2014):
    the structural components come from mid-ranks within positives, negatives and all.
    """
    y = np.asarray(y_true).astype(bool)
    scores = np.vstack([np.asarray(p_a, float), np.asarray(p_b, float)])
    m, n = y.sum(), (~y).sum()
    pos, neg = scores[:, y], scores[:, ~y]
    tz = np.vstack([_midrank(s) for s in scores])
    tx = np.vstack([_midrank(s) for s in pos])
    ty = np.vstack([_midrank(s) for s in neg])
    auc = (tz[:, y].sum(axis=1) - m * (m + 1) / 2) / (m * n)
    v01 = (tz[:, y] - tx) / n          # placement of each positive among the negatives
    v10 = 1.0 - (tz[:, ~y] - ty) / m   # placement of each negative among the positives
    cov = np.cov(v01) / m + np.cov(v10) / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (auc[0] - auc[1]) / np.sqrt(var) if var > 0 else float("nan")
    p = 2 * st.norm.sf(abs(z)) if var > 0 else 1.0
    return {"auc_a": float(auc[0]), "auc_b": float(auc[1]), "z": float(z), "p_value": float(p)}


def bootstrap_auc(y_true, score, n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """AUC with a percentile 95 % CI from resampling patients with replacement."""
    y, s = np.asarray(y_true), np.asarray(score, float)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() != y[i].max():
            aucs.append(roc_auc_score(y[i], s[i]))
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return {"auc": float(roc_auc_score(y, s)), "ci_low": float(lo), "ci_high": float(hi), "n_boot": len(aucs)}


# --- the study's tables -------------------------------------------------------------------------
from . import atomic, metrics  # noqa: E402  (kept beside the functions that use them)

FAMILIES = {"resnet": ("resnet18", "resnet50", "resnet152"),
            "efficientnet": ("efficientnet-b0", "efficientnet-b3", "efficientnet-b7")}
INTERVAL = "95% CI of the mean over repeats (t distribution)"


MODEL = ("backbone", "arm")


def summary(repeats: pd.DataFrame) -> pd.DataFrame:
    """backbone, arm, metric, n, mean, sd, ci_low, ci_high, shapiro_w, shapiro_p, interval."""
    rows = [{"backbone": b, "arm": a, "metric": m, **describe(g[m]), "interval": INTERVAL}
            for (b, a), g in repeats.groupby(["backbone", "arm"]) for m in metrics.NAMES]
    return pd.DataFrame(rows)


def fold_sizes(splits: pd.DataFrame) -> tuple[float, float]:
    """Mean training (train + validation: all a model saw) and test sizes per fold."""
    n = splits.groupby(["repeat", "fold", "role"]).size().unstack()
    return float((n["train"] + n["val"]).mean()), float(n["test"].mean())


def comparisons(predictions: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Ensemble vs image, per backbone and metric: the paper's test and the tests beyond it.

    Tests: ``t-test (paper)``: independent two-sample t-test over per-repeat values, with Hedges' g;
    ``paired t-test``: on per-repeat differences (the arms share each repeat's splits);
    ``corrected t-test``: Nadeau-Bengio / Bouckaert-Frank on per-fold differences with the real
    fold sizes; ``DeLong`` (AUC only): DeLong's test within each repeat, summarised by the median
    z and p over repeats and the share of repeats with p < 0.05.
    """
    reps, folds = metrics.per_repeat(predictions, MODEL), metrics.per_fold(predictions, MODEL)
    n_train, n_test = fold_sizes(splits)
    rows = []
    for b, g in reps.groupby("backbone"):
        if set(g["arm"]) != {"image", "ensemble"}:
            continue
        e, i = (g[g["arm"] == a].set_index("repeat").sort_index() for a in ("ensemble", "image"))
        common = e.index.intersection(i.index)
        fe, fi = (folds[(folds.backbone == b) & (folds.arm == a)].set_index(["repeat", "fold"]).loc[common]
                  for a in ("ensemble", "image"))
        for m in metrics.NAMES:
            c = compare(e.loc[common, m], i.loc[common, m]).iloc[0]
            base = {"backbone": b, "metric": m, "n_repeats": len(common), "mean_ensemble": c["mean_x"],
                    "mean_image": c["mean_y"]}
            rows.append({**base, "test": "t-test (paper)", "statistic": c["t"], "dof": c["dof"],
                         "p_value": c["p_value"], "hedges_g": c["hedges_g"], "g_ci_low": c["g_ci_low"],
                         "g_ci_high": c["g_ci_high"],
                         "note": "independent two-sample Student t over per-repeat values; Hedges' g with 95% CI"})
            if len(common) > 1:
                pr = paired(e.loc[common, m], i.loc[common, m]).iloc[0]
                rows.append({**base, "test": "paired t-test", "statistic": pr["t"], "dof": pr["dof"],
                             "p_value": pr["p_value"], "note": "paired t over per-repeat differences ensemble - image"})
            d = (fe[m] - fi[m]).to_numpy().reshape(len(common), -1)
            ct = corrected_ttest(d, n_train, n_test)
            rows.append({**base, "test": "corrected t-test", "statistic": ct["t"], "dof": ct["dof"],
                         "p_value": ct["p_value"],
                         "note": f"Nadeau-Bengio corrected resampled t (Bouckaert-Frank r x k form), per-fold "
                                 f"differences, n_train {n_train:.0f}, n_test {n_test:.0f}"})
        tests = []
        for r in common:
            pe = predictions[(predictions.backbone == b) & (predictions.arm == "ensemble") & (predictions.repeat == r)]
            pi = predictions[(predictions.backbone == b) & (predictions.arm == "image") & (predictions.repeat == r)]
            pi = pi.set_index("patient_id").loc[pe["patient_id"]]
            tests.append(delong(pe["y_true"], pe["p_osteoporosis"], pi["p_osteoporosis"]))
        t = pd.DataFrame(tests)
        rows.append({"backbone": b, "metric": "auc", "n_repeats": len(common), "test": "DeLong",
                     "mean_ensemble": t["auc_a"].mean(), "mean_image": t["auc_b"].mean(),
                     "statistic": float(t["z"].median()), "p_value": float(t["p_value"].median()),
                     "share_p_below_0.05": float((t["p_value"] < 0.05).mean()),
                     "note": "DeLong z within each repeat (same patients); median z and p over repeats"})
    return pd.DataFrame(rows)


def bootstrap_table(predictions: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per backbone and arm: AUC of the repeat-averaged out-of-fold probability with a
    patient-level bootstrap 95 % CI (percentile)."""
    rows = []
    for (b, a), g in predictions.groupby(["backbone", "arm"]):
        mean_p = g.groupby("patient_id").agg(y=("y_true", "first"), p=("p_osteoporosis", "mean"))
        rows.append({"backbone": b, "arm": a, **bootstrap_auc(mean_p["y"], mean_p["p"], n_boot, seed),
                     "interval": "patient-level bootstrap 95% CI (percentile) of the AUC of repeat-averaged probabilities"})
    return pd.DataFrame(rows)


def _mean_sd(row: pd.Series) -> str:
    """'mean (SD)'; with a single repeat there is no SD: 'mean (n/a)'."""
    sd = f"{row['sd']:.3f}" if np.isfinite(row["sd"]) else "n/a"
    return f"{row['mean']:.3f} ({sd})"


def paper_table(summ: pd.DataFrame, comp: pd.DataFrame, family: str) -> pd.DataFrame:
    """The layout of the paper's Tables 1 (ResNet) and 2 (EfficientNet): per backbone the image
    and ensemble models as mean (SD) over repeats, then the t-test p-value and Hedges' g."""
    rows = []
    for b in FAMILIES[family]:
        s = summ[summ.backbone == b]
        if s.empty:
            continue
        for arm, label in (("image", "Image"), ("ensemble", "Ensemble")):
            a = s[s.arm == arm].set_index("metric")
            if not a.empty:
                rows.append({"backbone": b, "model": label, **{m: _mean_sd(a.loc[m]) for m in metrics.NAMES}})
        c = comp[(comp.backbone == b) & (comp.test == "t-test (paper)")].set_index("metric")
        if not c.empty:
            from .cohort import format_p
            rows.append({"backbone": b, "model": "p-value",
                         **{m: format_p(c.loc[m, "p_value"]) or "n/a" for m in metrics.NAMES}})
            rows.append({"backbone": b, "model": "Hedges' g",
                         **{m: f"{c.loc[m, 'hedges_g']:.2f}" if np.isfinite(c.loc[m, "hedges_g"]) else "n/a"
                            for m in metrics.NAMES}})
    note = ("mean (SD) over CV repeats (n/a: one repeat only, no SD or test); p: independent two-sample t-test over repeats (the paper's test; see "
            "comparisons.csv for tests that respect the overlap of CV training sets); g: Hedges' g, ensemble - image")
    rows.append({"backbone": "note", "model": note})
    return pd.DataFrame(rows, columns=["backbone", "model", *metrics.NAMES])


def study(predictions: pd.DataFrame, baseline_predictions: pd.DataFrame, splits: pd.DataFrame,
          n_boot: int = 2000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Every table of notebook 04 from the predictions (models and baselines)."""
    reps = metrics.per_repeat(predictions, MODEL)
    summ = summary(reps)
    comp = comparisons(predictions, splits)
    base = baseline_predictions.assign(backbone="baseline")
    base_reps = metrics.per_repeat(base, MODEL)
    return {"metrics_per_repeat": pd.concat([reps, base_reps], ignore_index=True),
            "metrics_per_fold": metrics.per_fold(pd.concat([predictions, base], ignore_index=True), MODEL),
            "summary": pd.concat([summ, summary(base_reps)], ignore_index=True),
            "comparisons": comp,
            "baselines": summary(base_reps).drop(columns="backbone"),
            "bootstrap_auc": bootstrap_table(pd.concat([predictions, base], ignore_index=True), n_boot, seed),
            "table_resnet": paper_table(summ, comp, "resnet"),
            "table_efficientnet": paper_table(summ, comp, "efficientnet")}


def write(tables: dict[str, pd.DataFrame], study) -> list:
    """Write every table to the study's ``stats/<name>.csv`` atomically; returns the paths."""
    from .layout import StudyLayout
    layout = StudyLayout.of(study)
    return [atomic.write_csv(t, layout.stats_table(name), float_format="%.6g") for name, t in tables.items()]
