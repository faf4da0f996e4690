"""The region of interest: its geometry (pure) and the cropping of a data folder.

The ROI holds the cortical bone of the lower mandibular border below the mental foramen (the
paper's protocol, ``docs/protocol.md``). By default it is 400 px wide and 250 px high, centred on
the foramen's x with its top edge at its y; size, offsets and side are parameters. A box that
leaves the image is an error, never silently padded. The cropping writes the geometry it used
beside the ROIs (``rois/geometry.json``): later steps (a screening bundle) read it as data.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from . import atomic, images, repro
from .errors import InputError, read_text_csv
from .layout import StudyLayout

LANDMARK_COLUMNS = ("patient_id", "side", "x", "y")


#: The paper's device: about 0.1 mm per pixel (2964 x 1464 px panoramics), the synthetic cohort's at
#: scale 1; its 250 x 400 px ROI is 25 x 40 mm there.
PAPER_PIXEL_MM = 0.1


@dataclass(frozen=True)
class RoiGeometry:
    """Crop geometry: in pixels of the images it is applied to, or in millimetres.

    Parameters
    ----------
    height, width : ROI size in pixels of the ROI (paper: 250 x 400).
    dx : horizontal offset of the box centre from the landmark (+ towards the image's right), ROI pixels.
    dy : vertical offset of the box's top edge from the landmark (+ downwards), ROI pixels.
    side : which mental foramen, ``"left"`` (the patient's left, on the image's right) or ``"right"``.
    pixel_mm : 0 (default): the box is cut in the image's own pixels, as the paper did (250 x 400 px
        at its device's about 0.1 mm per pixel: 25 x 40 mm). > 0: the ROI's pixel size in mm: a box of
        ``height`` x ``width`` x ``pixel_mm`` mm is cut from each image by its own pixel spacing and
        resampled to ``height`` x ``width`` px, so devices of different spacing give the same anatomy.

    Examples
    --------
    >>> RoiGeometry().box(1900.0, 1150.0)
    (1700, 1150, 2100, 1400)
    >>> RoiGeometry(250, 400, pixel_mm=0.1).source_box(1900.0, 1150.0, (0.125, 0.125))
    (1740.0, 1150.0, 2060.0, 1350.0)
    """

    height: int = 250
    width: int = 400
    dx: int = 0
    dy: int = 0
    side: str = "left"
    pixel_mm: float = 0.0

    @property
    def in_mm(self) -> bool:
        return self.pixel_mm > 0

    def source_box(self, x: float, y: float, spacing: tuple[float, float]) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in pixels of an image of ``spacing`` (row, column mm) holding the box in mm."""
        row_mm, col_mm = spacing
        w, h = self.width * self.pixel_mm / col_mm, self.height * self.pixel_mm / row_mm
        x0 = x + self.dx * self.pixel_mm / col_mm - w / 2
        y0 = y + self.dy * self.pixel_mm / row_mm
        return tuple(float(round(v, 3)) for v in (x0, y0, x0 + w, y0 + h))

    def box(self, x: float, y: float) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), half-open, of the ROI for a landmark at (x, y)."""
        x0 = int(np.floor(x + self.dx - self.width / 2 + 0.5))
        y0 = int(np.floor(y + self.dy + 0.5))
        return x0, y0, x0 + self.width, y0 + self.height

    def scaled(self, factor: float) -> "RoiGeometry":
        """The same anatomy on images scaled by ``factor``."""
        r = lambda v: int(round(v * factor))
        return RoiGeometry(r(self.height), r(self.width), r(self.dx), r(self.dy), self.side)

    def as_card(self) -> dict:
        """The geometry as ``rois/geometry.json`` and a bundle's card record it.

        >>> RoiGeometry.from_card(RoiGeometry(40, 64).as_card())
        RoiGeometry(height=40, width=64, dx=0, dy=0, side='left', pixel_mm=0.0)
        """
        card = {"height": self.height, "width": self.width, "dx": self.dx, "dy": self.dy, "side": self.side,
                "pixel_mm": self.pixel_mm,
                "anchor": "box centred on the mental foramen's x (+ dx), top edge at its y (+ dy)"}
        if self.in_mm:
            mm = lambda v: round(v * self.pixel_mm, 4)
            return {**card, "units": "mm, cut from each image by its pixel spacing and resampled to height x width px",
                    "height_mm": mm(self.height), "width_mm": mm(self.width), "dx_mm": mm(self.dx),
                    "dy_mm": mm(self.dy)}
        return {**card, "units": "pixels of the study's radiographs (at the paper's device, about "
                                 f"{PAPER_PIXEL_MM} mm per pixel, {self.height * PAPER_PIXEL_MM:g} x "
                                 f"{self.width * PAPER_PIXEL_MM:g} mm)"}

    @classmethod
    def from_card(cls, card: dict) -> "RoiGeometry":
        return cls(int(card["height"]), int(card["width"]), int(card["dx"]), int(card["dy"]), card["side"],
                   float(card.get("pixel_mm", 0.0)))


def read_geometry(study) -> RoiGeometry:
    """The geometry a study's ROIs were cut with (``rois/geometry.json``, written by :func:`crop_study`)."""
    import json
    file = StudyLayout.of(study).roi_geometry
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: run notebooks/02_roi.ipynb for this study")
    return RoiGeometry.from_card(json.loads(file.read_text()))


