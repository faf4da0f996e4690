"""Reading radiographs and cropping the ROI."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from PIL import Image

from osteolib import cohort, images, roi
from osteolib.errors import InputError
from osteolib.settings import RoiGeometry
from osteolib.layout import StudyLayout

GEOMETRY = RoiGeometry(40, 64)  # the smoke profile's: the paper's 250 x 400 px at 0.16 x scale


def test_geometry_is_centred_below_the_landmark():
    assert RoiGeometry().box(1900, 1150) == (1700, 1150, 2100, 1400)
    assert RoiGeometry(250, 400, dx=10, dy=-5).box(1900.4, 1150.6) == (1710, 1146, 2110, 1396)
    assert RoiGeometry().scaled(0.16) == GEOMETRY


def test_every_crop_holds_the_lower_border(tiny_data, tmp_path):
    patients = cohort.build(tiny_data, StudyLayout(tmp_path))["cohort"]
    table = roi.crop_study(tiny_data, patients, GEOMETRY, StudyLayout(tmp_path), progress=False)
    truth = pd.read_csv(tiny_data / "truth.csv").merge(table, on="patient_id")
    assert len(truth) == len(patients)
    # the border row (from the ground truth) lies inside the box, with the cortex above it
    assert ((truth["border_y"] > truth["y0"] + 2) & (truth["border_y"] < truth["y1"] - 2)).all()
    assert ((truth["margin_y"] > truth["y0"]) & (truth["margin_y"] < truth["border_y"])).all()
    first = np.asarray(Image.open(tmp_path / "rois" / f"{truth['patient_id'].iloc[0]}.png"))
    assert first.shape == (40, 64) and first.dtype == np.uint8
    assert {"patient_id", "side", "x0", "y0", "x1", "y1", "image", "sha256"} <= set(table.columns)
    assert (tmp_path / "rois" / "rois.csv").is_file()


@pytest.fixture
def gray():
    return (np.arange(60 * 90).reshape(60, 90) % 251).astype(np.uint8)


def test_16_bit_rgb_and_jpeg_inputs(gray, tmp_path):
    tifffile.imwrite(tmp_path / "g16.tif", gray.astype(np.uint16) * 257)
    assert np.array_equal(images.read_gray(tmp_path / "g16.tif"), gray)
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    assert np.array_equal(images.read_gray(tmp_path / "g16.png"), gray)
    twelve = (gray.astype(np.uint16) * 16)  # a 12-bit detector in 16-bit words fills the 8-bit range
    tifffile.imwrite(tmp_path / "g12.tif", twelve)
    assert np.abs(images.read_gray(tmp_path / "g12.tif").astype(int) - np.round(twelve.astype(float) * 255 / 4095)).max() == 0
    rgb = np.stack([gray, gray, gray], -1)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert np.array_equal(images.read_gray(tmp_path / "rgb.png"), gray)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    assert np.array_equal(images.read_gray(tmp_path / "rgb.tif"), gray)
    colour = np.zeros((10, 10, 3), np.uint8); colour[..., 0] = 200
    Image.fromarray(colour).save(tmp_path / "red.png")
    assert images.read_gray(tmp_path / "red.png")[0, 0] == round(0.299 * 200)
    Image.fromarray(gray).save(tmp_path / "g.jpg", quality=95)
    assert np.abs(images.read_gray(tmp_path / "g.jpg").astype(int) - gray).mean() < 3


def test_unreadable_and_missing_images(tmp_path):
    (tmp_path / "bad.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(InputError, match="bad.tif: cannot be read as an image"):
        images.read_gray(tmp_path / "bad.tif")
    with pytest.raises(InputError, match="none.png: image not found"):
        images.read_gray(tmp_path / "none.png")
    tifffile.imwrite(tmp_path / "float.tif", np.zeros((5, 5), np.float32))
    with pytest.raises(InputError, match="cannot be converted to grayscale"):
        images.read_gray(tmp_path / "float.tif")


def test_box_leaving_the_image_is_an_error():
    with pytest.raises(InputError, match=r"patient P7: ROI box x -10\.\.54, y 5\.\.45 leaves the image \(80 x 40 px\)"):
        roi.crop(np.zeros((40, 80), np.uint8), (-10, 5, 54, 45), "P7")


def _crop_with(data, tmp_path, edit):
    patients = cohort.build(data, StudyLayout(tmp_path / "study"))["cohort"]
    lm = pd.read_csv(data / "landmarks.csv", dtype=str, keep_default_na=False)
    edit(lm, patients)
    lm.to_csv(data / "landmarks.csv", index=False)
    return lambda: roi.crop_study(data, patients, GEOMETRY, StudyLayout(tmp_path / "study"), progress=False)


def test_landmark_outside_the_image(data_copy, tmp_path):
    def edit(lm, patients):
        i = lm.index[(lm.patient_id == patients.patient_id.iloc[0]) & (lm.side == "left")][0]
        lm.loc[i, "x"] = "9999"
    run = _crop_with(data_copy, tmp_path, edit)
    with pytest.raises(InputError, match=r"landmarks.csv, row \d+, column 'x': landmark \(9999, .*outside its image"):
        run()
    assert not (tmp_path / "study" / "rois").exists(), "no half-written ROI folder"


def test_box_leaving_near_the_edge_names_the_patient(data_copy, tmp_path):
    def edit(lm, patients):
        i = lm.index[(lm.patient_id == patients.patient_id.iloc[1]) & (lm.side == "left")][0]
        lm.loc[i, "y"] = "230"
    run = _crop_with(data_copy, tmp_path, edit)
    with pytest.raises(InputError, match="leaves the image"):
        run()
    assert not (tmp_path / "study" / "rois").exists()


@pytest.mark.parametrize("column, value, words", [("side", "top", "unknown side 'top'"),
                                                  ("y", "abc", "'abc' is not a number")])
def test_bad_landmark_rows(data_copy, tmp_path, column, value, words):
    run = _crop_with(data_copy, tmp_path, lambda lm, p: lm.__setitem__(column, lm[column].where(lm.index != 3, value)))
    with pytest.raises(InputError, match=f"landmarks.csv, row 5, column '{column}': {words}"):
        run()


def test_missing_landmark(data_copy, tmp_path):
    def edit(lm, patients):
        gone = (lm.patient_id == patients.patient_id.iloc[2]) & (lm.side == "left")
        lm.loc[gone, "side"] = "right"  # the patient now has two right landmarks and no left one
        lm.loc[gone, "patient_id"] = "nobody"
    run = _crop_with(data_copy, tmp_path, edit)
    with pytest.raises(InputError, match="no left landmark for patient"):
        run()


def test_missing_image_during_cropping(data_copy, tmp_path):
    patients = cohort.build(data_copy, StudyLayout(tmp_path / "study"))["cohort"]
    (data_copy / patients["image"].iloc[4]).unlink()
    with pytest.raises(InputError, match="image not found"):
        roi.crop_study(data_copy, patients, GEOMETRY, StudyLayout(tmp_path / "study"), progress=False)
    assert not (tmp_path / "study" / "rois").exists()


def test_roi_in_mm_cuts_the_same_anatomy_from_devices_of_different_spacing(tmp_path):
    """The same patients rendered at 0.625 and 0.5 mm per pixel: a 20 x 40 mm ROI (32 x 64 px of
    0.625 mm) is cut as it is from the first and resampled from the second; the two agree."""
    from osteolib.synthetic import generate
    a = generate(tmp_path / "a", n_screened=20, scale=0.16, seed=11, jobs=1, progress=False)
    b = generate(tmp_path / "b", n_screened=20, scale=0.2, seed=11, jobs=1, progress=False)
    geometry = RoiGeometry(32, 64, pixel_mm=0.625)
    ids = cohort.read_clinical(a)["patient_id"].tolist()
    out = {}
    for name, data in (("a", a), ("b", b)):
        patients = cohort.read_clinical(data)
        assert patients["spacing_row_mm"].iloc[0] == pytest.approx(0.1 / (0.16 if name == "a" else 0.2))
        table = roi.crop_study(data, patients, geometry, StudyLayout(tmp_path / f"study_{name}"), progress=False)
        out[name] = {p: np.asarray(Image.open(tmp_path / f"study_{name}" / "rois" / f"{p}.png")) for p in ids}
        if name == "b":
            width = (table["x1"] - table["x0"]).to_numpy()
            assert np.allclose(width, 80), "40 mm at 0.5 mm per pixel"
    rs = {}
    for p in ids:
        assert out["a"][p].shape == out["b"][p].shape == (32, 64)
        rs[p] = np.corrcoef(out["a"][p].ravel().astype(float), out["b"][p].ravel().astype(float))[0, 1]
    # the same anatomy (another patient's ROI correlates about 0); each rendering's own noise limits r where
    # the ROI holds little besides trabecular bone
    assert np.median(list(rs.values())) > 0.85 and min(rs.values()) > 0.7, rs
    card = json.loads((tmp_path / "study_b" / "rois" / "geometry.json").read_text())
    assert card["height_mm"] == 20 and card["width_mm"] == 40 and card["units"].startswith("mm")


def test_roi_in_mm_needs_the_spacing(data_copy, tmp_path):
    clinical = pd.read_csv(data_copy / "clinical.csv").drop(columns=["spacing_row_mm", "spacing_col_mm"])
    clinical.to_csv(data_copy / "clinical.csv", index=False)
    with pytest.raises(InputError, match="3 of 3 patients have no pixel spacing"):
        roi.crop_study(data_copy, cohort.read_clinical(data_copy).head(3), RoiGeometry(32, 64, pixel_mm=0.5), StudyLayout(tmp_path / "s"), progress=False, jobs=1)
