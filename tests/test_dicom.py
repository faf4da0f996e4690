"""DICOM input: pixel data through the display pipeline, the same ROI as the equivalent PNG, and
no identifier from the header in any output."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from osteolib import images, roi
from osteolib.errors import InputError
from osteolib.synthetic import export
from osteolib.settings import RoiGeometry
from osteolib.layout import StudyLayout

PATIENT_NAME = "Doe^Jane^Secret"
PATIENT_ID = "MRN-99812345"


def write_dicom(path, pixels: np.ndarray, photometric: str = "MONOCHROME1", window=None, bits: int = 16):
    """A minimal DX image, with identifiers in the header."""
    header = {"PatientName": PATIENT_NAME, "PatientID": PATIENT_ID, "PatientBirthDate": "19480211",
              "InstitutionName": "Secret Dental Hospital"}
    return export.write_dicom(path, pixels, header, photometric, bits, window=window)


def test_monochrome1_16_bit_reads_as_the_displayed_image(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.integers(0, 256, (60, 90), dtype=np.uint8)
    p[0, 0], p[0, 1] = 0, 255
    stored = (255 - p.astype(np.uint16)) * 257         # MONOCHROME1: low values are white
    got = images.read_gray(write_dicom(tmp_path / "x.dcm", stored))
    np.testing.assert_array_equal(got, p)


def test_window_is_applied(tmp_path):
    stored = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (4, 1))   # 12-bit ramp
    got = images.read_gray(write_dicom(tmp_path / "w.dcm", stored, "MONOCHROME2", window=(2048, 1024), bits=12))
    ramp = got[0]
    assert ramp[stored[0] < 1536].max() == 0 and ramp[stored[0] > 2560].min() == 255
    inside = (stored[0] > 1600) & (stored[0] < 2500)
    assert (np.diff(ramp[inside].astype(int)) >= 0).all() and 0 < ramp[inside].mean() < 255


def test_dicom_crops_to_the_same_roi_as_the_png_and_leaks_no_identifier(tiny_data, tmp_path):
    clinical = pd.read_csv(tiny_data / "clinical.csv", dtype={"patient_id": str})
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype={"patient_id": str})
    pid = clinical["patient_id"].iloc[0]
    gray = images.read_gray(tiny_data / clinical["image"].iloc[0])
    # the same radiograph twice: as PNG and as 16-bit MONOCHROME1 DICOM
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    Image.fromarray(gray).save(data / "images" / "png.png")
    write_dicom(data / "images" / "dcm.dcm", (255 - gray.astype(np.uint16)) * 257)
    geometry = RoiGeometry(40, 64)
    left = lm[(lm.patient_id == pid) & (lm.side == "left")]
    rows = []
    for name, file in (("png", "images/png.png"), ("dcm", "images/dcm.dcm")):
        rows.append(clinical.iloc[[0]].assign(patient_id=name, image=file))
        lm_rows = left.assign(patient_id=name)
        lm_rows.to_csv(data / "landmarks.csv", index=False, mode="a", header=name == "png")
    cohort = pd.concat(rows, ignore_index=True)
    out = tmp_path / "study"
    table = roi.crop_study(data, cohort, geometry, StudyLayout(out), progress=False)
    a = np.asarray(Image.open(out / "rois" / "png.png"))
    b = np.asarray(Image.open(out / "rois" / "dcm.png"))
    np.testing.assert_array_equal(a, b)
    assert table.set_index("patient_id").loc["dcm", "x0"] == table.set_index("patient_id").loc["png", "x0"]
    for f in out.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for secret in (PATIENT_NAME, PATIENT_ID, "Secret Dental", "19480211"):
                assert secret.encode() not in blob, f"{secret} leaked into {f}"


def test_broken_dicom_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not a dicom file at all")
    with pytest.raises(InputError, match="bad.dcm.*DICOM"):
        images.read_gray(bad)
