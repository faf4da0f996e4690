"""Updating a model for a new site: recalibration in the large fixes a pure prevalence shift, logistic
recalibration a spread, neither changes the ranking, and the learning curve shrinks with the sample."""
from __future__ import annotations

import numpy as np
import pytest

from osteolib import calibration, updating


def _site(shift: float = 0.0, spread: float = 1.0, n: int = 5000, seed: int = 0):
    """A model exactly calibrated at home (p = sigmoid(lp)), carried to a site whose outcomes follow
    sigmoid(shift + spread * lp)."""
    rng = np.random.default_rng(seed)
    lp = rng.normal(-1.0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(shift + spread * lp)))).astype(int)
    return y, 1 / (1 + np.exp(-lp))


def test_recalibration_in_the_large_on_a_pure_prevalence_shift_brings_the_intercept_back_to_about_0():
    y, p = _site(shift=1.2)
    local, rest = slice(0, 600), slice(600, None)
    before = calibration.calibration(y[rest], p[rest])
    assert before["intercept"] == pytest.approx(1.2, abs=0.15) and before["slope"] == pytest.approx(1, abs=0.1)
    u = updating.fit("intercept", y[local], p[local])
    after = calibration.calibration(y[rest], u.apply(p[rest]))
    assert abs(after["intercept"]) < 0.15 and after["slope"] == pytest.approx(before["slope"], abs=1e-6)
    assert after["brier"] < before["brier"]
    # a monotone map: the ranking, so the AUC, is the model's
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(y[rest], u.apply(p[rest])) == pytest.approx(roc_auc_score(y[rest], p[rest]), abs=1e-12)


def test_logistic_recalibration_fixes_the_spread_that_the_intercept_alone_cannot():
    y, p = _site(shift=0.4, spread=0.5, n=20000)   # large: the intercept of a slope fit varies by +-0.15 at 1500
    local, rest = slice(0, 5000), slice(5000, None)
    got = {m: calibration.calibration(y[rest], updating.fit(m, y[local], p[local]).apply(p[rest]))
           for m in updating.METHODS}
    assert got["none"]["slope"] == pytest.approx(0.5, abs=0.05)
    assert got["intercept"]["slope"] == pytest.approx(0.5, abs=0.05) and abs(got["intercept"]["intercept"]) < 0.1
    assert got["logistic"]["slope"] == pytest.approx(1.0, abs=0.1) and abs(got["logistic"]["intercept"]) < 0.1


def test_an_update_fitted_on_a_sample_calibrates_that_sample_exactly():
    y, p = _site(shift=-0.7, spread=1.4, n=800)
    for method, want in (("intercept", {"intercept": 0.0}), ("logistic", {"intercept": 0.0, "slope": 1.0})):
        c = calibration.calibration(y, updating.fit(method, y, p).apply(p))
        for k, v in want.items():
            assert c[k] == pytest.approx(v, abs=1e-6), (method, k)


def test_the_learning_curve_shrinks_with_the_local_sample_and_the_unupdated_model_stays_off():
    y, p = _site(shift=1.0, n=3000)
    curve = updating.learning_curve(y, p, sizes=[30, 300], draws=15, seed=1)
    assert set(curve.columns) >= {"n_local", "draw", "update", "n_eval", "auc", "intercept", "slope", "brier"}
    err = curve.assign(e=curve["intercept"].abs()).groupby(["update", "n_local"])["e"].mean()
    assert err["intercept", 300] < err["intercept", 30] < err["none", 30]
    assert err["none", 300] == pytest.approx(1.0, abs=0.15)
    again = updating.learning_curve(y, p, sizes=[30, 300], draws=15, seed=1)
    assert again.equals(curve), "the same seed, the same draws"


def test_updates_that_a_sample_cannot_carry_are_refused_by_name():
    with pytest.raises(ValueError, match="one outcome only"):
        updating.fit("intercept", [0, 0, 0], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="expected one of"):
        updating.fit("refit", [0, 1], [0.2, 0.3])
    y, p = _site(n=100)
    with pytest.raises(ValueError, match="too few to evaluate"):
        updating.learning_curve(y, p, sizes=[95])
