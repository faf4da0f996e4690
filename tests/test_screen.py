"""Model bundles (osteolib.bundle) and screening new patients (osteolib.screen)."""
from __future__ import annotations

import json
import pickle
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from osteolib import bundle, screen, training
from conftest import copy_study
from osteolib.settings import TrainingSettings
from osteolib.layout import StudyLayout


@pytest.fixture(scope="module")
def trained(tiny_study, tiny_data, tmp_path_factory):
    """The tiny study with resnet18, ensemble arm, repeat 0 trained (1 epoch) and its bundle."""
    study = copy_study(tiny_study, tmp_path_factory.mktemp("screen") / "study")
    s = TrainingSettings(backbone="resnet18", lr=0.01, batch_size=16, max_epochs=1, patience=1, hidden=16,
                          fusion="concat+skip")  # the demo's head: the covariates' own path travels too
    training.run(training.TrainingData(StudyLayout(study), torch.device("cpu")), s, ["ensemble"], [0])
    out = bundle.write(StudyLayout(study), "resnet18", "ensemble", study.parent / "bundle")
    return study, out


def test_bundle_holds_weights_and_card_and_no_pickle(trained):
    study, out = trained
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "model.safetensors"]
    card = json.loads((out / "card.json").read_text())
    for key in ("network", "covariates", "roi", "threshold", "study", "versions", "git", "weights"):
        assert key in card, key
    for key in ("backbone", "arm", "input_size", "hidden", "fusion", "stochastic_depth", "normalisation"):
        assert key in card["network"], key
    assert card["roi"]["height"] == 32 and card["roi"]["width"] == 64
    assert card["study"]["cv_metrics"]["n_repeats"] == 1 and 0 <= card["study"]["cv_metrics"]["auc"]["mean"] <= 1
    # safetensors: an 8-byte little-endian header length, then a JSON header; neither a pickle stream
    # (which starts with the PROTO opcode 0x80) nor a torch.save zip archive
    blob = (out / "model.safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    assert header["__metadata__"]["format"] == bundle.FORMAT and "head.0.weight" in header
    assert blob[:1] != b"\x80" and not zipfile.is_zipfile(out / "model.safetensors")


def test_loading_never_unpickles(trained, monkeypatch):
    _, out = trained

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling while loading a bundle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    b = bundle.load(out)
    assert b.net.arm == "ensemble" and not b.net.training


def test_tampered_weights_are_refused(trained, tmp_path):
    _, out = trained
    copy = shutil.copytree(out, tmp_path / "b")
    blob = bytearray((copy / "model.safetensors").read_bytes())
    blob[-10] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="does not match its card"):
        bundle.load(copy)


def test_screened_probability_equals_the_study_prediction(trained, tiny_data, tmp_path):
    """Same ROI, same covariates, same model: the same P(osteoporosis) as notebook 03 wrote."""
    study, out = trained
    b = bundle.load(out)
    pred = pd.read_csv(study / "runs" / "resnet18" / "ensemble" / "r00" / "predictions.csv",
                       dtype={"patient_id": str})
    fold0 = pred[pred["fold"] == 0].head(4)
    clinical = pd.read_csv(tiny_data / "clinical.csv", dtype={"patient_id": str}).set_index("patient_id")
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype={"patient_id": str}).query("side == 'left'").set_index("patient_id")
    for _, p in fold0.iterrows():
        c = clinical.loc[p["patient_id"]]
        row = screen.screen_patient(b, tiny_data / c["image"], tuple(lm.loc[p["patient_id"], ["x", "y"]]),
                                    c["age"], c["sex"], c["height_cm"], c["weight_kg"], p["patient_id"], tmp_path)
        # 6 decimals in predictions.csv; and the study's BMI is cohort.csv's, rounded to 3 decimals, while
        # screening computes it from height and weight: a difference of up to 5e-4 kg/m2 in one covariate
        assert row["p_osteoporosis"] == pytest.approx(p["p_osteoporosis"], abs=1e-5)
        assert row["result"] == ("osteoporosis suspected" if row["p_osteoporosis"] >= 0.5 else "not suspected")
        assert row["osta"] == pytest.approx(0.2 * (float(c["weight_kg"]) - float(c["age"])))
        assert (tmp_path / f"{p['patient_id']}.png").stat().st_size > 10_000
        # what the image and the covariates contribute, in the figure and the table, said when the CAM is empty
        assert np.isfinite(row["image_logit"]) and np.isfinite(row["covariates_logit"]) and row["covariates_logit"] != 0
        assert ("Grad-CAM is empty" in row["explained"]) == row["cam_empty"] and "the image adds" in row["explained"]


