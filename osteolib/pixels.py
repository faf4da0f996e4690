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
given silently: :func:`gray_span` measures it and :mod:`osteolib.images` lists it as a problem;
:func:`corner_text` looks for a line of burned-in text in the corners (a name, a date) that a file's
header does not declare.

Examples
--------
>>> import numpy as np
>>> detector_bits(4095, 16), detector_bits(4096, 16), detector_bits(1, 1), detector_bits(200, 12)
(12, 14, 1, 8)
>>> gray, bits = to_uint8(np.array([[0, 2048, 4095]], np.uint16))
>>> gray.tolist(), bits
([[0, 128, 255]], 12)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from .errors import InputError

__all__ = ["RULE", "DEPTHS", "LOW_CONTRAST_LEVELS", "detector_bits", "luma", "to_uint8", "linear", "gray_span", "CORNERS",
           "corner_text"]

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


#: The corners :func:`corner_text` looks in (a sixth of the height by a quarter of the width each).
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def corner_text(gray: np.ndarray, min_chars: int = 4) -> str:
    """The corners of a displayed radiograph that hold what looks like a line of burned-in text
    (comma-separated, "" for none): at least ``min_chars`` bright, character-sized marks side by side.

    Written here because no maintained library tells text in pixels without an OCR model. The rule: in
    each corner (:data:`CORNERS`), the pixels more than 64 levels above their surroundings (a white
    top-hat: the corner less its gray opening by a square an eighth of the corner high, so only marks
    thinner than that count) are labelled (8-connected, scipy); marks 4 px to half the corner high, at
    most four times as wide as high and of at least 6 pixels are characters; a line is a run of characters whose
    vertical centres agree within 0.6 of the taller's height and whose gaps are under twice it. A single
    side marker (a lead "L" or "R") is one mark, not a line; dark text on a bright corner is not looked
    for. A heuristic: it finds the names units burn into a corner and misses text elsewhere.
    """
    h, w = gray.shape
    bh, bw = max(1, h // 6), max(1, w // 4)
    size = max(5, bh // 8)  # wider than a character's stroke, narrower than the anatomy
    boxes = {"top-left": gray[:bh, :bw], "top-right": gray[:bh, w - bw:],
             "bottom-left": gray[h - bh:, :bw], "bottom-right": gray[h - bh:, w - bw:]}
    found = []
    for name, box in boxes.items():
        ink = box.astype(np.int16) - ndimage.grey_opening(box, size=(size, size))  # a white top-hat
        labels, n = ndimage.label(ink > 64, structure=np.ones((3, 3), bool))
        if n < min_chars:
            continue
        chars = []
        for sl in ndimage.find_objects(labels):
            ch, cw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
            if 4 <= ch <= bh / 2 and cw <= 4 * ch and (labels[sl] > 0).sum() >= 6:
                chars.append(((sl[0].start + sl[0].stop) / 2, sl[1].start, sl[1].stop, ch))
        chars.sort(key=lambda c: c[1])
        best = 0
        for i, first in enumerate(chars):  # the longest line starting at each character
            run, (yc, _, right, ch) = 1, first
            for c in chars[i + 1:]:
                tall = max(ch, c[3])
                if abs(c[0] - yc) <= 0.6 * tall and c[1] - right < 2 * tall:
                    run, (yc, right, ch) = run + 1, (c[0], max(right, c[2]), c[3])
                elif c[1] - right >= 2 * tall:
                    continue
            best = max(best, run)
        if best >= min_chars:
            found.append(name)
    return ",".join(found)