def landmark_schema():
    """The pandera schema of ``landmarks.csv`` read as text."""
    import pandera.pandas as pa
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
    from . import validation
    file = Path(data_dir) / "landmarks.csv"
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
    file = Path(data_dir) / "landmarks.csv"
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
                         "(clinical.csv spacing_row_mm, spacing_col_mm): record it, or give the ROI in pixels")
    box = geometry.source_box(x, y, spacing)
    h, w = image.shape
    if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h:
        raise InputError(f"patient {patient_id}", f"ROI box x {box[0]:g}..{box[2]:g}, y {box[1]:g}..{box[3]:g} "
                         f"leaves the image ({w} x {h} px): check the landmark or the ROI geometry")
    roi = Image.fromarray(image).resize((geometry.width, geometry.height), Image.Resampling.BILINEAR, box=box)
    return np.asarray(roi), box


def _one(data_dir: Path, layout: StudyLayout, rois_dir: Path, geometry: RoiGeometry, rec: dict) -> dict:
    image = images.read_gray(data_dir / rec["image"])
    h, w = image.shape
    if not (0 <= rec["x"] < w and 0 <= rec["y"] < h):
        raise InputError(data_dir / "landmarks.csv", f"landmark ({rec['x']:g}, {rec['y']:g}) of patient "
                         f"{rec['patient_id']!r} lies outside its image ({w} x {h} px)", row=rec["row"], column="x")
    spacing = (rec["spacing_row_mm"], rec["spacing_col_mm"]) if "spacing_row_mm" in rec else None
    roi, box = cut(image, geometry, rec["x"], rec["y"], rec["patient_id"], spacing)
    out = layout.roi_png(rec["patient_id"], rois_dir)
    Image.fromarray(roi).save(out, optimize=False)
    extra = {"spacing_row_mm": spacing[0], "spacing_col_mm": spacing[1]} if geometry.in_mm else {}
    return {"patient_id": rec["patient_id"], "side": geometry.side, "x0": box[0], "y0": box[1],
            "x1": box[2], "y1": box[3], **extra, "image": rec["image"], "sha256": repro.sha256(out)}


def crop_study(data_dir: str | Path, cohort: pd.DataFrame, geometry: RoiGeometry,
               study, jobs: int = 4, progress: bool = True,
               landmarks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Crop every cohort patient's ROI into the study's ``rois/`` and write ``rois/rois.csv`` and
    ``rois/geometry.json``; ``study``: its folder or :class:`~osteolib.layout.StudyLayout`.

    The folder is built under a temporary name and replaces ``rois/`` only when every patient
    succeeded, so a bad image leaves the previous ROIs (or none) in place, never a mixture.
    """
    data_dir, layout = Path(data_dir), StudyLayout.of(study)
    # landmarks: the data's own, or placed by the detector (osteolib.placement.auto_landmarks)
    lm = read_landmarks(data_dir, cohort["patient_id"].tolist(), geometry.side) if landmarks is None else landmarks
    columns = ["patient_id", "image"] + [c for c in ("spacing_row_mm", "spacing_col_mm") if c in cohort]
    if geometry.in_mm:  # every patient without a spacing at once, before any image is read
        known = cohort[columns[2:]].notna().all(axis=1) if len(columns) == 4 else pd.Series(False, cohort.index)
        if not known.all():
            ids = cohort.loc[~known, "patient_id"].tolist()
            raise InputError(Path(data_dir) / "clinical.csv", f"the ROI is given in mm (roi_pixel_mm "
                             f"{geometry.pixel_mm:g}) but {len(ids)} of {len(cohort)} patients have no pixel spacing "
                             f"(e.g. {', '.join(map(repr, ids[:3]))}): record it in spacing_row_mm and "
                             "spacing_col_mm (ingest does, from DICOM or the mapping), or give the ROI in pixels",
                             column="spacing_row_mm")
    recs = lm.merge(cohort[columns], on="patient_id").to_dict("records")
    with atomic.atomic_dir(layout.rois_dir) as tmp:
        with ThreadPoolExecutor(jobs) as pool:  # PNG/TIFF codecs release the GIL
            rows = list(tqdm(pool.map(lambda r: _one(data_dir, layout, tmp, geometry, r), recs),
                             total=len(recs), desc="ROIs", unit="img", disable=not progress))
        table = pd.DataFrame(rows)
        table.to_csv(tmp / layout.rois_csv.name, index=False)
        atomic.write_json(geometry.as_card(), tmp / layout.roi_geometry.name)
    return table


def read_rois(study) -> pd.DataFrame:
    """``rois/rois.csv`` as notebook 02 wrote it."""
    file = StudyLayout.of(study).rois_csv
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: run notebooks/02_roi.ipynb for this study first")
    return pd.read_csv(file, dtype={"patient_id": str})
