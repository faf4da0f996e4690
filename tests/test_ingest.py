"""Bring your own data: a hospital export (the synthetic messy one) through ``osteolib.ingest``:
every planted fault listed at once, nothing identifying in any output, and once fixed, the study runs
with the ROI in millimetres across two devices of different pixel spacing."""
from __future__ import annotations

import json

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from osteolib import cohort, images, ingest, plots, roi, splits, validation
from osteolib.errors import InputError, ParameterError
from osteolib.synthetic import export, generate
from osteolib.settings import RoiGeometry
from osteolib.layout import StudyLayout

N, SEED = 80, 3


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    """The messy export of 80 screened patients (read-only: copy before fixing)."""
    return export.export_messy(tmp_path_factory.mktemp("export") / "export", N, SEED, progress=False)


@pytest.fixture
def messy_copy(messy, tmp_path) -> Path:
    return Path(shutil.copytree(messy, tmp_path / "export"))


@pytest.fixture(scope="module")
def ingested(messy, tmp_path_factory) -> Path:
    """The export fixed and ingested: the data folder (its key beside it)."""
    base = tmp_path_factory.mktemp("ingested")
    fixed = Path(shutil.copytree(messy, base / "export"))
    export.fix(fixed)
    ingest.run(fixed / "mapping.yaml", base / "data", progress=False)
    return base / "data"


def test_every_planted_fault_is_found_at_once_and_nothing_is_written(messy, tmp_path):
    out = tmp_path / "data"
    with pytest.raises(validation.ValidationError, match=r"12 faults \(10 in clinical.xlsx, 2 in foramina.csv\)"
                       ) as err:
        ingest.run(messy / "mapping.yaml", out, progress=False)
    report = tmp_path / "data-validation.csv"
    assert str(report) in str(err.value)
    found = pd.read_csv(report, dtype=str, keep_default_na=False)
    planted = pd.read_csv(messy / "planted_faults.csv", dtype=str, keep_default_na=False)
    # beside the 12 errors, a warning for every radiograph of the unit that burns the name into its images
    warned = found[found["severity"] == "warning"]
    burned = sum(1 for f in (messy / "dicom" / "PanoD").rglob("*.dcm") if f.read_bytes()[:4] != b"not ")
    assert burned > 0 and len(warned) == burned and warned["problem"].str.contains("BurnedInAnnotation is YES").all()
    assert (warned["what_to_do"].str.len() > 20).all() and f"with {burned} warning(s)" in str(err.value)
    found = found[found["severity"] == "error"]
    assert len(planted) == 12 and len(found) == 12
    found["file"] = found["file"].map(lambda f: Path(f).name)
    key = ["file", "row", "column"]
    assert sorted(map(tuple, found[key].values)) == sorted(map(tuple, planted[key].values))
    both = planted.merge(found, on=key)
    for p in both.itertuples():  # each fault in words a data manager recognises
        assert p.kind.split()[0] in p.problem or p.kind in p.problem, (p.kind, p.problem)
    # nothing but the report: no data folder, no key
    assert not out.exists() and not (tmp_path / "data-key.csv").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["data-validation.csv"]
    # the summary counts by file, column and kind, values left out
    summary = validation.summary(err.value.faults)
    assert summary.loc[summary["severity"] == "error", "faults"].sum() == 12 and not summary["kind"].str.contains("seventy|maybe|31.02").any()


def test_no_header_value_reaches_any_output(messy, ingested, tmp_path):
    """Names, IDs, birth dates, the institution and accession numbers of the DICOM headers and the
    sheet: in the key (so the search finds them where they are), in no file of the data folder or the
    study, and in no problem message."""
    import pydicom
    secrets = set()
    for f in (messy / "dicom").rglob("*.dcm"):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue  # the planted unreadable file
        secrets |= {str(ds.PatientName), ds.PatientID, ds.PatientBirthDate, ds.InstitutionName, ds.AccessionNumber}
    sheet = pd.read_excel(messy / "clinical.xlsx", dtype=str)
    secrets |= set(sheet["Patient name"]) | set(sheet["MRN"]) | set(sheet["Accession"])
    assert len(secrets) > 3 * N
    key = (ingested.parent / "data-key.csv").read_text()
    assert key.startswith("# CONFIDENTIAL") and sum(s in key for s in secrets) >= 2 * N
    study = tmp_path / "study"
    patients = cohort.build(ingested, StudyLayout(study))["cohort"]
    roi.crop_study(ingested, patients, RoiGeometry(32, 64, pixel_mm=0.625), StudyLayout(study), progress=False)
    files = [f for root in (ingested, study) for f in root.rglob("*") if f.is_file()]
    assert len(files) > N + len(patients)  # images, ROIs and the tables
    for f in files:
        blob = f.read_bytes()
        leaked = [s for s in secrets if s.encode() in blob]
        assert not leaked, f"{leaked[:3]} in {f}"
    with pytest.raises(validation.ValidationError) as err:
        ingest.run(messy / "mapping.yaml", tmp_path / "again", progress=False)
    assert not [s for s in secrets if s in str(err.value) or err.value.faults["problem"].str.contains(s).any()]


