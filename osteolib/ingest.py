"""From a hospital export to the study's input layout: ``python -m osteolib.ingest MAPPING --out DIR``.

A real export arrives as a spreadsheet with the hospital's own column names, local date formats and
codes, and a folder of DICOM files named by accession number (or TIFF, PNG, JPEG), perhaps with a
landmark sheet. A small YAML *mapping* says how to read them (``python -m osteolib.ingest
--template`` writes a commented one to start from); ingest then

* reads the sheet (``.xlsx`` through openpyxl, or ``.csv``) as text, renames and converts its columns
  (sex codes, flag codes, dates to ISO), matches every row to its image, reads every image once
  (so an unreadable one is found now, not in notebook 02; any transfer syntax pydicom decodes, through
  the display pipeline of :mod:`osteolib.dicom`) and its pixel spacing (DICOM ``PixelSpacing`` or
  ``ImagerPixelSpacing``, else the mapping's value), and converts the landmark sheet;
* collects **every** fault at once (the conversions', every image's, and the input layout's rules
  through the same pandera schema notebook 01 uses), names each by the *source* file, sheet row and
  column with what to do, writes them to a ``validation.csv`` and stops, writing nothing else; warnings
  (burned-in text, low contrast) are listed there too and do not stop (a problem's words never quote an identifier,
  so the message and an executed notebook can be shown; the report's ``value`` column holds the
  cells themselves, so it is written beside the data folder, not under ``outputs/``);
* on a clean export writes the input layout atomically: ``clinical.csv``, ``landmarks.csv``,
  ``images/<patient>.png`` (the display pipeline's 8-bit gray), ``images.csv`` (per image: decoder,
  display mapping, burned-in text; no identifier), ``ingest.json`` (what was done, counts, the display
  rule), with patients **pseudonymised** (``P0001`` ... in sheet order). The key from
  pseudonym to the hospital's identifiers goes to a separate file outside the data folder, marked as
  never to be shared. No DICOM header value travels: only pixel data and pixel spacing are read.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image as PILImage
from tqdm.auto import tqdm

from . import atomic, images, paths, pixels, repro, validation
from .cohort import EXCLUSIONS, layout_faults, read_clinical
from .datafolder import CLINICAL, CLINICAL_COLUMNS, IMAGE_COLUMNS, IMAGES, LANDMARK_COLUMNS, LANDMARKS, SITE_COLUMN, SPACING_COLUMNS, DataFolder
from .errors import InputError, ParameterError, read_text_csv

__all__ = ["TEMPLATE", "Mapping", "read_sheet", "convert", "Image", "match_images", "convert_landmarks", "run",
           "combine", "main"]

TEMPLATE = """\
# osteolib ingest mapping: how a hospital export becomes the study's input layout.
# Paths are relative to this file. Run: python -m osteolib.ingest this.yaml --out data/mystudy
clinical:
  file: clinical.xlsx              # .xlsx (read with openpyxl) or .csv
  sheet: 0                         # .xlsx: the sheet's name or index
  id: MRN                          # the column that identifies a patient: replaced by a pseudonym
  columns:                         # the input layout's column: the sheet's column
    sex: Sex
    age: Age
    height_cm: Height
    weight_kg: Weight
    tscore_hip: Hip T-score        # the DXA device's hip column (e.g. "Hologic total hip T")
    tscore_spine: Spine T-score    # and its spine column; either may be empty, not both
    antiresorptive: Antiresorptive
    foreign_body: Foreign body
    mandibular_fracture: Mandibular fracture
    poor_quality: Poor image quality
    dxa_date: DXA date
    radiograph_date: Radiograph date
  sex_codes: {F: F, M: M}          # the sheet's code: F or M (e.g. {"1": M, "2": F} or {W: F, M: M})
  flag_codes: {"0": 0, "1": 1}     # the sheet's code for the four exclusion flags: 0 or 1 (e.g. {n: 0, y: 1})
  date_format: "%Y-%m-%d"          # strptime format of both dates (e.g. "%d.%m.%Y")
