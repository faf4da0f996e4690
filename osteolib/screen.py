"""Screening new patients with a model bundle (see :mod:`osteolib.bundle`).

One patient::

    python -m osteolib.screen --bundle bundles/r18 --image pano.tif --landmark 1900,1150 \\
        --age 72 --sex F --height-cm 152 --weight-kg 48 --out screening/

A batch, in the project's input layout (``clinical.csv`` columns ``patient_id``,
``image``, ``sex``, ``age``, ``height_cm``, ``weight_kg``; the mental foramen in ``landmarks.csv``
beside it, or ``--landmarks``)::

    python -m osteolib.screen --bundle bundles/r18 --table export/clinical.csv --out screening/

Per patient: P(osteoporosis), the screening result at the bundle's threshold, the OSTA index
beside it (0.2 x (weight kg - age); <= -1 suggests risk), and ``<patient_id>.png``: the radiograph
with the ROI box and the ROI with the Grad-CAM of the class it was assigned to. A batch writes ``screening.csv``; a row
that cannot be screened (missing image, unknown sex code, landmark outside the image, ...) gets its
error in the ``error`` column and the others finish. Images may be TIFF, PNG, JPEG or DICOM; from
DICOM only the pixel data are used, never a header field.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import atomic, baselines, contribution, images, plots, roi
from .bundle import Bundle, load
from .cam.method import Explainer
from .datafolder import CLINICAL, LANDMARK_COLUMNS, LANDMARKS, SPACING_COLUMNS, DataFolder
from .errors import InputError, read_text_csv

__all__ = ["COLUMNS", "NEEDED", "screen_patient", "read_table", "screen_table", "main"]

COLUMNS = ["patient_id", "p_osteoporosis", "result", "threshold", "osta", "osta_result", "bmi", "image_logit",
           "covariates_logit", "cam_empty", "explained", "x0", "y0", "x1", "y1", "figure", "error"]
NEEDED = ("patient_id", "image", "sex", "age", "height_cm", "weight_kg")


def _number(value, name: str, low: float, high: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not (low <= v <= high) or np.isnan(v):
        raise ValueError(f"{name} {v:g} outside [{low:g}, {high:g}]")
    return v


def screen_patient(b: Bundle, image: str | Path, landmark: tuple[float, float], age, sex: str, height_cm,
                   weight_kg, patient_id: str = "patient", out: str | Path | None = None,
                   spacing: tuple[float, float] | None = None) -> dict:
    """Screen one patient; writes ``<out>/<patient_id>.png`` when ``out`` is given. Raises on bad input.

    ``spacing``: the image's pixel spacing in mm (row, column), needed when the bundle's ROI is in mm
    (a DICOM file's own is used when it is not given)."""
    age = _number(age, "age", 18, 120)
    height_cm = _number(height_cm, "height_cm", 100, 230)
    weight_kg = _number(weight_kg, "weight_kg", 20, 250)
    sex = str(sex).strip().upper()
    if sex not in ("F", "M"):
        raise ValueError(f"sex {sex!r} is not F or M")
    gray, facts = images.read(image)
    x, y = float(landmark[0]), float(landmark[1])
    h, w = gray.shape
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"landmark ({x:g}, {y:g}) lies outside the image ({w} x {h} px)")
    crop, box = roi.cut(gray, b.geometry, x, y, patient_id, spacing or images.pixel_spacing(image))
    if tuple(crop.shape) != b.net.config.input_size:
        raise ValueError(f"ROI of {crop.shape} px, but the model takes {b.net.config.input_size}")
    bmi = weight_kg / (height_cm / 100) ** 2
    cov = b.scaler.transform(pd.DataFrame({"age": [age], "bmi": [bmi], "sex": [sex]}))
    with Explainer(b.net, target="predicted") as ex:  # what drove this patient's result
        e = ex.explain(torch.from_numpy(crop)[None], cov if b.net.arm == "ensemble" else None, guided=False)
    p = float(e.probability[0])
    parts = contribution.decompose(b.net, torch.from_numpy(crop)[None], cov if b.net.arm == "ensemble" else None).iloc[0]
    cam_empty = not np.any(e.gradcam[0] > 0)
    osta = float(baselines.osta([weight_kg], [age])[0])
    row = {"patient_id": patient_id, "p_osteoporosis": p, "image_logit": parts["image"],
           "covariates_logit": parts["covariates"], "cam_empty": cam_empty,
           "explained": contribution.in_words(parts, cam_empty, "osteoporosis" if p >= 0.5 else "non_osteoporosis"),
           "result": "osteoporosis suspected" if p >= b.threshold else "not suspected",
           "threshold": b.threshold, "osta": osta,
           "osta_result": "risk (OSTA <= -1)" if osta <= baselines.OSTA_CUTOFF else "low risk (OSTA > -1)",
           "bmi": bmi, "x0": box[0], "y0": box[1], "x1": box[2], "y1": box[3], "figure": "", "error": ""}
    if out is not None:
        target = Path(out) / f"{patient_id}.png"
        # a radiograph with burned-in text (a name, often) is shown around its ROI only
        shown = plots.mask_outside(gray, box) if images.shows_text(facts) else gray
        fig = plots.screening_figure(shown, box, crop, e.gradcam[0], row, b.net.config)
        plots.save(fig, target)
        plt.close(fig)
        row["figure"] = target.name
    return row


