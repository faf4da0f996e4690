"""Reading radiographs as 8-bit grayscale arrays.

TIFF (through tifffile), PNG and JPEG (through Pillow), 8 or 16 bit, gray or colour, and DICOM
(through pydicom, see :func:`read_dicom`).

* Colour (RGB/RGBA, or a palette) is converted with the ITU-R BT.601 luma weights
  (0.299 R + 0.587 G + 0.114 B), as Pillow's ``convert("L")`` does.
* 16-bit (and other integer) data are mapped linearly to 0-255 over the smallest standard
  detector depth (8, 10, 12, 14 or 16 bits) that holds the image's maximum value: a 12-bit
  export stored in 16-bit words fills the 8-bit range, relative intensities are kept, and an
  8-bit image stored as 16 bits (values x 257) maps back exactly. The window is the same for
  every pixel, so no contrast is invented per image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from .errors import InputError

__all__ = ["SUFFIXES", "to_uint8", "read_gray", "pixel_spacing", "read_dicom"]

SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".dcm", ".dicom")
_DEPTHS = (8, 10, 12, 14, 16)
_LUMA = np.array([0.299, 0.587, 0.114])


def to_uint8(a: np.ndarray, file: str | Path = "<array>") -> np.ndarray:
    """Map a 2-D (gray) or 3-D (H, W, 3|4 colour) array to a 2-D uint8 gray image."""
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = (a[..., :3].astype(np.float64) @ _LUMA)
        a = np.round(a).astype(np.uint16 if a.max() > 255 else np.uint8)
    if a.ndim != 2:
        raise InputError(file, f"cannot be converted to grayscale (array of shape {a.shape})")
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if not np.issubdtype(a.dtype, np.integer):
        raise InputError(file, f"cannot be converted to grayscale (pixel type {a.dtype})")
    if a.min() < 0:
        raise InputError(file, "has negative pixel values")
    top = int(a.max())
    bits = next((b for b in _DEPTHS if top < 2 ** b), None)
    if bits is None:
        raise InputError(file, f"pixel values up to {top} exceed 16 bits")
    scale = 255.0 / (2 ** bits - 1)
    return np.clip(np.round(a.astype(np.float64) * scale), 0, 255).astype(np.uint8)


def read_gray(path: str | Path) -> np.ndarray:
    """Read one radiograph as a (height, width) uint8 array; :class:`InputError` if it cannot be."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "image not found")
    if path.suffix.lower() in (".dcm", ".dicom"):
        return read_dicom(path)
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            a = tifffile.imread(path)
            if a.ndim == 3 and a.shape[0] in (3, 4) and a.shape[-1] not in (3, 4):
                a = np.moveaxis(a, 0, -1)  # planar colour
        else:
            with Image.open(path) as im:
                if im.mode in ("P", "PA", "LA", "CMYK", "YCbCr"):
                    im = im.convert("RGB")
                a = np.asarray(im)
    except (OSError, ValueError, UnidentifiedImageError, tifffile.TiffFileError) as e:
        raise InputError(path, f"cannot be read as an image ({type(e).__name__}: {e})") from e
    return to_uint8(np.asarray(a), path)


def pixel_spacing(path: str | Path) -> tuple[float, float] | None:
    """A DICOM file's pixel spacing in mm (row, column): ``PixelSpacing``, else ``ImagerPixelSpacing``
    (at the detector; panoramic units often record only this); None for other formats or when the
    file records neither. Only these two elements are read, never an identifying one."""
    path = Path(path)
    if path.suffix.lower() not in (".dcm", ".dicom"):
        return None
    import pydicom  # lazy: only DICOM files need it
    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PixelSpacing", "ImagerPixelSpacing"])
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(tag)
        if value is not None and len(value) == 2:
            return float(value[0]), float(value[1])
    return None


def read_dicom(path: str | Path) -> np.ndarray:
    """A DICOM radiograph as it is meant to be displayed, as a (height, width) uint8 array.

    The display pipeline of the standard, through pydicom: the modality LUT (rescale slope and
    intercept), then the VOI LUT or window (centre/width) when the file has one, mapped linearly from
    its output range to 0-255; without one, the stored range (``BitsStored``, through the rescale)
    is mapped to 0-255, the same for every image. MONOCHROME1 (white = low values) is inverted at the end so that bone is bright, as in
    MONOCHROME2. Colour (RGB, YBR) is converted to RGB, then to luma (BT.601). Only pixel data are
    read here: no header field (patient name, ID, dates) is returned or logged.
    """
    import pydicom  # lazy: only DICOM files need it
    from pydicom.errors import InvalidDicomError  # lazy: as above
    from pydicom.pixels import apply_modality_lut, apply_voi_lut, convert_color_space  # lazy: as above
    path = Path(path)
    try:
        ds = pydicom.dcmread(path)
        a = ds.pixel_array
    except (InvalidDicomError, OSError, ValueError, AttributeError, KeyError, NotImplementedError, RuntimeError) as e:
        raise InputError(path, f"cannot be read as a DICOM image ({type(e).__name__}: {e})") from e
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        raise InputError(path, "is a multi-frame DICOM; one radiograph per file is expected")
    if photometric.startswith("YBR"):
        a = convert_color_space(a, photometric, "RGB")
    if a.ndim == 3:
        return to_uint8(np.asarray(a), path)
    if not photometric.startswith("MONOCHROME"):
        raise InputError(path, f"photometric interpretation {photometric} is not supported")
    bits = int(ds.get("BitsStored", a.dtype.itemsize * 8))
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    values = apply_modality_lut(a, ds)
    if "WindowCenter" in ds or "VOILUTSequence" in ds:
        # pydicom maps a window onto the stored range [lo, hi]; a VOI LUT onto its own output bits
        values = apply_voi_lut(values, ds)
        if "VOILUTSequence" in ds:
            lut_bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
            lo, hi = 0, 2 ** lut_bits - 1
    else:
        # no window: the stored range, through the modality rescale (the same mapping for every image)
        slope, intercept = float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
        lo, hi = sorted((lo * slope + intercept, hi * slope + intercept))
    span = (hi - lo) or 1.0
    out = np.clip(np.round((np.asarray(values, np.float64) - lo) * (255.0 / span)), 0, 255).astype(np.uint8)
    return 255 - out if photometric == "MONOCHROME1" else out
