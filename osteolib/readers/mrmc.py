"""Multi-reader multi-case (MRMC) analysis of ROC studies: Obuchowski-Rockette with Hillis's degrees of
freedom (no file I/O).

Several readers read the same cases under each modality (fully crossed). The figure of merit of reader j
under modality i is the empirical (trapezoidal, Wilcoxon) AUC θ_ij. The Obuchowski-Rockette (OR) model
treats θ_ij as a modality effect plus random reader and modality-by-reader effects plus an error whose
covariance across modalities and readers comes from reading the same cases: Var(error), Cov1 (same
reader, other modality), Cov2 (other reader, same modality), Cov3 (other reader, other modality), estimated
here from the cases by the **jackknife** (the OR-DBM MRMC software's default) or by **DeLong's** method.

Three generalisations, as the University of Iowa's OR-DBM MRMC reports them:

* **RRRC** (random readers, random cases): F = MS(T) / [MS(T*R) + r·max(Cov2 - Cov3, 0)] on 1 and Hillis's
  ddf_H = [MS(T*R) + r·max(Cov2 - Cov3, 0)]² / {MS(T*R)² / [(t-1)(r-1)]} degrees of freedom (Hillis 2007);
* **FRRC** (fixed readers, random cases): X² = (t-1)·MS(T) / [Var - Cov1 + (r-1)·max(Cov2 - Cov3, 0)], chi-square;
* **RRFC** (random readers, fixed cases): F = MS(T) / MS(T*R) on (t-1), (t-1)(r-1) degrees of freedom.

Each with the modality difference's 95 % interval and each modality's AUC with its own (the single-modality
analyses use that modality's reader ANOVA and its Cov2 and Var). :func:`versus_standalone` compares a
standalone algorithm with the readers of one modality: the single-modality analysis of the differences
θ_j - θ_model (the model's own AUC, read from the same cases, carries no reader variance; Chakraborty's
RJafroc, ``StSignificanceTestingCadVsRad``, method ``singleModality``; Hillis 2007).

No maintained Python library does this, so it is written here, and checked against the OR-DBM MRMC 2.51
output of the Van Dyke et al. (1993) study (``tests/test_readers.py``).

References
----------
Obuchowski N.A., Rockette H.E. Hypothesis testing of diagnostic accuracy for multiple readers and multiple
tests: an ANOVA approach with dependent observations. Commun Stat Simul Comput 24:285-308 (1995).
Hillis S.L. A comparison of denominator degrees of freedom methods for multiple observer ROC analysis. Stat
Med 26:596-619 (2007).
Hillis S.L., Berbaum K.S., Metz C.E. Recent developments in the Dorfman-Berbaum-Metz procedure for multireader
ROC study analysis. Acad Radiol 15:647-661 (2008).
Chakraborty D.P. Observer Performance Methods for Diagnostic Imaging. CRC Press (2017), ch. 22.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st

__all__ = ["ANALYSES", "COLUMNS", "Aucs", "aucs", "components", "or_hillis", "versus_standalone"]

ANALYSES = ("RRRC", "FRRC", "RRFC")
#: Columns of ``mrmc.csv``: one row per analysis and comparison.
COLUMNS = ("analysis", "comparison", "difference", "std_error", "ci_low", "ci_high", "statistic", "df1", "df2",
           "p_value", "test")


@dataclass(frozen=True)
class Aucs:
    """θ (modalities, readers) and the covariance of its entries over cases, in ``theta.ravel()`` order."""

    theta: np.ndarray
    cov: np.ndarray
    modalities: tuple
    readers: tuple
    n_cases: int
    method: str


def _placements(scores: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per score vector (rows): each positive's share of negatives below it (ties half), and each
    negative's share of positives above it."""
    pos, neg = scores[:, truth], scores[:, ~truth]
    below = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    return below.mean(axis=2), below.mean(axis=1)


def aucs(scores: np.ndarray, truth, modalities=None, readers=None, method: str = "jackknife") -> Aucs:
    """Empirical AUCs of ``scores`` (modalities, readers, cases) against ``truth`` (cases, 0/1) and the
    covariance of the (modality, reader) AUCs over cases: ``jackknife`` (leave one case out) or ``delong``."""
    s = np.asarray(scores, float)
    y = np.asarray(truth).astype(bool)
    t, r, c = s.shape
    if not (y.any() and (~y).any()):
        raise ValueError("the cases need both classes")
    flat = s.reshape(t * r, c)
    v10, v01 = _placements(flat, y)          # (tr, m), (tr, n)
    m, n = v10.shape[1], v01.shape[1]
    theta = v10.mean(axis=1)
    if method == "jackknife":
        # leave one case out, in closed form: a positive takes its placement out, a negative its own
        jk = np.empty((t * r, c))
        jk[:, y] = (theta[:, None] * m - v10) / (m - 1)
        jk[:, ~y] = (theta[:, None] * n - v01) / (n - 1)
        dev = jk - jk.mean(axis=1, keepdims=True)
        cov = (c - 1) / c * dev @ dev.T
    elif method == "delong":
        cov = np.atleast_2d(np.cov(v10) / m + np.cov(v01) / n)
    else:
        raise ValueError(f"method {method!r}: jackknife or delong")
    return Aucs(theta.reshape(t, r), cov, tuple(modalities if modalities is not None else range(t)),
                tuple(readers if readers is not None else range(r)), c, method)


