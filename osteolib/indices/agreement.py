"""Agreement of a measurement with a reference: Bland-Altman limits, the intraclass correlation, weighted
kappa (no file I/O).

* :func:`bland_altman`: the mean difference (bias, measure - reference) and the 95 % limits of agreement,
  bias -/+ 1.96 SD of the differences (Bland & Altman, Lancet 327:307, 1986). Two lines of arithmetic,
  written here; checked against the paper's worked example (``tests/test_indices.py``).
* :func:`icc`: ICC(A,1), two-way random effects, absolute agreement, single measurement (McGraw & Wong 1996;
  Shrout & Fleiss's ICC(2,1)), by pingouin's ``intraclass_corr``, with its 95 % interval.
* weighted kappa for the Klemetti grades: :func:`osteolib.indices.klemetti.kappa`.

:func:`row` lays one comparison out as a row of ``indices/agreement.csv`` (:data:`COLUMNS`).

References
----------
Bland J.M., Altman D.G. Statistical methods for assessing agreement between two methods of clinical
measurement. Lancet 327:307-310 (1986).
McGraw K.O., Wong S.P. Forming inferences about some intraclass correlation coefficients. Psychol
Methods 1:30-46 (1996).
Shrout P.E., Fleiss J.L. Intraclass correlations: uses in assessing rater reliability. Psychol Bull
86:420-428 (1979).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg

from .klemetti import kappa

__all__ = ["COLUMNS", "bland_altman", "icc", "row", "grade_row"]

#: Columns of ``indices/agreement.csv``.
COLUMNS = ("measure", "reference", "pixel_mm", "n", "bias", "sd", "loa_low", "loa_high", "icc", "icc_ci_low",
           "icc_ci_high", "kappa", "unit", "note")


def _pairs(measure, reference) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(measure, float), np.asarray(reference, float)
    both = np.isfinite(a) & np.isfinite(b)
    return a[both], b[both]


def bland_altman(measure, reference) -> dict:
    """n, bias (mean of measure - reference), sd of the differences, loa_low, loa_high (bias -/+ 1.96 sd),
    over the pairs where both are numbers."""
    a, b = _pairs(measure, reference)
    if len(a) < 3:
        return {"n": len(a), "bias": np.nan, "sd": np.nan, "loa_low": np.nan, "loa_high": np.nan}
    d = a - b
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    return {"n": len(a), "bias": bias, "sd": sd, "loa_low": bias - 1.96 * sd, "loa_high": bias + 1.96 * sd}


def icc(measure, reference) -> dict:
    """ICC(A,1) of two raters (the measurement and the reference) over the patients both rated: icc,
    icc_ci_low, icc_ci_high (pingouin)."""
    a, b = _pairs(measure, reference)
    if len(a) < 5 or np.ptp(np.r_[a, b]) == 0:
        return {"icc": np.nan, "icc_ci_low": np.nan, "icc_ci_high": np.nan}
    long = pd.DataFrame({"target": np.tile(np.arange(len(a)), 2), "rater": np.repeat(["m", "r"], len(a)),
                         "rating": np.r_[a, b]})
    t = pg.intraclass_corr(long, targets="target", raters="rater", ratings="rating").set_index("Type")
    ci = t.loc["ICC(A,1)", "CI95"]
    return {"icc": float(t.loc["ICC(A,1)", "ICC"]), "icc_ci_low": float(ci[0]), "icc_ci_high": float(ci[1])}


def row(measure_name: str, reference_name: str, measure, reference, unit: str, pixel_mm: float = np.nan,
        note: str = "") -> dict:
    """One row of the agreement table: Bland-Altman and ICC(A,1) of a continuous measure."""
    return {"measure": measure_name, "reference": reference_name, "pixel_mm": pixel_mm,
            **bland_altman(measure, reference), **icc(measure, reference), "kappa": np.nan, "unit": unit, "note": note}


def grade_row(measure_name: str, reference_name: str, grades, reference, pixel_mm: float = np.nan, note: str = "") -> dict:
    """One row of the agreement table for Klemetti grades: n graded by both and the linear-weighted kappa."""
    a, b = pd.Series(list(grades)), pd.Series(list(reference))
    n = int((a.isin(("C1", "C2", "C3")) & b.isin(("C1", "C2", "C3"))).sum())
    return {"measure": measure_name, "reference": reference_name, "pixel_mm": pixel_mm, "n": n, "bias": np.nan, "sd": np.nan,
            "loa_low": np.nan, "loa_high": np.nan, "icc": np.nan, "icc_ci_low": np.nan, "icc_ci_high": np.nan,
            "kappa": kappa(b, a), "unit": "grade", "note": note or "Cohen's kappa, linear weights"}
