"""The region of interest: the landmarks it is placed from, and the cropping of a data folder.

The ROI holds the cortical bone of the lower mandibular border below the mental foramen (the
paper's protocol, ``docs/protocol.md``). Its geometry (:class:`osteolib.settings.RoiGeometry`: by
default the paper's 400 px wide and 250 px high, centred on the foramen's x with its top edge at its
y) is a parameter. A box that leaves the image is an error, never silently padded. The cropping
writes the geometry it used beside the ROIs (``rois/geometry.json``): later steps (a screening
bundle) read it as data.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from . import atomic, images, repro, steps, validation
from .datafolder import CLINICAL, LANDMARK_COLUMNS, SPACING_COLUMNS, DataFolder
from .errors import InputError, read_text_csv
from .layout import StudyLayout
from .settings import RoiGeometry

__all__ = ["read_geometry", "landmark_schema", "read_all_landmarks", "read_landmarks", "crop", "cut", "crop_study",
           "read_rois"]


def read_geometry(layout: StudyLayout) -> RoiGeometry:
    """The geometry a study's ROIs were cut with (``rois/geometry.json``, written by :func:`crop_study`)."""
    file = steps.require(layout.roi_geometry, "roi_geometry")
    return RoiGeometry.from_card(json.loads(file.read_text()))


def landmark_schema():
    """The pandera schema of ``landmarks.csv`` read as text."""
    import pandera.pandas as pa  # lazy: pandera takes about a second to import; only validation needs it
    number = lambda s: pd.to_numeric(s.str.strip(), errors="coerce").notna()
    return pa.DataFrameSchema({
        "patient_id": pa.Column(str, pa.Check(lambda s: s.str.strip() != "", error="empty patient_id")),
        "side": pa.Column(str, pa.Check(lambda s: s.str.strip().isin(["left", "right"]),
                                        error="unknown side {value!r} (expected left or right)")),
        "x": pa.Column(str, pa.Check(number, error="{value!r} is not a number")),
        "y": pa.Column(str, pa.Check(number, error="{value!r} is not a number"))},
        unique=["patient_id", "side"], report_duplicates="exclude_first")


def read_all_landmarks(data_dir: str | Path, report: str | Path | None = None) -> pd.DataFrame:
    """Every row of ``<data_dir>/landmarks.csv``, validated: patient_id, side, x, y (numbers), row
    (as a spreadsheet shows it). Every fault (a bad side, a non-number, a patient's second landmark of
    one side) is collected and raised at once (:class:`~osteolib.validation.ValidationError`)."""
    file = DataFolder(data_dir).landmarks_csv
    df = read_text_csv(file, ())
    df.attrs["expected"] = list(LANDMARK_COLUMNS)
    stripped = df.assign(**{c: df[c].str.strip() for c in ("patient_id", "side") if c in df})
    validation.check(landmark_schema(), stripped, file, report)
    df = stripped
    df["row"] = np.arange(len(df)) + 2
    for col in ("x", "y"):
        df[col] = pd.to_numeric(df[col].str.strip())
    return df


def read_landmarks(data_dir: str | Path, patient_ids, side: str) -> pd.DataFrame:
    """Landmarks of ``side`` for ``patient_ids``: patient_id, x, y, row (spreadsheet row in the file)."""
    file = DataFolder(data_dir).landmarks_csv
    df = read_all_landmarks(data_dir)
    mine = df[df["side"] == side].set_index("patient_id")
    missing = [p for p in patient_ids if p not in mine.index]
    if missing:
        raise InputError(file, f"no {side} landmark for patient {missing[0]!r}"
                               + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                         column="patient_id")
    return mine.loc[list(patient_ids), ["x", "y", "row"]].reset_index()


def crop(image: np.ndarray, box: tuple[int, int, int, int], patient_id: str) -> np.ndarray:
    """The ROI of ``image``; InputError when the box leaves the image (no padding)."""
    x0, y0, x1, y1 = box
    h, w = image.shape
    if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
        raise InputError(f"patient {patient_id}", f"ROI box x {x0}..{x1}, y {y0}..{y1} leaves the "
                         f"image ({w} x {h} px): check the landmark or the ROI geometry")
    return image[y0:y1, x0:x1].copy()