def test_the_fixed_export_runs_the_study_with_the_roi_in_mm(ingested, tmp_path):
    facts = (ingested / "ingest.json").read_text()
    assert '"patients": 80' in facts and '"spacing_recorded": 80' in facts and "sha256" in facts
    clinical = cohort.read_clinical(ingested)
    assert clinical["patient_id"].str.fullmatch(r"P\d{4}").all()
    assert sorted(clinical["spacing_row_mm"].unique()) == [0.5, 0.625], "PixelSpacing and ImagerPixelSpacing"
    study = tmp_path / "study"
    patients = cohort.build(ingested, StudyLayout(study))["cohort"]
    folds = splits.make(patients, n_repeats=1, n_folds=5, seed=0)
    splits.save(folds, StudyLayout(study))
    table = roi.crop_study(ingested, patients, RoiGeometry(32, 64, pixel_mm=0.625), StudyLayout(study), progress=False)
    assert {Image.open(study / "rois" / f"{p}.png").size for p in patients["patient_id"]} == {(64, 32)}
    # 40 mm wide on both devices: 64 px of 0.625 mm, 80 px of 0.5 mm
    width = (table["x1"] - table["x0"]).round(6)
    assert set(width) == {64.0, 80.0} and set(table["spacing_col_mm"]) == {0.5, 0.625}
    plt_fig = plots.contact_sheet(StudyLayout(study), patients, n=8)
    titles = [ax.get_title() for ax in plt_fig.axes if ax.get_title()]
    assert "20 x 40 mm on every device" in plt_fig._suptitle.get_text() and any("mm/px" in t for t in titles)
    plots.devices(ingested, RoiGeometry(32, 64, pixel_mm=0.625), out=tmp_path / "devices.png")
    assert (tmp_path / "devices.png").stat().st_size > 10_000


def test_ingested_pixels_are_the_source_radiographs(messy, ingested, tmp_path):
    """8 bits to 12-bit DICOM (MONOCHROME2, MONOCHROME1, 12 bits in BitsStored 16) and back through the
    display pipeline: the generator's PNGs again; lossy JPEG 2000 at 10:1 within a few gray levels; the
    burned-in name only in its corner."""
    key = pd.read_csv(ingested.parent / "data-key.csv", comment="#", dtype=str)
    files = {f.stem: f for f in (messy / "dicom").rglob("*.dcm")}
    clinical = pd.read_csv(generate(tmp_path / "a", N, export.DEVICES["PanoA"]["scale"], SEED, images=False,
                                    progress=False) / "clinical.csv", dtype=str)
    facts = pd.read_csv(ingested / "images.csv", dtype=str, keep_default_na=False).set_index("patient_id")
    sources = {}
    for device in export.DEVICES:
        k = next(i for i, acc in enumerate(key["Accession"]) if files[acc].parent.parent.name == device)
        scale = export.DEVICES[device]["scale"]
        if scale not in sources:
            sources[scale] = generate(tmp_path / f"s{scale}", N, scale, SEED, progress=False, jobs=1)
        want = images.read_gray(sources[scale] / clinical["image"].iloc[k]).astype(int)
        got = images.read_gray(ingested / "images" / f"{key['pseudonym'].iloc[k]}.png").astype(int)
        f = facts.loc[key["pseudonym"].iloc[k]]
        if device == "PanoC":
            assert f["transfer_syntax"] == "JPEG 2000 Image Compression" and f["decoder"] == "gdcm"
            assert 0 < np.abs(got - want).mean() < 6, "lossy, and close"
            assert f["corner_text"] == ""
        elif device == "PanoD":
            assert f["bits_stored"] == "16" and f["mapping"] == "detector 12 bits" and f["burned_in"] == "YES"
            assert f["corner_text"] == "top-left", "the name is found where it was burned"
            corner = np.zeros(got.shape, bool)
            corner[:16, :200] = True
            assert (got[corner] != want[corner]).any(), "the name is burned in"
            np.testing.assert_array_equal(got[~corner], want[~corner])
        else:
            assert f["mapping"] == "detector 12 bits" and f["inverted"] == str(device == "PanoB")
            assert f["corner_text"] == ""
            np.testing.assert_array_equal(got, want)
    info = json.loads((ingested / "ingest.json").read_text())
    assert info["display_rule"].startswith("osteolib-display/1") and info["burned_in"] == (facts["burned_in"] == "YES").sum()
    assert info["corner_text"] == (facts["corner_text"] != "").sum() == info["burned_in"]
    assert set(info["transfer_syntaxes"]) == {"Explicit VR Little Endian", "JPEG 2000 Image Compression"}


