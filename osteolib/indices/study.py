"""Notebook 02b: the radiomorphometric indices of every cohort patient, graded, and their agreement.

* :func:`measure_folder`: MCW and PMI at both mental foramina of every radiograph
  (:func:`osteolib.indices.cortex.measure`, from the data folder's ``landmarks.csv``, in mm through each
  image's pixel spacing), and the cortex's morphology (:func:`osteolib.indices.cortex.morphology`);
* :func:`grade`: Klemetti's MCI from the morphology (:mod:`osteolib.indices.klemetti`), trained on the
  graded examples there are: the clinicians' grades (notebook 00's measuring widget,
  ``measurements/<reader>.csv``), else a synthetic cohort's generator grades;
* :func:`per_patient`: one row per patient for the baselines (MCW and PMI: the mean of the sides measured;
  MCI: the worse side, as clinicians grade);
* :func:`agreement_table`: Bland-Altman and ICC(A,1) of the automatic MCW and PMI, weighted kappa of the MCI,
  against the synthetic truth (``truth.csv``: exact at the left foramen) and against every clinician, and
  between clinicians (inter-observer);
* :func:`run`: all of it, written to ``indices/`` whole.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import matplotlib.pyplot as plt

from .. import atomic, images, plots, roi, steps, synthetic
from ..datafolder import LANDMARKS, MEASUREMENT_COLUMNS, SPACING_COLUMNS, TRUTH, DataFolder
from ..errors import InputError
from ..layout import StudyLayout
from .agreement import COLUMNS as AGREEMENT_COLUMNS
from .agreement import grade_row, row
from .klemetti import FEATURES, GRADES, TOO_FEW, cross_grade, grade_number
from ..settings import MeasureSettings
from .cortex import REASONS, measure, morphology, trace_border

__all__ = ["COLUMNS", "SIDES", "measure_patient", "measure_folder", "read_readers", "reference_grades", "grade",
           "per_patient", "agreement_table", "examples", "figures", "summary", "run", "read", "read_patients"]

SIDES = ("left", "right")
#: Columns of ``indices/indices.csv`` (one row per patient and side), the issue's first.
COLUMNS = ("patient_id", "side", "mcw_mm", "pmi", "mci", "flag", "reason", "mcw_anatomical_mm", "mci_source",
           *FEATURES, "pixel_mm", "foramen_x", "foramen_y", "border_x", "border_y", "endosteal_x",
           "endosteal_y", "periosteal_x", "periosteal_y", "direction_x", "direction_y", "border_c2", "border_c1",
           "border_c0", "contrast", "edge_sd_px", "residual")
NO_LANDMARK = f"no landmark of this side in {LANDMARKS}"


def measure_patient(job: tuple) -> list[dict]:
    """Both sides of one radiograph; ``job`` = (patient_id, image path, {side: (x, y)}, (row, col) spacing,
    settings). A side without a landmark is a flagged row."""
    pid, path, points, spacing, s = job
    gray = images.read_gray(path)
    px = float(np.sqrt(spacing[0] * spacing[1])) if all(np.isfinite(spacing)) else np.nan
    rows = []
    for side in SIDES:
        row = {"patient_id": pid, "side": side, "pixel_mm": px}
        if side not in points:
            rows.append({**row, "flag": True, "reason": NO_LANDMARK})
            continue
        x, y = points[side]
        m = measure(gray, x, y, spacing, side, s)
        row.update(m.as_row(), foramen_x=x, foramen_y=y)
        curve = trace_border(gray, x, y, px if np.isfinite(px) else s.assumed_px_mm, s) if np.isfinite(m.mcw_px) else None
        if curve is not None:
            row.update(dict(zip(("border_c2", "border_c1", "border_c0"), np.asarray(curve.coeffs, float))))
            row.update(morphology(gray, m, curve, px if np.isfinite(px) else s.assumed_px_mm, s=s))
        rows.append(row)
    return rows


def _landmarks(data_dir: Path, ids) -> dict[str, dict]:
    folder = DataFolder(data_dir)
    if not folder.landmarks_csv.is_file():
        return {}
    lm = roi.read_all_landmarks(data_dir)
    lm = lm[lm["patient_id"].isin(set(ids))]
    return {pid: {r.side: (r.x, r.y) for r in g.itertuples()} for pid, g in lm.groupby("patient_id")}


def measure_folder(data_dir: str | Path, cohort: pd.DataFrame, settings: MeasureSettings = MeasureSettings(),
                   jobs: int | None = None, progress: bool = True) -> pd.DataFrame:
    """:data:`COLUMNS` (without ``mci``) for every cohort patient and side, in the cohort's order."""
    data_dir = Path(data_dir)
    folder = DataFolder(data_dir)
    points = _landmarks(data_dir, cohort["patient_id"])
    spacing = (cohort[list(SPACING_COLUMNS)].to_numpy(float) if set(SPACING_COLUMNS) <= set(cohort.columns)
               else np.full((len(cohort), 2), np.nan))
    work = [(pid, str(folder.image(img)), points.get(pid, {}), tuple(sp), settings)
            for pid, img, sp in zip(cohort["patient_id"], cohort["image"], spacing)]
    workers = jobs or os.cpu_count() or 1
    bar = dict(total=len(work), desc="indices", unit="img", disable=not progress)
    if workers > 1 and len(work) > 8:
        with ProcessPoolExecutor(workers) as pool:
            rows = [r for rs in tqdm(pool.map(measure_patient, work, chunksize=4), **bar) for r in rs]
    else:
        rows = [r for job in tqdm(work, **bar) for r in measure_patient(job)]
    out = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in out:
            out[c] = np.nan
    out["flag"] = out["flag"].fillna(False).astype(bool)
    out["reason"] = out["reason"].fillna("")
    return out[[c for c in COLUMNS if c not in ("mci", "mci_source")]]


