"""Several hospitals: the multi-centre synthetic cohort, the site column through the cohort, internal-external
cross-validation (osteolib.external) and a model carried to a new site; and a tiny multi-site study end to end."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from osteolib import cohort, config, external, paths, splits, synthetic, validation
from osteolib.layout import StudyLayout
from osteolib.synthetic import hospitals
from osteolib.synthetic.clinical import PAPER_AGE, PAPER_GROUPS
from test_notebooks import assert_manifest_hashes_the_declared_inputs

SITES = "study:902,dxa_clinic:240,dental_clinic:240,other_unit:240"


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    """The multisite profile's hospitals, tables only."""
    return synthetic.generate(tmp_path_factory.mktemp("ms") / "d", images=False, progress=False, sites=SITES)


def test_the_study_site_is_the_single_site_cohort_and_table3_stays_exact(multi, tmp_path):
    one = synthetic.generate(tmp_path / "one", 902, images=False, progress=False)
    for name in ("clinical.csv", "landmarks.csv", "truth.csv"):
        a = pd.read_csv(one / name, dtype={"patient_id": str})
        b = pd.read_csv(multi / name, dtype={"patient_id": str})
        b = b[b["patient_id"].str.startswith("P")].drop(columns="site", errors="ignore").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(multi, check_images=False))
    study = patients[patients["site"] == "study"]
    counts = study.groupby(["label", "sex"]).size().to_dict()
    assert counts == PAPER_GROUPS
    table = cohort.per_site_table(patients)
    block = table[table["site"] == "study"].set_index("characteristic")
    assert block.loc["Age, years, mean (SD)", "osteoporosis"] == "%.1f (%.1f)" % PAPER_AGE[1]


def test_every_site_has_its_own_population_units_and_record(multi):
    clinical = pd.read_csv(multi / "clinical.csv", dtype={"patient_id": str})
    truth = pd.read_csv(multi / "truth.csv", dtype={"patient_id": str})
    assert clinical["patient_id"].is_unique and list(clinical["site"].unique()) == [s.split(":")[0] for s in SITES.split(",")]
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(multi, check_images=False))
    prevalence = patients.groupby("site")["label"].mean()
    for site in hospitals.parse(SITES):
        assert prevalence[site.name] == pytest.approx(site.prevalence, abs=0.01), site.name
        assert set(truth.loc[truth["site"] == site.name, "device"]) == set(site.devices)
    dental = patients[patients["site"] == "dental_clinic"]
    assert dental["age"].mean() < patients.loc[patients["site"] == "study", "age"].mean() - 8
    assert (dental["sex"] == "M").mean() > 0.4
    spec = json.loads((multi / "synthetic.json").read_text())
    assert [s["name"] for s in spec["sites"]] == ["study", "dxa_clinic", "dental_clinic", "other_unit"]
    for s in spec["sites"]:
        assert s["shift"] and s["source"] and s["landmark_sd_mm"] > 0
    assert spec["sites_drawn"]["dental_clinic"]["devices"] == ["P2"]


def test_a_site_on_another_unit_is_rendered_through_the_study_unit_too(tmp_path):
    """The counterfactual radiographs: the same patient through the study's unit; through its own unit it is the
    very radiograph generated (so only the unit's image chain differs)."""
    import tifffile
    d = synthetic.generate(tmp_path / "d", sites="study:40,other_unit:30", scale=0.16, seed=2, jobs=1, progress=False)
    cf = synthetic.read_counterfactual(d)
    truth = synthetic.read_truth(d)
    assert set(cf["site"]) == {"other_unit"} and len(cf) == (truth["site"] == "other_unit").sum()
    assert set(cf["unit"]) == {"P3"} and set(cf["counterfactual_unit"]) == {"P1"}
    own, through = tifffile.imread(d / "images" / "U0001.tif"), tifffile.imread(d / cf["image"].iloc[0])
    assert own.shape == through.shape and np.abs(own.astype(int) - through).mean() > 5     # another look, same frame
    row = truth[truth["patient_id"] == "P0001"].iloc[0].to_dict()
    assert synthetic.through_unit(row, "P1") == row                                        # P1 through P1: itself
    p3 = truth[truth["patient_id"] == "U0001"].iloc[0].to_dict()
    back = synthetic.through_unit(synthetic.through_unit(p3, "P1"), "P3")
    assert back["gamma"] == pytest.approx(p3["gamma"]) and back["blur_mm"] == pytest.approx(p3["blur_mm"])