images:
  folder: images                   # searched with its subfolders: DICOM, TIFF, PNG, JPEG
  match_column: Image              # the sheet column whose value is the image file's name without suffix
  pixel_spacing_mm: null           # row, column mm per pixel for files that record none, e.g. [0.1, 0.1]
landmarks:                         # optional (delete this block without landmarks: landmark them in 00_data)
  file: foramina.csv
  match_column: Image              # the clinical sheet's column its rows refer to ...
  columns: {id: Image, side: Side, x: X, y: Y}   # ... through its own column "id"
  side_codes: {left: left, right: right}         # the sheet's code: left or right (e.g. {L: left, R: right})
pseudonym:
  prefix: P                        # pseudonyms P0001, P0002, ... in the sheet's order
"""

_KEYS = {"clinical": {"file", "sheet", "id", "columns", "sex_codes", "flag_codes", "date_format"},
         "images": {"folder", "match_column", "pixel_spacing_mm"},
         "landmarks": {"file", "match_column", "columns", "side_codes"}, "pseudonym": {"prefix"}}
_LAYOUT = [c for c in CLINICAL_COLUMNS if c not in ("patient_id", "image")]


@dataclass
class Mapping:
    """A validated mapping file (see :data:`TEMPLATE`)."""

    path: Path
    clinical: dict
    images: dict
    landmarks: dict | None = None
    pseudonym: dict = field(default_factory=lambda: {"prefix": "P"})

    @classmethod
    def load(cls, path: str | Path) -> "Mapping":
        path = Path(path)
        if not path.is_file():
            raise ParameterError(f"{path}: mapping file not found (python -m osteolib.ingest --template writes one)")
        raw = yaml.safe_load(path.read_text()) or {}
        for section, keys in ((s, k) for s, k in raw.items()):
            if section not in _KEYS:
                raise ParameterError(f"{path}: unknown section {section!r} (expected {', '.join(_KEYS)})")
            unknown = set(keys or {}) - _KEYS[section]
            if unknown:
                raise ParameterError(f"{path}: unknown key(s) {sorted(unknown)} in {section!r}")
        for section in ("clinical", "images"):
            if section not in raw:
                raise ParameterError(f"{path}: the mapping needs a {section!r} section")
        missing = [c for c in _LAYOUT if c not in raw["clinical"].get("columns", {})]
        if missing or "id" not in raw["clinical"] or "match_column" not in raw["images"]:
            raise ParameterError(f"{path}: clinical.columns must map {', '.join(missing) or 'every column'}, "
                                 "and clinical.id and images.match_column must be set")
        return cls(path, raw["clinical"], raw["images"], raw.get("landmarks"), raw.get("pseudonym") or {"prefix": "P"})

    def resolve(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.path.parent / p


def read_sheet(file: Path, sheet=0) -> pd.DataFrame:
    """A sheet as text (empty cells ""), the data rows indexed 0.. (spreadsheet row = index + 2)."""
    if not file.is_file():
        raise InputError(file, "file not found")
    if file.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        df = pd.read_excel(file, sheet_name=sheet, dtype=str, keep_default_na=False, engine="openpyxl")
    else:
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
    return df.apply(lambda c: c.str.strip()).reset_index(drop=True)


def _fault(file, index, column, value, problem, severity: str = "error", todo: str = "") -> tuple:
    return (str(file), int(index) + 2 if index is not None else np.nan, column, value, severity, problem, todo)


def _codes(series: pd.Series, codes: dict, file, column: str, what: str, faults: list) -> pd.Series:
    """Map a column's codes; an unknown code is a fault naming the mapping's codes."""
    codes = {str(k): v for k, v in codes.items()}
    out = series.map(codes)
    for i in np.flatnonzero(out.isna() & (series != "")):
        faults.append(_fault(file, i, column, series.iloc[i], f"unknown {what} code {series.iloc[i]!r} (the mapping's "
                                                              f"codes: {', '.join(codes)})"))
    return out.fillna(series).astype(str)


def _dates(series: pd.Series, fmt: str, file, column: str, faults: list) -> pd.Series:
    parsed = pd.to_datetime(series, format=fmt, errors="coerce")
    for i in np.flatnonzero(parsed.isna()):
        faults.append(_fault(file, i, column, series.iloc[i], f"{series.iloc[i]!r} is not a date of the form {fmt!r}"))
    return parsed.dt.strftime("%Y-%m-%d").fillna(series)


def convert(sheet: pd.DataFrame, m: Mapping) -> tuple[pd.DataFrame, list]:
    """The sheet in the input layout's columns and values (text), and the faults of the conversion."""
    file, c = m.resolve(m.clinical["file"]), m.clinical
    faults: list = []
    missing = [src for src in [c["id"], m.images["match_column"], *c["columns"].values()] if src not in sheet]
    for src in dict.fromkeys(missing):
        faults.append(_fault(file, None, src, "", f"missing column (the mapping expects it; the sheet has "
                                                  f"{', '.join(sheet.columns)})"))
    if missing:
        return pd.DataFrame(), faults
    out = pd.DataFrame({layout: sheet[src] for layout, src in c["columns"].items()})
    out["sex"] = _codes(out["sex"], c.get("sex_codes", {"F": "F", "M": "M"}), file, c["columns"]["sex"], "sex", faults)
    for flag in EXCLUSIONS:
        codes = c.get("flag_codes", {"0": 0, "1": 1})
        out[flag] = _codes(out[flag], {k: str(v) for k, v in codes.items()}, file, c["columns"][flag], "flag", faults)
    for d in ("dxa_date", "radiograph_date"):
        out[d] = _dates(out[d], c.get("date_format", "%Y-%m-%d"), file, c["columns"][d], faults)
    dup = sheet[c["id"]].duplicated()
    for i in np.flatnonzero(dup):
        first = int(np.flatnonzero(sheet[c["id"]] == sheet[c["id"]].iloc[i])[0]) + 2
        faults.append(_fault(file, i, c["id"], sheet[c["id"]].iloc[i], f"duplicate patient (first seen in row {first})"))
    return out, faults


