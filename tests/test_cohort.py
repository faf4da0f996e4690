"""Reading the clinical table, labels, exclusions, the flow and the cohort table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from osteolib import cohort
from osteolib.errors import InputError
from osteolib.layout import StudyLayout


def _edit(data, change):
    """Rewrite clinical.csv of a writable data copy with ``change(df)`` applied (all strings)."""
    file = data / "clinical.csv"
    df = pd.read_csv(file, dtype=str, keep_default_na=False)
    df = change(df) if change else df
    df.to_csv(file, index=False)
    return data


def _set(row, col, value):
    def change(df):
        df.loc[row, col] = value
        return df
    return change


BAD_INPUTS = [
    # (change, column, spreadsheet row, words the message must contain)
    (lambda df: df.drop(columns=["age"]), "age", None, "missing column"),
    (_set(2, "sex", "X"), "sex", 4, "unknown sex code 'X'"),
    (_set(5, "age", "seventy"), "age", 7, "'seventy' is not a number"),
    (_set(6, "patient_id", "P0001"), "patient_id", 8, "duplicate patient 'P0001' (first seen in row 2)"),
    (_set(3, "tscore_hip", "-7.4"), "tscore_hip", 5, "outside [-7, 5]"),
    (_set(3, "tscore_spine", "5.5"), "tscore_spine", 5, "outside [-7, 5]"),
    (lambda df: _set(4, "tscore_spine", "")(_set(4, "tscore_hip", "")(df)), "tscore_hip", 6, "neither a hip nor a spine"),
    (_set(1, "height_cm", ""), "height_cm", 3, "is empty"),
    (_set(7, "foreign_body", "yes"), "foreign_body", 9, "'yes' is not 0 or 1"),
    (_set(8, "dxa_date", "12/03/2016"), "dxa_date", 10, "not an ISO date"),
    (_set(9, "image", "images/nowhere.tif"), "image", 11, "not found"),
]


@pytest.mark.parametrize("change, column, row, words", BAD_INPUTS,
                         ids=[f"{c}-{w.split()[0]}" for _, c, _, w in BAD_INPUTS])
def test_bad_input_names_file_row_column_and_writes_nothing(data_copy, tmp_path, change, column, row, words):
    _edit(data_copy, change)
    out = tmp_path / "study"
    with pytest.raises(InputError) as err:
        cohort.build(data_copy, StudyLayout(out))
    message = str(err.value)
    assert "clinical.csv" in message and repr(column) in message and words in message
    if row is not None:
        assert f"row {row}," in message
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["validation.csv"], "nothing of the cohort is written when the input is bad, only the report"
    report = pd.read_csv(out / "validation.csv", dtype=str, keep_default_na=False)
    assert list(report.columns) == ["file", "row", "column", "value", "severity", "problem", "what_to_do"]
    assert len(report) == 1 and report["severity"].iloc[0] == "error"
    assert report["column"].iloc[0] == column and words in report["problem"].iloc[0]


def test_every_fault_is_listed_at_once(data_copy, tiny_data, tmp_path):
    """Forty faults take one run, not forty: all listed in validation.csv, the message counts them."""
    def change(df):
        for r in range(5):
            df.loc[r, "sex"] = "W"
            df.loc[r + 10, "age"] = "n.a."
        df.loc[20, "patient_id"] = df.loc[21, "patient_id"]
        df.loc[30, "dxa_date"] = "31.02.2017"
        return df.drop(columns=["poor_quality"])
    _edit(data_copy, change)
    out = tmp_path / "study"
    with pytest.raises(InputError, match=r"13 faults in 12 row\(s\)") as err:
        cohort.build(data_copy, StudyLayout(out))
    assert "validation.csv" in str(err.value)
    report = pd.read_csv(out / "validation.csv", dtype={"row": "Int64"}, keep_default_na=False)
    counts = report.groupby("column").size().to_dict()
    assert counts == {"sex": 5, "age": 5, "patient_id": 1, "dxa_date": 1, "poor_quality": 1}
    dup = report[report.column == "patient_id"].iloc[0]
    assert dup["row"] == 23 and "first seen in row 22" in dup["problem"]
    from osteolib import validation
    summary = validation.summary(report)
    assert summary.set_index("column").loc["sex", "faults"] == 5
    # fixed: the study is built and the stale report removed
    (data_copy / "clinical.csv").write_bytes((tiny_data / "clinical.csv").read_bytes())
    cohort.build(data_copy, StudyLayout(out))
    assert (out / "cohort" / "cohort.csv").is_file() and not (out / "validation.csv").exists()


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="clinical.csv: file not found"):
        cohort.read_clinical(tmp_path)


def _row(pid, hip, spine, **kw):
    base = dict(patient_id=pid, image=f"images/{pid}.tif", sex="F", age="70", height_cm="150",
                weight_kg="50", tscore_hip=hip, tscore_spine=spine, antiresorptive="0",
                foreign_body="0", mandibular_fracture="0", poor_quality="0",
                dxa_date="2016-01-10", radiograph_date="2016-05-01")
    return {**base, **kw}


def test_label_boundary_and_sites(tmp_path):
    """WHO: T <= -2.5 is osteoporosis; the lower of hip and spine counts; either may be missing."""
    rows = [_row("a", "-2.5", ""), _row("b", "", "-2.5"), _row("c", "-2.4", ""), _row("d", "-2.50", "-1.0"),
            _row("e", "-1.0", "-2.6"), _row("f", "-2.49", "-2.49"), _row("g", "0.3", "-2.51"),
            _row("h", "-2.4", "-2.4")]
    pd.DataFrame(rows).to_csv(tmp_path / "clinical.csv", index=False)
    c = cohort.read_clinical(tmp_path, check_images=False).set_index("patient_id")
    assert c["label"].to_dict() == {"a": 1, "b": 1, "c": 0, "d": 1, "e": 1, "f": 0, "g": 1, "h": 0}
    assert c.loc["e", "tscore"] == -2.6 and c.loc["a", "tscore"] == -2.5
    assert c.loc["a", "bmi"] == pytest.approx(50 / 1.5 ** 2)


def test_exclusions_apply_in_the_papers_order(tmp_path):
    rows = [_row("a", "-3", ""), _row("b", "-3", "", antiresorptive="1", foreign_body="1"),
            _row("c", "-3", "", foreign_body="1", poor_quality="1"), _row("d", "-1", "", mandibular_fracture="1"),
            _row("e", "-1", "", radiograph_date="2017-03-01"), _row("f", "-1", "")]
    pd.DataFrame(rows).to_csv(tmp_path / "clinical.csv", index=False)
    included, flow = cohort.apply_exclusions(cohort.read_clinical(tmp_path, check_images=False))
    assert included["patient_id"].tolist() == ["a", "f"]
    f = flow.set_index("step")
    assert f["n_excluded"].to_dict() == {"screened": 0, "dxa_interval": 1, "antiresorptive": 1,
                                         "foreign_body": 1, "mandibular_fracture": 1, "poor_quality": 0}
    assert (f["n_before"] - f["n_excluded"] == f["n_after"]).all()
    assert (f["n_after"].iloc[:-1].to_numpy() == f["n_before"].iloc[1:].to_numpy()).all()


def test_cohort_table_against_scipy(paper_tables):
    """Table 3 p-values: scipy.stats.chi2_contingency (no Yates) and scipy.stats.ttest_ind (Student)."""
    included, _ = cohort.apply_exclusions(cohort.read_clinical(paper_tables, check_images=False))
    t = cohort.cohort_table(included).set_index("characteristic")
    op, non = included[included.label == 1], included[included.label == 0]
    p_age = stats.ttest_ind(op["age"], non["age"], equal_var=True).pvalue
    p_bmi = stats.ttest_ind(op["bmi"], non["bmi"], equal_var=True).pvalue
    table = np.array([[(op.sex == "F").sum(), (non.sex == "F").sum()], [(op.sex == "M").sum(), (non.sex == "M").sum()]])
    p_sex = stats.chi2_contingency(table, correction=False).pvalue
    assert t.loc["Age, years, mean (SD)", "p"] == pytest.approx(p_age, rel=1e-6)
    assert t.loc["BMI, kg/m2, mean (SD)", "p"] == pytest.approx(p_bmi, rel=1e-6)
    assert t.loc["Sex: female, n (% of all)", "p"] == pytest.approx(p_sex, rel=1e-6)
    # the paper's Table 3 cells, reproduced by the synthetic cohort
    assert t.loc["Patients, n"].tolist()[:2] == ["237", "541"]
    assert t.loc["Sex: female, n (% of all)", "osteoporosis"] == "223 (28.7%)"
    assert t.loc["Sex: male, n (% of all)", "non_osteoporosis"] == "195 (25.1%)"
    assert t.loc["Age, years, mean (SD)", "osteoporosis"] == "76.9 (7.2)"
    assert t.loc["BMI, kg/m2, mean (SD)", "non_osteoporosis"] == "22.5 (3.7)"
    assert (t["p_value"].iloc[1:].replace("", np.nan).dropna() == "<0.0001").all()


def test_build_writes_the_three_tables(tiny_data, tmp_path):
    result = cohort.build(tiny_data, StudyLayout(tmp_path))
    for name in ("flow.csv", "cohort.csv", "table3.csv"):
        assert (tmp_path / "cohort" / name).is_file()
    written = cohort.read_cohort(StudyLayout(tmp_path))
    assert {"patient_id", "label", "sex", "age", "bmi", "height_cm", "weight_kg", "image"} <= set(written.columns)
    assert len(written) == result["flow"]["n_after"].iloc[-1]
