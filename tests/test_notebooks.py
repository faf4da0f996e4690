"""The notebooks themselves, executed by papermill on a tiny synthetic study (the smoke profile),
from the repository root and from notebooks/, as a user runs them.

Outputs and data go to a temporary folder (``OSTEOLIB_OUTPUTS`` / ``OSTEOLIB_DATA``, which the
kernels inherit), never into the repository; each test builds what it needs through fixtures, so
any one of them runs alone."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import papermill as pm
import pytest

from osteolib import config, paths, repro, steps
from osteolib.layout import StudyLayout

pytestmark = pytest.mark.slow
STUDY = "pytest"


def execute(name: str, out, cwd, **parameters):
    """papermill with one retry when the kernel fails to start (parallel kernels can collide on ports)."""
    for attempt in range(2):
        try:
            return pm.execute_notebook(str(paths.NOTEBOOKS / name), str(out), parameters=parameters,
                                       cwd=str(cwd), progress_bar=False, kernel_name="python3")
        except (RuntimeError, TimeoutError) as e:
            if attempt or "kernel" not in str(e).lower():
                raise


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """Outputs and data roots of this module's studies, in a temporary folder."""
    base = tmp_path_factory.mktemp("roots")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.OUTPUTS_ENV, str(base / "outputs"))
        mp.setenv(paths.DATA_ENV, str(base / "data"))
        yield base


@pytest.fixture(scope="module")
def smoke():
    return {**config.load_profile("smoke"), "study": STUDY}


@pytest.fixture(scope="module")
def prepared(roots, smoke, tmp_path_factory):
    """Notebooks 01, 02 and 02b run from the repository root; the executed copies' folder."""
    out = tmp_path_factory.mktemp("nb")
    execute("01_cohort.ipynb", out / "01.ipynb", paths.ROOT, **smoke)
    execute("02_roi.ipynb", out / "02.ipynb", paths.ROOT, **smoke)
    execute("02b_indices.ipynb", out / "02b.ipynb", paths.ROOT, **config.notebook_values("02b_indices", smoke))
    return out


@pytest.fixture(scope="module")
def trained(prepared, smoke, tmp_path_factory):
    """Notebook 03 (resnet18, both arms, 2 repeats) run from notebooks/; its executed copy."""
    out = tmp_path_factory.mktemp("nb3") / "03.ipynb"
    execute("03_train.ipynb", out, paths.NOTEBOOKS, **{**smoke, "backbone": "resnet18"})
    return out


def assert_manifest_hashes_the_declared_inputs(notebook: str, values: dict, **job) -> dict:
    """The step's manifest hashes exactly the files the steps table declares it reads (each as it is on
    disk), and its outputs are files the table says it writes; returns the manifest."""
    cfg = config.Params.registry[notebook].from_namespace(config.notebook_values(notebook, values))
    manifest = json.loads(cfg.layout.manifest(notebook, **job).read_text())
    declared = steps.declared_inputs(cfg)
    assert set(manifest["inputs"]) == set(declared), set(manifest["inputs"]) ^ set(declared)
    for role, file in declared.items():
        assert manifest["inputs"][role]["sha256"] == repro.sha256(file), role
    for out in manifest["outputs"]:
        rel = paths.resolve(out["path"]).relative_to(cfg.layout.root).as_posix()
        assert steps.declared_output(steps.STEPS[notebook], rel), rel
    return manifest


def test_outputs_stay_out_of_the_repository(roots):
    assert paths.study_dir(STUDY) == roots / "outputs" / STUDY
    assert not paths.study_dir(STUDY).is_relative_to(paths.ROOT)