@dataclass
class Image:
    """One row's image: the file found, its pixels' size, its spacing (mm) and its facts
    (:data:`osteolib.images.FACTS`)."""

    path: Path | None
    shape: tuple[int, int] | None = None
    spacing: tuple[float, float] | None = None
    facts: dict | None = None


def match_images(sheet: pd.DataFrame, m: Mapping, progress: bool = False, write_to: Path | None = None,
                 ids: pd.Series | None = None) -> tuple[list[Image], list]:
    """Every row's image, found by name in the folder (with its subfolders; a DICOM file may have no
    suffix) and read once, with every problem of every image (errors and warnings, with what to do).
    With ``write_to``, each readable image's 8-bit display is written there as ``<pseudonym>.png``
    (``ids``) as it is read, so memory does not grow with the folder."""
    file, folder, column = m.resolve(m.clinical["file"]), m.resolve(m.images["folder"]), m.images["match_column"]
    if not folder.is_dir():
        raise InputError(folder, "image folder not found")
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and images.is_image(p):
            found.setdefault(p.stem, []).append(p)
    default = m.images.get("pixel_spacing_mm")
    out, faults = [], []
    for i, name in enumerate(tqdm(sheet[column], desc="images", unit="img", disable=not progress)):
        hits = found.get(name, [])
        if len(hits) != 1:
            problem = f"no image of this name in {folder}" if not hits else f"{len(hits)} images of this name"
            faults.append(_fault(file, i, column, name, problem))
            out.append(Image(None))
            continue
        gray, facts, problems = images.check(hits[0])
        for severity, problem, todo in problems:
            words = f"its image cannot be read ({problem})" if facts is None else f"its image: {problem}"
            faults.append(_fault(file, i, column, name, words, severity, todo))
        if gray is None or any(sev == "error" for sev, _, _ in problems):
            out.append(Image(None))
            continue
        if write_to is not None:
            PILImage.fromarray(gray).save(write_to / Path(DataFolder.image_name(ids.iloc[i])).name)
        spacing = images.pixel_spacing(hits[0]) or (tuple(map(float, default)) if default else None)
        out.append(Image(hits[0], gray.shape, spacing, facts))
    return out, faults


