"""Measuring a detector on a data folder with landmarks: per patient the predicted and true
positions and the errors in pixels of the full-size radiograph, and their summary."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import images
from ..cohort import read_clinical
from ..datafolder import SPACING_COLUMNS, DataFolder
from ..roi import read_all_landmarks
from ..settings import PAPER_PIXEL_MM
from ..synthetic import border_truth, is_synthetic, read_truth
from ..synthetic.radiograph import FULL_WIDTH
from .augment import perturb
from .infer import place
from .marker import load_corners, table as marker_table
from .network import BORDER, KEYPOINTS, Detector

__all__ = ["evaluate", "mirror_check", "full_px", "error_summary"]


def evaluate(net: Detector, data_dir: str | Path, patient_ids=None, min_confidence: float = 0.5,
             progress: bool = True, **look) -> pd.DataFrame:
    """Place every patient of a data folder (optionally with :func:`perturb` settings ``look``) and
    compare with its landmarks: one row per patient with the predicted and true positions (image
    pixels), the errors in pixels of the full-size radiograph, the confidences and the verdict."""
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    lm = read_all_landmarks(data_dir).set_index(["patient_id", "side"])
    truth = border_truth(data_dir)
    exact = read_truth(data_dir).set_index("patient_id") if is_synthetic(data_dir) else None
    rows = []
    for i, pid in enumerate(tqdm(list(patient_ids if patient_ids is not None else clinical.index),
                                 desc="placing", disable=not progress)):
        gray = images.read_gray(DataFolder(data_dir).image(clinical.loc[pid, "image"]))
        if look:
            gray = perturb(gray, seed=i, **look)
        r = place(net, gray, min_confidence)
        to_full = full_px(clinical.loc[pid], gray.shape[1])
        for k in KEYPOINTS:
            tx, ty = lm.loc[(pid, k), ["x", "y"]]
            r[f"{k}_true_x"], r[f"{k}_true_y"] = float(tx), float(ty)
            r[f"{k}_error_full_px"] = float(np.hypot(r[f"{k}_x"] - tx, r[f"{k}_y"] - ty) * to_full)
            if exact is not None and f"foramen_{k}_x" in exact:   # against the centre it was drawn at
                ex, ey = exact.loc[pid, [f"foramen_{k}_x", f"foramen_{k}_y"]]
                r[f"{k}_exact_error_full_px"] = float(np.hypot(r[f"{k}_x"] - ex, r[f"{k}_y"] - ey) * to_full)
        if f"{BORDER}_y" in r and truth is not None:  # vertical error of the border below the left foramen
            r[f"{BORDER}_error_full_px"] = float(abs(r[f"{BORDER}_y"] - truth.loc[pid]) * to_full)
        rows.append({"patient_id": pid, **r})
    return pd.DataFrame(rows)


def mirror_check(net: Detector, data_dir: str | Path, patient_ids=None, progress: bool = True) -> pd.DataFrame:
    """P(mirrored) of each radiograph as it is and mirrored left-right, with its unit and marker where the
    synthetic truth records them: the reader should fire on the mirrored copies of marked radiographs and
    on nothing else (a marker in another place is not a mirror)."""
    if not net.reads_markers:
        raise ValueError("this detector's side-marker reader was never trained (its training folders did not "
                         "say where their markers are): it cannot tell a mirrored radiograph")
    ids = list(patient_ids if patient_ids is not None else read_clinical(data_dir, check_images=False)["patient_id"])
    crops, _ = load_corners(data_dir, ids, progress=progress)
    out = marker_table(net.reader, crops).assign(patient_id=ids)[["patient_id", "p_mirrored", "p_mirrored_if_flipped"]]
    if is_synthetic(data_dir):
        t = read_truth(data_dir).set_index("patient_id")
        for c in ("device", "marker", "marker_corner"):
            if c in t:
                out[c] = out["patient_id"].map(t[c])
    return out


def full_px(record: pd.Series, width: int) -> float:
    """Pixels of the full-size radiograph (0.1 mm) per pixel of this image: from its pixel spacing
    (``spacing_col_mm``) where the data give it, else from its width against the paper's 2964 px."""
    spacing = record.get(SPACING_COLUMNS[1], np.nan)
    return float(spacing) / PAPER_PIXEL_MM if pd.notna(spacing) else FULL_WIDTH / width


def error_summary(table: pd.DataFrame, within: float = 40.0) -> dict:
    """Median, 90th percentile and share within ``within`` px (full size) of the left-foramen error against
    the data's landmarks, over the patients the detector did not flag, and the share flagged; for a
    synthetic cohort also against the exact centres (the landmarks carry a clinician's error of about
    1 mm = 10 px)."""
    ok = table[table["ok"]]
    e = ok["left_error_full_px"]
    return {"n": int(len(table)), "flagged": int((~table["ok"]).sum()), "median_px": float(e.median()),
            "p90_px": float(e.quantile(0.9)), f"share_within_{int(within)}px": float((e <= within).mean()),
            "right_median_px": float(ok["right_error_full_px"].median()),
            **({"exact_median_px": float(ok["left_exact_error_full_px"].median()),
                "exact_p90_px": float(ok["left_exact_error_full_px"].quantile(0.9))}
               if "left_exact_error_full_px" in ok else {}),
            **({"border_median_px": float(ok[f"{BORDER}_error_full_px"].median())}
               if f"{BORDER}_error_full_px" in ok else {})}