def components(a: Aucs) -> dict:
    """The OR error-covariance estimates (averages over the pairs of each kind) and the mean squares:
    var, cov1, cov2, cov3, ms_t, ms_tr, ms_r; per modality var_i, cov2_i, ms_r_i."""
    theta, cov = a.theta, a.cov
    t, r = theta.shape
    mod, rdr = np.repeat(np.arange(t), r), np.tile(np.arange(r), t)
    same_m, same_r = mod[:, None] == mod[None, :], rdr[:, None] == rdr[None, :]
    off = ~np.eye(t * r, dtype=bool)
    mean = lambda mask: float(cov[mask].mean()) if mask.any() else np.nan
    out = {"var": float(np.diag(cov).mean()), "cov1": mean(~same_m & same_r), "cov2": mean(same_m & ~same_r & off),
           "cov3": mean(~same_m & ~same_r)}
    grand, by_m, by_r = theta.mean(), theta.mean(axis=1), theta.mean(axis=0)
    out["ms_t"] = np.float64(r * ((by_m - grand) ** 2).sum() / (t - 1)) if t > 1 else np.nan
    out["ms_r"] = t * ((by_r - grand) ** 2).sum() / (r - 1)
    inter = theta - by_m[:, None] - by_r[None, :] + grand
    out["ms_tr"] = np.float64((inter ** 2).sum() / ((t - 1) * (r - 1))) if t > 1 else np.nan
    out["var_i"] = np.array([np.diag(cov)[mod == i].mean() for i in range(t)])
    out["cov2_i"] = np.array([cov[np.ix_(mod == i, mod == i)][~np.eye(r, dtype=bool)].mean() for i in range(t)])
    out["ms_r_i"] = np.array([((theta[i] - by_m[i]) ** 2).sum() / (r - 1) for i in range(t)])
    return out


def _row(analysis, comparison, est, se, df, test, alpha=0.05, statistic=None, df1=1.0, p=None, tested=True) -> dict:
    """One row: a z interval when ``df`` is None, else a t interval on ``df``; the test of 0 unless not ``tested``
    (a modality's own AUC: its interval only)."""
    q = st.norm.ppf(1 - alpha / 2) if df is None else st.t.ppf(1 - alpha / 2, df)
    if p is None and np.isfinite(se) and se > 0 and tested:
        z = est / se
        p = 2 * (st.norm.sf(abs(z)) if df is None else st.t.sf(abs(z), df))
    return {"analysis": analysis, "comparison": comparison, "difference": est, "std_error": se,
            "ci_low": est - q * se, "ci_high": est + q * se, "statistic": statistic, "df1": df1,
            "df2": np.inf if df is None else df, "p_value": p, "test": test}


