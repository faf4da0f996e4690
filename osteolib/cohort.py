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

from . import atomic, images, steps, validation
from .datafolder import CLINICAL_COLUMNS, SITE_COLUMN, SPACING_COLUMNS, DataFolder
from .errors import InputError, read_text_csv
from .layout import StudyLayout
from .roi import read_all_landmarks

__all__ = ["EXCLUSIONS", "OSTEOPOROSIS_T", "MAX_INTERVAL_DAYS", "clinical_schema", "layout_faults",
           "read_clinical", "label", "apply_exclusions", "cohort_table", "per_site_table", "format_p", "COHORT_COLUMNS", "build",
           "validate", "image_faults", "read_cohort"]
#: Exclusion flags in the order they are applied, with the reason written to flow.csv.
EXCLUSIONS = {"antiresorptive": "taking antiresorptive drugs (bisphosphonates, anti-RANKL)",
              "foreign_body": "foreign body in the image (plates, gastric tubes)",
              "mandibular_fracture": "mandibular fracture",
              "poor_quality": "poor image quality"}
OSTEOPOROSIS_T = -2.5
MAX_INTERVAL_DAYS = 365
_RANGES = {"age": (0, 120), "height_cm": (50, 250), "weight_kg": (10, 350),
           "tscore_hip": (-7, 5), "tscore_spine": (-7, 5)}


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.strip(), errors="coerce")


def _number_checks(lo: float, hi: float, allow_empty: bool) -> list:
    """A number in [lo, hi] (or, with ``allow_empty``, an empty cell)."""
    import pandera.pandas as pa  # lazy: pandera takes about a second to import; only validation needs it
    empty = lambda s: s.str.strip() == ""
    checks = [] if allow_empty else [pa.Check(lambda s: ~empty(s), error="is empty")]
    return checks + [pa.Check(lambda s: empty(s) | _numeric(s).notna(), error="{value!r} is not a number"),
                     pa.Check(lambda s: _numeric(s).isna() | _numeric(s).between(lo, hi),
                              error=f"{{value}} is outside [{lo:g}, {hi:g}]")]


def clinical_schema(data_dir: Path, check_images: bool = True):
    """The pandera schema of ``clinical.csv`` read as text: every rule of the input layout."""
    import pandera.pandas as pa  # lazy: pandera takes about a second to import; only validation needs it
    folder = str(data_dir).replace("{", "{{").replace("}", "}}")
    strip = lambda s: s.str.strip()
    columns = {
        "patient_id": [pa.Check(lambda s: strip(s) != "", error="empty patient_id"),
                       pa.Check(lambda s: ~strip(s).duplicated(), error="duplicate patient {value!r} (first seen in row {first})")],
        "image": [pa.Check(lambda s: strip(s) != "", error="empty image path")]
        + ([pa.Check(lambda s: strip(s).map(lambda rel: rel == "" or (data_dir / rel).is_file()),
                     error=f"image {{value!r}} not found in {folder}")] if check_images else []),
        "sex": [pa.Check(lambda s: strip(s).isin(["F", "M"]), error="unknown sex code {value!r} (expected F or M)")],
        **{c: _number_checks(*_RANGES[c], allow_empty=c.startswith("tscore")) for c in _RANGES},
        **{c: [pa.Check(lambda s: strip(s).isin(["0", "1"]), error="{value!r} is not 0 or 1")] for c in EXCLUSIONS},
        **{c: [pa.Check(lambda s: pd.to_datetime(strip(s), format="%Y-%m-%d", errors="coerce").notna(),
                        error="{value!r} is not an ISO date (YYYY-MM-DD)")] for c in ("dxa_date", "radiograph_date")},
    }
    spacing = {c: pa.Column(str, _number_checks(0.001, 10, allow_empty=True), required=False) for c in SPACING_COLUMNS}
    site = {SITE_COLUMN: pa.Column(str, [pa.Check(lambda s: s.str.fullmatch(r"\s*[A-Za-z0-9][A-Za-z0-9_.-]*\s*"),
                                                  error="site {value!r} is not a plain name (letters, digits, _ . -)")],
                                   required=False)}
    return pa.DataFrameSchema({c: pa.Column(str, columns[c]) for c in CLINICAL_COLUMNS} | spacing | site)


def layout_faults(df: pd.DataFrame, file: Path, data_dir: Path, check_images: bool = True) -> pd.DataFrame:
    """Every fault of a clinical table (read as text) against the input layout's rules."""
    return validation.combine(validation.faults(clinical_schema(data_dir, check_images), df, file), _no_tscore(df, file))