def test_01_and_02_from_the_root(prepared, smoke):
    s = StudyLayout.named(STUDY)
    flow = pd.read_csv(s.cohort_table("flow"))
    cohort = pd.read_csv(s.cohort_csv)
    assert flow["n_after"].iloc[-1] == len(cohort) == 101
    assert s.cohort_table("table3").is_file()
    splits = pd.read_csv(s.splits_csv)
    assert splits["repeat"].nunique() == smoke["n_repeats"]
    rois = pd.read_csv(s.rois_csv)
    assert len(rois) == len(cohort) and ((rois.x1 - rois.x0) == 64).all() and ((rois.y1 - rois.y0) == 32).all()
    assert json.loads(s.roi_geometry.read_text())["height"] == 32
    for fig in ("roi_contact_sheet", "synthetic_examples"):
        assert s.figure(fig).stat().st_size > 10_000
    manifest = assert_manifest_hashes_the_declared_inputs("01_cohort", smoke)
    assert manifest["parameters"]["study"] == STUDY and manifest["inputs"]["data_dir/clinical.csv"]["sha256"]
    assert {"data_dir/landmarks.csv", "data_dir/truth.csv"} <= set(manifest["inputs"])
    assert "torch" in manifest["environment"]["versions"]
    manifest = assert_manifest_hashes_the_declared_inputs("02_roi", smoke)
    assert len([r for r in manifest["inputs"] if r.startswith("data_dir/images/")]) == len(cohort)
    # 02b: both foramina of every patient, measured or flagged with a reason; its agreement with the truth
    ind = pd.read_csv(s.indices_table("indices"), keep_default_na=False, na_values=[""])
    assert len(ind) == 2 * len(cohort) and (ind["mcw_mm"].notna() | ind["reason"].notna()).all()
    agree = pd.read_csv(s.indices_table("agreement"))
    assert {"MCW, automatic", "PMI, automatic", "MCI, automatic"} <= set(agree["measure"])
    for fig in ("indices_profiles", "indices_agreement"):
        assert s.figure(fig).stat().st_size > 10_000
    manifest = assert_manifest_hashes_the_declared_inputs("02b_indices", smoke)
    assert "data_dir/truth.csv" in manifest["inputs"]
    executed = json.loads((prepared / "01.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])


def test_from_the_notebooks_folder_gives_the_same_files(prepared, smoke, tmp_path):
    s = StudyLayout.named(STUDY)
    before = {p: p.read_bytes() for p in [s.splits_csv, s.cohort_csv, s.rois_csv]}
    execute("01_cohort.ipynb", tmp_path / "01.ipynb", paths.NOTEBOOKS, **smoke)
    execute("02_roi.ipynb", tmp_path / "02.ipynb", paths.NOTEBOOKS, **smoke)
    for p, content in before.items():
        assert p.read_bytes() == content, f"{p.name} differs between runs from the root and from notebooks/"


def test_03_trains_the_smoke_study_and_resumes(trained, smoke, tmp_path):
    s = StudyLayout.named(STUDY)
    cohort = pd.read_csv(s.cohort_csv, dtype={"patient_id": str})
    for arm in ("image", "ensemble"):
        for r in range(smoke["n_repeats"]):
            pred = pd.read_csv(s.predictions("resnet18", arm, r), dtype={"patient_id": str})
            assert sorted(pred["patient_id"]) == sorted(cohort["patient_id"])
        assert s.has_kept_model("resnet18", arm)
    stamp = s.predictions("resnet18", "image", 1).stat().st_mtime_ns
    # resume: nothing to do; `-p repeats 1` arrives as an int, as a user types it
    executed = execute("03_train.ipynb", tmp_path / "03b.ipynb", paths.ROOT, **{**smoke, "backbone": "resnet18",
                                                                                "repeats": 1})
    assert s.predictions("resnet18", "image", 1).stat().st_mtime_ns == stamp
    assert "done before" in json.dumps(executed["cells"])
    assert s.manifest("03_train", backbone="resnet18", arms="image,ensemble", repeats="1").is_file()
    manifest = assert_manifest_hashes_the_declared_inputs("03_train", {**smoke, "backbone": "resnet18"},
                                                          backbone="resnet18", arms=smoke["arms"], repeats=smoke["repeats"])
    assert {"cohort/cohort.csv", "splits.csv", "rois/rois.csv", "backbone_params/resnet18.yaml"} <= set(manifest["inputs"])
    assert len([r for r in manifest["inputs"] if r.startswith("rois/P")]) == len(cohort)


def _fabricate(layout, backbone, repeats=2, seed=0):
    """Predictions of a made-up backbone run in the layout notebook 03 writes."""
    import numpy as np
    cohort = pd.read_csv(layout.cohort_csv, dtype={"patient_id": str})
    splits = pd.read_csv(layout.splits_csv, dtype={"patient_id": str})
    rng = np.random.default_rng(seed)
    for arm in ("image", "ensemble"):
        for r in range(repeats):
            t = splits[(splits["repeat"] == r) & (splits.role == "test")].merge(cohort[["patient_id", "label"]])
            p = 1 / (1 + np.exp(-(t["label"] * 2 - 1) - rng.normal(0, 1.5, len(t))))
            out = layout.run_dir(backbone, arm, r)
            out.mkdir(parents=True)
            pd.DataFrame({"repeat": r, "fold": t["fold"], "patient_id": t["patient_id"], "y_true": t["label"],
                          "p_osteoporosis": p.round(6)}).to_csv(out / "predictions.csv", index=False)


def test_04_writes_the_tables_and_figures(trained, tmp_path):
    study = "pytest-stats"  # a copy, so the made-up runs below stay out of the other tests' study
    shutil.copytree(paths.study_dir(STUDY), paths.study_dir(study))
    s = StudyLayout.named(study)
    _fabricate(s, "efficientnet-b0")
    execute("04_stats.ipynb", tmp_path / "04.ipynb", paths.NOTEBOOKS, study=study, n_boot=200)
    for name in ("metrics_per_repeat", "table_resnet", "table_efficientnet", "comparisons", "baselines", "summary",
                 "bootstrap_auc", "calibration", "operating_points", "decision_curves", "subgroups", "test_calibration"):
        assert s.stats_table(name).is_file(), name
    table = pd.read_csv(s.stats_table("table_efficientnet"))
    assert table["model"].tolist()[:3] == ["Image", "Ensemble", "p, corrected t-test"]
    comparisons = pd.read_csv(s.stats_table("comparisons"))
    assert {"image vs covariates", "ensemble vs covariates"} <= set(comparisons["comparison"])
    # what a dentist measures (02b), compared with every arm of every backbone by the same tests
    for arm in ("image", "ensemble"):
        for base in ("mcw_rule", "mcw_pmi", "mcw_pmi_covariates", "mci"):
            tests = set(comparisons.loc[comparisons["comparison"] == f"{arm} vs {base}", "test"])
            assert len(tests) == 6, (arm, base, tests)
    assert "mcw_pmi_covariates vs covariates" in set(comparisons["comparison"])
    assert {"mcw_rule", "mci"} <= set(pd.read_csv(s.stats_table("bootstrap_auc"))["arm"])
    assert len(pd.read_csv(s.stats_table("test_calibration"))) >= 5
    for fig in ("roc_resnet18", "roc_efficientnet-b0", "roc_all_models", "metrics_per_repeat", "forest_hedges_g",
                "auc_differences", "reliability", "decision_curves", "subgroups"):
        assert s.figure(fig).stat().st_size > 5_000 and s.figure(fig).with_suffix(".svg").is_file(), fig
    manifest = assert_manifest_hashes_the_declared_inputs("04_stats", {"study": study, "n_boot": 200})
    read = {r for r in manifest["inputs"] if r.endswith("/predictions.csv")}
    assert read == {f"runs/{b}/{arm}/r{r:02d}/predictions.csv" for b in ("resnet18", "efficientnet-b0")
                    for arm in ("image", "ensemble") for r in range(2)}, "04 hashes every predictions file it reads"
    executed = json.loads((tmp_path / "04.ipynb").read_text())
    assert "resnet50" in json.dumps(executed["cells"]), "backbones without runs are listed"
    injected = next(c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert "max_epochs" not in "".join(injected["source"])
    # the results page and the HTML report of this study: the format of the committed demo page
    check_results_page_and_report(s, tmp_path)
    # a partial predictions file stops the notebook with its name
    bad = s.predictions("efficientnet-b0", "image", 1)
    pd.read_csv(bad).iloc[:-3].to_csv(bad, index=False)
    with pytest.raises(pm.PapermillExecutionError, match="efficientnet-b0/image/r01/predictions.csv.*partial"):
        execute("04_stats.ipynb", tmp_path / "04b.ipynb", paths.ROOT, study=study, n_boot=200)


def _shape(page: str) -> list[str]:
    """A results page without its numbers and rows: its headings and its tables' header lines."""
    import re
    lines = page.splitlines()
    return [re.sub(r"\s+", " ", l) for i, l in enumerate(lines)
            if l.startswith("#") or (l.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|:"))]


def check_results_page_and_report(s: StudyLayout, tmp_path) -> None:
    """The results page's generator on a fresh smoke study writes the format of the committed demo page
    (its sections and its tables' columns; the rows differ with the backbones); the README block and the
    HTML report are written from the same outputs."""
    from osteolib import report
    page = report.results_page(s, tmp_path / "figures", "smoke")
    committed = (paths.ROOT / "docs" / "results" / "demo.md").read_text()
    mine, theirs = _shape(page), _shape(committed)
    heading = lambda lines, name: [l.replace(f"`{name}`", "`<study>`") for l in lines if l.startswith("#")]
    assert heading(mine, s.name) == heading(theirs, "demo")
    # every table this study has, with the committed page's columns (a section it lacks says "not run")
    tables = [l for l in mine if l.startswith("|")]
    assert len(tables) >= 6 and set(tables) <= set(theirs), set(tables) - set(theirs)
    assert "commit `" in page and "machine: " in page and (tmp_path / "figures" / "smoke_auc_differences.png").is_file()
    # the page of what a dentist measures, generated from the same outputs
    indices = report.indices_page([s])
    assert f"## `{s.name}`: 0.625 mm per pixel" in indices and "| MCW, automatic | cortex width" in indices
    assert "image vs mcw_rule" in indices and f"study `{STUDY}`'s, copied" in indices   # this study is a copy of it
    block = report.readme_block(s, "docs/results/demo.md")
    assert block.startswith(report.README_BEGIN) and "AUC (95% CI)" in block
    html = report.html(s, tmp_path / "report.html").read_text()
    assert "<script" not in html and html.count("<tr>") > 100 and "to be written by the authors" in html
    assert all(f"<td>{i}</td>" in html for i, *_ in report.TRIPOD_AI)


def test_05_explains_the_kept_models(trained, smoke, tmp_path):
    s = StudyLayout.named(STUDY)
    executed = execute("05_gradcam.ipynb", tmp_path / "05.ipynb", paths.NOTEBOOKS,
                       **{**config.notebook_values("05_gradcam", smoke), "backbones": "resnet18,efficientnet-b3"})
    text = json.dumps(executed["cells"])
    assert "efficientnet-b3" in text and "requested but not trained" in text
    examples = pd.read_csv(s.cam_dir / "examples.csv", dtype={"patient_id": str})
    assert len(examples) >= 2 and set(examples["backbone"]) == {"resnet18"}
    for pid in examples["patient_id"]:
        for arm in ("image", "ensemble"):
            assert (s.cam_dir / f"resnet18_{arm}_{pid}.png").stat().st_size > 5_000
    assert (s.cam_dir / "summary.png").stat().st_size > 20_000
    loc = pd.read_csv(s.cam_dir / "localisation.csv")
    # on the cortex 02b measured and on the synthetic truth's
    assert sorted(zip(loc["arm"], loc["cortex"])) == [("ensemble", "measured"), ("ensemble", "truth"),
                                                      ("image", "measured"), ("image", "truth")]
    assert (loc["n_patients"] >= 15).all()
    assert loc["cam_in_band"].between(0, 1).all() and loc["band_area"].between(0.01, 0.6).all()
    manifest = assert_manifest_hashes_the_declared_inputs(
        "05_gradcam", {**config.notebook_values("05_gradcam", smoke), "backbones": "resnet18,efficientnet-b3"})
    assert {f"runs/resnet18/{arm}/r00/{f}" for arm in ("image", "ensemble")
            for f in ("model_f0.safetensors", "model_f0.json", "predictions.csv")} <= set(manifest["inputs"])
    assert "indices/indices.csv" in manifest["inputs"]


def test_07_runs_a_simulated_reader_study(trained, smoke, tmp_path):
    s = StudyLayout.named(STUDY)
    values = config.notebook_values("07_readers", smoke)
    executed = execute("07_readers.ipynb", tmp_path / "07.ipynb", paths.NOTEBOOKS, **values)
    design = pd.read_csv(s.readers_table("design"))
    n_cases = design["patient_id"].nunique()
    assert len(design) == 2 * smoke["n_readers"] * n_cases
    ratings = pd.read_csv(s.readers_table("ratings"))
    assert ratings["simulated"].all() and len(ratings) == len(design)
    table = pd.read_csv(s.readers_table("mrmc"))
    assert set(table["analysis"]) == {"RRRC", "FRRC", "RRFC"} and "aided - unaided" in set(table["comparison"])
    assert table["readings"].str.contains("SIMULATED").all() and "SIMULATED" in json.dumps(executed["cells"])
    assert s.figure("readers_roc").stat().st_size > 10_000
    manifest = assert_manifest_hashes_the_declared_inputs("07_readers", values)
    assert "runs/resnet18/ensemble/r00/predictions.csv" in manifest["inputs"]


def test_unknown_parameter_stops_the_notebook(roots, tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter 'n_fold'"):
        execute("01_cohort.ipynb", tmp_path / "bad.ipynb", paths.ROOT, study="never-written", n_fold=3)
    assert not paths.study_dir("never-written").exists()


def test_00_ingests_the_worked_example_and_01_02_run_on_it_with_the_roi_in_mm(roots, smoke, tmp_path):
    """The messy export: every planted fault shown, fixed, ingested; then the study's first notebooks
    on the ingested folder, the ROI cut in mm from two devices."""
    study = "pytest-ingest"
    executed = execute("00_data.ipynb", tmp_path / "00.ipynb", paths.NOTEBOOKS, study=study, n_screened=60)
    text = json.dumps(executed["cells"])
    assert "12 faults (10 in clinical.xlsx, 2 in foramina.csv)" in text
    data = paths.data_root() / f"{study}-ingested"
    assert (data / "ingest.json").is_file() and (data.parent / f"{study}-ingested-key.csv").is_file()
    values = {**smoke, "study": study, "data_dir": str(data), "roi_pixel_mm": 0.625}
    execute("01_cohort.ipynb", tmp_path / "01.ipynb", paths.ROOT, **config.notebook_values("01_cohort", values))
    execute("02_roi.ipynb", tmp_path / "02.ipynb", paths.ROOT, **config.notebook_values("02_roi", values))
    s = StudyLayout.named(study)
    rois = pd.read_csv(s.rois_csv)
    assert set(rois["spacing_col_mm"]) == {0.5, 0.625} and set((rois.x1 - rois.x0).round(6)) == {64.0, 80.0}
    assert json.loads(s.roi_geometry.read_text())["width_mm"] == 40


def test_00_stops_on_a_faulty_export_without_quoting_an_identifier(roots, tmp_path):
    from osteolib.synthetic import export
    messy = export.export_messy(tmp_path / "export", 40, 1, progress=False)
    out = tmp_path / "data"
    with pytest.raises(pm.PapermillExecutionError, match="12 faults"):
        execute("00_data.ipynb", tmp_path / "00.ipynb", paths.ROOT, study="pytest-own",
                mapping=str(messy / "mapping.yaml"), data_dir=str(out))
    assert not out.exists() and (tmp_path / "data-validation.csv").is_file()
    sheet = pd.read_excel(messy / "clinical.xlsx", dtype=str)
    text = (tmp_path / "00.ipynb").read_text()
    leaked = [v for v in (*sheet["MRN"], *sheet["Patient name"], *sheet["Accession"]) if v in text]
    assert not leaked, leaked[:3]


def test_00_opens_the_landmarking_widget_on_a_data_folder_and_resumes(roots, data_copy, tmp_path):
    """landmark=True with a data_dir and no mapping: nothing ingested, the widget opened on the folder;
    run again after two patients were landmarked, it starts with the third."""
    from osteolib import annotate
    (data_copy / "landmarks.csv").unlink()
    values = dict(study="pytest-landmark", data_dir=str(data_copy), landmark=True)
    executed = execute("00_data.ipynb", tmp_path / "00.ipynb", paths.ROOT, **values)
    text = json.dumps(executed["cells"])
    assert "0 of 120 patients landmarked" in text and "next: P0001" in text
    assert not (paths.data_root() / "pytest-landmark-export").exists()
    s = annotate.Landmarking(data_copy)
    for _ in range(2):
        s.click(300, 200), s.click(100, 200), s.key("enter")
    executed = execute("00_data.ipynb", tmp_path / "00b.ipynb", paths.ROOT, **values)
    assert "2 of 120 patients landmarked" in json.dumps(executed["cells"]) and "next: P0003" in json.dumps(executed["cells"])
