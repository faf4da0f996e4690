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


def out_of_fold(cohort: pd.DataFrame, splits: pd.DataFrame, fit_predict) -> pd.DataFrame:
    """Out-of-fold predictions of a model fitted on each fold's training part, on every repeat and
    fold of ``splits``: repeat, fold, patient_id, y_true, p_osteoporosis.

    ``fit_predict(train, test)`` gets the cohort rows (indexed by patient_id) of the fold's training
    part and of its test part and returns P(osteoporosis) of the test rows.
    """
    c = cohort.set_index("patient_id")
    parts = []
    for (r, k), part in splits.groupby(["repeat", "fold"]):
        train = c.loc[part.loc[part["role"] == "train", "patient_id"]]
        test = c.loc[part.loc[part["role"] == "test", "patient_id"].to_numpy()]
        parts.append(pd.DataFrame({"repeat": r, "fold": k, "patient_id": test.index.to_numpy(),
                                   "y_true": test["label"].to_numpy(), "p_osteoporosis": fit_predict(train, test)}))
    return pd.concat(parts, ignore_index=True)


def _covariates(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    scaler = CovariateScaler.fit(train)
    model = LogisticRegression(C=np.inf, max_iter=1000).fit(scaler.transform(train).numpy(), train["label"])
    return model.predict_proba(scaler.transform(test).numpy())[:, 1]


def _osta(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return osta_probability(osta(test["weight_kg"], test["age"]))


def predict(cohort: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold predictions of both baselines on every repeat and fold of ``splits``.

    Returns the predictions layout (repeat, fold, patient_id, y_true, p_osteoporosis) with an
    ``arm`` column (``covariates`` or ``osta``).
    """
    parts = [out_of_fold(cohort, splits, fit).assign(arm=arm) for arm, fit in (("covariates", _covariates),
                                                                                ("osta", _osta))]
    return (pd.concat(parts, ignore_index=True).sort_values(["repeat", "fold", "arm"], kind="stable")
            .reset_index(drop=True))
