"""The embedded synthetic cohort: a hospital export of our own making (``docs/protocol.md``).

It writes exactly the input layout a real export has (``clinical.csv``, ``landmarks.csv``,
``images/``) plus ``truth.csv``, the ground truth a real export never has (latent T-score, the
jaw-bone status, mandibular cortical width, cortical index, trabecular texture, the foramina's true
centres, the lower-border row below the left foramen) and
``cortex/<patient_id>.png``, a mask of the lower-border cortex in each radiograph, so tests can
check that the pipeline recovers a signal that is known to be there, and where it lies.

Command line::

    python -m osteolib.synthetic --out data/demo --n-screened 902 --scale 0.2 --seed 0

Examples
--------
>>> import tempfile
>>> out = generate(tempfile.mkdtemp(), n_screened=40, scale=0.05, seed=1, progress=False)
>>> sorted(p.name for p in out.iterdir())
['clinical.csv', 'cortex', 'images', 'landmarks.csv', 'synthetic.json', 'truth.csv']
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
from PIL import Image
from tqdm.auto import tqdm

from .. import atomic
from ..datafolder import TRUTH_COLUMNS, DataFolder
from ..errors import read_text_csv
from .clinical import JAW_T_CORR, LANDMARK_SD_MM, make_tables
from .hospitals import Site, parse as parse_sites, seed_key
from .radiograph import DEVICES, FULL_HEIGHT, FULL_PX_MM, FULL_WIDTH, MAG, Anatomy, render

__all__ = ["GENERATOR_VERSION", "generate", "ensure", "read_spec", "is_synthetic", "render_patient", "image_size", "read_truth",
           "border_truth", "through_unit", "read_counterfactual"]

#: Bumped whenever the generator's output changes for the same seed. 5: the jaw-bone status
#: (covariates add what the image lacks) and the clinician's landmark error. 6: panoramic anatomy
#: (both arches, rami, skull and soft-tissue shadows, restorations, implants), the panoramic
#: magnification, devices and the acquisition recorded in truth.csv. 7: the radiomorphometric truth in
#: truth.csv (the cortex's width perpendicular to the border at the left foramen, the foramen's inferior
#: margin to the border); the radiographs are unchanged. 8: a multi-centre cohort's patients of a site on
#: another unit are rendered through the study's unit too (``counterfactual/``: the device shift, isolated).
GENERATOR_VERSION = 8
#: The study's unit: the paper's hospital took every radiograph on one.
STUDY_DEVICES = ("P1",)


def image_size(scale: float) -> tuple[int, int]:
    """(width, height) in pixels of a radiograph at ``scale`` (1.0: 2964 x 1464)."""
    return max(32, round(FULL_WIDTH * scale)), max(16, round(FULL_HEIGHT * scale))


def _anatomy(row: pd.Series, scale: float) -> Anatomy:
    acq = {k: row[k] for k in ("device", "exposure", "gamma", "contrast", "sharpen", "blur_mm", "noise", "vignette",
                               "collimation_mm", "tilt_deg", "smile", "tongue_gap_mm")}
    return Anatomy(width=int(row["width"]), height=int(row["height"]), px_mm=FULL_PX_MM / scale, **acq,
                   left_foramen=(row["foramen_left_x"], row["foramen_left_y"]),
                   right_foramen=(row["foramen_right_x"], row["foramen_right_y"]),
                   border_depth_mm=row["border_depth_mm"], mcw_mm=row["mcw_mm"],
                   cortical_index=row["cortical_index"], texture_t=row["texture_t"],
                   p_missing_tooth=row["p_missing_tooth"], edentulous=bool(row["edentulous"]))


#: The acquisition columns a unit multiplies (``radiograph.DEVICES``' factors of the patient's own draws).
_UNIT_FACTORS = {"gamma": "gamma", "contrast": "contrast", "blur_mm": "blur", "noise": "noise", "vignette": "vignette"}


def through_unit(row: dict, unit: str) -> dict:
    """A truth row's radiograph as ``unit`` would have processed it: the same patient, positioning, exposure and
    canvas (so the same landmarks), the unit's image chain instead of its own (each of the patient's own draws
    kept, the unit's factor swapped; the unit's edge enhancement and collimation, or none)."""
    own, new = DEVICES[row["device"]], DEVICES[unit]
    out = dict(row, device=unit, sharpen=new["sharpen"])
    for column, factor in _UNIT_FACTORS.items():
        out[column] = row[column] * new[factor] / own[factor] if own[factor] else new[factor]
    out["collimation_mm"] = row["collimation_mm"] if new["collimation"] == own["collimation"] else 0.0
    return out


def render_patient(job: tuple[dict, float, int, str, str]) -> dict:
    """Render and save one radiograph and its cortex mask; ``job`` = (truth row, scale, seed,
    image path, mask path)."""
    row, scale, seed, path, mask_path = job
    image, facts, band = render(_anatomy(pd.Series(row), scale), np.random.default_rng(seed))
    with atomic.atomic_path(path) as tmp:
        tifffile.imwrite(tmp, image, compression="zlib", photometric="minisblack",
                         metadata=None, software="osteolib.synthetic")
    with atomic.atomic_path(mask_path) as tmp:
        Image.fromarray(band).save(tmp, format="PNG", optimize=True)
    return facts


def generate(out: str | Path, n_screened: int = 902, scale: float = 1.0, seed: int = 0,
             images: bool = True, jobs: int | None = None, progress: bool = True,
             devices=STUDY_DEVICES, sites: list[Site] | str | None = None) -> Path:
    """Write a synthetic cohort to ``out`` (created; the folder appears whole or not at all).

    Parameters
    ----------
    out : target folder; must not exist yet, or exist empty.
    n_screened : screened patients; 902 reproduces the paper's counts exactly.
    scale : image scale; 1.0 gives 2964 x 1464 pixels at 0.1 mm per pixel.
    seed : master seed; the same seed gives byte-identical files.
    images : False writes the tables only (fast; ``truth.csv`` then lacks the border rows).
    jobs : worker processes for the images (default: all cores). The result does not depend on it.
    devices : the panoramic units radiographs are taken on (``radiograph.DEVICES``), one drawn per
        patient; the study's default is its one unit, several give a detector other clinics' looks.
    sites : several hospitals instead (:mod:`osteolib.synthetic.hospitals`: a list of sites, or text such
        as ``"study:902,dxa_clinic:240"``); ``n_screened`` and ``devices`` are then each site's own, and
        ``clinical.csv`` and ``truth.csv`` gain a ``site`` column. The ``study`` site is the single-site
        cohort of the same seed, patient for patient.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty: remove it or choose another folder")
    sites = parse_sites(sites) if isinstance(sites, str) else sites
    devices = tuple(devices)
    tables, child = [], []
    for site in sites or [None]:
        # the study (and a single-site cohort) from the master seed itself, another site from its own key
        table_seq, image_seq = np.random.SeedSequence(seed, spawn_key=() if site is None else seed_key(site)).spawn(2)
        part = make_tables(n_screened, np.random.default_rng(table_seq), scale, devices, site)
        tables.append(part)
        child += [int(s.generate_state(1)[0]) for s in image_seq.spawn(len(part[2]))]
    clinical, landmarks, truth = (pd.concat(t, ignore_index=True) for t in zip(*tables))
    with atomic.atomic_dir(out) as tmp:
        folder = DataFolder(tmp)
        if images:
            folder.images_dir.mkdir()
            folder.cortex_dir.mkdir()
            # drawn at the foramina's true centres; landmarks.csv holds where a clinician clicked
            jobs_ = [(r, scale, s, str(folder.image(img)), str(folder.cortex_mask(r["patient_id"]))) for r, s, img in
                     zip(truth.to_dict("records"), child, clinical["image"])]
            workers = jobs or os.cpu_count() or 1
            bar = dict(total=len(jobs_), desc="radiographs", unit="img", disable=not progress)
            if workers > 1 and len(jobs_) > 8:
                with ProcessPoolExecutor(workers) as pool:
                    facts = list(tqdm(pool.map(render_patient, jobs_, chunksize=4), **bar))
            else:
                facts = [render_patient(j) for j in tqdm(jobs_, **bar)]
            truth = pd.concat([truth, pd.DataFrame(facts).round(2)], axis=1)
            if sites:  # each patient of a site on another unit, rendered through the study's unit too
                other = [(r, sd) for r, sd in zip(truth.to_dict("records"), child) if r["device"] not in STUDY_DEVICES]
                if other:
                    folder.counterfactual_dir.mkdir()
                    cf = [(through_unit(r, STUDY_DEVICES[0]), scale, sd, str(folder.counterfactual_image(r["patient_id"])),
                           str(tmp / f".mask_{r['patient_id']}.png")) for r, sd in other]
                    bar = dict(total=len(cf), desc="the same, through the study's unit", unit="img", disable=not progress)
                    if workers > 1 and len(cf) > 8:
                        with ProcessPoolExecutor(workers) as pool:
                            list(tqdm(pool.map(render_patient, cf, chunksize=4), **bar))
                    else:
                        [render_patient(j) for j in tqdm(cf, **bar)]
                    for _, _, _, _, mask in cf:  # the cortex is the patient's own: its mask is already there
                        Path(mask).unlink()
                    pd.DataFrame({"patient_id": [r["patient_id"] for r, _ in other], "site": [r["site"] for r, _ in other],
                                  "unit": [r["device"] for r, _ in other], "counterfactual_unit": STUDY_DEVICES[0],
                                  "image": [folder.counterfactual_image(r["patient_id"]).relative_to(tmp).as_posix()
                                            for r, _ in other]}).to_csv(folder.counterfactual_csv, index=False)
        truth.insert(3 + ("site" in truth), "scale", scale)
        clinical.to_csv(folder.clinical_csv, index=False)
        landmarks.to_csv(folder.landmarks_csv, index=False)
        truth.to_csv(folder.truth_csv, index=False)
        spec = _spec(n_screened, scale, seed, images, devices, sites)
        if sites:
            spec["sites_drawn"] = _drawn(truth)
        folder.synthetic_json.write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    return out


