"""Notebook 04: every table of the statistics, from the out-of-fold predictions of the models and
the baselines (the methods live in :mod:`osteolib.stats`, :mod:`osteolib.calibration`,
:mod:`osteolib.utility` and :mod:`osteolib.subgroups`; this module only lays them out).

One quantity per name:

* a *per-repeat* metric is computed over that repeat's out-of-fold predictions of all patients
  (five fold models' predictions pooled, as the paper counts); the tables report its mean over
  repeats. ``summary.csv`` also gives the mean of the per-fold metrics (each fold model on its own
  test part), which the corrected and Bayesian tests use;
* every bootstrap interval is of the very quantity the table reports (the mean over repeats of the
  per-repeat metric), from one patient-level resample applied to every model and repeat.

The primary comparison of two arms is the corrected resampled t-test (Nadeau-Bengio,
Bouckaert-Frank), with the Bayesian correlated t-test and its region of practical equivalence beside
it; the paper's independent t-test is kept and labelled as the paper's, the paired t-test as one that
ignores the overlap of training sets. Within each table, Holm-adjusted p-values stand beside the raw
ones, per test (``p_holm``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import atomic, calibration, metrics, subgroups, utility
from .baselines import INDEX_ARMS, OSTA_CUTOFF, osta
from .cohort import format_p
from .layout import StudyLayout
from .stats import (bayes_correlated, bootstrap_weights, compare, corrected_ttest, delong, describe, holm, paired,
                    percentile_ci, weighted_auc)

__all__ = ["G_INTERVAL", "FAMILIES", "MODEL", "BASELINE", "BOUNDED", "TESTS", "SITE_FOLDS", "fold_sizes", "Models", "summary", "comparisons",
           "bootstrap_auc", "NOT_PROBABILITIES", "calibration_table", "operating_points", "decision_curves",
           "paper_table", "compute", "write"]

#: What the interval of Hedges' g is (pingouin's ``compute_esci``): not the exact noncentral-t interval,
#: which is narrower by about 0.1 at 10 repeats per arm and 0.02 at 30 (g = 0.5 to 2).
G_INTERVAL = "approximate 95% CI (pingouin: Wald-type standard error with a t quantile, not the exact noncentral t)"
FAMILIES = {"resnet": ("resnet18", "resnet50", "resnet152"),
            "efficientnet": ("efficientnet-b0", "efficientnet-b3", "efficientnet-b7")}
MODEL = ("backbone", "arm")
BASELINE = "baseline"
#: Metrics that are proportions (their intervals are computed on the logit scale).
BOUNDED = set(metrics.NAMES)
TESTS = {"corrected": "corrected t-test (primary; Nadeau-Bengio, Bouckaert-Frank r x k form)",
         "bayes": "Bayesian correlated t-test (baycomp)",
         "paper": "t-test (paper): independent two-sample Student t over per-repeat values",
         "paired": "paired t-test over repeats (ignores the overlap of training sets)",
         "delong": "DeLong within each repeat (one repeat's patients; ignores training variation)",
         "bootstrap": "paired patient-level bootstrap of the AUC difference"}


#: What the fold-based tests say when each fold holds a site out (internal-external cross-validation).
SITE_FOLDS = ("the folds are held-out sites, not random resamples: the correction (and the Bayesian model's "
              "correlation) assume random splits, so read this as indicative; notebook 06 analyses the sites")


def fold_sizes(splits: pd.DataFrame) -> tuple[float, float]:
    """Mean training (train + validation: all a model saw) and test sizes per fold."""
    n = splits.groupby(["repeat", "fold", "role"]).size().unstack()
    return float((n["train"] + n["val"]).mean()), float(n["test"].mean())


class Models:
    """Every model's predictions (CNN arms and baselines) aligned to the cohort's patients:
    ``p`` and ``thresholds`` (repeats, patients), and the per-repeat and per-fold metrics."""

    def __init__(self, predictions: pd.DataFrame, baseline_predictions: pd.DataFrame, cohort: pd.DataFrame):
        base = baseline_predictions.assign(backbone=BASELINE)
        self.all = pd.concat([predictions, base], ignore_index=True)
        if "threshold" not in self.all:
            self.all["threshold"] = metrics.THRESHOLD
        self.all["threshold"] = self.all["threshold"].fillna(metrics.THRESHOLD)
        self.ids = cohort["patient_id"].to_numpy()
        self.y = cohort.set_index("patient_id").loc[self.ids, "label"].to_numpy().astype(int)
        self.per_repeat = metrics.per_repeat(self.all, MODEL)
        self.per_fold = metrics.per_fold(self.all, MODEL)
        self.keys = list(self.all.groupby(list(MODEL), sort=True).groups)

    def matrix(self, key: tuple[str, str], column: str = "p_osteoporosis") -> np.ndarray:
        """(repeats, patients) of ``column`` for one model, in the cohort's patient order."""
        g = self.all[(self.all["backbone"] == key[0]) & (self.all["arm"] == key[1])]
        return g.pivot(index="repeat", columns="patient_id", values=column)[self.ids].to_numpy()

    def repeats(self, key: tuple[str, str]) -> pd.DataFrame:
        r = self.per_repeat
        return r[(r["backbone"] == key[0]) & (r["arm"] == key[1])].set_index("repeat").sort_index()

    def folds(self, key: tuple[str, str]) -> pd.DataFrame:
        f = self.per_fold
        return f[(f["backbone"] == key[0]) & (f["arm"] == key[1])].set_index(["repeat", "fold"]).sort_index()


