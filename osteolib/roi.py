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
from .errors import InputError, first_bad_row, read_text_csv
from .layout import StudyLayout

LANDMARK_COLUMNS = ("patient_id", "side", "x", "y")


@dataclass(frozen=True)
class RoiGeometry:
    """Crop geometry in pixels of the images it is applied to.

    Parameters
    ----------
    height, width : ROI size (paper: 250 x 400).
    dx : horizontal offset of the box centre from the landmark (+ towards the image's right).
    dy : vertical offset of the box's top edge from the landmark (+ downwards).
    side : which mental foramen, ``"left"`` (the patient's left, on the image's right) or ``"right"``.

    Examples
    --------
    >>> RoiGeometry().box(1900.0, 1150.0)
    (1700, 1150, 2100, 1400)
    """

    height: int = 250
    width: int = 400
    dx: int = 0
    dy: int = 0
    side: str = "left"

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
        RoiGeometry(height=40, width=64, dx=0, dy=0, side='left')
        """
        return {"height": self.height, "width": self.width, "dx": self.dx, "dy": self.dy, "side": self.side,
                "units": "pixels of the study's radiographs",
                "anchor": "box centred on the mental foramen's x (+ dx), top edge at its y (+ dy)"}

    @classmethod
    def from_card(cls, card: dict) -> "RoiGeometry":
        return cls(int(card["height"]), int(card["width"]), int(card["dx"]), int(card["dy"]), card["side"])


def read_geometry(study) -> RoiGeometry:
    """The geometry a study's ROIs were cut with (``rois/geometry.json``, written by :func:`crop_study`)."""
    import json
    file = StudyLayout.of(study).roi_geometry
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: run notebooks/02_roi.ipynb for this study")
    return RoiGeometry.from_card(json.loads(file.read_text()))


def read_all_landmarks(data_dir: str | Path) -> pd.DataFrame:
    """Every row of ``<data_dir>/landmarks.csv``, validated: patient_id, side, x, y (numbers), row
    (as a spreadsheet shows it). A bad side, a non-number or a patient's second landmark of one side
    is an :class:`InputError` naming the row and column."""
    file = Path(data_dir) / "landmarks.csv"
    df = read_text_csv(file, LANDMARK_COLUMNS)
    df["row"] = np.arange(len(df)) + 2
    first_bad_row(~df["side"].str.strip().isin(["left", "right"]), file, "side",
                  lambda i: f"unknown side {df['side'].iloc[i]!r} (expected left or right)")
    for col in ("x", "y"):
        values = pd.to_numeric(df[col].str.strip(), errors="coerce")
        first_bad_row(values.isna(), file, col, lambda i: f"{df[col].iloc[i]!r} is not a number")
        df[col] = values
    df["patient_id"], df["side"] = df["patient_id"].str.strip(), df["side"].str.strip()
    first_bad_row(df.duplicated(["patient_id", "side"]), file, "patient_id",
                  lambda i: f"second {df['side'].iloc[i]} landmark for patient {df['patient_id'].iloc[i]!r}")
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


def _one(data_dir: Path, layout: StudyLayout, rois_dir: Path, geometry: RoiGeometry, rec: dict) -> dict:
    image = images.read_gray(data_dir / rec["image"])
    h, w = image.shape
    if not (0 <= rec["x"] < w and 0 <= rec["y"] < h):
        raise InputError(data_dir / "landmarks.csv", f"landmark ({rec['x']:g}, {rec['y']:g}) of patient "
                         f"{rec['patient_id']!r} lies outside its image ({w} x {h} px)", row=rec["row"], column="x")
    box = geometry.box(rec["x"], rec["y"])
    roi = crop(image, box, rec["patient_id"])
    out = layout.roi_png(rec["patient_id"], rois_dir)
    Image.fromarray(roi).save(out, optimize=False)
    return {"patient_id": rec["patient_id"], "side": geometry.side, "x0": box[0], "y0": box[1],
            "x1": box[2], "y1": box[3], "image": rec["image"], "sha256": repro.sha256(out)}


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
    recs = lm.merge(cohort[["patient_id", "image"]], on="patient_id").to_dict("records")
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
