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
from .metrics import youden_threshold

__all__ = ["OSTA_CUTOFF", "osta", "osta_probability", "out_of_fold", "predict"]

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


def out_of_fold(cohort: pd.DataFrame, splits: pd.DataFrame, fit_predict, threshold: float | None = None
                ) -> pd.DataFrame:
    """Out-of-fold predictions of a model fitted on each fold's training part, on every repeat and
    fold of ``splits``: repeat, fold, patient_id, y_true, p_osteoporosis, threshold.

    ``fit_predict(train, rows)`` gets the cohort rows (indexed by patient_id) of the fold's training
    part and the rows to predict (its validation and test parts) and returns P(osteoporosis) of the
    latter. ``threshold``: the operating point, fixed, or None to choose it on each fold's validation
    part (Youden's J), as training does for the CNNs.
    """
    c = cohort.set_index("patient_id")
    parts = []
    for (r, k), part in splits.groupby(["repeat", "fold"]):
        train = c.loc[part.loc[part["role"] == "train", "patient_id"]]
        val = c.loc[part.loc[part["role"] == "val", "patient_id"].to_numpy()]
        test = c.loc[part.loc[part["role"] == "test", "patient_id"].to_numpy()]
        p = fit_predict(train, pd.concat([val, test]))
        t = youden_threshold(val["label"], p[:len(val)]) if threshold is None else threshold
        parts.append(pd.DataFrame({"repeat": r, "fold": k, "patient_id": test.index.to_numpy(),
                                   "y_true": test["label"].to_numpy(), "p_osteoporosis": p[len(val):],
                                   "threshold": t}))
    return pd.concat(parts, ignore_index=True)


def _covariates(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    scaler = CovariateScaler.fit(train)
    model = LogisticRegression(C=np.inf, max_iter=1000).fit(scaler.transform(train).numpy(), train["label"])
    return model.predict_proba(scaler.transform(rows).numpy())[:, 1]


def _osta(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    return osta_probability(osta(rows["weight_kg"], rows["age"]))


def predict(cohort: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold predictions of both baselines on every repeat and fold of ``splits``.

    Returns the predictions layout (repeat, fold, patient_id, y_true, p_osteoporosis, threshold) with
    an ``arm`` column (``covariates`` or ``osta``).
    """
    # OSTA keeps its own cut-off (OSTA <= -1, i.e. p >= 0.5) as its operating point
    parts = [out_of_fold(cohort, splits, _covariates).assign(arm="covariates"),
             out_of_fold(cohort, splits, _osta, threshold=0.5).assign(arm="osta")]
    return (pd.concat(parts, ignore_index=True).sort_values(["repeat", "fold", "arm"], kind="stable")
            .reset_index(drop=True))
