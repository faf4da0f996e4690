"""DICOM radiographs as they are meant to be displayed, through pydicom and its decoder plugins.

**Decoding.** Every transfer syntax pydicom decodes: uncompressed and deflated (pydicom itself), RLE
(pydicom, pylibjpeg-rle), JPEG baseline, extended and lossless, JPEG-LS and JPEG 2000 (GDCM, through
python-gdcm), HTJ2K (pylibjpeg-openjpeg), JPEG baseline and JPEG 2000 also through Pillow. These are
installed with osteolib (BSD, MIT and HPND licences, wheels for Linux, macOS and Windows). One syntax
is left out on purpose: 12-bit *JPEG Extended* (lossy, process 4) is decoded only by pylibjpeg-libjpeg,
which is GPL-3.0; such a file is refused with a message that says so and what to install. The plugin
that decoded each file is recorded (lossy JPEG decoders may differ by one gray level).

**Display** (:func:`display`), in the order of the standard's grayscale pipeline (PS3.4 N.2):

1. *pixel padding* (``PixelPaddingValue``, up to ``PixelPaddingRangeLimit``): pixels outside the
   exposed area; left out of every range below and shown black;
2. the *modality LUT* (rescale slope and intercept, or a Modality LUT Sequence);
3. the *VOI*: the first VOI LUT, else the first window (centre, width, and the VOI LUT function:
   LINEAR, LINEAR_EXACT or SIGMOID) when the file has one (the standard's default view; how many
   there were is recorded), mapped from its output range to 0-255; without one, the detector-depth
   rule of :mod:`osteolib.pixels`: 0 (or the signed range's bottom) to the smallest standard depth
   that holds the values, at most ``BitsStored`` (the bits used are recorded);
4. *polarity*: MONOCHROME1, or a ``PresentationLUTShape`` of INVERSE, is shown inverted so that bone is
   bright (once: the DX standard pairs MONOCHROME1 with INVERSE). A Presentation LUT Sequence is refused.

Colour (RGB; YBR converted to RGB by the decoder; PALETTE COLOR through its palette) becomes gray by
the BT.601 luma and the same depth rule. Multi-frame files and more than 16 stored bits are refused.

Only pixel data and the elements that describe them are used: no identifying header value (name, ID,
dates, ``BurnedInAnnotation`` aside, which is a yes/no) is returned, logged or written.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import pixels
from .errors import InputError

__all__ = ["DECODERS", "Display", "is_dicom", "read", "decode", "display", "header"]

#: Every transfer syntax osteolib reads, with the pydicom plugins that decode it once osteolib is
#: installed ("pydicom": pydicom itself); tests/test_dicom.py checks the installed plugins against it.
DECODERS = {
    "1.2.840.10008.1.2": ("Implicit VR Little Endian", ("pydicom",)),
    "1.2.840.10008.1.2.1": ("Explicit VR Little Endian", ("pydicom",)),
    "1.2.840.10008.1.2.1.99": ("Deflated Explicit VR Little Endian", ("pydicom",)),
    "1.2.840.10008.1.2.2": ("Explicit VR Big Endian", ("pydicom",)),
    "1.2.840.10008.1.2.5": ("RLE Lossless", ("pydicom", "pylibjpeg")),
    "1.2.840.10008.1.2.4.50": ("JPEG Baseline (Process 1)", ("gdcm", "pillow")),
    "1.2.840.10008.1.2.4.51": ("JPEG Extended (Process 2 and 4)", ("gdcm", "pillow")),  # 8-bit only: see above
    "1.2.840.10008.1.2.4.57": ("JPEG Lossless, Non-Hierarchical (Process 14)", ("gdcm",)),
    "1.2.840.10008.1.2.4.70": ("JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
                               ("gdcm",)),
    "1.2.840.10008.1.2.4.80": ("JPEG-LS Lossless Image Compression", ("gdcm",)),
    "1.2.840.10008.1.2.4.81": ("JPEG-LS Lossy (Near-Lossless) Image Compression", ("gdcm",)),
    "1.2.840.10008.1.2.4.90": ("JPEG 2000 Image Compression (Lossless Only)", ("gdcm", "pylibjpeg", "pillow")),
    "1.2.840.10008.1.2.4.91": ("JPEG 2000 Image Compression", ("gdcm", "pylibjpeg", "pillow")),
    "1.2.840.10008.1.2.4.201": ("High-Throughput JPEG 2000 Image Compression (Lossless Only)", ("pylibjpeg",)),
    "1.2.840.10008.1.2.4.202": ("High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
                                ("pylibjpeg",)),
    "1.2.840.10008.1.2.4.203": ("High-Throughput JPEG 2000 Image Compression", ("pylibjpeg",)),
}

#: What to install for each transfer syntax, when its decoder is missing.
_PLUGINS = "python-gdcm, pylibjpeg and pylibjpeg-openjpeg (installed with osteolib: pip install -e .)"
_GPL_JPEG = ("12-bit JPEG Extended (lossy JPEG, process 4) is decoded only by pylibjpeg-libjpeg, which is "
             "GPL-3.0 and so not installed with osteolib: pip install pylibjpeg-libjpeg if its licence suits "
             "you, or export the radiographs uncompressed, as JPEG lossless, JPEG-LS or JPEG 2000")


@dataclass(frozen=True)
class Display:
    """How one DICOM file became the gray image (no identifier among the fields)."""

    transfer_syntax: str
    decoder: str
    photometric: str
    bits_stored: int
    stored_min: float
    stored_max: float
    mapping: str            # "window 1 of 2", "VOI LUT 1 of 1", "detector 12 bits", "luma, detector 8 bits", ...
    mapped_from: tuple[float, float]
    inverted: bool
    padding_pixels: int
    burned_in: str          # the file's BurnedInAnnotation: "YES", "NO" or "" (not recorded)
    gray_low: int           # the displayed image's 0.5th and 99.5th percentiles, padding left out
    gray_high: int

    def as_row(self) -> dict:
        row = asdict(self)
        row["mapped_from"] = f"{self.mapped_from[0]:g}..{self.mapped_from[1]:g}"
        return row


def is_dicom(path: str | Path) -> bool:
    """A DICOM file by its suffix (.dcm, .dicom) or, without one, by the ``DICM`` mark after its preamble
    (a PACS export or a CD names files ``IM000001`` or by number)."""
    path = Path(path)
    if path.suffix.lower() in (".dcm", ".dicom"):
        return True
    if path.suffix:
        return False
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def header(path: str | Path, tags: list[str] | None = None):
    """The file's dataset without its pixel data; with ``tags``, only those elements are read."""
    import pydicom  # lazy: only DICOM files need it
    from pydicom.errors import InvalidDicomError  # lazy: as above
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags)
    except (InvalidDicomError, OSError, ValueError, AttributeError, KeyError, EOFError) as e:
        raise InputError(path, f"cannot be read as a DICOM file ({type(e).__name__}: {e})") from e


