"""The synthetic cohort as a hospital would export it, faults included:
``python -m osteolib.synthetic --export messy --out DIR``.

* ``clinical.xlsx``: the hospital's own column names (a medical record number, the patient's name,
  an accession number, the DXA devices' T-score columns), sex coded 1/2, flags y/n, dates as
  day.month.year;
* ``dicom/<device>/<year>/<accession>.dcm``: radiographs from four panoramic units (:data:`DEVICES`) of
  two pixel spacings (0.625 and 0.5 mm at the default scales), as PACS exports differ: uncompressed
  12-bit MONOCHROME2 with ``PixelSpacing`` (PanoA); 12-bit MONOCHROME1 with only ``ImagerPixelSpacing``
  (PanoB); lossy JPEG 2000 at 10:1 (PanoC); a 12-bit detector's values in ``BitsStored`` 16, with
  ``BurnedInAnnotation`` YES and the patient's name burned into a corner (PanoD); each with the
  patient's (synthetic) name, ID, birth date and the institution in its header. ``plain=True`` writes
  every unit uncompressed with ``BitsStored`` 12 and no burned-in text (the reference to compare with);
* ``foramina.csv``: the clinician's mental foramina by accession number, side coded L/R;
* ``mapping.yaml``: the ingest mapping a data manager would write for it;
* planted faults, the kinds a real export has (an unknown sex code, a word for a number, a duplicated
  record number, an impossible T-score, an impossible date, an empty weight, an unknown flag code, a
  patient with neither T-score, a missing and an unreadable image, a landmark outside its image, an
  unknown side code), listed with their fixes in ``planted_faults.csv``, and the original files in
  ``fixes/`` (the test that ingests the export checks that every one is found, then fixes them).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import JPEG2000, ExplicitVRLittleEndian, generate_uid
from tqdm.auto import tqdm

from .. import atomic, images
from ..datafolder import DataFolder
from . import generate

__all__ = ["DEVICES", "MAPPING", "LANDMARK_SHEET", "write_dicom", "device_dicom", "export_messy", "fix"]

#: The export's landmark sheet (its own name: the ingest mapping points to it).
LANDMARK_SHEET = "foramina.csv"

#: The units: scale (pixel spacing 0.1 mm / scale), the spacing element, the photometric interpretation,
#: BitsStored, the transfer syntax (lossy JPEG 2000 at ``ratio``:1), burned-in text, and their share of patients.
DEVICES = {"PanoA": {"scale": 0.16, "tag": "PixelSpacing", "photometric": "MONOCHROME2", "bits": 12,
                     "syntax": ExplicitVRLittleEndian, "ratio": None, "burned_in": False, "share": 0.35},
           "PanoB": {"scale": 0.2, "tag": "ImagerPixelSpacing", "photometric": "MONOCHROME1", "bits": 12,
                     "syntax": ExplicitVRLittleEndian, "ratio": None, "burned_in": False, "share": 0.25},
           "PanoC": {"scale": 0.16, "tag": "PixelSpacing", "photometric": "MONOCHROME2", "bits": 12,
                     "syntax": JPEG2000, "ratio": 10, "burned_in": False, "share": 0.2},
           "PanoD": {"scale": 0.2, "tag": "PixelSpacing", "photometric": "MONOCHROME2", "bits": 16,
                     "syntax": ExplicitVRLittleEndian, "ratio": None, "burned_in": True, "share": 0.2}}
COLUMNS = {"patient_id": "MRN", "sex": "Sex (1=male, 2=female)", "age": "Age [y]", "height_cm": "Height [cm]",
           "weight_kg": "Weight [kg]", "tscore_hip": "Hologic total hip T", "tscore_spine": "Lunar L1-L4 T",
           "antiresorptive": "Antiresorptive (y/n)", "foreign_body": "Foreign body (y/n)",
           "mandibular_fracture": "Mandible fracture (y/n)", "poor_quality": "Image quality poor (y/n)",
           "dxa_date": "DXA date", "radiograph_date": "OPG date"}
FIRST = ("Akiko", "Hana", "Yumi", "Keiko", "Sachiko", "Hiroshi", "Kenji", "Takeshi", "Mariko", "Noriko")
LAST = ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato")
INSTITUTION = "Synthetic General Hospital Dental Radiology"
MAPPING = """\
# The ingest mapping of the synthetic messy export (python -m osteolib.synthetic --export messy).
clinical:
  file: clinical.xlsx
  sheet: 0
  id: MRN
  columns:
    sex: "Sex (1=male, 2=female)"
    age: "Age [y]"
    height_cm: "Height [cm]"
    weight_kg: "Weight [kg]"
    tscore_hip: "Hologic total hip T"
    tscore_spine: "Lunar L1-L4 T"
    antiresorptive: "Antiresorptive (y/n)"
    foreign_body: "Foreign body (y/n)"
    mandibular_fracture: "Mandible fracture (y/n)"
    poor_quality: "Image quality poor (y/n)"
    dxa_date: "DXA date"
    radiograph_date: "OPG date"
  sex_codes: {"1": M, "2": F}
  flag_codes: {n: 0, y: 1}
  date_format: "%d.%m.%Y"