def test_a_site_never_changes_another_sites_patients(tmp_path):
    a = synthetic.generate(tmp_path / "a", images=False, progress=False, sites="study:120,dxa_clinic:120")
    b = synthetic.generate(tmp_path / "b", images=False, progress=False, sites="dxa_clinic:120,other_unit:120")
    read = lambda d: pd.read_csv(d / "clinical.csv", dtype={"patient_id": str}).query("site == 'dxa_clinic'")
    pd.testing.assert_frame_equal(read(a).reset_index(drop=True), read(b).reset_index(drop=True))


@pytest.mark.parametrize("text, message", [("hospital_x", "unknown site 'hospital_x'"),
                                           ("study,study", "named twice"), ("dxa_clinic:10", "at least 20 screened")])
def test_bad_sites_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        synthetic.generate(tmp_path / "x", images=False, progress=False, sites=text)
    with pytest.raises(config.ParameterError, match="sites"):
        config.CohortParams(sites=text)


def test_a_bad_site_value_names_its_row_and_column(multi, tmp_path):
    import shutil
    d = tmp_path / "bad"
    shutil.copytree(multi, d)
    df = pd.read_csv(d / "clinical.csv", dtype=str, keep_default_na=False)
    df.loc[4, "site"] = "dental clinic?"
    df.to_csv(d / "clinical.csv", index=False)
    with pytest.raises(validation.ValidationError) as e:
        cohort.read_clinical(d, check_images=False)
    fault = e.value.faults.iloc[0]
    assert (fault["row"], fault["column"]) == (6, "site") and "not a plain name" in fault["problem"]


def test_leave_site_out_on_the_cohort_holds_every_site_out_whole(multi):
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(multi, check_images=False))
    s = splits.leave_site_out(patients, n_repeats=2, seed=0)
    splits.check_sites(s, patients)
    assert s.groupby("repeat")["fold"].nunique().tolist() == [4, 4]
    test = s[s["role"] == "test"].merge(patients[["patient_id", "site"]], on="patient_id", suffixes=("_held", ""))
    assert (test["site"] == test["site_held"]).all()


# --- internal-external CV and transport on planted predictions -------------------------------------------

def _planted(seed=0, n=600):
    """Three sites' out-of-site predictions of one model: A as at home, B a pure prevalence shift (patients of
    each class drawn as at A, half of them osteoporotic instead of about a third), C a noisier image (worse
    ranking)."""
    rng = np.random.default_rng(seed)
    rows = []
    for fold, (site, share, noise) in enumerate((("A", None, 0.0), ("B", 0.5, 0.0), ("C", None, 1.5))):
        lp = rng.normal(-1, 1.5, 4 * n)
        y = rng.random(4 * n) < 1 / (1 + np.exp(-lp))
        pick = (np.arange(n) if share is None else
                np.r_[np.flatnonzero(y)[:int(share * n)], np.flatnonzero(~y)[:n - int(share * n)]])
        lp, y = lp[pick], y[pick]
        p = 1 / (1 + np.exp(-(lp + rng.normal(0, noise, n))))
        rows.append(pd.DataFrame({"repeat": 0, "fold": fold, "patient_id": [f"{site}{i:04d}" for i in range(n)],
                                  "y_true": y.astype(int), "p_osteoporosis": p, "site": site,
                                  "backbone": "resnet18", "arm": "image"}))
    return pd.concat(rows, ignore_index=True)


def test_iecv_and_pooled_find_the_planted_shifts_for_the_right_reason():
    pred = _planted()
    t = external.iecv(pred).set_index("site")
    assert list(external.IECV_COLUMNS[:3]) == ["backbone", "arm", "repeat"]
    assert t.loc["B", "calibration_intercept"] > 0.5 and abs(t.loc["A", "calibration_intercept"]) < 0.25
    assert abs(t.loc["B", "auc"] - t.loc["A", "auc"]) < 0.05 and t.loc["C", "auc"] < t.loc["A", "auc"] - 0.05
    assert t.loc["C", "calibration_slope"] < 0.75
    pooled = external.pooled(t.reset_index())
    assert set(pooled["metric"]) == {"auc", "calibration_slope", "calibration_intercept"}
    row = pooled.set_index("metric").loc["calibration_intercept"]
    assert row["tau2"] > 0.1 and row["pi_low"] < row["ci_low"] <= row["estimate"] <= row["ci_high"] < row["pi_high"]