def decode(ds, path: str | Path = "<dataset>", as_rgb: bool = True) -> tuple[np.ndarray, dict, str]:
    """The pixel values of a one-frame dataset as stored (colour as RGB; YBR kept with ``as_rgb`` False),
    the decoder's description of them (photometric interpretation after decoding, bits) and the plugin
    that decoded them.

    Tries pydicom's available plugins for the syntax in pydicom's order (the same on every machine
    with the same packages); an error names the syntax and what to install, or every plugin's reason.
    """
    from pydicom.pixels import get_decoder  # lazy: only DICOM files need it
    ts = getattr(ds, "file_meta", None) and ds.file_meta.get("TransferSyntaxUID")
    if not ts:
        raise InputError(path, "has no Transfer Syntax UID in its file meta information (not a DICOM file as a PACS "
                               "writes it): export it again as a DICOM Part 10 file")
    if "PixelData" not in ds:
        raise InputError(path, "holds no image (no Pixel Data): a DICOMDIR, a report or a presentation state?")
    name = f"{ts.name} ({ts})"
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise InputError(path, f"its transfer syntax {name} is not an image syntax pydicom decodes (video or a private "
                               "syntax): export the radiograph as an uncompressed, JPEG, JPEG-LS, JPEG 2000 or RLE image")
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies) or _PLUGINS
        raise InputError(path, f"its transfer syntax {name} needs a decoder that is not installed: {missing} "
                               f"(osteolib installs {_PLUGINS})")
    errors = []
    for plugin in decoder.available_plugins or ("",):  # uncompressed syntaxes have no plugins
        try:
            arr, meta = decoder.as_array(ds, decoding_plugin=plugin, as_rgb=as_rgb)
            return arr, meta, plugin or "pydicom"
        except Exception as e:  # noqa: BLE001 - every plugin's own reason is kept for the message
            errors.append((plugin, f"{type(e).__name__}: {e}".replace("\n", " ")))
    if ts == "1.2.840.10008.1.2.4.51" and any("12-bit" in e for _, e in errors):
        raise InputError(path, _GPL_JPEG)
    raise InputError(path, f"its pixel data ({name}) cannot be decoded by any installed decoder, so the file is "
                           "probably damaged: " + "; ".join(f"{p}: {e[:160]}" for p, e in errors)
                           + ". Export it again")


