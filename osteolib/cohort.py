"""The clinical table: validation, labels, exclusions, the flow of patients and the cohort table.

Columns of ``clinical.csv`` (the input layout, ``docs/protocol.md``) are checked one by one; the first fault stops
the read with an :class:`~osteolib.errors.InputError` naming the file, the row (as a spreadsheet
shows it: header row 1) and the column.

Label (WHO): osteoporosis when the lower of the hip and spine T-scores is <= -2.5. The paper's text
says "less than -2.5"; both the threshold and whether it is included are parameters
(``osteoporosis_t``, ``osteoporosis_t_inclusive`` of notebook 01), WHO's rule the default.
Exclusions, in the paper's order: DXA and radiograph more than 365 days apart (the inclusion
criterion), antiresorptive drugs, foreign bodies, mandibular fracture, poor image quality.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import atomic
from .errors import InputError, first_bad_row, read_text_csv
from .layout import StudyLayout

#: Columns of clinical.csv, in order.
CLINICAL_COLUMNS = ("patient_id", "image", "sex", "age", "height_cm", "weight_kg", "tscore_hip",
                    "tscore_spine", "antiresorptive", "foreign_body", "mandibular_fracture",
                    "poor_quality", "dxa_date", "radiograph_date")
#: Exclusion flags in the order they are applied, with the reason written to flow.csv.
EXCLUSIONS = {"antiresorptive": "taking antiresorptive drugs (bisphosphonates, anti-RANKL)",
              "foreign_body": "foreign body in the image (plates, gastric tubes)",
              "mandibular_fracture": "mandibular fracture",
              "poor_quality": "poor image quality"}
OSTEOPOROSIS_T = -2.5
MAX_INTERVAL_DAYS = 365
_RANGES = {"age": (0, 120), "height_cm": (50, 250), "weight_kg": (10, 350),
           "tscore_hip": (-7, 5), "tscore_spine": (-7, 5)}


def _numbers(df: pd.DataFrame, col: str, file: Path, allow_empty: bool = False) -> pd.Series:
    raw = df[col].str.strip()
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & ~(allow_empty & (raw == ""))
    first_bad_row(bad, file, col, lambda i: "is empty" if raw.iloc[i] == "" else f"{raw.iloc[i]!r} is not a number")
    lo, hi = _RANGES[col]
    out = ~values.isna() & ((values < lo) | (values > hi))
    first_bad_row(out, file, col, lambda i: f"{values.iloc[i]:g} is outside [{lo}, {hi}]")
    return values


def _dates(df: pd.DataFrame, col: str, file: Path) -> pd.Series:
    values = pd.to_datetime(df[col].str.strip(), format="%Y-%m-%d", errors="coerce")
    first_bad_row(values.isna(), file, col, lambda i: f"{df[col].iloc[i]!r} is not an ISO date (YYYY-MM-DD)")
    return values


def read_clinical(data_dir: str | Path, check_images: bool = True, threshold: float = OSTEOPOROSIS_T,
                  inclusive: bool = True) -> pd.DataFrame:
    """Read and validate ``<data_dir>/clinical.csv``.

    Returns the table with typed columns plus ``tscore`` (the lower site), ``label`` (1:
    osteoporosis) and ``bmi`` (kg/m^2). Raises :class:`InputError` on the first fault.

    Examples
    --------
    >>> import tempfile
    >>> from osteolib.synthetic import generate
    >>> d = generate(tempfile.mkdtemp(), n_screened=40, scale=0.05, images=False, progress=False)
    >>> read_clinical(d, check_images=False)[["patient_id", "label"]].shape
    (40, 2)
    """
    data_dir = Path(data_dir)
    file = data_dir / "clinical.csv"
    df = read_text_csv(file, CLINICAL_COLUMNS)
    if df.empty:
        raise InputError(file, "no patient rows")
    ids = df["patient_id"].str.strip()
    first_bad_row(ids == "", file, "patient_id", lambda i: "empty patient_id")
    first_bad_row(ids.duplicated(), file, "patient_id", lambda i: f"duplicate patient {ids.iloc[i]!r} "
                  f"(first seen in row {int(np.flatnonzero(ids == ids.iloc[i])[0]) + 2})")
    out = pd.DataFrame({"patient_id": ids, "image": df["image"].str.strip()})
    sex = df["sex"].str.strip()
    first_bad_row(~sex.isin(["F", "M"]), file, "sex", lambda i: f"unknown sex code {sex.iloc[i]!r} (expected F or M)")
    out["sex"] = sex
    for col in ("age", "height_cm", "weight_kg"):
        out[col] = _numbers(df, col, file)
    for col in ("tscore_hip", "tscore_spine"):
        out[col] = _numbers(df, col, file, allow_empty=True)
    both = out["tscore_hip"].isna() & out["tscore_spine"].isna()
    first_bad_row(both, file, "tscore_hip", lambda i: "neither a hip nor a spine T-score")
    for col in EXCLUSIONS:
        flag = df[col].str.strip()
        first_bad_row(~flag.isin(["0", "1"]), file, col, lambda i: f"{flag.iloc[i]!r} is not 0 or 1")
        out[col] = flag.astype(int)
    for col in ("dxa_date", "radiograph_date"):
        out[col] = _dates(df, col, file)
    for i, rel in enumerate(out["image"]):
        if rel == "":
            raise InputError(file, "empty image path", row=i + 2, column="image")
        if check_images and not (data_dir / rel).is_file():
            raise InputError(file, f"image {rel!r} not found in {data_dir}", row=i + 2, column="image")
    out["tscore"] = out[["tscore_hip", "tscore_spine"]].min(axis=1)
    out["label"] = label(out["tscore"], threshold, inclusive)
    out["bmi"] = out["weight_kg"] / (out["height_cm"] / 100) ** 2
    return out


def label(tscore: pd.Series | np.ndarray, threshold: float = OSTEOPOROSIS_T, inclusive: bool = True) -> np.ndarray:
    """1 (osteoporosis) where the T-score is <= -2.5 (WHO; ``inclusive``) or < -2.5 (the paper's
    wording), else 0.

    >>> label(np.array([-2.6, -2.5, -2.4])).tolist()
    [1, 1, 0]
    >>> label(np.array([-2.6, -2.5, -2.4]), inclusive=False).tolist()
    [1, 0, 0]
    """
    # rounding guards against a T-score like -2.5000000001 parsed from "-2.50"
    t = np.round(np.asarray(tscore, dtype=float), 6)
    return (t <= threshold if inclusive else t < threshold).astype(int)


def apply_exclusions(clinical: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the inclusion interval and the exclusions in order.

    Returns
    -------
    cohort : the included patients.
    flow : step, n_before, n_excluded, n_after, reason (one row per step; the first is the
        screened population).
    """
    keep = pd.Series(True, index=clinical.index)
    n = len(clinical)
    rows = [("screened", n, 0, n, "patients with DXA and a panoramic radiograph")]
    interval = (clinical["radiograph_date"] - clinical["dxa_date"]).abs().dt.days
    steps = [("dxa_interval", interval > MAX_INTERVAL_DAYS,
              f"DXA and radiograph more than {MAX_INTERVAL_DAYS} days apart")]
    steps += [(name, clinical[name] == 1, reason) for name, reason in EXCLUSIONS.items()]
    for name, excluded, reason in steps:
        before = int(keep.sum())
        keep &= ~excluded
        rows.append((name, before, before - int(keep.sum()), int(keep.sum()), reason))
    flow = pd.DataFrame(rows, columns=["step", "n_before", "n_excluded", "n_after", "reason"])
    return clinical[keep].reset_index(drop=True), flow


