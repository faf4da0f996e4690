"""The random-effects meta-analysis of per-site results against R's meta and metafor, through the
reference outputs statsmodels ships with its own tests."""
from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import effectsize_2proportions
from statsmodels.stats.tests.results import results_meta as R

from osteolib import meta


def test_dersimonian_laird_with_hartung_knapp_reproduces_r_meta_prediction_interval_included():
    """R meta's metabin (odds ratios of Fine 1993, DL, hakn=TRUE): pooled estimate, interval, tau2,
    I2 and the prediction interval for a new study."""
    r = R.results_or_dl_hk
    eff, var = effectsize_2proportions(r.event_e, r.n_e, r.event_c, r.n_c, statistic="odds-ratio")
    got = meta.pool(eff, var, "dl")
    want = {"estimate": r.TE_random, "se": r.seTE_random, "ci_low": r.lower_random, "ci_high": r.upper_random,
            "tau2": r.tau2, "i2": r.I2, "q": r.Q, "pi_low": r.lower_predict, "pi_high": r.upper_predict}
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert got["k"] == 17 and got["reason"] == ""


def test_paule_mandel_reproduces_metafor():
    """metafor's rma(method="PM") on Kacker 2004's nine laboratories (normal interval)."""
    e = R.exk1_metafor
    got = meta.pool(e.yi, e.vi, "pm", hksj=False)
    assert got["estimate"] == pytest.approx(e.b, abs=1e-5) and got["se"] == pytest.approx(e.se, abs=1e-5)
    assert got["ci_low"] == pytest.approx(e.ci_lb, abs=1e-5) and got["ci_high"] == pytest.approx(e.ci_ub, abs=1e-5)
    assert got["tau2"] == pytest.approx(e.tau2, abs=1e-5) and got["q"] == pytest.approx(e.QE, rel=1e-9)


def test_the_prediction_interval_widens_with_heterogeneity_and_few_sites_are_said():
    rng = np.random.default_rng(0)
    v = np.full(6, 0.01)
    alike = meta.pool(0.5 + rng.normal(0, 0.01, 6), v)
    apart = meta.pool(0.5 + rng.normal(0, 0.5, 6), v)
    assert alike["tau2"] < apart["tau2"] and alike["i2"] < 0.5 < apart["i2"]
    assert apart["pi_high"] - apart["pi_low"] > 3 * (alike["pi_high"] - alike["pi_low"])
    two = meta.pool([0.1, 0.2], [0.01, 0.01])
    assert np.isnan(two["pi_low"]) and "no prediction interval" in two["reason"] and np.isfinite(two["ci_low"])
    one = meta.pool([0.1, np.nan], [0.01, 0.01])
    assert one["k"] == 1 and np.isnan(one["estimate"]) and "nothing to pool" in one["reason"]
    with pytest.raises(ValueError, match="method"):
        meta.pool([0.1, 0.2], [0.01, 0.01], "reml")