def read(path: str | Path) -> tuple[np.ndarray, Display]:
    """A DICOM radiograph as a (height, width) uint8 array and what was done to it (see the module)."""
    import pydicom  # lazy: only DICOM files need it
    from pydicom.errors import InvalidDicomError  # lazy: as above
    path = Path(path)
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, ValueError, AttributeError, KeyError, EOFError) as e:
        raise InputError(path, f"cannot be read as a DICOM file ({type(e).__name__}: {e})") from e
    return display(ds, path)


def display(ds, path: str | Path = "<dataset>") -> tuple[np.ndarray, Display]:
    """The display pipeline on a read dataset (see the module): the gray image and its record."""
    from pydicom.pixels import apply_color_lut  # lazy: only DICOM files need it
    try:
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError) as e:
        raise InputError(path, f"has an unreadable Number of Frames ({e})") from e
    if frames > 1:
        raise InputError(path, f"is a multi-frame DICOM ({frames} frames); one radiograph per file is expected")
    try:
        arr, meta, plugin = decode(ds, path)
    except InputError:
        raise
    except (ValueError, AttributeError, KeyError, TypeError) as e:  # e.g. truncated pixel data, a missing element
        raise InputError(path, f"its pixel data cannot be read ({type(e).__name__}: {e})") from e
    photometric = str(meta.get("photometric_interpretation", ds.get("PhotometricInterpretation", ""))).upper()
    bits = int(meta.get("bits_stored") or ds.get("BitsStored", 8))
    burned = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    ts = ds.file_meta.TransferSyntaxUID
    if bits > 16:
        raise InputError(path, f"stores {bits} bits per pixel, more than a radiograph's 16 (a dose map or a "
                               "parametric map?)")
    if "PresentationLUTSequence" in ds:
        raise InputError(path, "has a Presentation LUT Sequence, which osteolib does not apply: export the image "
                               "for presentation without it (a Presentation LUT Shape is applied)")
    facts = dict(transfer_syntax=ts.name, decoder=plugin, photometric=photometric, bits_stored=bits,
                 stored_min=float(arr.min()), stored_max=float(arr.max()), padding_pixels=0, burned_in=burned)
    if photometric == "PALETTE COLOR":
        arr, photometric = apply_color_lut(arr, ds), "RGB"
    if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT") or arr.ndim == 3:
        if arr.ndim != 3:
            raise InputError(path, f"photometric interpretation {photometric} with {arr.ndim}-D pixel data")
        gray, used = pixels.to_uint8(np.asarray(arr), path)
        return gray, Display(**facts, mapping=f"luma, detector {used} bits", mapped_from=(0, 2 ** used - 1),
                             inverted=False, **dict(zip(("gray_low", "gray_high"), pixels.gray_span(gray))))
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise InputError(path, f"photometric interpretation {photometric!r} is not supported (expected MONOCHROME1, "
                               "MONOCHROME2, RGB, YBR or PALETTE COLOR)")
    return _gray(ds, np.asarray(arr), facts, path)