def cohort_table(cohort: pd.DataFrame) -> pd.DataFrame:
    """The paper's cohort table (Sukegawa et al. 2022, Table 3) with p-values.

    Sex: Pearson's chi-square test of independence (no continuity correction); age and BMI:
    Student's two-sample t-test (equal variances), as pingouin computes them. Percentages are of
    all included patients, as in the paper.

    Returns
    -------
    DataFrame with columns characteristic, osteoporosis, non_osteoporosis, p_value (formatted),
    p (float), test.
    """
    import pingouin as pg  # imported here: the rest of the module (and training) does not need it

    n_all = len(cohort)
    groups = {1: cohort[cohort["label"] == 1], 0: cohort[cohort["label"] == 0]}
    _, p_sex, _, _ = stats.chi2_contingency(pd.crosstab(cohort["sex"], cohort["label"]), correction=False)

    def ttest(col: str) -> float:
        return float(pg.ttest(groups[1][col], groups[0][col], correction=False)["p_val"].iloc[0])

    def ms(g: pd.DataFrame, col: str) -> str:
        return f"{g[col].mean():.1f} ({g[col].std(ddof=1):.1f})"

    def pct(g: pd.DataFrame, sex: str) -> str:
        k = int((g["sex"] == sex).sum())
        return f"{k} ({100 * k / n_all:.1f}%)"

    rows = [("Patients, n", str(len(groups[1])), str(len(groups[0])), np.nan, ""),
            ("Sex: female, n (% of all)", pct(groups[1], "F"), pct(groups[0], "F"), p_sex,
             "Pearson chi-square"),
            ("Sex: male, n (% of all)", pct(groups[1], "M"), pct(groups[0], "M"), np.nan, ""),
            ("Age, years, mean (SD)", ms(groups[1], "age"), ms(groups[0], "age"), ttest("age"),
             "Student t-test"),
            ("BMI, kg/m2, mean (SD)", ms(groups[1], "bmi"), ms(groups[0], "bmi"), ttest("bmi"),
             "Student t-test")]
    table = pd.DataFrame(rows, columns=["characteristic", "osteoporosis", "non_osteoporosis", "p", "test"])
    table.insert(3, "p_value", table["p"].map(format_p))
    return table


