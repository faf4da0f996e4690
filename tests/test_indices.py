"""What a dentist measures (osteolib.indices, notebook 02b): MCW and PMI on drawn profiles of known width, flags,
the agreement statistics against published examples, the Klemetti grader, the baselines on the study's splits, and
the measuring widget's clicks saved and resumed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from osteolib import annotate, baselines, indices, oracle, splits, synthetic
from osteolib.cam.pipeline import cortex_bands, measured_bands
from osteolib.indices import agreement, cortex, klemetti
from osteolib.layout import StudyLayout
from osteolib.settings import MeasureSettings


# --- the measurement on drawn profiles of known width ---------------------------------------------------------

@pytest.mark.parametrize("px_mm, tolerance", [(0.1, 0.02), (0.3, 0.05), (0.625, 0.15)])
@pytest.mark.parametrize("width_mm", [1.5, 3.0, 5.0])
def test_mcw_and_pmi_of_drawn_cortices_of_known_width(px_mm, tolerance, width_mm):
    """A straight, sloped border under a cortex of known width, blurred (0.8 px) and noisy: the width found on the
    perpendicular is the drawn one, sub-pixel (at 0.625 mm per pixel a 1.5 mm cortex is 2.4 px wide)."""
    errors, pmi_errors = [], []
    for seed in range(4):
        img, truth = cortex.drawn_profile_image(width_mm=width_mm, px_mm=px_mm, blur_mm=max(0.1, 0.8 * px_mm), seed=seed)
        m = cortex.measure(img, truth["x"], truth["y"], px_mm)
        assert not m.flag, m.reason
        errors.append(m.mcw_mm - width_mm)
        pmi_errors.append(m.pmi - truth["pmi"])
        assert m.mcw_anatomical_mm == pytest.approx(m.mcw_mm / 1.25)
    assert abs(np.mean(errors)) < tolerance and np.max(np.abs(errors)) < 3 * tolerance
    assert abs(np.mean(pmi_errors)) < 0.01


def test_the_perpendicular_not_the_column():
    """On a border sloped by 0.4 (22 degrees) the vertical width is 8 % more than the width measured."""
    img, truth = cortex.drawn_profile_image(width_mm=3.0, px_mm=0.1, slope=0.4)
    m = cortex.measure(img, truth["x"], truth["y"], 0.1)
    assert m.mcw_mm == pytest.approx(3.0, abs=0.03)
    assert abs(m.direction[0]) > 0.3          # the line leans with the border's normal


def test_anisotropic_pixels_measured_through_both_spacings():
    img, truth = cortex.drawn_profile_image(width_mm=3.0, px_mm=0.1, slope=0.0)
    m = cortex.measure(img, truth["x"], truth["y"], (0.1, 0.2))        # rows 0.1 mm, columns 0.2 mm
    assert m.mcw_mm == pytest.approx(3.0, abs=0.03)                    # vertical line: the row spacing


def test_flags_instead_of_numbers():
    img, truth = cortex.drawn_profile_image(width_mm=3.0, px_mm=0.1, cortex=120.0)   # cortex as dark as the marrow
    m = cortex.measure(img, truth["x"], truth["y"], 0.1)
    assert m.flag and m.reason == cortex.REASONS["no_cortex"] and np.isnan(m.mcw_mm) and np.isnan(m.pmi)
    flat = np.full((400, 400), 128, np.uint8)
    m = cortex.measure(flat, 200, 100, 0.1)
    assert m.flag and m.reason == cortex.REASONS["no_border"] and np.isnan(m.mcw_mm)
    m = cortex.measure(img, 200, 398, 0.1)
    assert m.flag and m.reason == cortex.REASONS["outside"]
    # without a pixel spacing: no width in mm, but the PMI (a ratio) is given
    img, truth = cortex.drawn_profile_image(width_mm=3.0, px_mm=0.1)
    m = cortex.measure(img, truth["x"], truth["y"], None)
    assert m.flag and m.reason == cortex.REASONS["no_spacing"] and np.isnan(m.mcw_mm)
    assert m.pmi == pytest.approx(truth["pmi"], abs=0.01)


def test_no_visible_cortex_on_a_radiograph(tiny_data):
    """A synthetic radiograph whose cortex is painted over with the marrow's gray is flagged, with the reason."""
    from osteolib import images
    from osteolib.datafolder import DataFolder
    t = synthetic.read_truth(tiny_data).iloc[0]
    gray = images.read_gray(DataFolder(tiny_data).image(f"images/{t['patient_id']}.tif"))
    x, y, border = t["foramen_left_x"], t["foramen_left_y"], t["border_y"]
    assert not cortex.measure(gray, x, y, 0.625).flag
    erased = gray.copy()
    rows = slice(int(y) + 2, int(border) + 2)           # the marrow runs down to the lower border
    erased[rows] = np.median(gray[int(y) + 3:int(y) + 8, int(x) - 20:int(x) + 20])
    m = cortex.measure(erased, x, y, 0.625)
    assert m.flag and m.reason in (cortex.REASONS["no_cortex"], cortex.REASONS["no_border"]) and np.isnan(m.mcw_mm)