def _no_tscore(df: pd.DataFrame, file: Path) -> pd.DataFrame:
    """The one rule across columns: a hip or a spine T-score (checked here, beside the schema)."""
    if not {"tscore_hip", "tscore_spine"} <= set(df.columns):
        return pd.DataFrame(columns=validation.COLUMNS)
    both = (df["tscore_hip"].str.strip() == "") & (df["tscore_spine"].str.strip() == "")
    return pd.DataFrame({"file": str(file), "row": np.flatnonzero(both) + 2, "column": "tscore_hip", "value": "",
                         "problem": "neither a hip nor a spine T-score"})


def read_clinical(data_dir: str | Path, check_images: bool = True, threshold: float = OSTEOPOROSIS_T,
                  inclusive: bool = True, report: str | Path | None = None) -> pd.DataFrame:
    """Read and validate ``<data_dir>/clinical.csv``.

    Returns the table with typed columns plus ``tscore`` (the lower site), ``label`` (1:
    osteoporosis) and ``bmi`` (kg/m^2). Every fault of the file is collected (pandera's lazy
    validation) and raised at once as a :class:`~osteolib.validation.ValidationError`; with
    ``report``, the table of faults is written there first.

    Examples
    --------
    >>> import tempfile
    >>> from osteolib.synthetic import generate
    >>> d = generate(tempfile.mkdtemp(), n_screened=40, scale=0.05, images=False, progress=False)
    >>> read_clinical(d, check_images=False)[["patient_id", "label"]].shape
    (40, 2)
    """
    data_dir = Path(data_dir)
    file = DataFolder(data_dir).clinical_csv
    df = read_text_csv(file, ())
    if df.empty:
        raise InputError(file, "no patient rows")
    df.attrs["expected"] = list(CLINICAL_COLUMNS)
    table = layout_faults(df, file, data_dir, check_images)
    if len(table):
        table = table.sort_values(["row", "column"], na_position="first", kind="stable")
        if report is not None:
            atomic.write_csv(table, report)
        raise validation.ValidationError(file, table, report)
    out = pd.DataFrame({"patient_id": df["patient_id"].str.strip(), "image": df["image"].str.strip(),
                        "sex": df["sex"].str.strip()})
    for col in (*_RANGES, *(c for c in SPACING_COLUMNS if c in df)):
        out[col] = _numeric(df[col])
    for col in EXCLUSIONS:
        out[col] = df[col].str.strip().astype(int)
    if SITE_COLUMN in df:
        out[SITE_COLUMN] = df[SITE_COLUMN].str.strip()
    for col in ("dxa_date", "radiograph_date"):
        out[col] = pd.to_datetime(df[col].str.strip(), format="%Y-%m-%d")
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
    import pingouin as pg  # lazy: pingouin takes a second to import; only the cohort table needs it

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


def build(data_dir: str | Path, layout: StudyLayout, threshold: float = OSTEOPOROSIS_T, inclusive: bool = True
          ) -> dict[str, pd.DataFrame]:
    """Read, label, exclude; write the study's ``cohort/flow.csv``, ``cohort/cohort.csv`` and
    ``cohort/table3.csv``; ``warnings``: the inputs' warnings (listed in ``validation.csv`` too).

    When the input is bad nothing of the cohort is written: every fault is listed in the study's
    ``validation.csv`` (file, row, column, value, severity, problem, what to do) and the error names it.
    """
    clinical = validate(data_dir, layout.validation_csv, threshold, inclusive)
    warnings = (pd.read_csv(layout.validation_csv, dtype=str, keep_default_na=False) if layout.validation_csv.is_file()
                else validation.table([]))
    cohort, flow = apply_exclusions(clinical)
    table = cohort_table(cohort)
    cohort_out = cohort[list(COHORT_COLUMNS) + [c for c in (*SPACING_COLUMNS, SITE_COLUMN) if c in cohort]].copy()
    cohort_out["bmi"] = cohort_out["bmi"].round(3)
    for col in ("dxa_date", "radiograph_date"):
        cohort_out[col] = cohort_out[col].dt.strftime("%Y-%m-%d")
    atomic.write_csv(flow, layout.cohort_table("flow"))
    atomic.write_csv(cohort_out, layout.cohort_csv)
    atomic.write_csv(table, layout.cohort_table("table3"))
    out = {"flow": flow, "cohort": cohort_out, "table3": table, "warnings": warnings}
    if SITE_COLUMN in cohort_out and cohort_out[SITE_COLUMN].nunique() > 1:  # one site: Table 3 is its table
        out["table3_sites"] = per_site_table(cohort_out)
        atomic.write_csv(out["table3_sites"], layout.cohort_table("table3_sites"))
    else:
        layout.cohort_table("table3_sites").unlink(missing_ok=True)
    return out


