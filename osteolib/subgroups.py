"""Performance by subgroup (TRIPOD+AI, item 23b): by sex and by age band, with intervals.

Each model's per-repeat out-of-fold predictions are evaluated within a subgroup (AUC; sensitivity
and specificity at the fixed 0.5 and at each fold's validation-chosen threshold), averaged over
repeats, with a patient-level bootstrap percentile interval of that same average (the resample is
drawn once and applied to every model and repeat).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import percentile_ci, weighted_auc

__all__ = ["AGE_BANDS", "groups", "weighted_rate", "evaluate", "table"]

#: Age bands (years): [low, high) and their names.
AGE_BANDS = ((0, 65, "<65"), (65, 75, "65-74"), (75, 200, ">=75"))


def groups(cohort: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks over the cohort's rows: everyone, each sex, each age band.

    >>> c = pd.DataFrame({"sex": ["F", "M", "F"], "age": [60, 70, 80]})
    >>> {k: v.tolist() for k, v in groups(c).items()}["age >=75"]
    [False, False, True]
    """
    out = {"all": np.ones(len(cohort), bool)}
    out.update({f"sex {s}": (cohort["sex"] == s).to_numpy() for s in ("F", "M")})
    age = cohort["age"].to_numpy(float)
    out.update({f"age {name}": (age >= lo) & (age < hi) for lo, hi, name in AGE_BANDS})
    return out


def weighted_rate(hit: np.ndarray, among: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Share of ``hit`` among the rows in ``among``, per row of ``weights`` (resamples)."""
    den = weights @ among.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (weights @ (hit & among).astype(float)) / den, np.nan)


def evaluate(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray, mask: np.ndarray,
             weights: np.ndarray) -> dict[str, np.ndarray]:
    """AUC, sensitivity and specificity (at 0.5 and at the given per-patient thresholds) of a model's
    per-repeat predictions ``p`` (repeats, n) within ``mask``, averaged over repeats, for each row of
    ``weights`` (the first row all ones: the estimate itself)."""
    w = weights * mask
    out = {"auc": np.mean([weighted_auc(y, p[r], w) for r in range(len(p))], axis=0)}
    for name, t in (("0.5", np.full_like(p, 0.5)), ("validation", thresholds)):
        called = p >= t
        out[f"sensitivity_at_{name}"] = np.mean([weighted_rate(called[r], y == 1, w) for r in range(len(p))], axis=0)
        out[f"specificity_at_{name}"] = np.mean([weighted_rate(~called[r], y == 0, w) for r in range(len(p))], axis=0)
    return out


def table(models: dict, y: np.ndarray, cohort: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """One row per model and subgroup: n, osteoporotic, and each measure with its 95 % bootstrap interval.

    ``models``: {(backbone, arm): (p, thresholds)}, each (repeats, n) in the cohort's patient order;
    ``weights``: (1 + n_boot, n), the first row all ones.
    """
    rows = []
    for (backbone, arm), (p, t) in models.items():
        for name, mask in groups(cohort).items():
            row = {"backbone": backbone, "arm": arm, "subgroup": name, "n": int(mask.sum()),
                   "n_osteoporosis": int((mask & (y == 1)).sum())}
            for measure, values in evaluate(y, p, t, mask, weights).items():
                lo, hi = percentile_ci(values[1:])
                row.update({measure: values[0], f"{measure}_ci_low": lo, f"{measure}_ci_high": hi})
            rows.append(row)
    return pd.DataFrame(rows).assign(
        interval="patient-level bootstrap 95% percentile interval of the mean over repeats",
        note="sensitivity and specificity at 0.5 (the paper's threshold) and at each fold's threshold chosen "
             "on its validation part (Youden's J); OSTA's threshold is its cut-off OSTA <= -1")
