"""The notebooks themselves, executed by papermill on a tiny synthetic study (the smoke profile),
from the repository root and from notebooks/, as a user runs them."""
from __future__ import annotations

import json
import shutil
import uuid

import pandas as pd
import papermill as pm
import pytest

from osteolib import config, paths

pytestmark = pytest.mark.slow


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
def study():
    name = f"pytest-{uuid.uuid4().hex[:8]}"
    yield name
    shutil.rmtree(paths.study_dir(name), ignore_errors=True)
    shutil.rmtree(paths.synthetic_data_dir(name), ignore_errors=True)


@pytest.fixture(scope="module")
def smoke():
    return config.load_profile("smoke")


def test_01_and_02_from_the_root(study, smoke, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb")
    params = {**smoke, "study": study}
    execute("01_cohort.ipynb", out / "01.ipynb", paths.ROOT, **params)
    execute("02_roi.ipynb", out / "02.ipynb", paths.ROOT, **params)
    s = paths.study_dir(study)
    flow = pd.read_csv(s / "cohort" / "flow.csv")
    cohort = pd.read_csv(s / "cohort" / "cohort.csv")
    assert flow["n_after"].iloc[-1] == len(cohort) == 101
    assert (s / "cohort" / "table3.csv").is_file()
    splits = pd.read_csv(s / "splits.csv")
    assert splits["repeat"].nunique() == smoke["n_repeats"]
    rois = pd.read_csv(s / "rois" / "rois.csv")
    assert len(rois) == len(cohort) and ((rois.x1 - rois.x0) == 64).all() and ((rois.y1 - rois.y0) == 40).all()
    for fig in ("roi_contact_sheet.png", "synthetic_examples.png"):
        assert (s / "figures" / fig).stat().st_size > 10_000
    manifest = json.loads((s / "cohort" / "manifest_01_cohort.json").read_text())
    assert manifest["parameters"]["study"] == study and manifest["inputs"]["clinical.csv"]["sha256"]
    assert "torch" in manifest["environment"]["versions"]
    executed = json.loads((out / "01.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])


def test_from_the_notebooks_folder_gives_the_same_files(study, smoke, tmp_path_factory):
    s = paths.study_dir(study)
    before = {p: p.read_bytes() for p in [s / "splits.csv", s / "cohort" / "cohort.csv", s / "rois" / "rois.csv"]}
    out = tmp_path_factory.mktemp("nb2")
    params = {**smoke, "study": study}
    execute("01_cohort.ipynb", out / "01.ipynb", paths.NOTEBOOKS, **params)
    execute("02_roi.ipynb", out / "02.ipynb", paths.NOTEBOOKS, **params)
    for p, content in before.items():
        assert p.read_bytes() == content, f"{p.name} differs between runs from the root and from notebooks/"


def test_03_trains_the_smoke_study_and_resumes(study, smoke, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb3")
    params = {**smoke, "study": study, "backbone": "resnet18"}
    execute("03_train.ipynb", out / "03.ipynb", paths.NOTEBOOKS, **params)
    runs = paths.study_dir(study) / "runs" / "resnet18"
    cohort = pd.read_csv(paths.study_dir(study) / "cohort" / "cohort.csv", dtype={"patient_id": str})
    for arm in ("image", "ensemble"):
        for r in range(smoke["n_repeats"]):
            pred = pd.read_csv(runs / arm / f"r{r:02d}" / "predictions.csv", dtype={"patient_id": str})
            assert sorted(pred["patient_id"]) == sorted(cohort["patient_id"])
        assert (runs / arm / "r00" / "model_f0.pt").is_file()
    stamp = (runs / "image" / "r01" / "predictions.csv").stat().st_mtime_ns
    executed = execute("03_train.ipynb", out / "03b.ipynb", paths.ROOT, **params)  # resume: nothing to do
    assert (runs / "image" / "r01" / "predictions.csv").stat().st_mtime_ns == stamp
    text = json.dumps(executed["cells"])
    assert "done before" in text


def _fabricate(study_dir, backbone, repeats=2, seed=0):
    """Predictions of a made-up backbone run in the layout notebook 03 writes."""
    import numpy as np
    cohort = pd.read_csv(study_dir / "cohort" / "cohort.csv", dtype={"patient_id": str})
    splits = pd.read_csv(study_dir / "splits.csv", dtype={"patient_id": str})
    rng = np.random.default_rng(seed)
    for arm in ("image", "ensemble"):
        for r in range(repeats):
            t = splits[(splits["repeat"] == r) & (splits.role == "test")].merge(cohort[["patient_id", "label"]])
            p = 1 / (1 + np.exp(-(t["label"] * 2 - 1) - rng.normal(0, 1.5, len(t))))
            out = study_dir / "runs" / backbone / arm / f"r{r:02d}"
            out.mkdir(parents=True)
            pd.DataFrame({"repeat": r, "fold": t["fold"], "patient_id": t["patient_id"], "y_true": t["label"],
                          "p_osteoporosis": p.round(6)}).to_csv(out / "predictions.csv", index=False)


def test_04_writes_the_tables_and_figures(study, smoke, tmp_path_factory):
    s = paths.study_dir(study)
    _fabricate(s, "efficientnet-b0")
    out = tmp_path_factory.mktemp("nb4")
    execute("04_stats.ipynb", out / "04.ipynb", paths.NOTEBOOKS, study=study, n_boot=200)
    for name in ("metrics_per_repeat", "table_resnet", "table_efficientnet", "comparisons", "baselines", "summary"):
        assert (s / "stats" / f"{name}.csv").is_file()
    table = pd.read_csv(s / "stats" / "table_efficientnet.csv")
    assert table["model"].tolist()[:4] == ["Image", "Ensemble", "p-value", "Hedges' g"]
    for fig in ("roc_resnet18", "roc_efficientnet-b0", "roc_all_models", "metrics_per_repeat", "forest_hedges_g"):
        assert (s / "figures" / f"{fig}.png").stat().st_size > 5_000 and (s / "figures" / f"{fig}.svg").is_file()
    executed = json.dumps(json.loads((out / "04.ipynb").read_text())["cells"])
    assert "resnet50" in executed, "backbones without runs are listed"
    # a partial predictions file stops the notebook with its name
    bad = s / "runs" / "efficientnet-b0" / "image" / "r01" / "predictions.csv"
    pd.read_csv(bad).iloc[:-3].to_csv(bad, index=False)
    with pytest.raises(pm.PapermillExecutionError, match="efficientnet-b0/image/r01/predictions.csv.*partial"):
        execute("04_stats.ipynb", out / "04b.ipynb", paths.ROOT, study=study, n_boot=200)


def test_05_explains_the_kept_models(study, smoke, tmp_path_factory):
    s = paths.study_dir(study)
    out = tmp_path_factory.mktemp("nb5")
    executed = execute("05_gradcam.ipynb", out / "05.ipynb", paths.NOTEBOOKS, **{**smoke, "study": study,
                       "backbones": "resnet18,efficientnet-b3"})
    text = json.dumps(executed["cells"])
    assert "efficientnet-b3" in text and "requested but not trained" in text
    examples = pd.read_csv(s / "cam" / "examples.csv", dtype={"patient_id": str})
    assert len(examples) >= 2 and set(examples["backbone"]) == {"resnet18"}
    for pid in examples["patient_id"]:
        for arm in ("image", "ensemble"):
            assert (s / "cam" / f"resnet18_{arm}_{pid}.png").stat().st_size > 5_000
    assert (s / "cam" / "summary.png").stat().st_size > 20_000
    loc = pd.read_csv(s / "cam" / "localisation.csv")
    assert sorted(loc["arm"]) == ["ensemble", "image"] and (loc["n_patients"] >= 15).all()
    assert loc["cam_in_band"].between(0, 1).all() and loc["band_area"].between(0.01, 0.6).all()
    manifest = json.loads((s / "cam" / "manifest_05_gradcam.json").read_text())
    assert manifest["inputs"]["resnet18/image/model_f0.pt"]["sha256"]


def test_unknown_parameter_stops_the_notebook(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter 'n_fold'"):
        execute("01_cohort.ipynb", tmp_path / "bad.ipynb", paths.ROOT, study="never-written", n_fold=3)
    assert not paths.study_dir("never-written").exists()