def or_hillis(a: Aucs, alpha: float = 0.05) -> pd.DataFrame:
    """:data:`COLUMNS` for RRRC, FRRC and RRFC: the global test of equal modality AUCs (``comparison`` =
    "all modalities"), each pair's difference (second minus first, e.g. ``aided - unaided``) and each
    modality's AUC (``comparison`` = its name; ``difference`` = its AUC). A degenerate study (readers whose AUCs
    do not vary) gives NaN or infinite statistics, as the formulas do, not an error."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _or_hillis(a, alpha)


def _or_hillis(a: Aucs, alpha: float) -> pd.DataFrame:
    c = components(a)
    t, r = a.theta.shape
    names, by_m = [str(m) for m in a.modalities], a.theta.mean(axis=1)
    rows = []
    pairs = [(i, k) for i in range(t) for k in range(i + 1, t)]
    # RRRC: Hillis's denominator and its degrees of freedom
    den = c["ms_tr"] + r * max(c["cov2"] - c["cov3"], 0.0)
    ddf = den ** 2 / (c["ms_tr"] ** 2 / ((t - 1) * (r - 1))) if t > 1 else np.nan
    if t > 1:
        f = c["ms_t"] / den
        rows.append({"analysis": "RRRC", "comparison": "all modalities", "statistic": f, "df1": t - 1, "df2": ddf,
                     "p_value": float(st.f.sf(f, t - 1, ddf)), "test": "F, Hillis ddf"})
        rows += [_row("RRRC", f"{names[k]} - {names[i]}", by_m[k] - by_m[i], np.sqrt(2 / r * den), ddf, "t, Hillis ddf", alpha)
                 for i, k in pairs]
    for i in range(t):
        d = c["ms_r_i"][i] + r * max(c["cov2_i"][i], 0.0)
        df_i = d ** 2 / (c["ms_r_i"][i] ** 2 / (r - 1))
        rows.append(_row("RRRC", names[i], by_m[i], np.sqrt(d / r), df_i, "t, Hillis ddf (single modality)", alpha,
                         tested=False))
    # FRRC: readers fixed, cases random
    den_f = c["var"] - c["cov1"] + (r - 1) * max(c["cov2"] - c["cov3"], 0.0)
    if t > 1:
        x2 = (t - 1) * c["ms_t"] / den_f
        rows.append({"analysis": "FRRC", "comparison": "all modalities", "statistic": x2, "df1": t - 1, "df2": np.inf,
                     "p_value": float(st.chi2.sf(x2, t - 1)), "test": "chi-square"})
        rows += [_row("FRRC", f"{names[k]} - {names[i]}", by_m[k] - by_m[i], np.sqrt(2 / r * den_f), None, "z", alpha)
                 for i, k in pairs]
    for i in range(t):
        se = np.sqrt((c["var_i"][i] + (r - 1) * max(c["cov2_i"][i], 0.0)) / r)
        rows.append(_row("FRRC", names[i], by_m[i], se, None, "z (single modality)", alpha, tested=False))
    # RRFC: cases fixed, readers random (a repeated-measures ANOVA of the AUCs)
    if t > 1:
        f = c["ms_t"] / c["ms_tr"]
        df2 = (t - 1) * (r - 1)
        rows.append({"analysis": "RRFC", "comparison": "all modalities", "statistic": f, "df1": t - 1, "df2": df2,
                     "p_value": float(st.f.sf(f, t - 1, df2)), "test": "F"})
        rows += [_row("RRFC", f"{names[k]} - {names[i]}", by_m[k] - by_m[i], np.sqrt(2 / r * c["ms_tr"]), df2, "t", alpha)
                 for i, k in pairs]
    for i in range(t):
        rows.append(_row("RRFC", names[i], by_m[i], np.sqrt(c["ms_r_i"][i] / r), r - 1, "t (single modality)", alpha,
                         tested=False))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    pair = out["comparison"].str.contains(" - ") & out["statistic"].isna()
    out.loc[pair, "statistic"] = out.loc[pair, "difference"] / out.loc[pair, "std_error"]
    return out


def _single(label: str, psi: np.ndarray, cov: np.ndarray, alpha: float, what: str) -> list[dict]:
    """The single-modality OR analysis of per-reader values ``psi`` with error covariance ``cov``."""
    r = len(psi)
    ms_r = np.float64(((psi - psi.mean()) ** 2).sum() / (r - 1))   # numpy: a degenerate study gives inf/NaN, not an error
    cov2 = float(cov[~np.eye(r, dtype=bool)].mean())
    var = float(np.diag(cov).mean())
    d = ms_r + r * max(cov2, 0.0)
    return [_row("RRRC", label, psi.mean(), np.sqrt(d / r), d ** 2 / (ms_r ** 2 / (r - 1)), f"t, Hillis ddf ({what})", alpha),
            _row("FRRC", label, psi.mean(), np.sqrt((var + (r - 1) * max(cov2, 0.0)) / r), None, f"z ({what})", alpha),
            _row("RRFC", label, psi.mean(), np.sqrt(ms_r / r), r - 1, f"t ({what})", alpha)]


def versus_standalone(a: Aucs, alpha: float = 0.05, label: str = "readers - model") -> pd.DataFrame:
    """Readers against a standalone model, in one modality: ``a`` holds one modality whose last "reader" is
    the model (:func:`aucs` of the readers' scores with the model's probabilities appended, so the model's
    AUC and its covariance with each reader's come from the same cases). The single-modality OR analysis of
    the differences θ_j - θ_model (RRRC with Hillis's ddf, FRRC, RRFC); ``difference`` is the readers' mean
    AUC minus the model's."""
    if a.theta.shape[0] != 1 or a.theta.shape[1] < 3:
        raise ValueError("one modality, at least two readers and the model as the last reader")
    theta, cov = a.theta[0], a.cov.astype(np.float64)
    r = len(theta) - 1
    psi = theta[:r] - theta[r]
    # Cov(psi_j, psi_k) = C_jk - C_j0 - C_0k + C_00, the model being index r
    cpsi = cov[:r, :r] - cov[:r, [r]] - cov[[r], :r] + cov[r, r]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(_single(label, psi, cpsi, alpha, "readers - standalone model"), columns=list(COLUMNS))
        out["statistic"] = out["difference"] / out["std_error"]
    return out
