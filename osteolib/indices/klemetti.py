"""Klemetti's mandibular cortical index (MCI) from the measured cortex: a small model trained on graded
examples (no file I/O).

Klemetti et al. (Scand J Dent Res 102:68, 1994) grade the cortex below the mental foramina: **C1** an even,
sharp endosteal margin; **C2** semilunar defects (lacunar resorption) or endosteal residues; **C3** a heavily
eroded, clearly porous cortex. The grade is morphology, not width, so the model sees only what the grades
describe, measured on the straightened cortex by :func:`osteolib.indices.cortex.morphology`:
``margin_roughness`` (the endosteal margin's irregularity), ``cortex_porosity`` (the spread of gray values
inside the cortex) and ``width_cv`` (how much the width varies along the border). Not the width itself:
a grader that read the width would grade osteoporosis, not the cortex's shape.

The model is a multinomial logistic regression (scikit-learn, features standardised) trained on graded
examples: a clinician's grades (notebook 00's measuring widget), or a synthetic cohort's generator grades.
Every patient's grade comes from a model that did not see that patient's own grade (:func:`cross_grade`,
stratified k-fold), so the grade a baseline uses is never its own label fed back. Without enough graded
examples nothing is graded (:data:`TOO_FEW`), rather than a rule invented for a scanner never seen.

Agreement with the reference grades: Cohen's kappa with linear weights (scikit-learn's
``cohen_kappa_score``), the usual statistic for an ordinal three-grade index (Klemetti et al. 1994 report
kappa between observers too).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> grades = np.repeat(["C1", "C2", "C3"], 30)
>>> x = np.c_[np.repeat([0.05, 0.12, 0.3], 30), np.repeat([0.1, 0.1, 0.2], 30), np.repeat([0.08, 0.1, 0.3], 30)]
>>> feats = pd.DataFrame(x + rng.normal(0, 0.02, x.shape), columns=FEATURES)
>>> graded = cross_grade(feats, pd.Series(grades), seed=0)
>>> round(kappa(grades, graded), 2) > 0.8
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["GRADES", "FEATURES", "MIN_EXAMPLES", "TOO_FEW", "model", "cross_grade", "kappa", "grade_number"]

GRADES = ("C1", "C2", "C3")
FEATURES = ("margin_roughness", "cortex_porosity", "width_cv")
#: Graded examples needed, in all and of each grade present (a class with fewer is merged into nothing:
#: it cannot be learned, so the grader is refused).
MIN_EXAMPLES = 30
TOO_FEW = "too few graded examples to train the MCI grader (grade some in notebook 00's measuring widget)"


def model(seed: int = 0):
    """The grader: standardised features, multinomial logistic regression (L2, C = 1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))


def cross_grade(features: pd.DataFrame, grades: pd.Series, seed: int = 0, folds: int = 5) -> pd.Series:
    """A grade for every row of ``features``: rows with a reference grade (``grades``, C1/C2/C3, NaN where
    none) are graded by a model trained on the other folds' graded rows (stratified, seeded), the rest by
    a model trained on every graded row. A row whose features are missing gets NaN. ValueError
    (:data:`TOO_FEW`) when fewer than :data:`MIN_EXAMPLES` rows are graded or a grade has fewer than
    ``folds`` examples."""
    x = features[list(FEATURES)].astype(float)
    ok = x.notna().all(axis=1)
    ref = grades.reindex(x.index)
    known = ok & ref.isin(GRADES)
    counts = ref[known].value_counts()
    if known.sum() < MIN_EXAMPLES or (counts < folds).any() or len(counts) < 2:
        raise ValueError(f"{TOO_FEW}: {dict(counts)}")
    out = pd.Series(np.nan, index=x.index, dtype=object)
    xs, ys = x[known].to_numpy(), ref[known].to_numpy()
    idx = x.index[known]
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(xs, ys):
        out.loc[idx[test]] = model(seed).fit(xs[train], ys[train]).predict(xs[test])
    rest = ok & ~known
    if rest.any():
        out.loc[rest] = model(seed).fit(xs, ys).predict(x[rest].to_numpy())
    return out


def kappa(reference, graded) -> float:
    """Cohen's kappa with linear weights between two gradings (C1 < C2 < C3), over the rows both graded."""
    a, b = pd.Series(list(reference)), pd.Series(list(graded))
    both = a.isin(GRADES) & b.isin(GRADES)
    if both.sum() < 2:
        return np.nan
    return float(cohen_kappa_score(a[both], b[both], labels=list(GRADES), weights="linear"))


def grade_number(grades) -> np.ndarray:
    """C1/C2/C3 -> 1/2/3 (NaN otherwise)."""
    return pd.Series(list(grades)).map({g: i + 1 for i, g in enumerate(GRADES)}).to_numpy(float)