images:
  folder: dicom
  match_column: Accession
landmarks:
  file: foramina.csv
  match_column: Accession
  columns: {id: Accession, side: Side, x: X, y: Y}
  side_codes: {L: left, R: right}
pseudonym:
  prefix: P
"""


def write_dicom(path: str | Path, stored: np.ndarray, header: dict, photometric: str = "MONOCHROME2", bits: int = 12,
                spacing: tuple[str, float] | None = None, window: tuple[float, float] | None = None,
                model: str = "Synthetic", extra: dict | None = None, syntax: str = ExplicitVRLittleEndian,
                ratio: float | None = None) -> Path:
    """A DX (for presentation) DICOM file of ``stored`` values (``bits`` of 16 allocated) with the
    ``header``'s elements (identifiers included, as a hospital's are); ``spacing``: the element that
    records it (``PixelSpacing`` or ``ImagerPixelSpacing``) and its value in mm; ``extra``: more elements
    (e.g. ``PixelPaddingValue``, ``PresentationLUTShape``); ``syntax``: the transfer syntax, compressed by
    pydicom's encoders (JPEG 2000 through pylibjpeg-openjpeg, RLE), lossy JPEG 2000 at ``ratio``:1."""
    path = Path(path)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage, for presentation
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[str(header.get("AccessionNumber", path.name))])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    for k, v in header.items():
        setattr(ds, k, v)
    ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "PX", "Synthetic", model
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, 0
    if spacing is not None:
        setattr(ds, spacing[0], [spacing[1], spacing[1]])
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    for k, v in (extra or {}).items():
        setattr(ds, k, v)
    ds.PixelData = stored.astype(np.uint16).tobytes()
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, generate_instance_uid=False, **({"j2k_cr": [ratio]} if ratio else {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def device_dicom(path: Path, gray: np.ndarray, header: dict, device: str, plain: bool = False) -> Path:
    """An 8-bit gray radiograph as ``device`` stores it (:data:`DEVICES`): 12-bit values (in 12 or 16
    stored bits), its photometric interpretation, spacing element and transfer syntax; a unit that burns
    the patient's name into the image does so in the top left corner and says ``BurnedInAnnotation`` YES.
    ``plain``: uncompressed, ``BitsStored`` 12, no burned-in text."""
    d = DEVICES[device]
    if d["burned_in"] and not plain:
        gray = _burn(gray, str(header.get("PatientName", "")).replace("^", " "))
    stored = (gray.astype(np.uint32) * 4095 + 127) // 255  # 8 bits to 12, rounded
    if d["photometric"] == "MONOCHROME1":  # white = low values
        stored = 4095 - stored
    extra = {"BurnedInAnnotation": "YES" if d["burned_in"] and not plain else "NO"}
    return write_dicom(path, stored, header, d["photometric"], 12 if plain else d["bits"], (d["tag"], 0.1 / d["scale"]),
                       model=device, extra=extra, syntax=ExplicitVRLittleEndian if plain else d["syntax"],
                       ratio=None if plain else d["ratio"])


def _burn(gray: np.ndarray, text: str) -> np.ndarray:
    """``text`` burned into the top left corner in white, as a unit that labels its images does."""
    from PIL import Image, ImageDraw  # lazy: only the burned-in unit needs it
    im = Image.fromarray(gray)
    ImageDraw.Draw(im).text((4, 2), text, fill=255)
    return np.asarray(im)


def _sheet(clinical: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The clinical table as the hospital keeps it."""
    n = len(clinical)
    sheet = pd.DataFrame({"MRN": [f"H{v:07d}" for v in rng.choice(10 ** 7, n, replace=False)],
                          "Patient name": [f"{LAST[i % 10]} {FIRST[(i // 10) % 10]}" for i in rng.permutation(n)],
                          "Accession": [f"ACC{v:08d}" for v in rng.choice(10 ** 8, n, replace=False)]})
    for layout, name in COLUMNS.items():
        if layout == "patient_id":
            continue
        v = clinical[layout].astype(object)
        if layout == "sex":
            v = v.map({"M": "1", "F": "2"})
        elif layout in ("antiresorptive", "foreign_body", "mandibular_fracture", "poor_quality"):
            v = v.map({0: "n", 1: "y"})
        elif layout.endswith("date"):
            v = pd.to_datetime(v).dt.strftime("%d.%m.%Y")
        sheet[name] = v.map(lambda x: "" if pd.isna(x) else str(x))
    return sheet


def _plant(sheet: pd.DataFrame, lm: pd.DataFrame, shapes: dict, rng: np.random.Generator) -> list[dict]:
    """Plant the faults in the sheet and the landmarks (in place); returns them with their fixes."""
    rows = rng.choice(np.arange(1, len(sheet)), 12, replace=False)
    plants = []

    def put(table, name, i, column, value, kind):
        plants.append({"file": name, "row": int(i) + 2, "column": column, "value": value, "kind": kind,
                       "fix": table.loc[i, column]})
        table.loc[i, column] = value
    put(sheet, "clinical.xlsx", rows[0], COLUMNS["sex"], "3", "unknown sex code")
    put(sheet, "clinical.xlsx", rows[1], COLUMNS["age"], "seventy", "not a number")
    put(sheet, "clinical.xlsx", rows[2], "MRN", sheet.loc[rows[2] - 1, "MRN"], "duplicate patient")
    hip = next(i for i in rng.permutation(len(sheet)) if sheet.loc[i, COLUMNS["tscore_hip"]] and i not in rows)
    put(sheet, "clinical.xlsx", hip, COLUMNS["tscore_hip"], "-9.9", "outside [-7, 5]")
    put(sheet, "clinical.xlsx", rows[3], COLUMNS["dxa_date"], "31.02.2017", "not a date")
    put(sheet, "clinical.xlsx", rows[4], COLUMNS["weight_kg"], "", "is empty")
    put(sheet, "clinical.xlsx", rows[5], COLUMNS["antiresorptive"], "maybe", "unknown flag code")
    put(sheet, "clinical.xlsx", rows[6], COLUMNS["tscore_hip"], "", "neither a hip nor a spine")
    plants[-1]["fix2"] = sheet.loc[rows[6], COLUMNS["tscore_spine"]]
    sheet.loc[rows[6], COLUMNS["tscore_spine"]] = ""
    plants += [{"file": "clinical.xlsx", "row": int(rows[7]) + 2, "column": "Accession", "value": sheet.loc[rows[7], "Accession"],
                "kind": "no image of this name", "fix": "restore the file from fixes/"},
               {"file": "clinical.xlsx", "row": int(rows[8]) + 2, "column": "Accession", "value": sheet.loc[rows[8], "Accession"],
                "kind": "cannot be read", "fix": "restore the file from fixes/"}]
    out_row = int(np.flatnonzero(lm["Accession"] == sheet.loc[rows[9], "Accession"])[0])
    put(lm, LANDMARK_SHEET, out_row, "X", str(shapes[sheet.loc[rows[9], "Accession"]][1] + 25.0), "outside its image")
    side_row = int(np.flatnonzero(lm["Accession"] == sheet.loc[rows[10], "Accession"])[0])
    put(lm, LANDMARK_SHEET, side_row, "Side", "X", "unknown side code")
    return plants


def export_messy(out: str | Path, n_screened: int = 902, seed: int = 0, progress: bool = True,
                 plain: bool = False) -> Path:
    """Write the messy export of a synthetic cohort to ``out`` (whole, or not at all); ``plain``: every
    unit uncompressed in 12 stored bits without burned-in text (the same patients, units and faults)."""
    out = Path(out)
    rng = np.random.default_rng([seed, 5])
    with tempfile.TemporaryDirectory() as scratch:
        by_scale = {scale: generate(Path(scratch) / f"scale{scale}", n_screened, scale, seed, progress=False)
                    for scale in sorted({v["scale"] for v in DEVICES.values()})}
        sets = {d: by_scale[v["scale"]] for d, v in DEVICES.items()}
        first = sets["PanoA"]
        clinical = pd.read_csv(DataFolder(first).clinical_csv, dtype={"patient_id": str})
        names = list(DEVICES)
        device = np.array(names)[np.searchsorted(np.cumsum([DEVICES[d]["share"] for d in names]),
                                                 rng.random(len(clinical)), side="right").clip(max=len(names) - 1)]
        sheet = _sheet(clinical, rng)
        with atomic.atomic_dir(out) as tmp:
            lms, shapes = [], {}
            for i, rec in enumerate(tqdm(clinical.to_dict("records"), desc="export", unit="img", disable=not progress)):
                d, acc = device[i], sheet.loc[i, "Accession"]
                gray = images.read_gray(DataFolder(sets[d]).image(rec["image"]))
                shapes[acc] = gray.shape
                year = rec["radiograph_date"][:4]
                header = {"PatientName": sheet.loc[i, "Patient name"].replace(" ", "^"), "PatientID": sheet.loc[i, "MRN"],
                          "PatientBirthDate": f"{int(year) - int(rec['age'])}0101", "InstitutionName": INSTITUTION,
                          "AccessionNumber": acc, "StudyDate": rec["radiograph_date"].replace("-", "")}
                device_dicom(tmp / "dicom" / d / year / f"{acc}.dcm", gray, header, d, plain)
                own = pd.read_csv(DataFolder(sets[d]).landmarks_csv, dtype={"patient_id": str})
                for _, r in own[own.patient_id == rec["patient_id"]].iterrows():
                    lms.append({"Accession": acc, "Side": "L" if r["side"] == "left" else "R", "X": f"{r['x']:.1f}",
                                "Y": f"{r['y']:.1f}"})
            lm = pd.DataFrame(lms)
            plants = _plant(sheet, lm, shapes, rng)
            (tmp / "fixes").mkdir()
            for p in plants:
                if p["kind"] in ("no image of this name", "cannot be read"):
                    f = next((tmp / "dicom").rglob(f"{p['value']}.dcm"))
                    shutil.copy(f, tmp / "fixes" / f.name)
                    if p["kind"] == "no image of this name":
                        f.unlink()
                    else:
                        f.write_bytes(b"not a DICOM file: the export was cut off here\x00\xff")
            sheet.to_excel(tmp / "clinical.xlsx", index=False, engine="openpyxl")
            lm.to_csv(tmp / LANDMARK_SHEET, index=False)
            (tmp / "mapping.yaml").write_text(MAPPING)
            pd.DataFrame(plants).to_csv(tmp / "planted_faults.csv", index=False)
    return out


def fix(export: str | Path) -> None:
    """Apply the fixes of ``planted_faults.csv`` to an export (what a data manager does after reading
    the validation report)."""
    export = Path(export)
    plants = pd.read_csv(export / "planted_faults.csv", dtype=str, keep_default_na=False)
    sheet = pd.read_excel(export / "clinical.xlsx", dtype=str, keep_default_na=False, engine="openpyxl")
    lm = pd.read_csv(export / LANDMARK_SHEET, dtype=str, keep_default_na=False)
    for p in plants.to_dict("records"):
        i = int(p["row"]) - 2
        if p["fix"] == "restore the file from fixes/":
            src = export / "fixes" / f"{p['value']}.dcm"
            # over the unreadable file where it lies, or back into the folder for the missing one
            dest = next((export / "dicom").rglob(src.name), export / "dicom" / "restored" / src.name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest)
            continue
        table = sheet if p["file"] == "clinical.xlsx" else lm
        table.loc[i, p["column"]] = p["fix"]
        if p.get("fix2"):
            table.loc[i, COLUMNS["tscore_spine"]] = p["fix2"]
    sheet.to_excel(export / "clinical.xlsx", index=False, engine="openpyxl")
    lm.to_csv(export / LANDMARK_SHEET, index=False)