def test_transport_the_intercept_fixes_a_prevalence_shift_and_leaves_the_auc():
    moved = external.transport(_planted(), fraction=0.5, seed=0).set_index(["site", "update"])
    b = moved.loc["B"]
    assert b.loc["none", "calibration_intercept"] > 0.5
    assert abs(b.loc["intercept", "calibration_intercept"]) < 0.15
    assert b.loc["intercept", "auc"] == pytest.approx(b.loc["none", "auc"])
    assert b.loc["intercept", "brier"] < b.loc["none", "brier"]
    assert b.loc["head", "reason"] == "head refit not run"
    c = moved.loc["C"]
    assert abs(c.loc["logistic", "calibration_slope"] - 1) < abs(c.loc["none", "calibration_slope"] - 1)
    # the local sample and the evaluation part never overlap, and every update is judged on the same part
    assert (moved["n_local"] + moved["n_eval"] == 600).all()
    local, rest = external.split_local(np.arange(600), _planted().query("site == 'B'")["y_true"], 0.5, 0, "B")
    assert not set(local) & set(rest) and len(local) + len(rest) == 600


def test_transport_asks_the_head_refit_with_disjoint_patients_of_the_site():
    seen = []

    def head(backbone, arm, repeat, fold, site, local_ids, eval_ids):
        seen.append((site, fold, set(local_ids), set(eval_ids)))
        return np.full(len(eval_ids), 0.5) if site != "C" else "no kept model of fold 2"
    moved = external.transport(_planted(), head=head).set_index(["site", "update"])
    assert [(s, f) for s, f, _, _ in seen] == [("A", 0), ("B", 1), ("C", 2)]
    assert all(not a & b and all(i.startswith(s) for i in a | b) for s, _, a, b in seen)
    assert moved.loc[("A", "head"), "auc"] == 0.5 and moved.loc[("C", "head"), "reason"] == "no kept model of fold 2"


def test_refit_head_learns_from_the_local_features_and_refuses_one_class():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 20))
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    from sklearn.metrics import roc_auc_score
    q = external.refit_head(x[:150], y[:150], x[150:])
    assert roc_auc_score(y[150:], q) > 0.85
    with pytest.raises(ValueError, match="fewer than 2 patients of a class"):
        external.refit_head(x[:20], np.r_[np.zeros(19), 1], x[20:])


def test_learning_curves_keep_the_sizes_a_site_can_spare():
    lc = external.learning_curves(_planted(), sizes=[50, 200, 590], draws=3)
    assert sorted(lc["n_local"].unique()) == [50, 200] and set(lc["update"]) == {"none", "intercept", "logistic"}
    b = lc[(lc["site"] == "B")].groupby(["update", "n_local"])["intercept"].median()
    assert abs(b[("intercept", 200)]) < abs(b[("none", 200)])


def test_held_out_needs_splits_that_hold_sites_out():
    pred = _planted().drop(columns="site")
    with pytest.raises(ValueError, match="split: leave_site_out"):
        splits.held_out(pred, pd.DataFrame({"repeat": [0], "fold": [0], "patient_id": ["A0000"], "role": ["test"]}))


# --- a tiny multi-site study, end to end -----------------------------------------------------------------