def summary(m: Models) -> pd.DataFrame:
    """backbone, arm, metric, pooling, n, mean, sd, ci_low, ci_high, shapiro, interval, reason."""
    rows = []
    for key in m.keys:
        per_repeat = m.repeats(key)
        per_fold_mean = m.folds(key).groupby("repeat").mean(numeric_only=True)
        for pooling, table in (("pooled out-of-fold (tables)", per_repeat), ("mean of the folds", per_fold_mean)):
            for metric in metrics.NAMES:
                d = describe(table[metric], bounded=metric in BOUNDED)
                rows.append({"backbone": key[0], "arm": key[1], "metric": metric, "pooling": pooling, **d,
                             "interval": "95% CI of the mean over repeats (t interval on the logit scale)"})
    return pd.DataFrame(rows)


def _tests(m: Models, a: tuple, b: tuple, metric: str, n_train: float, n_test: float, rope: float) -> list[dict]:
    """The comparison of b against a on one metric, under every test over repeats and folds."""
    ra, rb = m.repeats(a), m.repeats(b)
    common = ra.index.intersection(rb.index)
    fa, fb = m.folds(a).loc[common], m.folds(b).loc[common]
    base = {"backbone": b[0] if b[0] != BASELINE else a[0], "comparison": f"{b[1]} vs {a[1]}", "metric": metric,
            "n_repeats": len(common), "mean_a": ra.loc[common, metric].mean(), "mean_b": rb.loc[common, metric].mean()}
    base["difference"] = base["mean_b"] - base["mean_a"]
    d = (fb[metric] - fa[metric]).to_numpy().reshape(len(common), -1)
    ct = corrected_ttest(d, n_train, n_test)
    by = bayes_correlated(fa[metric].to_numpy(), fb[metric].to_numpy(), rope, len(common))
    c = compare(rb.loc[common, metric], ra.loc[common, metric])
    pr = paired(rb.loc[common, metric], ra.loc[common, metric])
    return [{**base, "test": TESTS["corrected"], "statistic": ct["t"], "dof": ct["dof"], "p_value": ct["p_value"],
             "reason": ct["reason"]},
            {**base, "test": TESTS["bayes"], "rope": rope, "p_a_better": by["p_a_better"], "p_equivalent": by["p_rope"],
             "p_b_better": by["p_b_better"], "reason": by["reason"]},
            {**base, "test": TESTS["paper"], "statistic": c["t"], "dof": c["dof"], "p_value": c["p_value"],
             "hedges_g": c["hedges_g"], "g_ci_low": c["g_ci_low"], "g_ci_high": c["g_ci_high"], "g_interval": G_INTERVAL,
             "reason": c["reason"]},
            {**base, "test": TESTS["paired"], "statistic": pr["t"], "dof": pr["dof"], "p_value": pr["p_value"],
             "reason": pr["reason"]}]