def convert_landmarks(sheet: pd.DataFrame, ids: pd.Series, found: list[Image], m: Mapping) -> tuple[pd.DataFrame, list]:
    """The landmark sheet in the input layout (pseudonymised), and its faults (an unknown patient or
    side code, a non-number, a point outside its image)."""
    lm = m.landmarks
    file = m.resolve(lm["file"])
    cols = lm["columns"]
    src = read_sheet(file)
    faults: list = []
    missing = [c for c in cols.values() if c not in src]
    if missing:
        return pd.DataFrame(), [_fault(file, None, c, "", "missing column") for c in missing]
    row_of = {v: i for i, v in enumerate(sheet[lm["match_column"]])}
    side = _codes(src[cols["side"]], lm.get("side_codes", {"left": "left", "right": "right"}), file, cols["side"],
                  "side", faults)
    rows = []
    for i, rec in src.iterrows():
        r = row_of.get(rec[cols["id"]])
        if r is None:
            faults.append(_fault(file, i, cols["id"], rec[cols["id"]], "no patient of the clinical sheet has this value"))
            continue
        xy = pd.to_numeric(pd.Series([rec[cols["x"]], rec[cols["y"]]]), errors="coerce")
        for axis, v, raw in zip(("x", "y"), xy, (rec[cols["x"]], rec[cols["y"]])):
            if pd.isna(v):
                faults.append(_fault(file, i, cols[axis], raw, f"{raw!r} is not a number"))
        shape = found[r].shape
        if xy.notna().all() and shape and not (0 <= xy[0] < shape[1] and 0 <= xy[1] < shape[0]):
            faults.append(_fault(file, i, cols["x"], rec[cols["x"]], f"landmark ({xy[0]:g}, {xy[1]:g}) lies outside "
                                                                     f"its image ({shape[1]} x {shape[0]} px)"))
        rows.append({"patient_id": ids.iloc[r], "side": side.iloc[i], "x": xy[0], "y": xy[1]})
    return pd.DataFrame(rows, columns=list(LANDMARK_COLUMNS)), faults


def _layout_faults(clinical: pd.DataFrame, m: Mapping, skip: set) -> pd.DataFrame:
    """The input layout's own rules (notebook 01's schema) on the converted table, named by the
    source's columns; cells whose conversion already failed are not reported twice."""
    file = m.resolve(m.clinical["file"])
    table = layout_faults(clinical, file, Path("."), check_images=False)
    back = {**m.clinical["columns"], "patient_id": m.clinical["id"], "image": m.images["match_column"]}
    table["column"] = table["column"].map(lambda c: back.get(c, c))
    keep = [(r, c) not in skip for r, c in zip(table["row"], table["column"])]
    return table[keep]