# --- agreement statistics against published examples ---------------------------------------------------------

# Bland J.M., Altman D.G. Lancet 327:307-310 (1986), Table 1: peak expiratory flow rate (l/min) of 17 subjects,
# the first reading with the Wright meter and with the mini Wright meter. The paper: mean difference -2.1, SD 38.8,
# limits -79.7 to 75.5 (with 2 SD; 1.96 SD gives -78.1 to 73.9).
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_reproduces_the_lancet_example():
    r = agreement.bland_altman(WRIGHT, MINI)
    assert r["n"] == 17 and r["bias"] == pytest.approx(-2.1, abs=0.05) and r["sd"] == pytest.approx(38.8, abs=0.05)
    assert r["bias"] - 2 * r["sd"] == pytest.approx(-79.7, abs=0.1) and r["bias"] + 2 * r["sd"] == pytest.approx(75.5, abs=0.1)
    assert (r["loa_low"], r["loa_high"]) == pytest.approx((-78.1, 73.9), abs=0.1)


# Shrout P.E., Fleiss J.L. Psychol Bull 86:420 (1979), Table 2: 6 targets rated by 4 judges; ICC(2,1) = 0.29
# (two-way random, absolute agreement: McGraw & Wong's ICC(A,1)), ICC(3,1) = 0.71, ICC(1,1) = 0.17.
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)


