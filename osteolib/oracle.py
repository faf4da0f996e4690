"""The oracle of a synthetic cohort: what a model could reach if it read the generator's truth.

Cross-validated logistic regression (unpenalised, features standardised on each fold's training
part) on the study's own splits, with three feature sets:

* ``image truth``: what the ROI shows of the jaw-bone status: the mandibular cortical width, the
  cortical index (C2, C3 one-hot) and the trabecular texture's status (``truth.csv``);
* ``covariates``: age, sex and BMI, the 4-value vector of the ensemble arm (as the covariates
  baseline of :mod:`osteolib.baselines`);
* ``both``: the two together;
* ``MCW truth`` and ``MCW truth + covariates``: the cortical width alone, and with age, sex and BMI: the
  bound on what a dentist's measurement of the mental index can reach, alone and with the covariates
  (notebook 02b's baselines ``mcw_rule``/``mcw_pmi`` and ``mcw_pmi_covariates``).

The AUC of each, per repeat over its out-of-fold predictions (as the paper's tables count), bounds
what a CNN can reach on the ROI alone, on the covariates alone and on both; the gap between
``image truth`` and ``both`` is the room the ensemble arm has. Real data have no truth, hence no oracle.

Examples
--------
>>> import tempfile
>>> from osteolib import cohort, splits, synthetic
>>> d = synthetic.generate(tempfile.mkdtemp(), n_screened=120, scale=0.05, images=False, progress=False)
>>> patients, _ = cohort.apply_exclusions(cohort.read_clinical(d, check_images=False))
>>> t = table(patients, synthetic.read_truth(d), splits.make(patients, n_repeats=2, seed=0))
>>> t["features"].tolist()
['image truth', 'covariates', 'both', 'MCW truth', 'MCW truth + covariates']
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import atomic, metrics, synthetic
from .baselines import out_of_fold
from .datafolder import TRUTH
from .datasets import CovariateScaler
from .layout import StudyLayout
from .splits import held_out

__all__ = ["IMAGE_TRUTH", "predict", "table", "MAX_REPEATS", "write"]

#: Columns of truth.csv that the ROI shows (the cortical index is one-hot encoded).
IMAGE_TRUTH = ("mcw_mm", "cortical_index", "texture_t")


def _image_features(truth: pd.DataFrame) -> pd.DataFrame:
    t = truth.set_index("patient_id")
    return pd.DataFrame({"mcw_mm": t["mcw_mm"], "texture_t": t["texture_t"],
                         "ci_C2": (t["cortical_index"] == "C2").astype(float),
                         "ci_C3": (t["cortical_index"] == "C3").astype(float)})


def _fit(columns: list[str], covariates: bool):
    """A ``fit_predict`` for :func:`osteolib.baselines.out_of_fold` on ``columns`` [+ the covariate vector]."""
    def matrix(rows: pd.DataFrame, scaler: CovariateScaler) -> np.ndarray:
        parts = [rows[columns].to_numpy(float)] + ([scaler.transform(rows).numpy()] if covariates else [])
        return np.hstack(parts)

    def fit_predict(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
        scaler = CovariateScaler.fit(train)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=np.inf, max_iter=2000))
        model.fit(matrix(train, scaler), train["label"])
        return model.predict_proba(matrix(rows, scaler))[:, 1]
    return fit_predict


def predict(cohort: pd.DataFrame, truth: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold predictions of the three oracles (column ``features``), in the predictions layout."""
    image = _image_features(truth)
    missing = sorted(set(cohort["patient_id"]) - set(image.index))
    if missing:
        raise ValueError(f"{TRUTH} lacks {len(missing)} cohort patients (e.g. {missing[0]!r})")
    rows = cohort.join(image, on="patient_id")
    cols = list(image.columns)
    sets = (("image truth", cols, False), ("covariates", [], True), ("both", cols, True),
            ("MCW truth", ["mcw_mm"], False), ("MCW truth + covariates", ["mcw_mm"], True))
    return pd.concat([out_of_fold(rows, splits, _fit(c, cov)).assign(features=name) for name, c, cov in sets],
                     ignore_index=True)


def table(cohort: pd.DataFrame, truth: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Per feature set: the AUC's mean, SD, min and max over repeats (each repeat's out-of-fold
    predictions pooled), the number of repeats, and what the features are; with splits that hold sites
    out (:func:`osteolib.splits.leave_site_out`), the same per held-out site (column ``site``)."""
    pred = predict(cohort, truth, splits)
    if "site" in splits.columns:  # sites held out: the bound on each site, from models that never saw it
        pred = held_out(pred, splits)
        return pd.concat([_rows(metrics.per_repeat(g, ("features",))).assign(site=site)
                          for site, g in pred.groupby("site")], ignore_index=True)
    return _rows(metrics.per_repeat(pred, ("features",)))


def _rows(per_repeat: pd.DataFrame) -> pd.DataFrame:
    what = {"image truth": f"cortical width, cortical index, trabecular texture ({TRUTH})",
            "covariates": "age, sex, BMI (the ensemble arm's 4-value vector)",
            "both": "image truth + covariates", "MCW truth": f"the mandibular cortical width alone ({TRUTH})",
            "MCW truth + covariates": "the cortical width + age, sex, BMI"}
    rows = []
    for name in what:
        g = per_repeat.loc[per_repeat["features"] == name, "auc"]
        rows.append({"features": name, "auc_mean": g.mean(), "auc_sd": g.std(ddof=1) if len(g) > 1 else np.nan,
                     "auc_min": g.min(), "auc_max": g.max(), "n_repeats": len(g), "what": what[name],
                     "model": "logistic regression, standardised features, fitted on each fold's training part"})
    return pd.DataFrame(rows)


#: Repeats the oracle uses: its AUCs vary by about 0.001 between repeats, so more would add only time.
MAX_REPEATS = 10


def write(patients: pd.DataFrame, data_dir, folds: pd.DataFrame, layout: StudyLayout) -> pd.DataFrame | None:
    """Notebook 01: the oracle table of a synthetic cohort on the first :data:`MAX_REPEATS` repeats
    of its splits, written to ``cohort/oracle.csv``; None (and nothing written) for real data, which
    have no truth."""
    if not synthetic.is_synthetic(data_dir):
        return None
    t = table(patients, synthetic.read_truth(data_dir), folds[folds["repeat"] < MAX_REPEATS])
    atomic.write_csv(t, layout.cohort_table("oracle"), float_format="%.4f")
    return t
