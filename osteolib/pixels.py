"""From stored pixel values to the 8-bit gray a radiograph is studied in: the one rule for every format.

Every radiograph of a study, whatever its format (DICOM, TIFF, PNG, JPEG), becomes a 2-D ``uint8``
array by the rule :data:`RULE` names, recorded in each step's manifest that reads images:

* **colour** (RGB, RGBA, YBR after decoding, a palette) becomes gray by the ITU-R BT.601 luma weights
  (0.299 R + 0.587 G + 0.114 B), as Pillow's ``convert("L")`` does;
* a **window** the file defines (DICOM VOI LUT or window centre/width) is the display it was exported
  for and is used as it is (see :mod:`osteolib.dicom`);
* **without a window**, values are mapped linearly to 0-255 from 0 over the *detector depth*: the
  smallest standard depth (8, 10, 12, 14 or 16 bits) that holds the image's largest value, never
  more than the bits the file says it stores (:func:`detector_bits`). A 12-bit detector's image is
  mapped over 12 bits whether it is stored in 12 or 16 (DICOM ``BitsStored`` 16, or a 16-bit TIFF):
  the stored range alone would leave it 16 times too dark. The window is the same for every pixel of
  the image, so no contrast is invented inside it, and an 8-bit image stored as 16 bits (values x 257)
  maps back exactly. The bits used are recorded per image.

What this rule cannot rescue (an image whose displayed values still span few gray levels) is not
given silently: :func:`gray_span` measures it and :mod:`osteolib.images` lists it as a problem.

Examples
--------
>>> import numpy as np
>>> detector_bits(4095, 16), detector_bits(4096, 16), detector_bits(1, 1), detector_bits(200, 12)
(12, 14, 1, 8)
>>> to_uint8(np.array([[0, 2048, 4095]], np.uint16)).tolist()
[[0, 128, 255]]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = ["RULE", "DEPTHS", "LOW_CONTRAST_LEVELS", "detector_bits", "luma", "to_uint8", "linear", "gray_span"]

#: The identifier of the display rule (recorded in manifests; a change of the rule changes it).
RULE = "osteolib-display/1: window if the file has one, else 0 to the detector depth (8/10/12/14/16 bits, at most BitsStored); BT.601 luma for colour"
#: Standard detector depths, in bits.
DEPTHS = (8, 10, 12, 14, 16)
#: An image whose displayed values (0.5th to 99.5th percentile) span fewer gray levels is listed as low contrast.
LOW_CONTRAST_LEVELS = 64
_LUMA = np.array([0.299, 0.587, 0.114])


def detector_bits(top: int, stored: int = 16) -> int:
    """The smallest standard depth holding ``top`` (the largest value), at most ``stored`` bits."""
    bits = next((b for b in DEPTHS if top < 2 ** b), None)
    if bits is None and top >= 2 ** stored:
        raise ValueError(f"value {top} exceeds {stored} bits")
    return min(bits or stored, stored)


def luma(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3|4) colour to (H, W) gray of the same integer range (BT.601 weights, rounded)."""
    gray = np.round(rgb[..., :3].astype(np.float64) @ _LUMA)
    return gray.astype(np.uint16 if gray.max() > 255 else np.uint8)


def linear(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` mapped linearly from [lo, hi] to 0-255 (rounded, clipped) as uint8."""
    span = (hi - lo) or 1.0
    return np.clip(np.round((np.asarray(values, np.float64) - lo) * (255.0 / span)), 0, 255).astype(np.uint8)


def to_uint8(a: np.ndarray, file: str | Path = "<array>") -> tuple[np.ndarray, int]:
    """A 2-D (gray) or 3-D (H, W, 3|4 colour) integer array as 2-D uint8 gray by the detector-depth rule,
    with the bits it was mapped over (8 for 8-bit data)."""
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = luma(a)
    if a.ndim != 2:
        raise InputError(file, f"cannot be converted to grayscale (array of shape {a.shape})")
    if a.dtype == np.uint8:
        return a, 8
    if a.dtype == bool:
        return a.astype(np.uint8) * 255, 1
    if not np.issubdtype(a.dtype, np.integer):
        raise InputError(file, f"cannot be converted to grayscale (pixel type {a.dtype})")
    if a.min() < 0:
        raise InputError(file, "has negative pixel values")
    top = int(a.max())
    if top >= 2 ** DEPTHS[-1]:
        raise InputError(file, f"pixel values up to {top} exceed 16 bits")
    bits = detector_bits(top)
    return linear(a, 0, 2 ** bits - 1), bits


def gray_span(gray: np.ndarray, keep: np.ndarray | None = None) -> tuple[int, int]:
    """The 0.5th and 99.5th percentiles of a displayed image's gray values (``keep``: the pixels that
    count, e.g. not padding); a large image on every k-th row and column (at least 256 of each)."""
    k = max(1, min(gray.shape[:2]) // 256)
    sample = gray[::k, ::k] if keep is None else gray[::k, ::k][keep[::k, ::k]]
    if sample.size == 0:
        return 0, 0
    lo, hi = np.percentile(sample, [0.5, 99.5])
    return int(round(lo)), int(round(hi))
