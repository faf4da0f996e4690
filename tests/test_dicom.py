"""DICOM input: every transfer syntax pydicom decodes (checked on pydicom's own test files against its
reference values), the display pipeline, the faults, the same ROI as the equivalent PNG, and no
identifier from the header in any output."""
from __future__ import annotations

import importlib.util
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from pydicom.uid import JPEG2000Lossless, RLELossless

from osteolib import cohort, dicom, images, pixels, plots, roi, validation
from osteolib.errors import InputError
from osteolib.layout import StudyLayout
from osteolib.settings import RoiGeometry
from osteolib.synthetic import export

BUNDLED = Path(pydicom.__file__).parent / "data" / "test_files"
sys.path.insert(0, str(Path(__file__).parent / "data" / "pydicom"))
import pixels_reference as REF  # noqa: E402  (pydicom's reference values, vendored: tests/data/pydicom)

HAVE_LIBJPEG = importlib.util.find_spec("libjpeg") is not None

PATIENT_NAME = "Doe^Jane^Secret"
PATIENT_ID = "MRN-99812345"


def write_dicom(path, pixels: np.ndarray, photometric: str = "MONOCHROME1", window=None, bits: int = 16):
    """A minimal DX image, with identifiers in the header."""
    header = {"PatientName": PATIENT_NAME, "PatientID": PATIENT_ID, "PatientBirthDate": "19480211",
              "InstitutionName": "Secret Dental Hospital"}
    return export.write_dicom(path, pixels, header, photometric, bits, window=window)


def test_monochrome1_16_bit_reads_as_the_displayed_image(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.integers(0, 256, (60, 90), dtype=np.uint8)
    p[0, 0], p[0, 1] = 0, 255
    stored = (255 - p.astype(np.uint16)) * 257         # MONOCHROME1: low values are white
    got = images.read_gray(write_dicom(tmp_path / "x.dcm", stored))
    np.testing.assert_array_equal(got, p)


def test_window_is_applied(tmp_path):
    stored = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (4, 1))   # 12-bit ramp
    got = images.read_gray(write_dicom(tmp_path / "w.dcm", stored, "MONOCHROME2", window=(2048, 1024), bits=12))
    ramp = got[0]
    assert ramp[stored[0] < 1536].max() == 0 and ramp[stored[0] > 2560].min() == 255
    inside = (stored[0] > 1600) & (stored[0] < 2500)
    assert (np.diff(ramp[inside].astype(int)) >= 0).all() and 0 < ramp[inside].mean() < 255


def test_dicom_crops_to_the_same_roi_as_the_png_and_leaks_no_identifier(tiny_data, tmp_path):
    clinical = pd.read_csv(tiny_data / "clinical.csv", dtype={"patient_id": str})
    lm = pd.read_csv(tiny_data / "landmarks.csv", dtype={"patient_id": str})
    pid = clinical["patient_id"].iloc[0]
    gray = images.read_gray(tiny_data / clinical["image"].iloc[0])
    # the same radiograph twice: as PNG and as 16-bit MONOCHROME1 DICOM
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    Image.fromarray(gray).save(data / "images" / "png.png")
    write_dicom(data / "images" / "dcm.dcm", (255 - gray.astype(np.uint16)) * 257)
    geometry = RoiGeometry(40, 64)
    left = lm[(lm.patient_id == pid) & (lm.side == "left")]
    rows = []
    for name, file in (("png", "images/png.png"), ("dcm", "images/dcm.dcm")):
        rows.append(clinical.iloc[[0]].assign(patient_id=name, image=file))
        lm_rows = left.assign(patient_id=name)
        lm_rows.to_csv(data / "landmarks.csv", index=False, mode="a", header=name == "png")
    cohort = pd.concat(rows, ignore_index=True)
    out = tmp_path / "study"
    table = roi.crop_study(data, cohort, geometry, StudyLayout(out), progress=False)
    a = np.asarray(Image.open(out / "rois" / "png.png"))
    b = np.asarray(Image.open(out / "rois" / "dcm.png"))
    np.testing.assert_array_equal(a, b)
    assert table.set_index("patient_id").loc["dcm", "x0"] == table.set_index("patient_id").loc["png", "x0"]
    for f in out.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for secret in (PATIENT_NAME, PATIENT_ID, "Secret Dental", "19480211"):
                assert secret.encode() not in blob, f"{secret} leaked into {f}"