def _delong_row(m: Models, a: tuple, b: tuple) -> dict:
    pa, pb = m.matrix(a), m.matrix(b)
    t = pd.DataFrame([delong(m.y, pb[r], pa[r]) for r in range(len(pa))])
    return {"backbone": b[0] if b[0] != BASELINE else a[0], "comparison": f"{b[1]} vs {a[1]}", "metric": "auc",
            "n_repeats": len(t), "mean_a": t["auc_b"].mean(), "mean_b": t["auc_a"].mean(),
            "difference": (t["auc_a"] - t["auc_b"]).mean(), "test": TESTS["delong"],
            "statistic": float(t["z"].median()), "p_value": float(t["p_value"].median()),
            "share_p_below_0.05": float((t["p_value"] < 0.05).mean()),
            "reason": "median z and p over repeats" if len(t) > 1 else ""}


def _bootstrap_differences(m: Models, a: tuple, b: tuple, weights: np.ndarray) -> tuple[dict, list[dict]]:
    """The AUC difference b - a with its paired patient-level bootstrap interval: within each repeat
    (one row each), and of the mean over repeats (the summary row of ``comparisons.csv``)."""
    pa, pb = m.matrix(a), m.matrix(b)
    per = np.array([weighted_auc(m.y, pb[r], weights) - weighted_auc(m.y, pa[r], weights) for r in range(len(pa))])
    name = {"backbone": b[0] if b[0] != BASELINE else a[0], "comparison": f"{b[1]} vs {a[1]}", "metric": "auc"}
    rows = [{**name, "repeat": r, "difference": d[0], **dict(zip(("ci_low", "ci_high"), percentile_ci(d[1:])))}
            for r, d in zip(m.repeats(a).index, per)]
    lo, hi = percentile_ci(per.mean(axis=0)[1:])
    excludes = np.mean([(r["ci_low"] > 0) or (r["ci_high"] < 0) for r in rows])
    return ({**name, "n_repeats": len(pa), "difference": per.mean(axis=0)[0], "diff_ci_low": lo, "diff_ci_high": hi,
             "share_repeats_ci_excludes_0": excludes, "test": TESTS["bootstrap"],
             "reason": "95% percentile interval of the mean over repeats; the same resample for both models"}, rows)