def read_table(table: str | Path, landmarks: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The batch table with each patient's landmark of the bundle's side joined (as text; rows are
    validated one by one while screening). A missing file or column stops; a bad row does not."""
    table = Path(table)
    df = read_text_csv(table, NEEDED)
    df["row"] = np.arange(len(df)) + 2
    lm_file = Path(landmarks) if landmarks else DataFolder(table.parent).landmarks_csv
    return df, read_text_csv(lm_file, LANDMARK_COLUMNS, "file not found (give --landmarks)")


def screen_table(b: Bundle, table: str | Path, out: str | Path, landmarks: str | Path | None = None,
                 progress: bool = True) -> pd.DataFrame:
    """Screen every row of ``table``; writes ``<out>/screening.csv`` and one PNG per patient."""
    df, lm = read_table(table, landmarks)
    lm = lm[lm["side"].str.strip() == b.geometry.side]
    lm_by_id = {r.patient_id.strip(): (r.x, r.y) for r in lm.itertuples()}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in tqdm(df.to_dict("records"), desc="screening", unit="patient", disable=not progress):
        pid = r["patient_id"].strip() or f"row{r['row']}"
        try:
            if pid not in lm_by_id:
                raise ValueError(f"no {b.geometry.side} landmark in the landmarks file")
            x, y = (_number(v, axis, -1e9, 1e9) for v, axis in zip(lm_by_id[pid], ("x", "y")))
            image = Path(r["image"])
            image = image if image.is_absolute() else Path(table).parent / image
            spacing = None
            if all(r.get(c, "").strip() for c in SPACING_COLUMNS):
                spacing = tuple(_number(r[c], c, 0.001, 10) for c in SPACING_COLUMNS)
            rows.append(screen_patient(b, image, (x, y), r["age"], r["sex"], r["height_cm"], r["weight_kg"], pid, out,
                                       spacing))
        except (ValueError, InputError, OSError) as e:
            message = f"{Path(table).name}, row {r['row']}: {e}"
            tqdm.write(f"skipped {pid}: {message}", file=sys.stderr)
            rows.append({"patient_id": pid, "error": message})
    result = pd.DataFrame(rows).reindex(columns=COLUMNS)
    atomic.write_csv(result, out / "screening.csv", float_format="%.6f")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.screen", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--bundle", required=True, help="a folder written by python -m osteolib.bundle")
    ap.add_argument("--out", required=True, help="folder for the results")
    ap.add_argument("--table", help=f"batch: {CLINICAL} of the patients (input layout)")
    ap.add_argument("--landmarks", help=f"batch: {LANDMARKS} (default: beside the table)")
    ap.add_argument("--image", help="one patient: the panoramic radiograph (TIFF, PNG, JPEG or DICOM)")
    ap.add_argument("--landmark", help="one patient: X,Y of the mental foramen on the bundle's side, in pixels")
    ap.add_argument("--age", help="years")
    ap.add_argument("--sex", help="F or M")
    ap.add_argument("--height-cm")
    ap.add_argument("--weight-kg")
    ap.add_argument("--patient-id", default="patient", help="name of the outputs (never taken from DICOM)")
    ap.add_argument("--pixel-spacing", help="one patient: ROW,COL mm per pixel (for a bundle whose ROI is in mm; "
                                            "a DICOM file's own is used otherwise)")
    args = ap.parse_args(argv)
    b = load(args.bundle)
    if args.table:
        result = screen_table(b, args.table, args.out, args.landmarks)
        ok = result["error"].isna() | (result["error"] == "")
        print(f"{args.out}/screening.csv: {int(ok.sum())} screened, {int((~ok).sum())} with errors")
        return 0 if ok.all() else 1
    missing = [n for n in ("image", "landmark", "age", "sex", "height_cm", "weight_kg") if getattr(args, n) is None]
    if missing:
        ap.error("one patient needs --" + ", --".join(m.replace("_", "-") for m in missing) + " (or use --table)")
    try:
        x, y = (float(v) for v in args.landmark.split(","))
    except ValueError:
        ap.error(f"--landmark {args.landmark!r}: expected X,Y")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    spacing = tuple(float(v) for v in args.pixel_spacing.split(",")) if args.pixel_spacing else None
    row = screen_patient(b, args.image, (x, y), args.age, args.sex, args.height_cm, args.weight_kg,
                         args.patient_id, args.out, spacing)
    atomic.write_csv(pd.DataFrame([row]).reindex(columns=COLUMNS), Path(args.out) / f"{args.patient_id}.csv",
                     float_format="%.6f")
    print(f"{row['patient_id']}: P(osteoporosis) = {row['p_osteoporosis']:.3f} -> {row['result']} "
          f"(threshold {row['threshold']:g}); OSTA {row['osta']:.1f}: {row['osta_result']}; "
          f"figure {Path(args.out) / row['figure']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
