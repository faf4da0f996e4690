"""Baselines on the very same splits, so that the image's own contribution is visible.

* ``covariates``: logistic regression (scikit-learn, unpenalised: C = inf) on the same 4-value covariate
  vector as the ensemble arm, scaler and model fitted on each fold's training part only.
* ``osta``: the Osteoporosis Self-assessment Tool for Asians, OSTA = 0.2 x (weight kg - age years)
  (Koh L.K. et al., Osteoporos Int 12:699-705, 2001). It needs no fitting. It is reported as a
  probability-like score through a monotone map, p = 1 / (1 + exp(OSTA + 1)), so that the common
  screening cut-off OSTA <= -1 (moderate or high risk) is exactly p >= 0.5 and the AUC is that of
  -OSTA.

What a dentist measures on the radiograph (notebook 02b's indices, :mod:`osteolib.indices`), on the same
splits, when a study has them:

* ``mcw_rule``: the mandibular cortical width (radiographic, mean of both sides) below the published
  cut-off, MCW < 3 mm (Taguchi et al., Dentomaxillofac Radiol 25:263, 1996; Devlin et al., J Bone Miner
  Res 22:1789, 2007, OSTEODENT), nothing fitted. As OSTA, a monotone map, p = 1 / (1 + exp((MCW - 3) / 0.5)),
  so that p >= 0.5 exactly at the cut-off and the AUC is that of -MCW; not a probability.
* ``mcw_pmi``: logistic regression on MCW, PMI (and whether the cortex was seen); ``mcw_pmi_covariates``: the same plus the 4-value
  covariate vector (does what a dentist measures add to age, sex and BMI?).
* ``mci``: Klemetti's grade, as the risk of osteoporosis per grade on the fold's training part (add-one
  smoothed).

A patient whose cortex notebook 02b could not see on a side (flagged "no visible cortex": in the synthetic
cohort mostly C3 cortices about 1 mm wide) is one a dentist would refer: the MCW rule refers them, the
regressions read the flag as a feature (``cortex_not_visible``) and the MCI counts such a side as C3. Any
other index that could not be measured (no border found, no foramen) takes the training part's median
(scikit-learn's ``SimpleImputer``), so every model predicts every patient and comparisons stay paired.
Everything fitted (models, medians, risks per grade) sees only the fold's training part; the operating
point is chosen on its validation part (Youden's J), the rule keeps its cut-off.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .datasets import CovariateScaler
from .metrics import youden_threshold

__all__ = ["OSTA_CUTOFF", "MCW_CUTOFF_MM", "INDEX_ARMS", "INDEX_COLUMNS", "osta", "osta_probability",
           "mcw_rule_probability", "out_of_fold", "index_predict", "predict"]

OSTA_CUTOFF = -1.0
#: The published MCW cut-off (radiographic mm): below it, refer for DXA.
MCW_CUTOFF_MM = 3.0
#: The radiomorphometric baselines, in the order the tables show them.
INDEX_ARMS = ("mcw_rule", "mcw_pmi", "mcw_pmi_covariates", "mci")
#: What they read of notebook 02b's per-patient indices (:func:`osteolib.indices.study.per_patient`).
INDEX_COLUMNS = ("mcw_mm", "pmi", "cortex_not_visible", "mci_grade")


def osta(weight_kg, age) -> np.ndarray:
    """OSTA index = 0.2 x (weight - age).

    >>> osta([50.0], [75]).tolist()
    [-5.0]
    """
    return 0.2 * (np.asarray(weight_kg, float) - np.asarray(age, float))


def osta_probability(index) -> np.ndarray:
    """Monotone map of OSTA to (0, 1) with p >= 0.5 exactly when OSTA <= -1."""
    return 1.0 / (1.0 + np.exp(np.asarray(index, float) - OSTA_CUTOFF))


def mcw_rule_probability(mcw_mm, cutoff: float = MCW_CUTOFF_MM) -> np.ndarray:
    """Monotone map of the MCW to (0, 1) with p >= 0.5 exactly when MCW <= ``cutoff``.

    >>> mcw_rule_probability([3.0, 2.0]).round(3).tolist()
    [0.5, 0.881]
    """
    return 1.0 / (1.0 + np.exp((np.asarray(mcw_mm, float) - cutoff) / 0.5))


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


def _mcw_rule(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    median = SimpleImputer(strategy="median").fit(train[["mcw_mm"]])
    mcw = median.transform(rows[["mcw_mm"]])[:, 0]
    unseen = rows["cortex_not_visible"].fillna(False).astype(bool).to_numpy()   # on either side
    return mcw_rule_probability(np.where(unseen, 0.0, mcw))


def _indices(covariates: bool):
    """A ``fit_predict`` of logistic regression on MCW and PMI [+ the covariate vector]."""
    def fit_predict(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
        model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=np.inf, max_iter=2000))
        x = lambda t: t[["mcw_mm", "pmi", "cortex_not_visible"]].astype(float).to_numpy()
        if covariates:
            scaler = CovariateScaler.fit(train)
            x = lambda t, f=x: np.hstack([f(t), scaler.transform(t).numpy()])
        return model.fit(x(train), train["label"]).predict_proba(x(rows))[:, 1]
    return fit_predict


def _mci(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The training part's risk of osteoporosis per grade (add-one smoothed); an ungraded patient its prevalence."""
    g = train.groupby("mci_grade")["label"].agg(["sum", "count"])
    risk = (g["sum"] + 1) / (g["count"] + 2)
    return rows["mci_grade"].map(risk).fillna(train["label"].mean()).to_numpy(float)