def format_p(p: float) -> str:
    """p-value as a paper prints it.

    >>> format_p(3e-9), format_p(0.0123), format_p(float("nan"))
    ('<0.0001', '0.012', '')
    """
    if not np.isfinite(p):
        return ""
    return "<0.0001" if p < 1e-4 else f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


COHORT_COLUMNS = ("patient_id", "label", "sex", "age", "bmi", "height_cm", "weight_kg", "tscore",
                  "tscore_hip", "tscore_spine", "image", "dxa_date", "radiograph_date")


def build(data_dir: str | Path, study, threshold: float = OSTEOPOROSIS_T, inclusive: bool = True
          ) -> dict[str, pd.DataFrame]:
    """Read, label, exclude; write the study's ``cohort/flow.csv``, ``cohort/cohort.csv`` and
    ``cohort/table3.csv`` (``study``: its folder or :class:`~osteolib.layout.StudyLayout`).

    Nothing is written when the input is bad (the read fails before the first write).
    """
    clinical = read_clinical(data_dir, threshold=threshold, inclusive=inclusive)
    cohort, flow = apply_exclusions(clinical)
    table = cohort_table(cohort)
    layout = StudyLayout.of(study)
    cohort_out = cohort[list(COHORT_COLUMNS)].copy()
    cohort_out["bmi"] = cohort_out["bmi"].round(3)
    for col in ("dxa_date", "radiograph_date"):
        cohort_out[col] = cohort_out[col].dt.strftime("%Y-%m-%d")
    atomic.write_csv(flow, layout.cohort_table("flow"))
    atomic.write_csv(cohort_out, layout.cohort_csv)
    atomic.write_csv(table, layout.cohort_table("table3"))
    return {"flow": flow, "cohort": cohort_out, "table3": table}


def read_cohort(study) -> pd.DataFrame:
    """The included patients as notebook 01 wrote them (``study``: its folder or layout)."""
    file = StudyLayout.of(study).cohort_csv
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: run notebooks/01_cohort.ipynb for this study first")
    return pd.read_csv(file, dtype={"patient_id": str})
