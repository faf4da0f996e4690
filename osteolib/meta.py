"""Random-effects meta-analysis of per-site results: the pooled estimate, its interval, the
between-site variance and the prediction interval for a new site.

Internal-external cross-validation (Royston, Parmar & Sylvester 2004; Steyerberg & Harrell 2016)
gives one estimate per held-out site (an AUC on the logit scale, a calibration slope, ...) with its
variance; :func:`pool` combines them by statsmodels' ``combine_effects``:

* the between-site variance tau squared by Paule-Mandel (``"pm"``, the default; recommended beside
  REML by Veroniki et al. 2016, and what statsmodels offers besides DerSimonian-Laird, ``"dl"``);
* the pooled estimate's 95 % interval with the Hartung-Knapp-Sidik-Jonkman variance and a t
  quantile on k - 1 degrees of freedom (``hksj=True``, the default: with few sites the normal
  interval is too narrow; IntHout et al. 2014);
* I squared from Cochran's Q (Higgins & Thompson 2002);
* the 95 % prediction interval for the estimate in a new site, ``estimate +- t(k - 2) *
  sqrt(tau2 + se^2)`` (Higgins, Thompson & Spiegelhalter 2009; Riley, Higgins & Deeks, BMJ 2011),
  with the same ``se`` as the interval. statsmodels has no prediction interval: this line is written
  here, and checked against R meta's (``metabin`` with ``hakn=TRUE``), whose output statsmodels ships
  with its own tests.

Examples
--------
>>> r = pool([0.1, 0.3, 0.35, 0.2, 0.6], [0.01, 0.02, 0.015, 0.01, 0.03])
>>> sorted(r)[:4]
['ci_high', 'ci_low', 'estimate', 'i2']
>>> r["pi_low"] < r["ci_low"] < r["estimate"] < r["ci_high"] < r["pi_high"]
True
"""
from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

__all__ = ["METHODS", "pool"]

#: tau squared estimators: Paule-Mandel and DerSimonian-Laird (statsmodels' names for them).
METHODS = {"pm": "iterated", "dl": "chi2"}


def pool(estimates, variances, method: str = "pm", hksj: bool = True, level: float = 0.95) -> dict:
    """Pool per-site ``estimates`` with their within-site ``variances`` (see the module).

    Returns ``k``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``tau2``, ``i2`` (a fraction, 0-1),
    ``q``, ``pi_low``, ``pi_high`` (NaN with fewer than 3 sites: the t quantile has k - 2 degrees of
    freedom), ``method`` and ``reason`` (why something is NaN, else "").
    """
    y, v = np.asarray(estimates, float), np.asarray(variances, float)
    if y.shape != v.shape or y.ndim != 1:
        raise ValueError(f"estimates and variances must be two vectors of one length ({y.shape}, {v.shape})")
    if method not in METHODS:
        raise ValueError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    keep = np.isfinite(y) & np.isfinite(v) & (v > 0)
    y, v = y[keep], v[keep]
    k = len(y)
    out = {"k": k, "method": f"{method}{'+hksj' if hksj else ''}", "reason": ""}
    nan = dict.fromkeys(("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "pi_low", "pi_high"), np.nan)
    if k < 2:
        return {**nan, **out, "reason": f"{k} site(s) with an estimate and a variance: nothing to pool"}
    res = combine_effects(y, v, method_re=METHODS[method], use_t=hksj)
    est = float(res.mean_effect_re)
    se = float(res.sd_eff_w_re_hksj if hksj else res.sd_eff_w_re)
    alpha = 1 - level
    crit = stats.t.ppf(1 - alpha / 2, k - 1) if hksj else stats.norm.ppf(1 - alpha / 2)
    out.update(estimate=est, se=se, ci_low=float(est - crit * se), ci_high=float(est + crit * se), tau2=float(res.tau2),
               i2=float(max(0.0, res.i2)), q=float(res.q), pi_low=np.nan, pi_high=np.nan)
    if k >= 3:
        half = stats.t.ppf(1 - alpha / 2, k - 2) * np.sqrt(res.tau2 + se ** 2)
        out.update(pi_low=float(est - half), pi_high=float(est + half))
    else:
        out["reason"] = "2 sites: no prediction interval (it needs k - 2 >= 1 degrees of freedom)"
    return out