def _spec(n_screened: int, scale: float, seed: int, images: bool, devices=STUDY_DEVICES,
          sites: list[Site] | str | None = None) -> dict:
    """What ``synthetic.json`` records: enough to tell whether a folder holds the wanted cohort (for
    several sites, each site's parameters: what is planted in it and where its numbers come from)."""
    spec = {"generator_version": GENERATOR_VERSION, "n_screened": n_screened, "scale": scale,
            "seed": seed, "images": images, "jaw_status_corr_with_tscore": JAW_T_CORR,
            "landmark_error_sd_mm_per_axis": LANDMARK_SD_MM, "devices": list(devices),
            "magnification": MAG}
    if sites:
        sites = parse_sites(sites) if isinstance(sites, str) else sites
        spec |= {"n_screened": sum(s.n_screened for s in sites), "devices": sorted({d for s in sites for d in s.devices}),
                 "landmark_error_sd_mm_per_axis": None, "sites": [s.as_json() for s in sites]}
    return spec


def _drawn(truth: pd.DataFrame) -> dict:
    """Per site, what was drawn (all screened patients): n, osteoporosis prevalence, units."""
    return {name: {"n_screened": len(g), "prevalence_screened": round(float(g["label"].mean()), 4),
                   "devices": sorted(g["device"].unique())} for name, g in truth.groupby("site", sort=False)}