def per_site_table(cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort table (:func:`cohort_table`) of each site of a multi-centre cohort, one block per site
    (column ``site``, sorted by name; percentages of the site's included patients), and the tests of
    whether the sites differ: prevalence and sex by Pearson's chi-square over sites, age and BMI by
    one-way ANOVA (pingouin) in the block ``all sites``."""
    import pingouin as pg  # lazy: pingouin takes a second to import; only the cohort tables need it

    blocks = [cohort_table(g).assign(site=name) for name, g in cohort.groupby(SITE_COLUMN, sort=True)]
    tests = [("Osteoporosis, n (%)", stats.chi2_contingency(pd.crosstab(cohort[SITE_COLUMN], cohort["label"]),
                                                            correction=False)[1], "Pearson chi-square over sites"),
             ("Sex: female, n (%)", stats.chi2_contingency(pd.crosstab(cohort[SITE_COLUMN], cohort["sex"]),
                                                           correction=False)[1], "Pearson chi-square over sites")]
    for col, what in (("age", "Age, years"), ("bmi", "BMI, kg/m2")):
        tests.append((f"{what}, differs between sites", float(pg.anova(cohort, dv=col, between=SITE_COLUMN)["p_unc"].iloc[0]),
                      "one-way ANOVA over sites"))
    across = pd.DataFrame({"characteristic": [t[0] for t in tests], "osteoporosis": "", "non_osteoporosis": "",
                           "p_value": [format_p(t[1]) for t in tests], "p": [t[1] for t in tests],
                           "test": [t[2] for t in tests], "site": "all sites"})
    table = pd.concat(blocks + [across], ignore_index=True)
    return table[["site"] + [c for c in table.columns if c != "site"]]


def validate(data_dir: str | Path, report: str | Path, threshold: float = OSTEOPOROSIS_T,
             inclusive: bool = True) -> pd.DataFrame:
    """The data folder's ``clinical.csv`` read (as :func:`read_clinical`), its ``landmarks.csv`` (when
    there is one) checked and every radiograph read (:func:`image_faults`), every fault of all three at
    once: listed in ``report`` and raised as one :class:`~osteolib.validation.ValidationError`. Warnings
    alone (burned-in text, low contrast) are listed in ``report`` and do not stop; a clean folder
    removes an earlier, stale report."""
    data_dir, found, clinical = Path(data_dir), [], None
    try:
        clinical = read_clinical(data_dir, threshold=threshold, inclusive=inclusive)
    except validation.ValidationError as e:
        found.append(e.faults)
    if DataFolder(data_dir).landmarks_csv.is_file():
        try:
            read_all_landmarks(data_dir)
        except validation.ValidationError as e:
            found.append(e.faults)
    found.append(image_faults(data_dir))
    table = validation.combine(*found)
    if len(validation.errors(table)):
        atomic.write_csv(table, report)
        raise validation.ValidationError(validation.errors(table)["file"].iloc[0], table, report)
    if len(table):
        atomic.write_csv(table, report)
    else:
        Path(report).unlink(missing_ok=True)
    return clinical


def image_faults(data_dir: str | Path) -> pd.DataFrame:
    """Every radiograph ``clinical.csv`` names, read once: what cannot be read, and the warnings
    (:func:`osteolib.images.problems`; burned-in text also as ingest recorded it in ``images.csv``), as
    faults of the ``image`` column. A missing file is the schema's fault, not repeated here."""
    folder = DataFolder(data_dir)
    if not folder.clinical_csv.is_file():
        return validation.table([])
    df = read_text_csv(folder.clinical_csv, ())
    if not {"patient_id", "image"} <= set(df.columns):
        return validation.table([])
    facts = images.read_facts(data_dir)
    burned = set() if facts is None else set(facts.loc[facts["burned_in"] == "YES", "patient_id"])
    rows = []
    for i, (pid, rel) in enumerate(zip(df["patient_id"].str.strip(), df["image"].str.strip())):
        path = folder.image(rel)
        if not rel or not path.is_file():
            continue
        _, f, problems = images.check(path)
        if f is not None and pid in burned and f["burned_in"] != "YES":
            problems = images.problems({**f, "burned_in": "YES"})
        rows += [(str(folder.clinical_csv), i + 2, "image", rel, sev, problem, todo) for sev, problem, todo in problems]
    return validation.table(pd.DataFrame(rows, columns=list(validation.COLUMNS)))


def read_cohort(layout: StudyLayout) -> pd.DataFrame:
    """The included patients as notebook 01 wrote them."""
    file = steps.require(layout.cohort_csv, "cohort")
    return pd.read_csv(file, dtype={"patient_id": str})