@pytest.mark.slow
def test_a_tiny_multisite_study_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.OUTPUTS_ENV, str(tmp_path / "outputs"))
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "data"))
    values = {**config.load_profile("smoke"), "study": "pytest-ms", "n_repeats": 1, "repeats": "0", "max_epochs": 1,
              "patience": 1, "n_boot": 100, "n_sim": 0, "sites": "study:120,dxa_clinic:100,other_unit:100",
              "split": "leave_site_out", "learning_sizes": "20", "draws": 2}
    profile = tmp_path / "ms.yaml"
    profile.write_text(yaml.safe_dump(values))
    run = lambda *a: subprocess.run([sys.executable, "-m", "snakemake", "-s", "workflow/Snakefile", "--cores", "2",
                                     "--config", f"profile={profile}", *a], cwd=paths.ROOT, capture_output=True,
                                    text=True)
    dry = run("--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "external" in dry.stdout
    done = run("--quiet")
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    lay = StudyLayout(tmp_path / "outputs" / "pytest-ms")
    patients = pd.read_csv(lay.cohort_csv, dtype={"patient_id": str})
    splits.check_sites(splits.read(lay), patients)
    for arm in ("image", "ensemble"):
        for fold in range(3):  # every site's model kept
            assert (lay.kept_model("resnet18", arm) / f"model_f{fold}.safetensors").is_file()
    iecv = pd.read_csv(lay.external_table("iecv"))
    assert {"site", "backbone", "arm", "n", "prevalence", "auc", "calibration_intercept", "calibration_slope",
            "brier"} <= set(iecv.columns)
    assert len(iecv) == 3 * 4  # 3 sites x (2 arms + covariates + OSTA)
    assert iecv.groupby("site")["n"].first().to_dict() == patients.groupby("site").size().to_dict()
    pooled = pd.read_csv(lay.external_table("pooled"))
    assert {"estimate", "ci_low", "ci_high", "tau2", "i2", "pi_low", "pi_high"} <= set(pooled.columns)
    moved = pd.read_csv(lay.external_table("transport"))
    assert set(moved["update"]) == set(external.UPDATES)
    assert moved.loc[(moved["update"] == "head") & (moved["backbone"] == "resnet18"), "auc"].notna().all()
    shifts = pd.read_csv(lay.external_table("shifts"))
    assert shifts["planted"].str.contains("prevalence").any()
    # the device alone: the other unit's patients predicted again through the study's unit, by the same model
    device = pd.read_csv(lay.external_table("device"))
    assert set(device["site"]) == {"other_unit"} and set(device["unit"]) == {"P3"} and len(device) == 2
    assert (device["ci_low"] <= device["device_cost"]).all() and (device["device_cost"] <= device["ci_high"]).all()
    assert shifts.loc[(shifts["site"] == "other_unit") & (shifts["backbone"] != "baseline"), "device_cost"].notna().all()
    assert "data_dir/counterfactual.csv" in assert_manifest_hashes_the_declared_inputs("06_external", values)["inputs"]
    assert pd.read_csv(lay.cohort_table("oracle"))["site"].nunique() == 3
    assert pd.read_csv(lay.cohort_table("table3_sites"))["site"].nunique() == 4  # 3 sites + the tests across them
    for name in ("external_forest", "external_calibration", "external_decision", "external_learning_curve"):
        assert lay.figure(name).is_file()
    manifest = assert_manifest_hashes_the_declared_inputs("06_external", values)
    assert any("model_f2.safetensors" in k for k in manifest["inputs"])


def test_the_report_says_the_design_of_a_study_that_holds_sites_out(tmp_path):
    from osteolib import report
    lay = StudyLayout(tmp_path / "s")
    lay.splits_csv.parent.mkdir(parents=True)
    pd.DataFrame({"repeat": 0, "fold": [0, 1, 2], "patient_id": ["a", "b", "c"], "role": "test",
                  "site": ["A", "B", "C"]}).to_csv(lay.splits_csv, index=False)
    assert "each of 3 sites held out" in report._design(lay, {"split": "leave_site_out", "n_repeats": 1})
    assert report._design(lay, {"split": "cv"}) is None


# --- several ingested folders combined into one ------------------------------------------------------------

def _real_like(tmp_path, name, seed):
    """A small data folder without the generator's truth, as ingest writes one (ids P0001 ...)."""
    import shutil
    d = synthetic.generate(tmp_path / name, n_screened=30, scale=0.05, seed=seed, progress=False)
    for p in ("truth.csv", "synthetic.json"):
        (d / p).unlink()
    shutil.rmtree(d / "cortex")
    return d


def test_ingested_folders_are_combined_into_one_multisite_folder(tmp_path):
    from osteolib import ingest
    a, b = _real_like(tmp_path, "a", 1), _real_like(tmp_path, "b", 2)
    assert ingest.main(["--combine", f"hospA={a}", f"hospB={b}", "--out", str(tmp_path / "both")]) == 0
    both = tmp_path / "both"
    clinical = cohort.read_clinical(both)
    assert clinical.groupby("site").size().to_dict() == {"hospA": 30, "hospB": 30}
    assert clinical["patient_id"].is_unique and clinical["patient_id"].iloc[0] == "hospA-P0001"
    src = pd.read_csv(b / "clinical.csv", dtype=str)
    row = clinical[clinical["patient_id"] == f"hospB-{src['patient_id'].iloc[3]}"].iloc[0]
    assert (both / row["image"]).read_bytes() == (b / src["image"].iloc[3]).read_bytes()
    lm = pd.read_csv(both / "landmarks.csv", dtype={"patient_id": str})
    assert set(lm["patient_id"]) == set(clinical["patient_id"]) and len(lm) == 120
    record = json.loads((both / "ingest.json").read_text())
    assert record["patients"] == {"hospA": 30, "hospB": 30} and record["id_rule"] == "<site>-<patient_id>"


def test_combining_refuses_what_it_cannot_combine_and_writes_nothing(tmp_path):
    from osteolib import ingest
    from osteolib.errors import InputError, ParameterError
    a, b = _real_like(tmp_path, "a", 1), _real_like(tmp_path, "b", 2)
    with pytest.raises(ParameterError, match="at least 2 sites"):
        ingest.combine({"A": a}, tmp_path / "x")
    with pytest.raises(ParameterError, match="not a plain name"):
        ingest.combine({"A": a, "B c": b}, tmp_path / "x")
    synth = synthetic.generate(tmp_path / "s", n_screened=30, scale=0.05, images=False, progress=False)
    with pytest.raises(ParameterError, match="synthetic cohort"):
        ingest.combine({"A": a, "S": synth}, tmp_path / "x")
    (b / "landmarks.csv").unlink()
    with pytest.raises(ParameterError, match="landmarks.csv in some sites but not in B"):
        ingest.combine({"A": a, "B": b}, tmp_path / "x")
    c = _real_like(tmp_path, "c", 3)
    first = pd.read_csv(c / "clinical.csv", dtype=str)["image"].iloc[0]
    (c / first).unlink()
    with pytest.raises(InputError, match="not found") as e:
        ingest.combine({"A": a, "C": c}, tmp_path / "x")
    assert e.value.row == 2 and e.value.column == "image"
    assert not (tmp_path / "x").exists()


# --- a screening bundle carried to another hospital's data folder -------------------------------------------

@pytest.fixture(scope="module")
def bundle_dir(tiny_study, tmp_path_factory):
    """The tiny study's resnet18 ensemble, repeat 0 (1 epoch), as a screening bundle."""
    import torch
    from conftest import copy_study
    from osteolib import bundle, training
    from osteolib.settings import TrainingSettings
    study = copy_study(tiny_study, tmp_path_factory.mktemp("carry") / "study")
    s = TrainingSettings(backbone="resnet18", lr=0.01, batch_size=16, max_epochs=1, patience=1, hidden=16,
                         fusion="concat+skip")
    training.run(training.TrainingData(StudyLayout(study), torch.device("cpu")), s, ["ensemble"], [0])
    return bundle.write(StudyLayout(study), "resnet18", "ensemble", study.parent / "bundle")


def test_a_bundle_is_carried_to_another_data_folder_and_updated_there(bundle_dir, tmp_path):
    from osteolib.synthetic.clinical import make_tables  # noqa: F401 (the other site is drawn by the generator)
    other = synthetic.generate(tmp_path / "other_unit", scale=0.16, seed=9, progress=False, jobs=1,
                               sites="other_unit:160")
    out = tmp_path / "carried"
    assert external.main(["carry", "--bundle", str(bundle_dir), "--data", str(other), "--out", str(out),
                          "--sizes", "20,40", "--draws", "2"]) == 0
    lay = StudyLayout(out)
    patients = pd.read_csv(lay.cohort_csv, dtype={"patient_id": str})
    pred = pd.read_csv(lay.external_table("predictions"), dtype={"patient_id": str})
    assert list(pred["patient_id"]) == list(patients["patient_id"]) and pred["p_osteoporosis"].between(0, 1).all()
    site = pd.read_csv(lay.external_table("site"))
    assert len(site) == 1 and site["site"].iloc[0] == "other_unit" and site["n"].iloc[0] == len(patients)
    moved = pd.read_csv(lay.external_table("transport"))
    assert list(moved["update"]) == list(external.UPDATES) and moved["auc"].notna().all()
    # the ranking is the bundle's own until the head is refitted
    assert moved.loc[moved["update"] != "head", "auc"].nunique() == 1
    assert len(list((out / "rois").glob("*.png"))) == len(patients)
    record = json.loads((lay.external_dir / "carry.json").read_text())
    assert record["site"] == "other_unit" and record["patients"] == len(patients)
    for name in ("external_calibration", "external_decision", "external_learning_curve"):
        assert lay.figure(name).is_file()


def test_carrying_to_a_faulty_data_folder_writes_its_faults_beside_and_nothing_else(bundle_dir, tmp_path):
    import shutil
    from osteolib.validation import ValidationError
    d = tmp_path / "bad"
    shutil.copytree(synthetic.generate(tmp_path / "src", n_screened=40, scale=0.16, progress=False, jobs=1), d)
    df = pd.read_csv(d / "clinical.csv", dtype=str, keep_default_na=False)
    df.loc[2, "sex"] = "X"
    df.to_csv(d / "clinical.csv", index=False)
    with pytest.raises(ValidationError, match="unknown sex code"):
        external.carry(bundle_dir, d, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and (tmp_path / "out-validation.csv").is_file()


def test_planted_shifts_take_the_case_mix_out_through_the_oracle(tmp_path):
    d = synthetic.generate(tmp_path / "d", images=False, progress=False, sites="study:120,other_unit:120")
    iecv = pd.DataFrame({"site": ["study", "other_unit"], "backbone": "resnet18", "arm": "image", "repeat": 0,
                         "prevalence": 0.3, "auc": [0.84, 0.83], "calibration_intercept": [0.0, -0.5],
                         "calibration_slope": 1.0})
    moved = iecv.assign(update="intercept", calibration_intercept=[0.0, 0.05])
    oracle = pd.DataFrame({"features": "image truth", "site": ["study", "other_unit"], "auc_mean": [0.88, 0.91]})
    s = external.planted_shifts(iecv, moved, d, oracle).set_index("site")
    assert s.loc["other_unit", "planted"].startswith("unit")
    assert s.loc["other_unit", "auc_minus_study"] == pytest.approx(-0.01)
    assert s.loc["other_unit", "oracle_minus_study"] == pytest.approx(0.03)
    assert s.loc["other_unit", "shortfall"] == pytest.approx(-0.04)
    assert s.loc["other_unit", "intercept_after_update"] == pytest.approx(0.05)
    assert np.isnan(external.planted_shifts(iecv, moved, d)["shortfall"]).all()  # no oracle: not guessed
    assert external.planted_shifts(iecv, moved, tmp_path) is None  # real data: nothing was planted


def test_the_fold_tests_of_04_say_when_the_folds_are_sites(multi):
    from osteolib import baselines, tables
    patients, _ = cohort.apply_exclusions(cohort.read_clinical(multi, check_images=False))
    folds = splits.leave_site_out(patients, seed=0)
    test = folds[folds["role"] == "test"]
    rng = np.random.default_rng(0)
    y = test.merge(patients[["patient_id", "label"]], on="patient_id")["label"].to_numpy()
    pred = pd.concat([test.assign(backbone="resnet18", arm=arm, y_true=y,
                                  p_osteoporosis=np.clip(0.3 * y + rng.uniform(0, 0.7, len(y)), 0, 1), threshold=0.5)
                      for arm in ("image", "ensemble")], ignore_index=True).drop(columns=["role", "site"])
    comp = tables.compute(pred, baselines.predict(patients, folds), folds, patients, n_boot=100)["comparisons"]
    corrected = comp[comp["test"].isin([tables.TESTS["corrected"], tables.TESTS["bayes"]])]
    assert len(corrected) and corrected["reason"].str.endswith(tables.SITE_FOLDS).all()
    assert not comp[comp["test"] == tables.TESTS["paired"]]["reason"].fillna("").str.contains("held-out sites").any()