def run(mapping: str | Path, out: str | Path, key_file: str | Path | None = None,
        report: str | Path | None = None, progress: bool = True) -> dict:
    """Ingest the export a mapping describes into the data folder ``out`` (see the module docstring).

    Every image is read once (its display written into the new folder as it is read). Raises
    :class:`~osteolib.validation.ValidationError` listing every fault (written to ``report``, default
    ``<out>-validation.csv``) and writes nothing else. Warnings (burned-in text, low contrast) do not
    stop: they are listed in the same report. Returns what was done.
    """
    t0 = time.perf_counter()
    m = Mapping.load(mapping)
    out = Path(out)
    key_file = Path(key_file) if key_file else DataFolder(out).key_csv
    report = Path(report) if report else DataFolder(out).validation_csv
    for where, what in ((out, "the data folder"), (paths.outputs_root(), "the studies' outputs")):
        if key_file.resolve().is_relative_to(where.resolve()) or report.resolve().is_relative_to(where.resolve()):
            raise ParameterError(f"the key file {key_file} and the fault report {report} must lie outside {what} "
                                 f"({where}): they hold the hospital's identifiers")
    if out.exists() and any(out.iterdir()) and not DataFolder(out).ingest_json.is_file():
        raise ParameterError(f"{out} exists and was not written by ingest: give a new folder (ingest replaces "
                             "only a data folder it wrote itself)")
    file = m.resolve(m.clinical["file"])
    sheet = read_sheet(file, m.clinical.get("sheet", 0))
    if sheet.empty:
        raise InputError(file, "no patient rows")
    clinical, faults = convert(sheet, m)
    prefix = m.pseudonym.get("prefix", "P")
    ids = pd.Series([f"{prefix}{i + 1:0{max(4, len(str(len(sheet))))}d}" for i in range(len(sheet))])
    with atomic.atomic_dir(out) as tmp:
        folder = DataFolder(tmp)
        folder.images_dir.mkdir()
        found, image_faults = (match_images(sheet, m, progress, folder.images_dir, ids) if not clinical.empty
                               else ([], []))
        landmarks, lm_faults = (convert_landmarks(sheet, ids, found, m) if m.landmarks and found else (None, []))
        table = validation.table(pd.DataFrame(faults + image_faults + lm_faults, columns=validation.COLUMNS))
        if not clinical.empty:
            done = set(zip(table["row"], table["column"]))
            layout = clinical.assign(patient_id=ids, image=[DataFolder.image_name(p) for p in ids])
            table = validation.combine(table, _layout_faults(layout, m, done))
        if len(table):
            table["row"] = table["row"].astype("Int64")
            table = table.sort_values(["file", "row", "column"], na_position="first", kind="stable").reset_index(drop=True)
        if len(validation.errors(table)):
            atomic.write_csv(table, report)
            raise validation.ValidationError(file, table, report)
        facts = _facts(sheet, found, landmarks, table)
        inputs = {"mapping": m.path, "clinical": file, **({"landmarks": m.resolve(m.landmarks["file"])} if m.landmarks else {})}
        provenance = {"format": "osteolib-ingest/2", **facts, "display_rule": pixels.RULE,
                      "mapping": yaml.safe_load(m.path.read_text()),
                      "inputs": {k: {"name": p.name, "sha256": repro.sha256(p)} for k, p in inputs.items()},
                      "environment": repro.environment_report(),
                      "note": "pseudonymised: the key lies outside this folder; no DICOM header was copied"}
        _write(folder, out, key_file, sheet, m, ids, clinical, found, landmarks, provenance)
        if len(table):  # warnings only: listed beside the folder, as faults are
            atomic.write_csv(table, report)
        else:
            report.unlink(missing_ok=True)
    return {**facts, "seconds": round(time.perf_counter() - t0, 1)}


def _facts(sheet: pd.DataFrame, found: list[Image], landmarks: pd.DataFrame | None, table: pd.DataFrame) -> dict:
    """What ingest.json says of the images (counts; no identifier)."""
    rows = pd.DataFrame([f.facts for f in found])
    count = lambda col: {str(k): int(v) for k, v in rows[col].value_counts().sort_index().items()}
    return {"patients": len(sheet), "images": {s: sum(1 for f in found if f.path.suffix.lower() == s)
                                               for s in sorted({f.path.suffix.lower() for f in found})},
            "formats": count("format"), "transfer_syntaxes": count("transfer_syntax"), "decoders": count("decoder"),
            "mappings": count("mapping"), "burned_in": int((rows["burned_in"] == "YES").sum()),
            "corner_text": int((rows["corner_text"] != "").sum()),
            "warnings": int(len(table)), "spacing_recorded": sum(f.spacing is not None for f in found),
            "landmarks": 0 if landmarks is None else len(landmarks)}