def read_readers(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Every clinician's manual measurements (``measurements/<reader>.csv``, notebook 00's measuring widget):
    reader -> patient_id, side, mcw_mm, mci. An InputError names the file and column at fault."""
    folder = DataFolder(data_dir)
    out = {}
    for file in sorted(folder.measurements_dir.glob("*.csv")) if folder.measurements_dir.is_dir() else []:
        t = pd.read_csv(file, dtype={"patient_id": str, "mci": str})
        missing = [c for c in ("patient_id", "side", "mcw_mm", "mci") if c not in t.columns]
        if missing:
            raise InputError(file, f"no column(s) {missing} (expected {', '.join(MEASUREMENT_COLUMNS)})", column=missing[0])
        bad = t.index[~t["mci"].fillna("").isin(("", *GRADES))]
        if len(bad):
            raise InputError(file, f"MCI {t.loc[bad[0], 'mci']!r} is not one of {', '.join(GRADES)}",
                             row=int(bad[0]) + 2, column="mci")
        out[file.stem] = t
    return out


def reference_grades(indices: pd.DataFrame, readers: dict[str, pd.DataFrame], truth: pd.DataFrame | None
                     ) -> tuple[pd.Series, str]:
    """The grades the grader learns from, one per row of ``indices`` (NaN where none), and where they come
    from: the clinicians' (the first reader's, in name order, where several graded a side), else the
    synthetic truth's (``cortical_index``, one per patient), else none."""
    key = indices[["patient_id", "side"]]
    if readers:
        graded = pd.concat([t.assign(reader=r) for r, t in readers.items()]).dropna(subset=["mci"])
        graded = graded.drop_duplicates(["patient_id", "side"]).set_index(["patient_id", "side"])["mci"]
        return pd.Series(graded.reindex(pd.MultiIndex.from_frame(key)).to_numpy(), index=indices.index), \
            f"clinicians ({', '.join(readers)})"
    if truth is not None:
        return key["patient_id"].map(truth.set_index("patient_id")["cortical_index"]), f"synthetic truth ({TRUTH})"
    return pd.Series(np.nan, index=indices.index), ""


