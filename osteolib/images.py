"""Reading radiographs as 8-bit grayscale arrays, with what was done to each and what is wrong with it.

TIFF (through tifffile), PNG and JPEG (through Pillow), 8 or 16 bit, gray or colour, and DICOM
(through pydicom and its decoder plugins, see :mod:`osteolib.dicom`; a file without a suffix is
recognised as DICOM by its ``DICM`` mark). Every format goes by the one display rule of
:mod:`osteolib.pixels` (:data:`~osteolib.pixels.RULE`): colour to BT.601 luma; a DICOM window when the
file has one; else 0 to the detector depth (the smallest of 8, 10, 12, 14, 16 bits holding the image's
largest value), so a 12-bit export stored in 16-bit words fills the 8-bit range.

:func:`read` returns the image and its facts (:data:`FACTS`, one row of a data folder's ``images.csv``);
:func:`problems` says what is wrong with an image from its facts: an **error** (it cannot be used) or a
**warning** (it is used, and listed): burned-in annotation (the file's ``BurnedInAnnotation``, or a line of
text in a corner, :func:`osteolib.pixels.corner_text`), or displayed values that span few gray levels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

import pandas as pd

from . import dicom, pixels
from .datafolder import IMAGE_COLUMNS, DataFolder
from .errors import InputError

__all__ = ["SUFFIXES", "FACTS", "read_gray", "read", "check", "problems", "is_image", "pixel_spacing",
           "read_facts", "burned_in", "shows_text"]

SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".dcm", ".dicom")
#: What :func:`read` records of each image (no identifier among them): a data folder's ``images.csv`` columns.
FACTS = IMAGE_COLUMNS[1:]
#: Displayed values spanning fewer gray levels than this (0.5th-99.5th percentile) are no picture.
NO_PICTURE_LEVELS = 8


def is_image(path: str | Path) -> bool:
    """A file :func:`read_gray` reads: by its suffix, or a DICOM file without one."""
    path = Path(path)
    return path.is_file() and (path.suffix.lower() in SUFFIXES or dicom.is_dicom(path))


def read_gray(path: str | Path) -> np.ndarray:
    """Read one radiograph as a (height, width) uint8 array; :class:`InputError` if it cannot be."""
    return read(path)[0]


def read(path: str | Path) -> tuple[np.ndarray, dict]:
    """One radiograph as a (height, width) uint8 array and its :data:`FACTS`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "image not found")
    if dicom.is_dicom(path):
        gray, shown = dicom.read(path)
        facts = {"format": "DICOM", **shown.as_row()}
    else:
        gray, bits, fmt = _read_other(path)
        facts = {"format": fmt, "transfer_syntax": "", "decoder": "", "photometric": "", "bits_stored": bits,
                 "mapping": f"detector {bits} bits" if bits > 8 else "8 bits", "mapped_from": f"0..{2 ** bits - 1}",
                 "inverted": False, "padding_pixels": 0, "burned_in": ""}
        facts["gray_low"], facts["gray_high"] = pixels.gray_span(gray)
    facts.update(height=gray.shape[0], width=gray.shape[1], corner_text=pixels.corner_text(gray))
    return gray, {k: facts[k] for k in FACTS}


def _read_other(path: Path) -> tuple[np.ndarray, int, str]:
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            a, fmt = tifffile.imread(path), "TIFF"
            if a.ndim == 3 and a.shape[0] in (3, 4) and a.shape[-1] not in (3, 4):
                a = np.moveaxis(a, 0, -1)  # planar colour
        else:
            with Image.open(path) as im:
                fmt = im.format or path.suffix.lstrip(".").upper()
                if im.mode in ("P", "PA", "LA", "CMYK", "YCbCr"):
                    im = im.convert("RGB")
                a = np.asarray(im)
    except (OSError, ValueError, UnidentifiedImageError, tifffile.TiffFileError) as e:
        raise InputError(path, f"cannot be read as an image ({type(e).__name__}: {e})") from e
    gray, bits = pixels.to_uint8(np.asarray(a), path)
    return gray, bits, fmt