def comparisons(m: Models, splits: pd.DataFrame, weights: np.ndarray, rope: float
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ensemble vs image (every metric), and each arm vs the covariates-only baseline and vs each
    radiomorphometric baseline (:data:`osteolib.baselines.INDEX_ARMS`, AUC), per backbone; what a dentist
    measures against the covariates (``mcw_pmi`` and ``mcw_pmi_covariates`` vs ``covariates``, AUC); and the
    bootstrap AUC differences within each repeat."""
    n_train, n_test = fold_sizes(splits)
    rows, per_repeat = [], []
    cov = (BASELINE, "covariates")
    measured = [(BASELINE, a) for a in INDEX_ARMS if (BASELINE, a) in m.keys]
    groups = [[(cov, k, ["auc"]) for k in measured if k[1] in ("mcw_pmi", "mcw_pmi_covariates") and cov in m.keys]]
    for b in sorted({k[0] for k in m.keys} - {BASELINE}):
        image, ens = (b, "image"), (b, "ensemble")
        pairs = [(image, ens, list(metrics.NAMES))] if {image, ens} <= set(m.keys) else []
        pairs += [(base, arm, ["auc"]) for base in [cov, *measured] for arm in (image, ens) if arm in m.keys]
        groups.insert(len(groups) - 1, pairs)
    for pairs in groups:
        for a, c, names in pairs:
            for metric in names:
                rows += _tests(m, a, c, metric, n_train, n_test, rope)
            summary_row, repeat_rows = _bootstrap_differences(m, a, c, weights)
            rows += [_delong_row(m, a, c), summary_row]
            per_repeat += repeat_rows
    out = pd.DataFrame(rows)
    if out.empty:
        return out, pd.DataFrame(per_repeat)
    if "site" in splits.columns:  # folds that hold sites out are not random resamples
        tests = out["test"].isin([TESTS["corrected"], TESTS["bayes"]])
        said = out.loc[tests, "reason"].fillna("")
        out.loc[tests, "reason"] = said.where(said == "", said + "; ") + SITE_FOLDS
    out["p_holm"] = np.nan
    for test, g in out.groupby("test"):
        if "p_value" in g and g["p_value"].notna().any():
            out.loc[g.index, "p_holm"] = holm(g["p_value"])
    return out, pd.DataFrame(per_repeat).assign(interval="paired patient-level bootstrap 95% percentile interval")


def bootstrap_auc(m: Models, weights: np.ndarray) -> pd.DataFrame:
    """Per model: the AUC the tables report (mean over repeats of the per-repeat AUC) with the
    patient-level bootstrap 95 % interval of that same quantity."""
    rows = []
    for key in m.keys:
        p = m.matrix(key)
        auc = np.mean([weighted_auc(m.y, p[r], weights) for r in range(len(p))], axis=0)
        lo, hi = percentile_ci(auc[1:])
        rows.append({"backbone": key[0], "arm": key[1], "auc": auc[0], "ci_low": lo, "ci_high": hi,
                     "n_repeats": len(p), "n_boot": len(weights) - 1,
                     "interval": "patient-level bootstrap 95% percentile interval of the mean over repeats of "
                                 "the per-repeat AUC (the tables' quantity)"})
    return pd.DataFrame(rows)


#: Baselines whose score is not a probability (OSTA's and the MCW rule's monotone maps): no calibration, no
#: decision curve of their own (OSTA enters the decision curves as its rule, OSTA <= -1).
NOT_PROBABILITIES = {(BASELINE, "osta"), (BASELINE, "mcw_rule")}


def calibration_table(m: Models) -> pd.DataFrame:
    """Per model: calibration intercept, slope and Brier score per repeat, their mean over repeats."""
    rows = []
    for key in [k for k in m.keys if k not in NOT_PROBABILITIES]:
        p = m.matrix(key)
        per = pd.DataFrame([calibration.calibration(m.y, p[r]) for r in range(len(p))])
        rows.append({"backbone": key[0], "arm": key[1], "n_repeats": len(p),
                     **{k: per[k].mean() for k in ("intercept", "slope", "brier")},
                     **{f"{k}_sd": per[k].std(ddof=1) if len(per) > 1 else np.nan for k in ("intercept", "slope", "brier")},
                     "reason": "; ".join(sorted(set(per["reason"]) - {""})),
                     "note": "per repeat over its pooled out-of-fold predictions; ideal intercept 0, slope 1"})
    return pd.DataFrame(rows)


def operating_points(m: Models) -> pd.DataFrame:
    """Per model: accuracy, sensitivity, specificity, precision at the fixed 0.5 and at each fold's
    validation-chosen threshold, and sensitivity at specificity 0.80 and 0.90 (means over repeats)."""
    rows = []
    for key in m.keys:
        p, t = m.matrix(key), m.matrix(key, "threshold")
        row = {"backbone": key[0], "arm": key[1], "n_repeats": len(p),
               "validation_threshold_mean": float(np.nanmean(t))}
        for name, th in (("0.5", np.full_like(p, 0.5)), ("validation", t)):
            per = pd.DataFrame([metrics.classification(m.y, p[r], th[r]) for r in range(len(p))]).mean()
            row.update({f"{k}_at_{name}": per[k] for k in ("accuracy", "recall", "specificity", "precision")})
        for spec in (0.80, 0.90):
            row[f"sensitivity_at_specificity_{spec:.2f}"] = np.mean(
                [utility.sensitivity_at_specificity(m.y, p[r], spec)[0] for r in range(len(p))])
        rows.append(row)
    return pd.DataFrame(rows).assign(note="recall = sensitivity; validation threshold: Youden's J on each fold's "
                                          "validation part (OSTA: its cut-off); sensitivity at a fixed specificity "
                                          "is read off each repeat's ROC curve")


def decision_curves(m: Models, cohort: pd.DataFrame, harm: float = 0.0) -> pd.DataFrame:
    """Net benefit over threshold probabilities: every model (mean over repeats), treat all, treat none,
    and OSTA's own rule (refer at OSTA <= -1), with the net interventions avoided against treat all.
    ``harm`` is subtracted from every model's and OSTA's net benefit (not from treat all or none)."""
    pt = utility.THRESHOLDS
    everyone = utility.treat_all(m.y, pt)
    curve = lambda backbone, arm, nb, h: pd.DataFrame({
        "backbone": backbone, "arm": arm, "threshold": pt, "harm": h, "net_benefit": nb,
        "net_intervention_avoided": utility.net_interventions_avoided(nb, everyone, pt)})
    rows = [curve("reference", "treat all", everyone, 0.0), curve("reference", "treat none", np.zeros(len(pt)), 0.0)]
    c = cohort.set_index("patient_id").loc[m.ids]
    rule = osta(c["weight_kg"], c["age"]) <= OSTA_CUTOFF
    rows.append(curve("reference", "OSTA <= -1", utility.net_benefit(m.y, rule, pt, harm), harm))
    for key in [k for k in m.keys if k not in NOT_PROBABILITIES]:
        p = m.matrix(key)
        nb = np.mean([utility.model_net_benefit(m.y, p[r], pt, harm) for r in range(len(p))], axis=0)
        rows.append(curve(key[0], key[1], nb, harm))
    return pd.concat(rows, ignore_index=True)


def _cell(value, digits=3) -> str:
    return f"{value:.{digits}f}" if np.isfinite(value) else "n/a"


def paper_table(summ: pd.DataFrame, comp: pd.DataFrame, family: str) -> pd.DataFrame:
    """The layout of the paper's Tables 1 (ResNet) and 2 (EfficientNet): per backbone the image and
    ensemble models as mean (SD) over repeats; then the primary test (corrected resampled t-test, raw
    and Holm-adjusted p), the Bayesian probability that the ensemble is better beyond the ROPE, and
    the paper's own t-test with Hedges' g (95 % CI)."""
    rows = []
    pooled = summ[summ["pooling"].str.startswith("pooled")]
    for b in FAMILIES[family]:
        s = pooled[pooled.backbone == b]
        if s.empty:
            continue
        for arm, label in (("image", "Image"), ("ensemble", "Ensemble")):
            a = s[s.arm == arm].set_index("metric")
            if not a.empty:
                rows.append({"backbone": b, "model": label,
                             **{k: f"{a.loc[k, 'mean']:.3f} ({_cell(a.loc[k, 'sd'])})" for k in metrics.NAMES}})
        c = comp[(comp.backbone == b) & (comp.comparison == "ensemble vs image")]
        if c.empty:
            continue
        by_test = {t: c[c.test == TESTS[t]].set_index("metric") for t in ("corrected", "bayes", "paper")}
        fmt_p = lambda v: format_p(v) or "n/a"
        rows += [{"backbone": b, "model": "p, corrected t-test", **{k: fmt_p(by_test["corrected"].loc[k, "p_value"]) for k in metrics.NAMES}},
                 {"backbone": b, "model": "p, corrected (Holm)", **{k: by_test["corrected"].loc[k, "p_value"] for k in metrics.NAMES}},
                 {"backbone": b, "model": "P(ensemble better), Bayesian", **{k: _cell(by_test["bayes"].loc[k, "p_b_better"], 2) for k in metrics.NAMES}},
                 {"backbone": b, "model": "p, t-test (paper)", **{k: fmt_p(by_test["paper"].loc[k, "p_value"]) for k in metrics.NAMES}},
                 {"backbone": b, "model": "Hedges' g (approx. 95% CI)", **{k: _g(by_test["paper"].loc[k]) for k in metrics.NAMES}}]
    # Holm within this table: every corrected p-value it shows (its backbones x metrics)
    holm_rows = [i for i, r in enumerate(rows) if r["model"] == "p, corrected (Holm)"]
    if holm_rows:
        raw = np.array([[rows[i][k] for k in metrics.NAMES] for i in holm_rows], float)
        adjusted = holm(raw.ravel()).reshape(raw.shape)
        for i, adj in zip(holm_rows, adjusted):
            rows[i].update({k: format_p(v) or "n/a" for k, v in zip(metrics.NAMES, adj)})
    rope = comp["rope"].dropna().iloc[0] if "rope" in comp and comp["rope"].notna().any() else np.nan
    note = ("mean (SD) over CV repeats (n/a: one repeat only, no SD); corrected t-test: Nadeau-Bengio corrected "
            "resampled t over per-fold differences (the primary test; Holm: adjusted over this table's corrected p-values); "
            f"Bayesian: P(ensemble better by more than {rope:g}) from the correlated t-test; t-test (paper): "
            "independent two-sample t over repeats, which ignores the overlap of CV training sets; "
            f"g: Hedges' g, ensemble - image, with its {G_INTERVAL}")
    rows.append({"backbone": "note", "model": note})
    return pd.DataFrame(rows, columns=["backbone", "model", *metrics.NAMES])


def _g(row: pd.Series) -> str:
    if not np.isfinite(row["hedges_g"]):
        return "n/a"
    return f"{row['hedges_g']:.2f} ({row['g_ci_low']:.2f} to {row['g_ci_high']:.2f})"


def compute(predictions: pd.DataFrame, baseline_predictions: pd.DataFrame, splits: pd.DataFrame,
            cohort: pd.DataFrame, n_boot: int = 2000, seed: int = 0, rope: float = 0.01,
            harm: float = 0.0) -> dict[str, pd.DataFrame]:
    """Every table of notebook 04 from the predictions (models and baselines) and the cohort."""
    m = Models(predictions, baseline_predictions, cohort)
    weights = np.vstack([np.ones(len(m.ids)), bootstrap_weights(len(m.ids), n_boot, seed)])
    summ = summary(m)
    comp, differences = comparisons(m, splits, weights, rope)
    models = {k: (m.matrix(k), m.matrix(k, "threshold")) for k in m.keys}
    c = cohort.set_index("patient_id").loc[m.ids].reset_index()
    return {"metrics_per_repeat": m.per_repeat, "metrics_per_fold": m.per_fold, "summary": summ,
            "comparisons": comp, "auc_differences_per_repeat": differences, "baselines": summ[summ.backbone == BASELINE].drop(columns="backbone"),
            "bootstrap_auc": bootstrap_auc(m, weights), "calibration": calibration_table(m),
            "operating_points": operating_points(m), "decision_curves": decision_curves(m, cohort, harm),
            "subgroups": subgroups.table(models, m.y, c, weights),
            "table_resnet": paper_table(summ, comp, "resnet"),
            "table_efficientnet": paper_table(summ, comp, "efficientnet")}


def write(tables: dict[str, pd.DataFrame], layout: StudyLayout) -> list:
    """Write every table to the study's ``stats/<name>.csv`` atomically; returns the paths."""
    return [atomic.write_csv(t, layout.stats_table(name), float_format="%.6g") for name, t in tables.items()]