def test_batch_with_broken_rows_finishes_the_others(trained, tiny_data, tmp_path):
    _, out = trained
    b = bundle.load(out)
    clinical = pd.read_csv(tiny_data / "clinical.csv", dtype=str).head(5)
    clinical["image"] = [str(tiny_data / i) for i in clinical["image"]]
    clinical.loc[1, "image"] = str(tmp_path / "nowhere.tif")
    clinical.loc[3, "sex"] = "X"
    table = tmp_path / "patients.csv"
    clinical.to_csv(table, index=False)
    shutil.copy(tiny_data / "landmarks.csv", tmp_path / "landmarks.csv")
    result = screen.screen_table(b, table, tmp_path / "out", progress=False)
    assert len(result) == 5
    errors = result["error"].fillna("")
    assert "image not found" in errors[1] and "row 3" in errors[1]
    assert "sex 'X'" in errors[3] and "row 5" in errors[3]
    ok = errors == ""
    assert ok.sum() == 3 and result.loc[ok, "p_osteoporosis"].between(0, 1).all()
    written = pd.read_csv(tmp_path / "out" / "screening.csv")
    assert len(written) == 5 and written["error"].notna().sum() == 2


def test_command_line_one_patient(trained, tiny_data, tmp_path, capsys):
    _, out = trained
    c = pd.read_csv(tiny_data / "clinical.csv", dtype=str).iloc[0]
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype=str).query("side == 'left'").set_index("patient_id")
    x, y = lm.loc[c["patient_id"], ["x", "y"]]
    rc = screen.main(["--bundle", str(out), "--image", str(tiny_data / c["image"]), "--landmark", f"{x},{y}",
                      "--age", c["age"], "--sex", c["sex"], "--height-cm", c["height_cm"], "--weight-kg",
                      c["weight_kg"], "--patient-id", "case1", "--out", str(tmp_path)])
    assert rc == 0 and "P(osteoporosis) =" in capsys.readouterr().out
    row = pd.read_csv(tmp_path / "case1.csv").iloc[0]
    assert 0 <= row["p_osteoporosis"] <= 1 and (tmp_path / "case1.png").is_file()


def test_screening_a_patient_never_imports_the_training_loop(trained, tiny_data, tmp_path):
    """The same screening in a fresh process: the bundle loaded, the patient screened, the figure drawn,
    and neither osteolib.training (its worker pool, the repeat loop) nor the benchmark ever imported."""
    import subprocess
    import sys
    _, out = trained
    c = pd.read_csv(tiny_data / "clinical.csv", dtype=str).iloc[0]
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype=str).query("side == 'left'").set_index("patient_id")
    x, y = lm.loc[c["patient_id"], ["x", "y"]]
    args = ["--bundle", str(out), "--image", str(tiny_data / c["image"]), "--landmark", f"{x},{y}", "--age", c["age"],
            "--sex", c["sex"], "--height-cm", c["height_cm"], "--weight-kg", c["weight_kg"], "--out", str(tmp_path)]
    code = (f"import sys; from osteolib import screen; assert screen.main({args!r}) == 0; "
            "print('LOADED', sorted(m for m in sys.modules if m in ('osteolib.training', 'osteolib.bench')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOADED []" in done.stdout and (tmp_path / "patient.png").is_file()


def test_refit_trains_on_every_patient(trained, tmp_path):
    study, _ = trained
    layout = StudyLayout(study)
    kept = json.loads(layout.file("kept_card", backbone="resnet18", arm="ensemble").read_text())
    out = bundle.write(layout, "resnet18", "ensemble", tmp_path / "refit", refit=training.refit(layout, kept))
    card = json.loads((out / "card.json").read_text())
    n = len(pd.read_csv(study / "cohort" / "cohort.csv"))
    assert card["source"]["patients"] == n and "refit on all" in card["source"]["model"]
    b = bundle.load(out)
    cohort = pd.read_csv(study / "cohort" / "cohort.csv")
    assert card["covariates"]["age_mean"] == pytest.approx(cohort["age"].mean())
    assert np.isfinite(next(iter(b.net.state_dict().values())).numpy()).all()


def test_screening_a_dicom_writes_no_header_identifier(trained, tiny_data, tmp_path):
    """The same patient as PNG-equivalent DICOM (MONOCHROME1, 16 bit): same probability, and no
    identifier from the DICOM header in the CSV or the figure."""
    from osteolib import images
    from test_dicom import PATIENT_ID, PATIENT_NAME, write_dicom
    _, out = trained
    b = bundle.load(out)
    c = pd.read_csv(tiny_data / "clinical.csv", dtype=str).iloc[0]
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype=str).query("side == 'left'").set_index("patient_id")
    xy = tuple(float(v) for v in lm.loc[c["patient_id"], ["x", "y"]])
    gray = images.read_gray(tiny_data / c["image"])
    dcm = write_dicom(tmp_path / "pano.dcm", (255 - gray.astype(np.uint16)) * 257)
    args = (xy, c["age"], c["sex"], c["height_cm"], c["weight_kg"], "case-7")
    from_tif = screen.screen_patient(b, tiny_data / c["image"], *args, out=None)
    from_dcm = screen.screen_patient(b, dcm, *args, out=tmp_path / "out")
    assert from_dcm["p_osteoporosis"] == pytest.approx(from_tif["p_osteoporosis"], abs=1e-7)
    for f in (tmp_path / "out").iterdir():
        for secret in (PATIENT_NAME, PATIENT_ID, "Jane^Secret"):
            assert secret.encode() not in f.read_bytes()