def check(path: str | Path) -> tuple[np.ndarray | None, dict | None, list[tuple[str, str, str]]]:
    """:func:`read` that does not raise on a bad image: the image and its facts (None when it cannot be
    read) and its :func:`problems` (a read error is one ``error``, with what to do)."""
    try:
        gray, facts = read(path)
    except InputError as e:
        todo = ("install what the problem names" if "not installed" in e.reason else
                "export the image again (uncompressed, JPEG lossless, JPEG-LS or JPEG 2000) or replace it")
        return None, None, [("error", e.reason, todo)]
    return gray, facts, problems(facts)


def read_facts(data_dir: str | Path) -> pd.DataFrame | None:
    """A data folder's ``images.csv`` (what ingest recorded of each radiograph), or None without one."""
    file = DataFolder(data_dir).images_csv
    return pd.read_csv(file, dtype={"patient_id": str, "burned_in": str}, keep_default_na=False) if file.is_file() else None


def burned_in(data_dir: str | Path, patients: pd.DataFrame) -> set[str]:
    """The patients (``patient_id``, ``image`` rows) whose radiograph carries burned-in text: by the data
    folder's ``images.csv`` (the file's tag, or text found in a corner) or, for a DICOM file, its own
    ``BurnedInAnnotation``."""
    facts = read_facts(data_dir)
    flagged = set() if facts is None else set(facts.loc[shows_text(facts), "patient_id"])
    for pid, rel in zip(patients["patient_id"], patients["image"]):
        path = DataFolder(data_dir).image(rel)
        if pid not in flagged and dicom.is_dicom(path) and path.is_file():
            if str(dicom.header(path, ["BurnedInAnnotation"]).get("BurnedInAnnotation", "")).upper() == "YES":
                flagged.add(pid)
    return flagged


def shows_text(facts) -> bool | pd.Series:
    """Whether an image's :data:`FACTS` (a dict, or an ``images.csv`` table) say it carries burned-in text:
    ``BurnedInAnnotation`` YES, or a line of text found in a corner."""
    return (facts["burned_in"] == "YES") | (facts.get("corner_text", "") != "")


def problems(facts: dict) -> list[tuple[str, str, str]]:
    """What is wrong with an image, from its :data:`FACTS`: ``(severity, problem, what to do)`` each,
    severity ``error`` (the image cannot be used) or ``warning`` (it is used, and listed)."""
    out = []
    span = int(facts["gray_high"]) - int(facts["gray_low"])
    how = f"mapped by {facts['mapping']} from {facts['mapped_from']}"
    if span < NO_PICTURE_LEVELS:
        out.append(("error", f"no picture: its displayed values span {span} of 256 gray levels ({how})",
                    "open it in the unit's own viewer; export it again with its window, or with the right BitsStored"))
    elif span < pixels.LOW_CONTRAST_LEVELS:
        out.append(("warning", f"low contrast: its displayed values span only {span} of 256 gray levels ({how})",
                    "compare it with the unit's own viewer; the study uses it as shown here"))
    if facts["burned_in"] == "YES":
        out.append(("warning", "BurnedInAnnotation is YES: text (perhaps a name or a date) is burned into the pixels",
                    "check the export's de-identification; osteolib shows this radiograph in no figure or report "
                    "whole (only the crops around the foramen)"))
    elif facts.get("corner_text"):
        out.append(("warning", f"what looks like a line of burned-in text in the {facts['corner_text']} corner(s), "
                               "though the file does not say so (BurnedInAnnotation is not YES)",
                    "look at the corner; if it is a name or an ID, check the export's de-identification; osteolib "
                    "shows this radiograph in no figure or report whole (only the crops around the foramen)"))
    return out


def pixel_spacing(path: str | Path) -> tuple[float, float] | None:
    """A DICOM file's pixel spacing in mm (row, column): ``PixelSpacing``, else ``ImagerPixelSpacing``
    (at the detector; panoramic units often record only this); None for other formats or when the
    file records neither. Only these two elements are read, never an identifying one."""
    path = Path(path)
    if not dicom.is_dicom(path):
        return None
    ds = dicom.header(path, ["PixelSpacing", "ImagerPixelSpacing"])
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(tag)
        if value is not None and len(value) == 2:
            return float(value[0]), float(value[1])
    return None