def cut(image: np.ndarray, geometry: RoiGeometry, x: float, y: float, patient_id: str,
        spacing: tuple[float, float] | None = None) -> tuple[np.ndarray, tuple]:
    """The ROI of one radiograph and its box in the image's pixels.

    In pixels (or in mm on an image that already has the ROI's pixel size) the box is cut as it is;
    in mm on an image of another spacing, the box in mm is resampled to the ROI's pixel size
    (Pillow's area-aware bilinear filter). InputError when the box leaves the image, or when a
    geometry in mm meets an image without a pixel spacing."""
    same = spacing is not None and all(abs(s - geometry.pixel_mm) < 1e-9 for s in spacing)
    if not geometry.in_mm or same:
        box = geometry.box(x, y)
        return crop(image, box, patient_id), box
    if spacing is None or not all(np.isfinite(spacing)):
        raise InputError(f"patient {patient_id}", "the ROI is given in mm but the image has no pixel spacing "
                         f"({CLINICAL} {', '.join(SPACING_COLUMNS)}): record it, or give the ROI in pixels")
    box = geometry.source_box(x, y, spacing)
    h, w = image.shape
    if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h:
        raise InputError(f"patient {patient_id}", f"ROI box x {box[0]:g}..{box[2]:g}, y {box[1]:g}..{box[3]:g} "
                         f"leaves the image ({w} x {h} px): check the landmark or the ROI geometry")
    roi = Image.fromarray(image).resize((geometry.width, geometry.height), Image.Resampling.BILINEAR, box=box)
    return np.asarray(roi), box


def _one(data: DataFolder, layout: StudyLayout, rois_dir: Path, geometry: RoiGeometry, rec: dict) -> dict:
    image = images.read_gray(data.image(rec["image"]))
    h, w = image.shape
    if not (0 <= rec["x"] < w and 0 <= rec["y"] < h):
        raise InputError(data.landmarks_csv, f"landmark ({rec['x']:g}, {rec['y']:g}) of patient "
                         f"{rec['patient_id']!r} lies outside its image ({w} x {h} px)", row=rec["row"], column="x")
    spacing = tuple(rec[c] for c in SPACING_COLUMNS) if SPACING_COLUMNS[0] in rec else None
    roi, box = cut(image, geometry, rec["x"], rec["y"], rec["patient_id"], spacing)
    out = layout.roi_png(rec["patient_id"], rois_dir)
    Image.fromarray(roi).save(out, optimize=False)
    extra = dict(zip(SPACING_COLUMNS, spacing)) if geometry.in_mm else {}
    return {"patient_id": rec["patient_id"], "side": geometry.side, "x0": box[0], "y0": box[1],
            "x1": box[2], "y1": box[3], **extra, "image": rec["image"], "sha256": repro.sha256(out)}


def crop_study(data_dir: str | Path, cohort: pd.DataFrame, geometry: RoiGeometry,
               layout: StudyLayout, jobs: int = 4, progress: bool = True,
               landmarks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Crop every cohort patient's ROI into the study's ``rois/`` and write ``rois/rois.csv`` and
    ``rois/geometry.json``.

    The folder is built under a temporary name and replaces ``rois/`` only when every patient
    succeeded, so a bad image leaves the previous ROIs (or none) in place, never a mixture.
    """
    data = DataFolder(data_dir)
    # landmarks: the data's own, or placed by the detector (osteolib.placement.auto_landmarks)
    lm = read_landmarks(data_dir, cohort["patient_id"].tolist(), geometry.side) if landmarks is None else landmarks
    columns = ["patient_id", "image"] + [c for c in SPACING_COLUMNS if c in cohort]
    if geometry.in_mm:  # every patient without a spacing at once, before any image is read
        known = cohort[columns[2:]].notna().all(axis=1) if len(columns) == 4 else pd.Series(False, cohort.index)
        if not known.all():
            ids = cohort.loc[~known, "patient_id"].tolist()
            raise InputError(data.clinical_csv, f"the ROI is given in mm (roi_pixel_mm "
                             f"{geometry.pixel_mm:g}) but {len(ids)} of {len(cohort)} patients have no pixel spacing "
                             f"(e.g. {', '.join(map(repr, ids[:3]))}): record it in spacing_row_mm and "
                             "spacing_col_mm (ingest does, from DICOM or the mapping), or give the ROI in pixels",
                             column=SPACING_COLUMNS[0])
    recs = lm.merge(cohort[columns], on="patient_id").to_dict("records")
    with atomic.atomic_dir(layout.rois_dir) as tmp:
        with ThreadPoolExecutor(jobs) as pool:  # PNG/TIFF codecs release the GIL
            rows = list(tqdm(pool.map(lambda r: _one(data, layout, tmp, geometry, r), recs),
                             total=len(recs), desc="ROIs", unit="img", disable=not progress))
        table = pd.DataFrame(rows)
        table.to_csv(tmp / layout.rois_csv.name, index=False)
        atomic.write_json(geometry.as_card(), tmp / layout.roi_geometry.name)
    return table


def read_rois(layout: StudyLayout) -> pd.DataFrame:
    """``rois/rois.csv`` as notebook 02 wrote it."""
    file = steps.require(layout.rois_csv, "rois_csv")
    return pd.read_csv(file, dtype={"patient_id": str})
