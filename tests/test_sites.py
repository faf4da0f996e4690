"""Per-site performance and its random-effects summary: DeLong's variance against the definition,
planted shifts found at the right site, the summary between and around the sites."""
from __future__ import annotations

import numpy as np
import pytest

from osteolib import sites, stats


def _delong_by_definition(y, p):
    """DeLong, DeLong & Clarke-Pearson (1988) directly: the Mann-Whitney kernel over every pair."""
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return psi.mean(), v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)


def test_deLong_variance_of_one_auc_equals_its_definition_ties_included():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.35).astype(int)
    p = np.round(rng.normal(y * 0.8, 1.0) , 1)   # rounded: many ties
    auc, var = stats.auc_variance(y, p)
    want_auc, want_var = _delong_by_definition(y, p)
    assert auc == pytest.approx(want_auc, abs=1e-12) and var == pytest.approx(want_var, rel=1e-10)


def _multisite(seed: int = 0):
    """Three sites of one well-calibrated model: A as at home, B with one logit unit more risk, C whose
    images are worse (the model's logit carries less of the truth)."""
    rng = np.random.default_rng(seed)
    ys, ps, ss = [], [], []
    for name, n, shift, noise in (("A", 2000, 0.0, 0.0), ("B", 1500, 1.0, 0.0), ("C", 1800, 0.0, 2.0)):
        truth = rng.normal(-1.0, 1.5, n)
        lp = truth + rng.normal(0, noise, n) if noise else truth
        ys.append((rng.random(n) < 1 / (1 + np.exp(-(truth + shift)))).astype(int))
        ps.append(1 / (1 + np.exp(-lp)))
        ss.append(np.full(n, name))
    return np.concatenate(ys), np.concatenate(ps), np.concatenate(ss)


def test_each_planted_shift_shows_at_its_own_site_and_in_its_own_metric():
    y, p, s = _multisite()
    t = sites.per_site(y, p, s).set_index("site")
    assert list(t.columns) == list(sites.PER_SITE)[1:] and t["n"].to_dict() == {"A": 2000, "B": 1500, "C": 1800}
    assert abs(t.loc["A", "calibration_intercept"]) < 0.2 and t.loc["A", "calibration_slope"] == pytest.approx(1, abs=0.15)
    assert t.loc["B", "calibration_intercept"] == pytest.approx(1.0, abs=0.2), "a prevalence shift: the intercept"
    assert abs(t.loc["B", "auc"] - t.loc["A", "auc"]) < 0.05
    assert t.loc["C", "auc"] < t.loc["A", "auc"] - 0.05, "worse images: discrimination"
    assert t.loc["C", "calibration_slope"] < 0.8
    assert (t["auc_var"] > 0).all() and (t["calibration_slope_se"] > 0).all()


def test_the_pooled_auc_lies_between_the_sites_and_the_prediction_interval_around_it():
    y, p, s = _multisite()
    t = sites.per_site(y, p, s)
    pooled = sites.pooled(t).set_index("metric")
    assert list(pooled.columns) == list(sites.POOLED)[1:]
    a = pooled.loc["auc"]
    assert a["k"] == 3 and t["auc"].min() < a["estimate"] < t["auc"].max()
    assert a["pi_low"] < a["ci_low"] < a["estimate"] < a["ci_high"] < a["pi_high"]
    assert a["tau2"] > 0 and a["i2"] > 0.5, "site C differs"
    without_c = sites.pooled(sites.per_site(y[s != "C"], p[s != "C"], s[s != "C"])).set_index("metric")
    assert without_c.loc["auc", "i2"] < a["i2"] and np.isnan(without_c.loc["auc", "pi_low"]), "2 sites: no interval"
    one_class = sites.per_site([0, 0, 1, 1, 0], [0.1, 0.2, 0.7, 0.8, 0.3], ["A", "A", "B", "B", "B"])
    assert np.isnan(one_class.set_index("site").loc["A", "auc"])