def test_a_bundle_with_the_roi_in_mm_takes_each_images_spacing(trained, tiny_data, tmp_path):
    """A bundle whose ROI is in mm (0.625 mm per ROI pixel, the tiny cohort's own spacing): the spacing
    given, or read from a DICOM file's ImagerPixelSpacing, gives the pixel bundle's probability; an
    image without one is refused, naming what is missing."""
    from osteolib import images
    from osteolib.errors import InputError
    from osteolib.synthetic import export
    _, out = trained
    b = bundle.load(out)
    in_mm = bundle.Bundle(b.net, {**b.card, "roi": {**b.card["roi"], "pixel_mm": 0.625}}, b.folder)
    c = pd.read_csv(tiny_data / "clinical.csv", dtype=str).iloc[0]
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype=str).query("side == 'left'").set_index("patient_id")
    args = (tuple(float(v) for v in lm.loc[c["patient_id"], ["x", "y"]]), c["age"], c["sex"], c["height_cm"],
            c["weight_kg"], "case-mm")
    image = tiny_data / c["image"]
    pixels = screen.screen_patient(b, image, *args)
    given = screen.screen_patient(in_mm, image, *args, spacing=(0.625, 0.625))
    assert given["p_osteoporosis"] == pixels["p_osteoporosis"]
    dcm = export.write_dicom(tmp_path / "p.dcm", images.read_gray(image), {}, "MONOCHROME2", 8,
                             spacing=("ImagerPixelSpacing", 0.625))
    assert screen.screen_patient(in_mm, dcm, *args)["p_osteoporosis"] == pytest.approx(pixels["p_osteoporosis"],
                                                                                      abs=1e-7)
    with pytest.raises(InputError, match="no pixel spacing"):
        screen.screen_patient(in_mm, image, *args)


def test_a_transformer_through_the_bundle_and_screening(tiny_study, tiny_data, tmp_path):
    """A newer backbone (timm's DeiT-tiny, ensemble arm) goes where resnet18 goes: trained by the study's loop,
    written as a bundle, loaded without unpickling and screening a patient with the study's own prediction,
    its Grad-CAM figure drawn."""
    study = copy_study(tiny_study, tmp_path / "study")
    s = TrainingSettings(backbone="deit_tiny_patch16_224", lr=0.001, batch_size=16, max_epochs=1, patience=1, hidden=16,
                         fusion="concat+skip")
    training.run(training.TrainingData(StudyLayout(study), torch.device("cpu")), s, ["ensemble"], [0])
    b = bundle.load(bundle.write(StudyLayout(study), "deit_tiny_patch16_224", "ensemble", tmp_path / "bundle"))
    assert b.net.spec.name == "deit_tiny_patch16_224"
    pred = pd.read_csv(study / "runs" / "deit_tiny_patch16_224" / "ensemble" / "r00" / "predictions.csv",
                       dtype={"patient_id": str})
    p = pred[pred["fold"] == 0].iloc[0]
    c = pd.read_csv(tiny_data / "clinical.csv", dtype={"patient_id": str}).set_index("patient_id").loc[p["patient_id"]]
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype={"patient_id": str}).query("side == 'left'").set_index("patient_id")
    row = screen.screen_patient(b, tiny_data / c["image"], tuple(lm.loc[p["patient_id"], ["x", "y"]]), c["age"], c["sex"],
                                c["height_cm"], c["weight_kg"], p["patient_id"], tmp_path / "out")
    assert row["p_osteoporosis"] == pytest.approx(p["p_osteoporosis"], abs=1e-5)
    assert (tmp_path / "out" / f"{p['patient_id']}.png").stat().st_size > 10_000