def index_predict(cohort: pd.DataFrame, splits: pd.DataFrame, indices: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold predictions of :data:`INDEX_ARMS` from the per-patient ``indices`` (patient_id and
    :data:`INDEX_COLUMNS`), in the layout of :func:`predict`. A baseline whose index no patient has (no
    landmarks, nothing graded) is left out, not given the training median for everyone."""
    rows = cohort.merge(indices[["patient_id", *INDEX_COLUMNS]], on="patient_id", how="left")
    parts = []
    if rows["mcw_mm"].notna().any() and rows["pmi"].notna().any():
        parts += [out_of_fold(rows, splits, _mcw_rule, threshold=0.5).assign(arm="mcw_rule"),
                  out_of_fold(rows, splits, _indices(False)).assign(arm="mcw_pmi"),
                  out_of_fold(rows, splits, _indices(True)).assign(arm="mcw_pmi_covariates")]
    if rows["mci_grade"].notna().any():
        parts.append(out_of_fold(rows, splits, _mci).assign(arm="mci"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["repeat", "fold", "patient_id",
                                                                               "y_true", "p_osteoporosis", "threshold", "arm"])


def predict(cohort: pd.DataFrame, splits: pd.DataFrame, indices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Out-of-fold predictions of both baselines (and, given notebook 02b's per-patient ``indices``, of the
    radiomorphometric ones, :func:`index_predict`) on every repeat and fold of ``splits``.

    Returns the predictions layout (repeat, fold, patient_id, y_true, p_osteoporosis, threshold) with
    an ``arm`` column (``covariates``, ``osta``, and :data:`INDEX_ARMS`).
    """
    # OSTA keeps its own cut-off (OSTA <= -1, i.e. p >= 0.5) as its operating point
    parts = [out_of_fold(cohort, splits, _covariates).assign(arm="covariates"),
             out_of_fold(cohort, splits, _osta, threshold=0.5).assign(arm="osta")]
    if indices is not None:
        parts.append(index_predict(cohort, splits, indices))
    return (pd.concat(parts, ignore_index=True).sort_values(["repeat", "fold", "arm"], kind="stable")
            .reset_index(drop=True))