def test_icc_a1_is_shrout_and_fleiss_icc21():
    long = pd.DataFrame([(i, j, SHROUT_FLEISS[i, j]) for i in range(6) for j in range(4)], columns=["t", "r", "y"])
    table = pg.intraclass_corr(long, targets="t", raters="r", ratings="y").set_index("Type")["ICC"]
    assert table["ICC(A,1)"] == pytest.approx(0.29, abs=0.005)
    assert table["ICC(C,1)"] == pytest.approx(0.71, abs=0.005) and table["ICC(1,1)"] == pytest.approx(0.17, abs=0.005)
    # ours on two judges, against McGraw & Wong's formula from the two-way ANOVA's mean squares, by hand
    y = SHROUT_FLEISS[:, [0, 3]]
    n, k = y.shape
    grand = y.mean()
    msr = k * ((y.mean(1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((y.mean(0) - grand) ** 2).sum() / (k - 1)
    mse = ((y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + grand) ** 2).sum() / ((n - 1) * (k - 1))
    by_hand = (msr - mse) / (msr + (k - 1) * mse + k / n * (msc - mse))
    assert agreement.icc(y[:, 0], y[:, 1])["icc"] == pytest.approx(by_hand, abs=1e-9)


def test_weighted_kappa_agrees_with_statsmodels():
    rng = np.random.default_rng(0)
    a = rng.choice(klemetti.GRADES, 200, p=[0.6, 0.3, 0.1])
    b = np.where(rng.random(200) < 0.7, a, rng.choice(klemetti.GRADES, 200))
    table = pd.crosstab(pd.Categorical(a, klemetti.GRADES), pd.Categorical(b, klemetti.GRADES), dropna=False).to_numpy()
    assert klemetti.kappa(a, b) == pytest.approx(cohens_kappa(table, wt="linear").kappa, abs=1e-9)


def test_grader_refuses_too_few_examples_and_never_grades_a_row_with_its_own_grade():
    rng = np.random.default_rng(1)
    grades = pd.Series(np.repeat(klemetti.GRADES, 20))
    x = pd.DataFrame(rng.normal(0, 1, (60, 3)), columns=klemetti.FEATURES)
    with pytest.raises(ValueError, match="too few graded"):
        klemetti.cross_grade(x.iloc[:20], grades.iloc[:20])
    # features that carry nothing: out-of-fold grades are no better than chance (a model that saw each row's own
    # grade would memorise some); the same features with the grade written into one give near-perfect kappa
    assert klemetti.kappa(grades, klemetti.cross_grade(x, grades, seed=0)) < 0.4
    x2 = x.assign(margin_roughness=klemetti.grade_number(grades) + rng.normal(0, 0.1, 60))
    assert klemetti.kappa(grades, klemetti.cross_grade(x2, grades, seed=0)) > 0.9


# --- the pipeline on the tiny synthetic cohort -------------------------------------------------------------------

def test_indices_of_a_study_agree_with_the_truth(tiny_study, tiny_data):
    layout = StudyLayout(tiny_study)
    table = indices.read(layout)
    assert set(table["side"]) == {"left", "right"} and len(table) == 2 * table["patient_id"].nunique()
    flagged = table[table["flag"]]
    assert flagged["reason"].ne("").all()
    # a flagged side has no width, except where only the foramen was not found: its MCW stands, its PMI does not
    pmi_only = flagged["reason"] == cortex.REASONS["no_foramen"]
    assert flagged.loc[~pmi_only, "mcw_mm"].isna().all() and flagged.loc[pmi_only, "pmi"].isna().all()
    assert table["mcw_mm"].notna().mean() > 0.9
    agree = pd.read_csv(layout.indices_table("agreement")).set_index(["measure", "reference"])
    mcw = agree.loc[("MCW, automatic", "cortex width at the left foramen (truth)")]
    # at 0.625 mm per pixel: a bias of the film response (about 0.2-0.3 mm, see the docs), limits within 1 mm
    assert abs(mcw["bias"]) < 0.4 and mcw["loa_high"] - mcw["loa_low"] < 2.0 and mcw["icc"] > 0.8
    assert agree.loc[("PMI, automatic", "PMI at the left foramen (truth)"), "icc"] > 0.8
    assert agree.loc[("MCI, automatic", "cortical index (truth)"), "kappa"] > 0.2
    per = indices.per_patient(table)
    assert per["mci"].isin(klemetti.GRADES).all() and (per["n_sides"] <= 2).all()


def test_measured_cortex_overlaps_the_truth_in_the_roi(tiny_study, tiny_data):
    layout = StudyLayout(tiny_study)
    ids = pd.read_csv(layout.rois_csv, dtype={"patient_id": str})["patient_id"].tolist()[:30]
    measured, truth = measured_bands(layout, indices.read(layout), ids), cortex_bands(tiny_data, layout, ids)
    has = measured.any(axis=(1, 2))
    iou = (measured & truth).sum(axis=(1, 2))[has] / (measured | truth).sum(axis=(1, 2))[has]
    assert has.mean() > 0.9 and np.median(iou) > 0.5


def test_index_baselines_use_the_study_splits_and_only_training_parts(tiny_study):
    layout = StudyLayout(tiny_study)
    patients = pd.read_csv(layout.cohort_csv, dtype={"patient_id": str})
    folds = splits.read(layout)
    measured = indices.per_patient(indices.read(layout))
    pred = baselines.predict(patients, folds, measured)
    assert set(pred["arm"]) == {"covariates", "osta", *baselines.INDEX_ARMS}
    for arm, g in pred.groupby("arm"):   # every patient predicted once per repeat, on the study's own test parts
        test = folds[folds["role"] == "test"].set_index(["repeat", "patient_id"])["fold"]
        assert g.set_index(["repeat", "patient_id"])["fold"].sort_index().equals(test.sort_index().rename("fold"))
    rule = pred[pred["arm"] == "mcw_rule"]
    assert (rule["threshold"] == 0.5).all()
    m = rule.merge(measured, on="patient_id")
    refer = (m["mcw_mm"] <= baselines.MCW_CUTOFF_MM) | m["cortex_not_visible"]
    assert ((m["p_osteoporosis"] >= 0.5) == refer)[m["mcw_mm"].notna() | m["cortex_not_visible"]].all()
    # what the test part holds changes nothing fitted: its patients' indices and labels scrambled, the
    # validation patients' predictions and the threshold of that fold stay
    part = folds[(folds["repeat"] == 0) & (folds["fold"] == 0)]
    test_ids = set(part.loc[part["role"] == "test", "patient_id"])
    val_ids = part.loc[part["role"] == "val", "patient_id"]
    scrambled = measured.copy()
    hit = scrambled["patient_id"].isin(test_ids)
    scrambled.loc[hit, ["mcw_mm", "pmi"]] = [[0.1, 9.0]]
    scrambled.loc[hit, "mci_grade"] = 3.0
    flipped = patients.assign(label=np.where(patients["patient_id"].isin(test_ids), 1 - patients["label"], patients["label"]))
    one = folds[(folds["repeat"] == 0) & (folds["fold"] == 0)]
    for arm, fit in (("mcw_pmi_covariates", baselines._indices(True)), ("mci", baselines._mci), ("mcw_pmi", baselines._indices(False))):
        a = baselines.out_of_fold(patients.merge(measured, on="patient_id"), one, fit)
        b = baselines.out_of_fold(flipped.merge(scrambled, on="patient_id"), one, fit)
        assert a["threshold"].iloc[0] == pytest.approx(b["threshold"].iloc[0]), arm
    c = patients.merge(measured, on="patient_id").set_index("patient_id")
    d = flipped.merge(scrambled, on="patient_id").set_index("patient_id")
    train = part.loc[part["role"] == "train", "patient_id"]
    for fit in (baselines._indices(True), baselines._mci, baselines._mcw_rule):
        assert np.allclose(fit(c.loc[train], c.loc[val_ids]), fit(d.loc[train], d.loc[val_ids]))


def test_oracle_bounds_what_a_dentist_measures(paper_tables):
    from osteolib import cohort
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(paper_tables, check_images=False))
    t = oracle.table(patients, synthetic.read_truth(paper_tables), splits.make(patients, n_repeats=1, seed=0))
    t = t.set_index("features")["auc_mean"]
    assert t["MCW truth"] < t["image truth"] and t["MCW truth + covariates"] > t["MCW truth"]
    assert t["MCW truth + covariates"] <= t["both"] + 0.01


# --- the measuring widget --------------------------------------------------------------------------------------

def test_measuring_clicks_and_keys_saved_after_every_patient_and_resumed(data_copy):
    s = annotate.Measuring(data_copy, "reader_a", width=600)
    first, second = s.queue[:2]
    assert s.n_done == 0 and s.side == "left" and s.sides == ["left", "right"]
    row = s.clinical.loc[first]
    assert s.spacing == (row["spacing_row_mm"], row["spacing_col_mm"])
    fx, fy = s.foramina[(first, "left")]
    s.click(fx + 2, fy + 25)                                  # left periosteal ...
    s.on_event({"type": "keydown", "key": "u"})                 # ... undone
    assert s.marks["left"] == {}
    x0, y0, _, _ = s.view()                                    # a click on the displayed picture, as ipyevents sends it
    s.on_event({"type": "click", "dataX": (fx + 2 - x0) * s._scale, "dataY": (fy + 25 - y0) * s._scale})
    s.click(fx + 1, fy + 20)                                  # left endosteal: 5 px up, 1 px across
    assert s.side == "right" and s.mcw_mm("left") == pytest.approx(np.hypot(1, 5) * 0.625, abs=1e-6)
    assert not s.accept()                                     # the right side is missing
    s.key("x")                                                # right cortex not measurable
    s.key("2")
    assert s.ready() and s.picture()[:4] == b"\x89PNG"
    s.key("Enter")
    saved = pd.read_csv(data_copy / "measurements" / "reader_a.csv", dtype={"patient_id": str, "mci": str})
    assert saved[["patient_id", "side", "mci"]].values.tolist() == [[first, "left", "C2"], [first, "right", "C2"]]
    assert saved.loc[0, "mcw_mm"] == pytest.approx(np.hypot(1, 5) * 0.625, abs=1e-3) and np.isnan(saved.loc[1, "mcw_mm"])
    assert s.current == second
    # closed and opened again: it resumes after the saved patient, and the study reads the file
    resumed = annotate.Measuring(data_copy, "reader_a")
    assert resumed.current == second and resumed.n_done == 1
    readers = indices.study.read_readers(data_copy)
    assert list(readers) == ["reader_a"] and len(readers["reader_a"]) == 2
    assert not list((data_copy / "measurements").glob(".*"))          # written atomically, nothing left
    with pytest.raises(ValueError, match="plain name"):
        annotate.Measuring(data_copy, "../elsewhere")


def test_two_readers_give_inter_observer_agreement(data_copy, tiny_study):
    """Two clinicians' files (made here from the truth, with reader noise): inter-observer ICC and kappa, each
    against the automatic measurement and the truth."""
    truth = synthetic.read_truth(data_copy)
    rng = np.random.default_rng(0)
    (data_copy / "measurements").mkdir()
    for name, sd in (("reader_a", 0.2), ("reader_b", 0.3)):
        flip = rng.random(len(truth)) < 0.15
        grade = np.where(flip, rng.choice(klemetti.GRADES, len(truth)), truth["cortical_index"])
        pd.DataFrame({"patient_id": truth["patient_id"], "side": "left",
                      "mcw_mm": truth["cortex_width_mm"] * 1.25 + rng.normal(0, sd, len(truth)), "mci": grade}
                     ).to_csv(data_copy / "measurements" / f"{name}.csv", index=False)
    table = indices.read(StudyLayout(tiny_study))
    readers = indices.study.read_readers(data_copy)
    t = indices.agreement_table(table, truth, readers, 1.25).set_index(["measure", "reference"])
    inter = t.loc[("MCW, reader_a", "MCW, reader_b")]
    assert inter["n"] == len(truth) and 0.7 < inter["icc"] < 1 and abs(inter["bias"]) < 0.1
    assert t.loc[("MCI, reader_a", "MCI, reader_b"), "kappa"] > 0.5
    assert t.loc[("MCW, reader_a", "cortex width at the left foramen (truth)"), "icc"] > 0.8
    assert ("MCW, automatic", "MCW, reader_b") in t.index
    # the clinicians' grades are the examples the grader learns from
    ref, source = indices.study.reference_grades(table, readers, truth)
    assert source.startswith("clinicians") and ref[table["side"] == "right"].isna().all()
    bad = pd.DataFrame({"patient_id": ["P0001"], "side": ["left"], "mcw_mm": [3.0], "mci": ["C4"]})
    bad.to_csv(data_copy / "measurements" / "reader_c.csv", index=False)
    with pytest.raises(Exception, match="reader_c.csv, row 2, column 'mci'"):
        indices.study.read_readers(data_copy)


def test_settings_default_is_the_panoramic_magnification():
    assert MeasureSettings().magnification == 1.25 == synthetic.radiograph.MAG