def grade(indices: pd.DataFrame, reference: pd.Series, source: str, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """``indices`` with ``mci`` and ``mci_source`` (:func:`osteolib.indices.cross_grade`), and a note
    (why nothing was graded, or how)."""
    out = indices.copy()
    try:
        out["mci"] = cross_grade(out, reference, seed=seed).to_numpy()
        out["mci_source"] = f"model trained on the grades of {source}" if source else ""
        note = f"graded by a model trained on {int(reference.isin(GRADES).sum())} graded sides ({source})"
    except ValueError as e:
        out["mci"], out["mci_source"] = np.nan, ""
        note = str(e) if source else TOO_FEW
    return out, note


def per_patient(indices: pd.DataFrame) -> pd.DataFrame:
    """What the baselines read, one row per patient: patient_id, mcw_mm and pmi (the mean of the sides
    measured), cortex_not_visible (a side flagged because no cortex could be seen above the lower border),
    mci_grade (1-3: the worse side; a side whose cortex could not be seen counts as C3, the extreme of
    Klemetti's erosion), mci, n_sides (sides measured)."""
    unseen = indices["reason"].fillna("") == REASONS["no_cortex"]
    g = indices.assign(grade=np.where(unseen, 3.0, grade_number(indices["mci"])), unseen=unseen)
    out = g.groupby("patient_id", sort=False).agg(mcw_mm=("mcw_mm", "mean"), pmi=("pmi", "mean"),
                                                  cortex_not_visible=("unseen", "any"), mci_grade=("grade", "max"),
                                                  n_sides=("mcw_mm", "count"))
    out["mci"] = out["mci_grade"].map({i + 1: c for i, c in enumerate(GRADES)})
    return out.reset_index()


def agreement_table(indices: pd.DataFrame, truth: pd.DataFrame | None, readers: dict[str, pd.DataFrame],
              magnification: float) -> pd.DataFrame:
    """Every comparison of :data:`osteolib.indices.agreement.COLUMNS`: automatic against the synthetic
    truth (the left side: the generator records the exact width there), against each clinician, and the
    clinicians against each other (and the truth)."""
    px = float(indices["pixel_mm"].median())
    rows = []
    if truth is not None and "cortex_width_mm" in truth.columns:
        t = truth.set_index("patient_id")
        left = indices[indices["side"] == "left"].set_index("patient_id")
        left = left.merge(t[["cortex_width_mm", "foramen_border_mm", "mcw_mm", "cortical_index"]], how="left",
                          left_index=True, right_index=True, suffixes=("", "_truth"))
        note = f"anatomical mm: the radiographic width / {magnification:g}; left foramen (the truth is exact there)"
        rows += [row("MCW, automatic", "cortex width at the left foramen (truth)", left["mcw_anatomical_mm"],
                           left["cortex_width_mm"], "mm", px, note),
                 row("MCW, automatic", "nominal MCW of the patient (truth)", left["mcw_anatomical_mm"],
                           left["mcw_mm_truth"], "mm", px, note + "; the cortex varies along the border about its nominal width"),
                 row("PMI, automatic", "PMI at the left foramen (truth)", left["pmi"],
                           left["cortex_width_mm"] / left["foramen_border_mm"], "ratio", px, "left foramen"),
                 grade_row("MCI, automatic", "cortical index (truth)", left["mci"], left["cortical_index"], px,
                                 "Cohen's kappa, linear weights; left side")]
        # by the truth's grade: an even cortex against one with defects or pores, where one column's width and
        # the width over the 1 mm band the profile averages differ
        rows += [row("MCW, automatic", f"cortex width at the left foramen (truth), {g} cortices",
                     left.loc[left["cortical_index"] == g, "mcw_anatomical_mm"],
                     left.loc[left["cortical_index"] == g, "cortex_width_mm"], "mm", px, note) for g in GRADES]
    auto = indices.set_index(["patient_id", "side"])
    names = list(readers)
    for r in names:
        m = readers[r].set_index(["patient_id", "side"])
        both = auto.merge(m[["mcw_mm", "mci"]], left_index=True, right_index=True, suffixes=("", f"_{r}"))
        rows += [row("MCW, automatic", f"MCW, {r}", both["mcw_mm"], both[f"mcw_mm_{r}"], "mm", px,
                           "radiographic mm, both sides"),
                 grade_row("MCI, automatic", f"MCI, {r}", both["mci"], both[f"mci_{r}"], px)]
        if truth is not None and "cortex_width_mm" in truth.columns:
            left = m.xs("left", level="side").merge(truth.set_index("patient_id"), left_index=True, right_index=True,
                                                    suffixes=("", "_truth"))
            rows += [row(f"MCW, {r}", "cortex width at the left foramen (truth)", left["mcw_mm"] / magnification,
                               left["cortex_width_mm"], "mm", px, f"anatomical mm: radiographic / {magnification:g}"),
                     grade_row(f"MCI, {r}", "cortical index (truth)", left["mci"], left["cortical_index"], px)]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = readers[a].set_index(["patient_id", "side"]).merge(
                readers[b].set_index(["patient_id", "side"])[["mcw_mm", "mci"]], left_index=True, right_index=True,
                suffixes=("", "_b"))
            rows += [row(f"MCW, {a}", f"MCW, {b}", both["mcw_mm"], both["mcw_mm_b"], "mm", px,
                               "inter-observer, radiographic mm"),
                     grade_row(f"MCI, {a}", f"MCI, {b}", both["mci"], both["mci_b"], px, "inter-observer; "
                                     "Cohen's kappa, linear weights")]
    return pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))


