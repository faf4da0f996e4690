"""Per-site performance of a model's predictions and its random-effects summary over sites.

:func:`per_site` measures each site's predictions (for internal-external cross-validation, the site
held out; for a model carried elsewhere, the new site): ``n``, ``prevalence``, ``auc`` with DeLong's
variance, the calibration ``calibration_intercept`` and ``calibration_slope`` (:mod:`osteolib.calibration`)
with their standard errors from the same GLMs, and the ``brier`` score. :func:`pooled` combines the
sites by :func:`osteolib.meta.pool`: the AUC on the logit scale (its variance by the delta method,
var / (auc (1 - auc))^2; Debray et al., BMJ 2017; Snell et al. 2018), back-transformed; the
calibration slope and intercept on their own scales. Each pooled row holds the estimate, its 95 %
interval, tau squared, I squared and the 95 % prediction interval for a new site.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from . import calibration, meta, stats

__all__ = ["PER_SITE", "POOLED", "per_site", "pooled"]

#: Columns of :func:`per_site`.
PER_SITE = ("site", "n", "prevalence", "auc", "auc_var", "calibration_intercept", "calibration_intercept_se",
            "calibration_slope", "calibration_slope_se", "brier")
#: Columns of :func:`pooled`.
POOLED = ("metric", "k", "estimate", "ci_low", "ci_high", "tau2", "i2", "pi_low", "pi_high", "scale", "method",
          "reason")


def per_site(y_true, p, site) -> pd.DataFrame:
    """One row per site (sorted by name) of :data:`PER_SITE`; a site with one outcome class only gets NaN
    for what needs both."""
    df = pd.DataFrame({"y": np.asarray(y_true).astype(int), "p": np.asarray(p, float), "site": np.asarray(site).astype(str)})
    rows = []
    for name, g in df.groupby("site", sort=True):
        y, q = g["y"].to_numpy(), g["p"].to_numpy()
        row = dict.fromkeys(PER_SITE, np.nan) | {"site": name, "n": len(y), "prevalence": float(y.mean())}
        row["brier"] = float(brier_score_loss(y, q))
        intercept, slope, _ = calibration.fits(y, q)  # the GLMs of calibration.calibration, with their errors
        if 0 < y.sum() < len(y):
            row["auc"], row["auc_var"] = stats.auc_variance(y, q)
        if intercept is not None:
            row["calibration_intercept"], row["calibration_intercept_se"] = map(float, (intercept.params[0], intercept.bse[0]))
        if slope is not None:
            row["calibration_slope"], row["calibration_slope_se"] = map(float, (slope.params[1], slope.bse[1]))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PER_SITE))


def pooled(table: pd.DataFrame, method: str = "pm", hksj: bool = True) -> pd.DataFrame:
    """The random-effects summary of a :func:`per_site` table: one row per metric (``auc``,
    ``calibration_slope``, ``calibration_intercept``) of :data:`POOLED`."""
    auc = table["auc"].to_numpy(float)
    rows = []
    var = table["auc_var"].to_numpy(float) / (auc * (1 - auc)) ** 2
    r = meta.pool(calibration.logit(auc), var, method, hksj)
    back = {k: (1 / (1 + np.exp(-r[k])) if np.isfinite(r[k]) else np.nan)
            for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")}
    rows.append({**r, **back, "metric": "auc", "scale": "logit, back-transformed"})
    for metric in ("calibration_slope", "calibration_intercept"):
        r = meta.pool(table[metric].to_numpy(float), table[f"{metric}_se"].to_numpy(float) ** 2, method, hksj)
        rows.append({**r, "metric": metric, "scale": "as measured"})
    return pd.DataFrame(rows)[list(POOLED)]