def test_broken_dicom_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not a dicom file at all")
    with pytest.raises(InputError, match="bad.dcm.*DICOM"):
        images.read_gray(bad)


# --- every transfer syntax, the display pipeline, the faults (pydicom's own test files: no download) ---


def _references():
    seen = {}
    for refs in REF.PIXEL_REFERENCE.values():
        for r in refs:
            if (BUNDLED / r.name).is_file() and r.name not in seen:
                seen[r.name] = r
    return [r for r in seen.values() if r.number_of_frames == 1]


def _single_frame_images():
    """Every file pydicom installs that holds one frame of pixel data."""
    out = []
    for p in sorted(BUNDLED.rglob("*")):
        if not p.is_file() or p.suffix in (".py", ".txt", ".json", ".gz", ".bz2", ".zip"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(p, force=True, stop_before_pixels=False)
        except Exception:  # noqa: BLE001 - not a DICOM file at all
            continue
        try:
            frames = int(ds.get("NumberOfFrames", 1) or 1)
        except (TypeError, ValueError):
            frames = 1  # an unreadable count: the reader must say so
        if "PixelData" in ds and frames == 1:
            out.append(p)
    return out


@pytest.mark.parametrize("ref", _references(), ids=lambda r: r.name)
def test_decoded_pixels_equal_pydicoms_reference_values(ref):
    """The decoders osteolib installs, on pydicom's test files, against pydicom's own reference values
    (tests/pixels/pixels_reference.py of pydicom); 12-bit JPEG Extended is refused, naming why."""
    if ref.ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.51" and ref.ds.BitsStored == 12 and not HAVE_LIBJPEG:
        with pytest.raises(InputError, match="12-bit JPEG Extended.*pylibjpeg-libjpeg.*GPL"):
            dicom.decode(ref.ds, ref.name)
        return
    arr, meta, plugin = dicom.decode(ref.ds, ref.name, as_rgb=False)
    try:
        ref.test(arr, plugin=plugin)
    except REF.NotShipped as e:  # the reference is a second file pydicom's suite downloads
        pytest.skip(f"pydicom does not install the reference file {e}")


def test_the_installed_decoders_agree_with_each_other():
    """Each compressed test file through every plugin that decodes it: the same pixels (lossless) or
    within one gray level (lossy JPEG), the second implementation's output as the reference."""
    from pydicom.pixels import get_decoder
    compared = 0
    for p in _single_frame_images():
        ds = pydicom.dcmread(p)
        ts = ds.file_meta.get("TransferSyntaxUID")
        if ts is None or not ts.is_compressed:
            continue
        decoder = get_decoder(ts)
        results = {}
        for plugin in decoder.available_plugins:
            try:
                results[plugin] = decoder.as_array(ds, decoding_plugin=plugin, as_rgb=False)[0].astype(np.int64)
            except Exception:  # noqa: BLE001 - a plugin that cannot decode this file
                pass
        if len(results) > 1:
            first, *others = results.values()
            tol = 1 if ts.name.startswith("JPEG Baseline") else 0
            for other in others:
                assert np.abs(first - other).max() <= tol, p.name
            compared += 1
    assert compared >= 5


def test_every_single_frame_test_file_is_read_with_a_picture_or_refused_with_its_reason():
    read, refused = {}, {}
    for p in _single_frame_images():
        gray, facts, problems = images.check(p)
        errors = [prob for sev, prob, _ in problems if sev == "error"]
        if gray is None:
            refused[p.name] = errors[0]
            assert len(errors[0]) > 30, errors[0]  # a reason, in words
        elif errors:  # read, but no picture: listed as an error with the numbers
            assert errors[0].startswith("no picture") and "gray levels" in errors[0]
            refused[p.name] = errors[0]
        else:
            assert facts["gray_high"] - facts["gray_low"] >= images.NO_PICTURE_LEVELS
            read[p.name] = facts
    assert len(read) >= 40 and len(read) + len(refused) >= 60
    # the two silent failures: a JPEG 2000 and a CT file squeezed into 2 and 9 gray levels before
    assert read["JPEG2000.dcm"]["mapping"] == "detector 9 bits" and read["JPEG2000.dcm"]["gray_high"] - \
        read["JPEG2000.dcm"]["gray_low"] > 40
    assert read["CT_small.dcm"]["mapping"] == "detector 12 bits"
    assert read["examples_palette.dcm"]["photometric"] == "PALETTE COLOR"
    if not HAVE_LIBJPEG:
        assert "GPL-3.0" in refused["JPEG-lossy.dcm"]
    assert "more than a radiograph's 16" in refused["rtdose_1frame.dcm"]
    assert "damaged" in refused["MR_truncated.dcm"] and "Transfer Syntax UID" in refused["meta_missing_tsyntax.dcm"]
    assert "Number of Frames" in refused["badVR.dcm"]
    # files named by number without a suffix, as on a CD (dicomdirtests): found and read as DICOM
    assert any(name.isdigit() for name in read)


def test_ybr_is_converted_to_rgb_once():
    """The same test card as YBR_FULL_422 and as RGB: the same gray (the old reader converted twice)."""
    ybr = images.read_gray(BUNDLED / "SC_ybr_full_422_uncompressed.dcm").astype(int)
    rgb = images.read_gray(BUNDLED / "SC_rgb_rle.dcm").astype(int)
    assert np.abs(ybr - rgb).max() <= 3


def _dx(tmp_path, name, stored, photometric="MONOCHROME2", bits=12, window=None, **extra):
    return export.write_dicom(tmp_path / name, stored, {"PatientID": "X"}, photometric, bits, window=window,
                              extra=extra or None)


RAMP = np.tile(np.arange(0, 4096, 4, dtype=np.uint16), (8, 1))  # a 12-bit detector's full range
TALL = np.tile(RAMP, (8, 1))  # JPEG 2000's six resolution levels need 32 rows or more


def test_a_12_bit_detector_in_16_stored_bits_is_not_16_times_too_dark(tmp_path):
    twelve, f12 = images.read(_dx(tmp_path, "a.dcm", RAMP, bits=12))
    sixteen, f16 = images.read(_dx(tmp_path, "b.dcm", RAMP, bits=16))
    np.testing.assert_array_equal(twelve, sixteen)
    assert sixteen.max() == 255 and f16["bits_stored"] == 16 and f16["mapping"] == "detector 12 bits"
    # the same rule as a 16-bit TIFF of the same values
    import tifffile
    tifffile.imwrite(tmp_path / "c.tif", RAMP)
    np.testing.assert_array_equal(images.read_gray(tmp_path / "c.tif"), sixteen)
    # compressed (JPEG 2000 lossless, RLE): the same pixels (JPEG 2000's 6 levels need 32 rows or more)
    tall = TALL
    for syntax in (JPEG2000Lossless, RLELossless):
        p = export.write_dicom(tmp_path / f"{syntax.name[:4]}.dcm", tall, {}, "MONOCHROME2", 16, syntax=syntax)
        np.testing.assert_array_equal(images.read_gray(p), np.tile(sixteen, (8, 1)))


def test_the_first_of_several_windows_is_used_and_a_rescale_moves_the_window_with_it(tmp_path):
    got, facts = images.read(_dx(tmp_path, "w.dcm", RAMP, window=([2048, 1000], [1024, 500])))
    assert facts["mapping"] == "window 1 of 2 (LINEAR)"
    ramp = got[0].astype(int)
    assert ramp[RAMP[0] < 1536].max() == 0 and ramp[RAMP[0] > 2560].min() == 255
    # the same values stored halved with RescaleSlope 2: the window applies after the rescale and maps
    # from the rescaled range (the old reader mapped from the stored one and saturated)
    plain, _ = images.read(_dx(tmp_path, "a.dcm", RAMP, window=(2048, 1024)))
    halved, _ = images.read(_dx(tmp_path, "b.dcm", RAMP // 2, window=(2048, 1024), RescaleSlope=2, RescaleIntercept=0))
    assert np.abs(halved.astype(int) - plain.astype(int)).max() <= 1


def test_a_voi_lut_is_mapped_from_its_own_output_range(tmp_path):
    """A LUT that says 16 bits per entry but holds 12-bit values (common): its range fills 0-255."""
    from pydicom.dataset import Dataset
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.add_new(0x00283006, "OW", np.arange(4096, dtype="<u2").tobytes())  # LUT Data, 12-bit values
    path = _dx(tmp_path, "v.dcm", RAMP)
    ds = pydicom.dcmread(path)
    ds.VOILUTSequence = [item]
    ds.save_as(path)
    got, facts = images.read(path)
    assert facts["mapping"] == "VOI LUT 1 of 1" and got.min() == 0 and got.max() == 255


@pytest.mark.parametrize("photometric,shape,inverted", [("MONOCHROME1", None, True), ("MONOCHROME2", "INVERSE", True),
                                                        ("MONOCHROME1", "INVERSE", True), ("MONOCHROME2", "IDENTITY", False)])
def test_polarity_monochrome1_or_an_inverse_presentation_lut_inverts_once(tmp_path, photometric, shape, inverted):
    extra = {"PresentationLUTShape": shape} if shape else {}
    got, facts = images.read(_dx(tmp_path, "p.dcm", RAMP, photometric, **extra))
    assert facts["inverted"] is inverted
    assert bool(got[0, 0] == 255) == inverted and bool(got[0, -1] == 0) == inverted


def test_pixel_padding_is_black_and_left_out_of_the_range(tmp_path):
    """Collimated corners stored as 65535 in a 16-bit word: without padding they would pull the
    detector depth to 16 bits; marked as padding they are shown black and the image keeps its 12 bits."""
    stored = RAMP.copy()
    stored[:, :20] = 65535
    got, facts = images.read(_dx(tmp_path, "pad.dcm", stored, bits=16, PixelPaddingValue=65535))
    assert facts["padding_pixels"] == 8 * 20 and facts["mapping"] == "detector 12 bits"
    assert (got[:, :20] == 0).all() and got.max() == 255


def test_a_missing_decoder_and_an_unknown_syntax_are_named(tmp_path, monkeypatch):
    from pydicom.pixels.decoders.base import Decoder
    path = export.write_dicom(tmp_path / "j.dcm", TALL, {}, "MONOCHROME2", 12, syntax=JPEG2000Lossless)
    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    monkeypatch.setattr(Decoder, "missing_dependencies", property(lambda self: ["gdcm - requires python-gdcm"]))
    with pytest.raises(InputError, match=r"JPEG 2000 Image Compression \(Lossless Only\).*not installed.*python-gdcm"):
        images.read_gray(path)
    monkeypatch.undo()
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG-2 video
    ds.save_as(tmp_path / "mpeg.dcm")
    with pytest.raises(InputError, match="MPEG2.*not an image syntax"):
        images.read_gray(tmp_path / "mpeg.dcm")


def test_a_dicom_file_without_a_suffix_is_found_and_read(tmp_path):
    path = _dx(tmp_path, "IM000001", RAMP)
    assert images.is_image(path) and images.read_gray(path).max() == 255
    (tmp_path / "notes").write_text("not an image")
    assert not images.is_image(tmp_path / "notes")


def test_burned_in_text_and_low_contrast_are_warnings_and_no_picture_is_an_error(tmp_path):
    _, facts = images.read(_dx(tmp_path, "b.dcm", RAMP, BurnedInAnnotation="YES"))
    assert [s for s, _, _ in images.problems(facts)] == ["warning"]
    narrow = (1000 + RAMP // 128).astype(np.uint16)   # 32 values: 2 gray levels of a 12-bit range
    _, facts = images.read(_dx(tmp_path, "n.dcm", narrow))
    (severity, problem, todo), = images.problems(facts)
    assert severity == "error" and "no picture" in problem and "detector 12 bits" in problem and todo
    low = (1000 + RAMP // 8).astype(np.uint16)         # 512 values: 32 gray levels
    _, facts = images.read(_dx(tmp_path, "l.dcm", low))
    assert [s for s, _, _ in images.problems(facts)] == ["warning"]


@pytest.mark.parametrize("zoom", [1, 5])
def test_a_line_of_text_in_a_corner_is_found_and_a_side_marker_is_not(tiny_data, zoom):
    """Synthetic radiographs (each with its side marker "L" in the bottom right corner) at the tests'
    scale and five times it; a name burned into a corner at the units' small font and a larger one."""
    from PIL import ImageDraw, ImageFont
    clinical = pd.read_csv(tiny_data / "clinical.csv", dtype=str)
    first = images.read_gray(tiny_data / clinical["image"].iloc[0])
    gray = np.asarray(Image.fromarray(first).resize((first.shape[1] * zoom, first.shape[0] * zoom), Image.BILINEAR))
    assert all(pixels.corner_text(images.read_gray(tiny_data / f)) == "" for f in clinical["image"][:20])
    assert pixels.corner_text(gray) == "", "the side marker L alone is no line of text"
    h, w = gray.shape
    big = max(11, h // 30)
    for size, where, xy in ((11, "top-left", (4, 2)), (big, "top-right", (w - 8 * big, 4)),
                            (11, "bottom-left", (6, h - 16))):
        im = Image.fromarray(gray)
        ImageDraw.Draw(im).text(xy, "TANAKA^HANA 1952", fill=255, font=ImageFont.load_default(size=size))
        assert pixels.corner_text(np.asarray(im)) == where, (size, where)
    bright = gray.copy()
    bright[: h // 6, : w // 4] = 255   # a corner burned out white: no marks in it
    assert pixels.corner_text(bright) == ""


def test_text_burned_into_real_files_is_found_though_their_headers_do_not_say_so():
    """pydicom's three ultrasound examples carry the institution, settings and a date in their corners
    and no BurnedInAnnotation; no other bundled file shows a line of text in a corner."""
    found = {}
    for p in _single_frame_images():
        gray, facts, problems = images.check(p)
        if facts and facts["corner_text"]:
            found[p.name] = facts
            assert facts["burned_in"] == "" and any("burned-in text" in prob for _, prob, _ in problems)
    assert set(found) == {"examples_jpeg2k.dcm", "examples_palette.dcm", "examples_rgb_color.dcm"}
    assert found["examples_palette.dcm"]["corner_text"] == "top-left,top-right"
    assert images.shows_text(found["examples_palette.dcm"])


def test_notebook_01_lists_every_image_fault_at_once_and_warnings_do_not_stop(tiny_data, tmp_path):
    data = Path(shutil.copytree(tiny_data, tmp_path / "data"))
    clinical = pd.read_csv(data / "clinical.csv", dtype=str, keep_default_na=False)
    gray = images.read_gray(data / clinical["image"].iloc[0])
    # row 2: a burned-in DICOM; row 3: a damaged file; row 4: a constant image
    export.write_dicom(data / "images" / "burned.dcm", (gray.astype(np.uint16) * 16), {}, "MONOCHROME2", 12,
                       extra={"BurnedInAnnotation": "YES"})
    (data / "images" / "broken.png").write_bytes(b"\x89PNG cut off")
    Image.fromarray(np.full_like(gray, 90)).save(data / "images" / "flat.png")
    clinical.loc[0:2, "image"] = ["images/burned.dcm", "images/broken.png", "images/flat.png"]
    clinical.to_csv(data / "clinical.csv", index=False)
    report = tmp_path / "validation.csv"
    with pytest.raises(validation.ValidationError, match="2 faults") as err:
        cohort.validate(data, report)
    found = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert list(found["row"]) == ["2", "3", "4"] and list(found["severity"]) == ["warning", "error", "error"]
    assert (found["column"] == "image").all() and (found["what_to_do"] != "").all()
    assert "1 warning" in str(err.value)
    # only the warning left: the cohort is read, the warning listed
    clinical.loc[1:2, "image"] = clinical["image"].iloc[3:5].values
    clinical.to_csv(data / "clinical.csv", index=False)
    assert len(cohort.validate(data, report)) == len(clinical)
    assert pd.read_csv(report)["severity"].tolist() == ["warning"]


def test_a_burned_in_radiograph_is_shown_around_its_roi_only(tmp_path):
    img = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    masked = plots.mask_outside(img, (90, 40, 110, 50))
    assert (masked[:30] == 128).all() and (masked[:, :70] == 128).all()
    np.testing.assert_array_equal(masked[40:50, 90:110], img[40:50, 90:110])


def test_the_display_rule_is_recorded_and_the_facts_hold_no_identifier(tmp_path):
    path = write_dicom(tmp_path / "x.dcm", RAMP, "MONOCHROME2", bits=12)
    _, facts = images.read(path)
    assert tuple(facts) == images.FACTS
    assert not {PATIENT_NAME, PATIENT_ID} & {str(v) for v in facts.values()}
    assert pixels.RULE.startswith("osteolib-display/1")


def test_every_transfer_syntax_the_docs_list_has_its_decoders_installed():
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID
    for uid, (name, plugins) in dicom.DECODERS.items():
        decoder = get_decoder(UID(uid))
        assert UID(uid).name == name and decoder.is_available, name
        have = set(decoder.available_plugins) or {"pydicom"}
        assert set(plugins) <= have, (name, set(plugins) - have)