def _write(folder: DataFolder, out: Path, key_file: Path, sheet: pd.DataFrame, m: Mapping, ids: pd.Series, clinical: pd.DataFrame,
           found: list[Image], landmarks: pd.DataFrame | None, provenance: dict) -> None:
    """The key first (apart), then the rest of the input layout into the new folder (its images are
    written already); the folder appears whole when :func:`run`'s ``atomic_dir`` closes."""
    key = pd.DataFrame({"pseudonym": ids, m.clinical["id"]: sheet[m.clinical["id"]],
                        m.images["match_column"]: sheet[m.images["match_column"]]})
    atomic.write_text(f"# CONFIDENTIAL: this key re-identifies the patients of {out}. Keep it where the "
                      "hospital keeps identifiable data; never share it, never put it under outputs/.\n"
                      + key.to_csv(index=False), key_file)
    spacing = np.array([f.spacing if f.spacing else (np.nan, np.nan) for f in found], float)
    layout = clinical.assign(patient_id=ids, image=[DataFolder.image_name(p) for p in ids],
                             **{c: spacing[:, k] for k, c in enumerate(SPACING_COLUMNS)})
    layout[list(CLINICAL_COLUMNS) + list(SPACING_COLUMNS)].to_csv(folder.clinical_csv, index=False)
    pd.DataFrame([{"patient_id": p, **f.facts} for p, f in zip(ids, found)],
                 columns=list(IMAGE_COLUMNS)).to_csv(folder.images_csv, index=False)
    if landmarks is not None:
        landmarks.to_csv(folder.landmarks_csv, index=False)
    atomic.write_json(provenance, folder.ingest_json)