def _gray(ds, arr: np.ndarray, facts: dict, path) -> tuple[np.ndarray, Display]:
    """Steps 1-4 of the module's pipeline on a monochrome image."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut  # lazy: only DICOM files need it
    pad = _padding(ds, arr)
    used = arr[~pad] if pad.any() else arr
    if used.size == 0:
        raise InputError(path, "every pixel is padding (PixelPaddingValue): there is no image")
    facts.update(stored_min=float(used.min()), stored_max=float(used.max()), padding_pixels=int(pad.sum()))
    values = apply_modality_lut(arr, ds)
    voi = ds.get("VOILUTSequence")
    windows = _count(ds.get("WindowCenter")) if "WindowWidth" in ds else 0
    if voi:
        # a LUT is indexed by whole values; its own output range (descriptors often claim 16 bits for a 12-bit table)
        whole = np.asarray(values)
        if np.issubdtype(whole.dtype, np.floating) and np.array_equal(whole, np.round(whole)):
            whole = whole.astype(np.int64)
        out = apply_voi_lut(whole, ds, index=0)
        n, first = int(voi[0].LUTDescriptor[0]) or 2 ** 16, int(voi[0].LUTDescriptor[1])
        table = np.asarray(apply_voi_lut(np.arange(first, first + n), ds, index=0))
        lo, hi = float(table.min()), float(table.max())
        mapping = f"VOI LUT 1 of {len(voi)}"
    elif windows:
        out = apply_voi_lut(values, ds, index=0, prefer_lut=False)
        # the window's output range as pydicom defines it (the stored range through the rescale)
        with np.errstate(over="ignore"):
            lo, hi = (float(v) for v in apply_voi_lut(np.array([-1e30, 1e30]), ds, index=0, prefer_lut=False))
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        mapping = f"window 1 of {windows} ({function})"
    else:
        signed = int(ds.get("PixelRepresentation", 0)) == 1
        bits = facts["bits_stored"]
        s_lo, s_hi = facts["stored_min"], facts["stored_max"]
        if s_hi >= 2 ** (bits - signed) or s_lo < -(2 ** (bits - 1)) * signed:
            raise InputError(path, f"holds values {s_lo:g} to {s_hi:g}, outside the {bits} bits it says it stores "
                                   "(BitsStored): export it again or correct BitsStored")
        if s_lo >= 0:
            used_bits = pixels.detector_bits(int(s_hi), bits - signed)
            r = (0, 2 ** used_bits - 1)
        else:  # signed values below 0: the smallest symmetric depth that holds both ends
            used_bits = pixels.detector_bits(max(int(-s_lo) - 1, int(s_hi)), bits - 1) + 1
            r = (-(2 ** (used_bits - 1)), 2 ** (used_bits - 1) - 1)
        lo, hi = sorted(float(v) for v in np.ravel(apply_modality_lut(np.array(r, dtype=arr.dtype), ds)))
        out, mapping = values, f"detector {used_bits} bits"
    gray = pixels.linear(out, lo, hi)
    inverted = facts["photometric"] == "MONOCHROME1" or str(ds.get("PresentationLUTShape", "")).strip().upper() == "INVERSE"
    if inverted:
        gray = 255 - gray
    span = pixels.gray_span(gray, ~pad if pad.any() else None)
    if pad.any():
        gray[pad] = 0
    return gray, Display(**facts, mapping=mapping, mapped_from=(lo, hi), inverted=inverted,
                         gray_low=span[0], gray_high=span[1])


def _count(value) -> int:
    if value is None:
        return 0
    return len(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else 1


def _padding(ds, arr: np.ndarray) -> np.ndarray:
    """The pixels the file marks as padding (outside the exposed area), as stored values."""
    if "PixelPaddingValue" not in ds:
        return np.zeros(arr.shape, bool)
    a = int(ds.PixelPaddingValue)
    b = int(ds.get("PixelPaddingRangeLimit", a))
    lo, hi = min(a, b), max(a, b)
    return (arr >= lo) & (arr <= hi)
