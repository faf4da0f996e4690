"""Notebook 02 with ``roi_source = "auto"``: the landmarks of a study's patients placed by the
detector, the ones it is unsure of listed for a clinician instead of being cropped."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import atomic, images
from ..datafolder import LANDMARKS, DataFolder
from ..errors import InputError
from ..layout import StudyLayout
from ..roi import read_all_landmarks
from .evaluate import full_px
from .infer import place
from .network import BORDER, Detector

__all__ = ["auto_landmarks"]


def auto_landmarks(net: Detector, data_dir: str | Path, cohort: pd.DataFrame, side: str,
                   min_confidence: float, layout: StudyLayout, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Landmarks of ``side`` placed by the detector for every cohort patient, in the layout
    :func:`osteolib.roi.crop_study` takes, and the placement table (with errors against the data's
    own landmarks where it has them).

    Patients the detector flags are never cropped: they are written to
    the study's ``rois_needs_landmarks.csv`` and an :class:`InputError` lists them.
    """
    data_dir, folder = Path(data_dir), DataFolder(data_dir)
    manual = None
    if folder.landmarks_csv.is_file():
        manual = read_all_landmarks(data_dir).set_index(["patient_id", "side"])
    rows = []
    for rec in tqdm(cohort.to_dict("records"), desc="placing ROIs", disable=not progress):
        gray = images.read_gray(folder.image(rec["image"]))
        r = place(net, gray, min_confidence)
        row = {"patient_id": rec["patient_id"], "x": r[f"{side}_x"], "y": r[f"{side}_y"],
               "confidence": r[f"{side}_confidence"], "p_mirrored": r["p_mirrored"], "ok": r["ok"], "reason": r["reason"]}
        if side == "left" and f"{BORDER}_y" in r:
            row["border_y"] = r[f"{BORDER}_y"]  # the lower border the ROI should hold
        if manual is not None and (rec["patient_id"], side) in manual.index:
            tx, ty = manual.loc[(rec["patient_id"], side), ["x", "y"]]
            row.update(true_x=float(tx), true_y=float(ty),
                       error_full_px=float(np.hypot(row["x"] - tx, row["y"] - ty) * full_px(pd.Series(rec), gray.shape[1])))
        rows.append(row)
    table = pd.DataFrame(rows)
    flagged = table[~table["ok"]]
    target = layout.needs_landmarks_csv
    if len(flagged):
        atomic.write_csv(flagged[["patient_id", "confidence", "p_mirrored", "reason"]], target, float_format="%.3f")
        raise InputError(data_dir, f"the ROI detector flagged {len(flagged)} patient(s) (e.g. {flagged['patient_id'].iloc[0]}: "
                                   f"{flagged['reason'].iloc[0]}); they are listed in {target}: give them manual "
                                   f"landmarks ({LANDMARKS}) and use roi_source='landmarks'")
    target.unlink(missing_ok=True)
    return table[["patient_id", "x", "y"]].assign(row=np.nan), table