def read_spec(data_dir: str | Path) -> dict | None:
    """The generator's record of a synthetic data folder (``synthetic.json``: its parameters and, for
    several sites, each site's and what was drawn), or None for a folder without one (real data)."""
    marker = DataFolder(data_dir).synthetic_json
    return json.loads(marker.read_text()) if marker.is_file() else None


def read_counterfactual(data_dir: str | Path) -> pd.DataFrame | None:
    """``counterfactual.csv`` of a multi-centre synthetic cohort: per patient of a site on another unit, its
    radiograph rendered through the study's unit (patient_id, site, unit, counterfactual_unit, image); None
    when there is none."""
    file = DataFolder(data_dir).counterfactual_csv
    return pd.read_csv(file, dtype={"patient_id": str}) if file.is_file() else None


def is_synthetic(data_dir: str | Path) -> bool:
    """Whether ``data_dir`` holds a synthetic cohort (with its ground truth)."""
    return DataFolder(data_dir).is_synthetic


def read_truth(data_dir: str | Path) -> pd.DataFrame:
    """``truth.csv`` of a synthetic cohort: one row per patient (patient_id as text, numbers as
    numbers); an :class:`~osteolib.errors.InputError` naming the file when it is missing or lacks a
    column."""
    file = DataFolder(data_dir).truth_csv
    read_text_csv(file, TRUTH_COLUMNS, "file not found: not a synthetic cohort (real data carry no truth)")
    return pd.read_csv(file, dtype={"patient_id": str})


def border_truth(data_dir: str | Path) -> pd.Series | None:
    """The row of the lower border below the left foramen per patient (``truth.csv``'s ``border_y``),
    or None for a folder without it (real data, or a cohort generated without images)."""
    if not is_synthetic(data_dir):
        return None
    truth = read_truth(data_dir)
    return truth.set_index("patient_id")["border_y"] if "border_y" in truth.columns else None


def ensure(cfg) -> Path:
    """The data folder of a notebook configuration, generating the synthetic cohort if needed.

    With ``cfg.data_dir`` set, that folder is used as it is (it must exist). Empty, the synthetic
    cohort is generated under ``data/<study>/`` unless it is already there with the same
    parameters; with other parameters it is an error rather than a silent mix.
    """
    path = cfg.data_path
    if cfg.data_dir:
        if not path.is_dir():
            raise FileNotFoundError(f"data_dir {path} does not exist")
        return path
    sites = getattr(cfg, "sites", "")
    want = _spec(cfg.n_screened, cfg.image_scale, cfg.seed, True, sites=sites or None)
    have = read_spec(path)
    if have is not None:
        have.pop("sites_drawn", None)
        if have != want:
            raise ValueError(f"{path} holds a synthetic cohort made with {have}, not {want}: "
                             "delete that folder or use another study name")
        return path
    generate(path, cfg.n_screened, cfg.image_scale, cfg.seed, sites=sites or None)
    return path
