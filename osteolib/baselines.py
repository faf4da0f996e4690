"""Baselines on the very same splits, so that the image's own contribution is visible.

* ``covariates``: logistic regression (scikit-learn, unpenalised: C = inf) on the same 4-value covariate
  vector as the ensemble arm, scaler and model fitted on each fold's training part only.
* ``osta``: the Osteoporosis Self-assessment Tool for Asians, OSTA = 0.2 x (weight kg - age years)
  (Koh L.K. et al., Osteoporos Int 12:699-705, 2001). It needs no fitting. It is reported as a
  probability-like score through a monotone map, p = 1 / (1 + exp(OSTA + 1)), so that the common
  screening cut-off OSTA <= -1 (moderate or high risk) is exactly p >= 0.5 and the AUC is that of
  -OSTA.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from .datasets import CovariateScaler

OSTA_CUTOFF = -1.0


def osta(weight_kg, age) -> np.ndarray:
    """OSTA index = 0.2 x (weight - age).

    >>> osta([50.0], [75]).tolist()
    [-5.0]
    """
    return 0.2 * (np.asarray(weight_kg, float) - np.asarray(age, float))


def osta_probability(index) -> np.ndarray:
    """Monotone map of OSTA to (0, 1) with p >= 0.5 exactly when OSTA <= -1."""
    return 1.0 / (1.0 + np.exp(np.asarray(index, float) - OSTA_CUTOFF))


def predict(cohort: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold predictions of both baselines on every repeat and fold of ``splits``.

    Returns the predictions layout (repeat, fold, patient_id, y_true, p_osteoporosis) with an
    ``arm`` column (``covariates`` or ``osta``).
    """
    c = cohort.set_index("patient_id")
    p_osta = pd.Series(osta_probability(osta(c["weight_kg"], c["age"])), index=c.index)
    parts = []
    for (r, k), part in splits.groupby(["repeat", "fold"]):
        train = c.loc[part.loc[part["role"] == "train", "patient_id"]]
        test_ids = part.loc[part["role"] == "test", "patient_id"].to_numpy()
        scaler = CovariateScaler.fit(train)
        model = LogisticRegression(C=np.inf, max_iter=1000).fit(scaler.transform(train).numpy(), train["label"])
        p_cov = model.predict_proba(scaler.transform(c.loc[test_ids]).numpy())[:, 1]
        base = {"repeat": r, "fold": k, "patient_id": test_ids, "y_true": c.loc[test_ids, "label"].to_numpy()}
        parts.append(pd.DataFrame({**base, "p_osteoporosis": p_cov, "arm": "covariates"}))
        parts.append(pd.DataFrame({**base, "p_osteoporosis": p_osta.loc[test_ids].to_numpy(), "arm": "osta"}))
    return pd.concat(parts, ignore_index=True)