def examples(data_dir: str | Path, cohort: pd.DataFrame, indices: pd.DataFrame, truth: pd.DataFrame | None,
             settings: MeasureSettings = MeasureSettings()) -> list[dict]:
    """The left sides to show: per grade (the truth's where there is one, else the one assigned) the side of
    the median MCW, and the first flagged side; each re-measured with its profile (``measurement``), the
    radiograph (``gray``), ``foramen``, ``px_mm`` and a ``label``."""
    left = indices[indices["side"] == "left"].reset_index(drop=True)
    grades = left["patient_id"].map(truth.set_index("patient_id")["cortical_index"]) if truth is not None else left["mci"]
    picks = []
    for g in GRADES:
        part = left[(grades == g) & ~left["flag"]].dropna(subset=["mcw_mm"])
        if len(part):
            i = (part["mcw_mm"] - part["mcw_mm"].median()).abs().idxmin()
            picks.append((i, f"{part.loc[i, 'patient_id']} · {g}{' (truth)' if truth is not None else ''}"))
    flagged = left.index[left["flag"] & left["foramen_x"].notna()]
    if len(flagged):
        picks.append((flagged[0], f"{left.loc[flagged[0], 'patient_id']} · flagged"))
    c = cohort.set_index("patient_id")
    out = []
    for i, label in picks:
        r = left.loc[i]
        row = c.loc[r["patient_id"]]
        spacing = tuple(float(row[k]) for k in SPACING_COLUMNS) if SPACING_COLUMNS[0] in row else (np.nan, np.nan)
        gray = images.read_gray(DataFolder(data_dir).image(row["image"]))
        m = measure(gray, r["foramen_x"], r["foramen_y"], spacing, "left", settings)
        px = m.profile.get("px_mm", settings.assumed_px_mm)
        out.append({"patient_id": r["patient_id"], "label": label, "gray": gray, "measurement": m,
                    "foramen": (r["foramen_x"], r["foramen_y"]), "px_mm": px})
    return out