_SITE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def combine(folders: dict[str, str | Path], out: str | Path) -> dict:
    """Several data folders (one per hospital, each ingested on its own) combined into one multi-site data
    folder ``out`` (new; written whole or not at all): ``clinical.csv`` gains the ``site`` column, every
    patient becomes ``<site>-<patient_id>`` (pseudonyms of separate ingests repeat: ``P0001`` in every
    site; each site's key still resolves them, by that rule), the radiographs are copied (bytes unchanged)
    to ``images/<site>/``, and ``landmarks.csv``, ``images.csv`` and ``landmarking.csv`` follow where every
    site has them (landmarks from only some sites: an error, since notebook 02 needs them all). ``ingest.json``
    records each site's own record and the hash of its ``clinical.csv``. A synthetic folder is refused (its
    truth cannot be combined: ``python -m osteolib.synthetic --sites`` draws several sites). The combined
    clinical table is validated before the folder appears. Returns the patients per site."""
    out = Path(out)
    if len(folders) < 2:
        raise ParameterError(f"combining needs at least 2 sites, got {len(folders)}")
    bad = [s for s in folders if not _SITE.fullmatch(s)]
    if bad:
        raise ParameterError(f"site {bad[0]!r} is not a plain name (letters, digits, _ . -)")
    if out.exists() and any(out.iterdir()):
        raise ParameterError(f"{out} exists and is not empty: give a new folder")
    srcs = {site: DataFolder(Path(d)) for site, d in folders.items()}
    for site, f in srcs.items():
        if f.is_synthetic or f.synthetic_json.is_file():
            raise ParameterError(f"{f.root} (site {site}) is a synthetic cohort: draw several sites with "
                                 "python -m osteolib.synthetic --sites instead")
    has = {name: [getattr(f, name).is_file() for f in srcs.values()] for name in ("landmarks_csv", "images_csv",
                                                                                  "landmarking_csv")}
    if any(has["landmarks_csv"]) and not all(has["landmarks_csv"]):
        missing = [s for s, h in zip(srcs, has["landmarks_csv"]) if not h]
        raise ParameterError(f"{LANDMARKS} in some sites but not in {', '.join(missing)}: landmark those first")
    tables: dict[str, list[pd.DataFrame]] = {"clinical_csv": [], "landmarks_csv": [], "images_csv": [], "landmarking_csv": []}
    record, counts = {}, {}
    with atomic.atomic_dir(out) as tmp:
        folder = DataFolder(tmp)
        folder.images_dir.mkdir()
        for site, f in srcs.items():
            clinical = read_text_csv(f.clinical_csv, ("patient_id", "image"))
            if SITE_COLUMN in clinical and (clinical[SITE_COLUMN].str.strip() != site).any():
                raise InputError(f.clinical_csv, f"already holds other sites than {site!r}", column=SITE_COLUMN)
            rename = {p: f"{site}-{p.strip()}" for p in clinical["patient_id"]}
            (folder.images_dir / site).mkdir()
            names = clinical["image"].str.strip().map(lambda rel: Path(rel).name)
            if names.duplicated().any():
                i = int(np.flatnonzero(names.duplicated())[0])
                raise InputError(f.clinical_csv, f"two images named {names.iloc[i]!r}", row=i + 2, column="image")
            for i, (rel, name) in enumerate(zip(clinical["image"].str.strip(), names)):
                if not f.image(rel).is_file():
                    raise InputError(f.clinical_csv, f"image {rel!r} not found", row=i + 2, column="image")
                shutil.copyfile(f.image(rel), folder.images_dir / site / name)
            clinical = clinical.assign(patient_id=clinical["patient_id"].map(rename),
                                       image=[f"{IMAGES}/{site}/{n}" for n in names], **{SITE_COLUMN: site})
            tables["clinical_csv"].append(clinical)
            for name in ("landmarks_csv", "images_csv", "landmarking_csv"):
                if all(has[name]):
                    t = pd.read_csv(getattr(f, name), dtype=str, keep_default_na=False)
                    unknown = sorted(set(t["patient_id"]) - set(rename))
                    if unknown:
                        raise InputError(getattr(f, name), f"patient {unknown[0]!r} is not in its {CLINICAL}",
                                         column="patient_id")
                    tables[name].append(t.assign(patient_id=t["patient_id"].map(rename)))
            ingested = json.loads(f.ingest_json.read_text()) if f.ingest_json.is_file() else None
            record[site] = {"folder": f.root.name, "clinical_sha256": repro.sha256(f.clinical_csv), "ingest": ingested}
            counts[site] = len(clinical)
        for name, parts in tables.items():
            if parts:
                pd.concat(parts, ignore_index=True).to_csv(getattr(folder, name), index=False)
        read_clinical(tmp)  # the combined table, checked by notebook 01's own rules
        atomic.write_json({"format": "osteolib-combined/1", "patients": counts, "id_rule": "<site>-<patient_id>",
                           "sites": record, "environment": repro.environment_report(),
                           "note": "each site's pseudonym key stays beside its own folder; ids here are "
                                   "<site>-<its pseudonym>"}, folder.ingest_json)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.ingest", description=__doc__.split("\n\n")[0])
    ap.add_argument("mapping", nargs="?", help="the mapping file (YAML)")
    ap.add_argument("--out", help="the data folder to write (the study's input layout)")
    beside = DataFolder(Path("<out>"))
    ap.add_argument("--key", help=f"where the pseudonym key goes (default: {beside.key_csv} beside the folder)")
    ap.add_argument("--report", help=f"where the table of faults goes (default: {beside.validation_csv})")
    ap.add_argument("--template", metavar="FILE", help="write a commented mapping to start from, and stop")
    ap.add_argument("--combine", nargs="+", metavar="SITE=DIR", help="combine data folders ingested one per site "
                    "into the multi-site data folder --out (a site column; ids <site>-<patient_id>)")
    a = ap.parse_args(argv)
    if a.combine:
        if a.mapping or not a.out:
            ap.error("--combine takes SITE=DIR pairs and --out, no mapping")
        pairs = [p.partition("=") for p in a.combine]
        if any(not sep for _, sep, _ in pairs):
            ap.error("--combine takes SITE=DIR pairs")
        counts = combine({site: d for site, _, d in pairs}, a.out)
        print(f"{a.out}: {sum(counts.values())} patients from {len(counts)} sites ({json.dumps(counts)})")
        return 0
    if a.template:
        atomic.write_text(TEMPLATE, a.template)
        print(f"{a.template}: a mapping to edit, then: python -m osteolib.ingest {a.template} --out data/<study>")
        return 0
    if not (a.mapping and a.out):
        ap.error("give a mapping and --out (or --template FILE)")
    try:
        facts = run(a.mapping, a.out, a.key, a.report)
    except validation.ValidationError as e:
        print(validation.summary(e.faults).to_string(index=False), file=sys.stderr)
        print(f"\n{e}", file=sys.stderr)
        return 1
    print(f"{a.out}: {facts['patients']} patients, images {json.dumps(facts['formats'])} "
          f"({json.dumps(facts['transfer_syntaxes'])}), {facts['landmarks']} landmarks, in {facts['seconds']} s")
    if facts["warnings"]:
        print(f"{facts['warnings']} warning(s) (e.g. burned-in text), listed in "
              f"{a.report or DataFolder(Path(a.out)).validation_csv}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
