"""Accuracy against cost (no torch): each backbone's cost (:mod:`osteolib.cost`) beside its AUCs and the
ensemble's gain over the image arm (notebook 04's tables), the Pareto front of the two, and the paper's
claim that the ensemble gains more for smaller networks as a Spearman correlation (scipy)."""
from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

__all__ = ["accuracy_cost", "pareto", "gain_against_size"]


def accuracy_cost(cost: pd.DataFrame, auc: pd.DataFrame, comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per backbone: its cost (``cost/cost.csv``), each arm's AUC with its patient-level bootstrap
    interval (``stats/bootstrap_auc.csv``) and the ensemble's gain over the image arm with its paired bootstrap
    interval and DeLong p (``stats/comparisons.csv``, uncorrected and Holm-corrected); ``front_<arm>_<cost>``:
    whether it is on that arm's Pareto front by multiply-adds or latency."""
    out = cost.copy()
    for arm in ("image", "ensemble"):
        a = auc[auc.arm == arm].set_index("backbone")[["auc", "ci_low", "ci_high"]].add_prefix(f"{arm}_")
        out = out.merge(a, left_on="backbone", right_index=True, how="left")
    c = comparisons[(comparisons.comparison == "ensemble vs image") & (comparisons.metric == "auc")]
    boot = c[c.test.str.startswith("paired patient-level bootstrap")].set_index("backbone")
    delong = c[c.test.str.startswith("DeLong")].set_index("backbone")
    out["gain"] = out.backbone.map(boot["difference"])
    out["gain_ci_low"], out["gain_ci_high"] = out.backbone.map(boot["diff_ci_low"]), out.backbone.map(boot["diff_ci_high"])
    out["gain_p"], out["gain_p_holm"] = out.backbone.map(delong["p_value"]), out.backbone.map(delong["p_holm"])
    for x, name in (("macs", "macs"), ("latency_ms", "latency")):
        for arm in ("image", "ensemble"):
            out[f"front_{arm}_{name}"] = pareto(out[x], out[f"{arm}_auc"])
    return out


def pareto(cost: pd.Series, value: pd.Series) -> pd.Series:
    """True where no other point is at most as costly and strictly better, or strictly cheaper and at least as
    good (the front of the accuracy-against-cost figure; a few lines, written here).

    >>> pareto(pd.Series([1, 2, 3, 4]), pd.Series([0.7, 0.6, 0.8, 0.8])).tolist()
    [True, False, True, False]
    """
    c, v = cost.to_numpy(float), value.to_numpy(float)
    dominated = [bool(((c <= c[i]) & (v > v[i]) | (c < c[i]) & (v >= v[i])).any()) for i in range(len(c))]
    return pd.Series([not d for d in dominated], index=cost.index)


def gain_against_size(table: pd.DataFrame, by: str = "macs") -> dict:
    """The paper's claim, that the ensemble gains more for smaller networks, as a Spearman correlation of the
    gain with the network's size (``macs`` or ``params``) over the backbones (scipy)."""
    t = table.dropna(subset=["gain", by])
    r = spearmanr(t[by], t["gain"])
    return {"by": by, "n": len(t), "rho": float(r.statistic), "p": float(r.pvalue)}