def test_a_csv_sheet_with_tiffs_in_subfolders_and_the_mappings_spacing(tiny_data, tmp_path):
    """Another hospital: CSV, sex W/M, ISO dates, TIFF and PNG in nested folders without spacing
    (the mapping's value is recorded), no landmark sheet."""
    src = pd.read_csv(tiny_data / "clinical.csv", dtype=str, keep_default_na=False).head(12)
    export_dir = tmp_path / "export"
    for i, rel in enumerate(src["image"]):
        gray = images.read_gray(tiny_data / rel)
        dest = export_dir / "imgs" / f"batch{i % 3}" / f"X{i:03d}{'.tif' if i % 2 else '.png'}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(gray).save(dest)
    sheet = src.drop(columns=["image"]).assign(file=[f"X{i:03d}" for i in range(12)],
                                               sex=src["sex"].map({"F": "W", "M": "M"}))
    sheet.to_csv(export_dir / "patients.csv", index=False)
    mapping = yaml.safe_load(ingest.TEMPLATE)
    mapping["clinical"].update(file="patients.csv", id="patient_id", sex_codes={"W": "F", "M": "M"},
                               columns={c: c for c in mapping["clinical"]["columns"]})
    mapping["images"] = {"folder": "imgs", "match_column": "file", "pixel_spacing_mm": [0.625, 0.625]}
    del mapping["landmarks"]
    (export_dir / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    facts = ingest.run(export_dir / "mapping.yaml", tmp_path / "data", progress=False)
    assert facts["patients"] == 12 and facts["images"] == {".png": 6, ".tif": 6} and facts["landmarks"] == 0
    out = cohort.read_clinical(tmp_path / "data")
    assert (out["spacing_row_mm"] == 0.625).all() and list(out["sex"]) == list(src["sex"])
    assert not (tmp_path / "data" / "landmarks.csv").exists()


def test_template_and_mapping_errors(tmp_path, messy, capsys):
    assert ingest.main(["--template", str(tmp_path / "m.yaml")]) == 0
    m = ingest.Mapping.load(tmp_path / "m.yaml")  # the template is a valid mapping
    assert m.clinical["id"] == "MRN" and m.landmarks["side_codes"] == {"left": "left", "right": "right"}
    bad = yaml.safe_load(ingest.TEMPLATE)
    bad["clinical"]["colums"] = {}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ParameterError, match=r"unknown key\(s\) \['colums'\] in 'clinical'"):
        ingest.Mapping.load(tmp_path / "bad.yaml")
    with pytest.raises(ParameterError, match="must lie outside the data folder"):
        ingest.run(messy / "mapping.yaml", tmp_path / "d", key_file=tmp_path / "d" / "key.csv", progress=False)
    # a sheet without a mapped column: one fault naming it and the sheet's columns
    renamed = tmp_path / "renamed"
    shutil.copytree(messy, renamed)
    sheet = pd.read_excel(renamed / "clinical.xlsx", dtype=str).rename(columns={"OPG date": "Panoramic date"})
    sheet.to_excel(renamed / "clinical.xlsx", index=False)
    with pytest.raises(InputError, match="column 'OPG date': missing column"):
        ingest.run(renamed / "mapping.yaml", tmp_path / "d", progress=False)
    # the command line prints the summary and the message, exit status 1
    assert ingest.main([str(messy / "mapping.yaml"), "--out", str(tmp_path / "cli")]) == 1
    err = capsys.readouterr().err
    assert "12 faults" in err and "unknown side code" in err


def test_ingest_replaces_only_a_folder_it_wrote(ingested, tmp_path, messy):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's own")
    fixed = Path(shutil.copytree(messy, tmp_path / "export"))
    export.fix(fixed)
    with pytest.raises(ParameterError, match="was not written by ingest"):
        ingest.run(fixed / "mapping.yaml", mine, progress=False)
    assert (mine / "notes.txt").read_text() == "the user's own"
    again = Path(shutil.copytree(ingested, tmp_path / "again"))
    ingest.run(fixed / "mapping.yaml", again, progress=False)  # its own folder: replaced whole
    assert (again / "ingest.json").is_file()