def figures(data_dir: str | Path, cohort: pd.DataFrame, indices: pd.DataFrame, table: pd.DataFrame,
            truth: pd.DataFrame | None, readers: dict[str, pd.DataFrame], layout: StudyLayout,
            settings: MeasureSettings = MeasureSettings()) -> tuple[list[Path], list[plt.Figure]]:
    """``figures/indices_profiles.png`` (:func:`examples`) and ``figures/indices_agreement.png`` (Bland-Altman of
    the automatic MCW and PMI against the truth, and of the automatic MCW against each clinician). Returns the
    paths and the (closed) figures."""
    out = [layout.figure("indices_profiles"), layout.figure("indices_agreement")]
    rows = table.set_index(["measure", "reference"])
    pairs = []
    if truth is not None and "cortex_width_mm" in truth.columns:
        left = indices[indices["side"] == "left"].set_index("patient_id")
        t = truth.set_index("patient_id").reindex(left.index)
        pairs = [("MCW (anatomical mm), automatic - truth", left["mcw_anatomical_mm"], t["cortex_width_mm"],
                  rows.loc[("MCW, automatic", "cortex width at the left foramen (truth)")]),
                 ("PMI, automatic - truth", left["pmi"], t["cortex_width_mm"] / t["foramen_border_mm"],
                  rows.loc[("PMI, automatic", "PMI at the left foramen (truth)")])]
    auto = indices.set_index(["patient_id", "side"])
    for r, m in readers.items():
        both = auto.merge(m.set_index(["patient_id", "side"])[["mcw_mm"]], left_index=True, right_index=True,
                          suffixes=("", "_reader"))
        pairs.append((f"MCW (radiographic mm), automatic - {r}", both["mcw_mm"], both["mcw_mm_reader"],
                      rows.loc[("MCW, automatic", f"MCW, {r}")]))
    if not pairs:
        pairs = [("no reference to compare with", [], [], {"n": 0, "bias": np.nan, "loa_low": np.nan, "loa_high": np.nan})]
    figs = [plots.indices_profiles(examples(data_dir, cohort, indices, truth, settings), out[0]),
            plots.bland_altman(pairs, out[1])]
    for f in figs:
        plt.close(f)
    return out, figs


def summary(indices: pd.DataFrame) -> pd.DataFrame:
    """Per side: sides, measured, flagged per reason, MCW (radiographic mm) and PMI as mean (SD), the grades."""
    rows = []
    for side, g in indices.groupby("side", sort=False):
        row = {"side": side, "sides": len(g), "measured": int(g["mcw_mm"].notna().sum()),
               "MCW mm, mean (SD)": f"{g['mcw_mm'].mean():.2f} ({g['mcw_mm'].std():.2f})",
               "PMI, mean (SD)": f"{g['pmi'].mean():.3f} ({g['pmi'].std():.3f})",
               **{f"MCI {k}": int((g["mci"] == k).sum()) for k in GRADES}}
        row.update({f"flagged: {r}": int(n) for r, n in g.loc[g["flag"], "reason"].value_counts().items()})
        rows.append(row)
    return pd.DataFrame(rows).fillna(0).set_index("side").T


def run(data_dir: str | Path, cohort: pd.DataFrame, layout: StudyLayout, settings: MeasureSettings = MeasureSettings(),
        seed: int = 0, jobs: int | None = None, progress: bool = True) -> dict:
    """Notebook 02b: measure, grade, agree; ``indices/indices.csv`` and ``indices/agreement.csv`` written
    whole, and the two figures (:func:`figures`). Returns the tables, the grading note and the written files."""
    indices = measure_folder(data_dir, cohort, settings, jobs, progress)
    truth = synthetic.read_truth(data_dir) if synthetic.is_synthetic(data_dir) else None
    readers = read_readers(data_dir)
    reference, source = reference_grades(indices, readers, truth)
    indices, note = grade(indices, reference, source, seed)
    table = agreement_table(indices, truth, readers, settings.magnification)
    files = [atomic.write_csv(indices[list(COLUMNS)], layout.indices_table("indices"), index=False, float_format="%.6g"),
             atomic.write_csv(table, layout.indices_table("agreement"), index=False, float_format="%.6g")]
    paths, figs = figures(data_dir, cohort, indices, table, truth, readers, layout, settings)
    return {"indices": indices[list(COLUMNS)], "agreement": table, "grading": note, "readers": list(readers),
            "files": files + paths, "figures": figs}


def read(layout: StudyLayout) -> pd.DataFrame:
    """``indices/indices.csv`` as notebook 02b wrote it."""
    file = steps.require(layout.indices_table("indices"), "indices_table")
    return pd.read_csv(file, dtype={"patient_id": str, "mci": str, "reason": str}, keep_default_na=True)


def read_patients(layout: StudyLayout) -> pd.DataFrame | None:
    """:func:`per_patient` of the study's indices, or None when notebook 02b has not run for it."""
    if not layout.indices_table("indices").is_file():
        return None
    return per_patient(read(layout))
