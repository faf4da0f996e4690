"""The synthetic cohort's clinical table, landmarks and ground truth (no images).

Label-first: the sex x label counts are fixed to the paper's
(Sukegawa et al. 2022, Table 3), age and BMI are drawn per group with the paper's means and SDs,
then a latent T-score is drawn on its side of -2.5 with a mean that moves with age, sex and BMI.

The bone of the radiograph (cortical width, cortical index, trabecular texture) follows a
*jaw-bone status* that shares only part of its variance with the DXA T-score, as in real patients:

* the jaw is not a weight-bearing bone, so the part of T that body weight explains (the loading
  effect of BMI on hip and spine, ``T_BMI`` per kg/m^2; Felson et al., J Bone Miner Res 8:567, 1993)
  does not reach it: the status is built from T's *systemic* part, T - T_BMI (BMI - 22);
* the rest of the status is independent of age, sex and BMI (a patient's own jaw), scaled so that the
  status correlates with T at ``JAW_T_CORR``. Single panoramic indices correlate with skeletal BMD only
  moderately (systematic reviews: Calciolari et al., J Dent Res 94:17S, 2015; Munhoz et al.,
  Dentomaxillofac Radiol 50:20200514, 2021); the status is everything the jaw shows, cortex and
  trabeculae together, so it correlates more closely than any one noisy index: the cortical width
  alone, with its own variation, correlates with T at about 0.7 in the paper-size cohort.

Age reaches the radiograph only through the channels a radiograph has: through the bone (the
status shares T's age trend), and through tooth loss and ridge resorption (``p_missing_tooth``,
``edentulous``: both rise with age; neither lies inside the ROI).

The clinician's landmarks carry an annotation error (``LANDMARK_SD_MM`` per axis, about 1 mm from
the foramen's centre); ``truth.csv`` keeps the exact positions the radiograph was drawn with.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..datafolder import DataFolder
from .radiograph import ACQUISITION, DEVICES, FULL_HEIGHT, FULL_PX_MM, FULL_WIDTH

__all__ = ["PAPER_SCREENED", "PAPER_EXCLUSIONS", "PAPER_GROUPS", "PAPER_AGE", "PAPER_BMI", "T_BASE", "T_AGE",
           "T_MALE", "T_BMI", "T_SD", "THRESHOLD", "TEXTURE_SD", "JAW_T_CORR", "LANDMARK_SD_MM", "Counts",
           "jaw_status", "make_tables", "FORAMEN_COLUMNS"]

#: The paper's screened cohort (902) and its exclusions, in the order they are applied.
PAPER_SCREENED = 902
PAPER_EXCLUSIONS = {"antiresorptive": 119, "foreign_body": 3, "mandibular_fracture": 1,
                    "poor_quality": 1}
#: Included patients by (label, sex): Table 3 of the paper.
PAPER_GROUPS = {(1, "F"): 223, (1, "M"): 14, (0, "F"): 346, (0, "M"): 195}
#: (mean, SD) of age and BMI per label: Table 3 of the paper.
PAPER_AGE = {1: (76.9, 7.2), 0: (68.5, 13.7)}
PAPER_BMI = {1: (21.2, 3.4), 0: (22.5, 3.7)}
#: Latent T-score model: mean at age 70, woman, BMI 22, and its slopes (docs/protocol.md, synthetic cohort).
T_BASE, T_AGE, T_MALE, T_BMI, T_SD = -1.9, -0.047, 1.7, 0.12, 1.1
THRESHOLD = -2.5
#: Noise of the status the trabecular texture shows, so that texture alone does not give the label away.
TEXTURE_SD = 1.2
#: Correlation of the jaw-bone status with the DXA T-score (generator v5; see the module docstring).
JAW_T_CORR = 0.85
#: SD of a clinician's landmark about the foramen's true centre, per axis, in mm (radial RMS ~1 mm).
LANDMARK_SD_MM = 0.7


@dataclass(frozen=True)
class Counts:
    """How many patients of each kind a cohort of ``n_screened`` holds."""

    exclusions: dict[str, int]
    groups: dict[tuple[int, str], int]

    @classmethod
    def for_size(cls, n_screened: int) -> "Counts":
        """The paper's counts, scaled to ``n_screened`` (exact at 902)."""
        f = n_screened / PAPER_SCREENED
        excl = {k: max(1, round(v * f)) for k, v in PAPER_EXCLUSIONS.items()}
        groups = {k: max(2, round(v * f)) for k, v in PAPER_GROUPS.items()}
        groups[(0, "F")] += n_screened - sum(excl.values()) - sum(groups.values())
        if groups[(0, "F")] < 2:
            raise ValueError(f"n_screened={n_screened} is too small for a cohort")
        return cls(excl, groups)

    @classmethod
    def for_site(cls, site) -> "Counts":
        """A site's counts (:class:`~osteolib.synthetic.hospitals.Site`): the paper's for the study, else the
        paper's exclusions scaled to its size and its included patients split by its prevalence and its
        share of women per label (at least 2 of each sex per label, as :meth:`for_size` keeps)."""
        if site.is_paper:
            return cls.for_size(site.n_screened)
        f = site.n_screened / PAPER_SCREENED
        excl = {k: max(1, round(v * f)) for k, v in PAPER_EXCLUSIONS.items()}
        included = site.n_screened - sum(excl.values())
        n1 = round(site.prevalence * included)
        groups = {}
        for label, n in ((1, n1), (0, included - n1)):
            women = min(n - 2, max(2, round(site.female[label] * n)))
            groups[(label, "F")], groups[(label, "M")] = women, n - women
        if min(groups.values()) < 2:
            raise ValueError(f"site {site.name}: {site.n_screened} screened leave fewer than 2 patients in a "
                             f"sex x label group ({groups}): screen more")
        return cls(excl, groups)


def _exact_moments(rng: np.random.Generator, n: int, mean: float, sd: float,
                   lo: float, hi: float) -> np.ndarray:
    """Normal draws clipped to [lo, hi] and standardised so the sample has ``mean`` and ``sd``."""
    x = rng.standard_normal(n)
    for _ in range(5):
        x = (x - x.mean()) / x.std(ddof=1) if n > 2 else x
        x = np.clip(mean + sd * x, lo, hi)
        x = (x - mean) / sd
    return mean + sd * x


def _truncated(rng, mu: np.ndarray, sd: float, lo: float, hi: float) -> np.ndarray:
    a, b = (lo - mu) / sd, (hi - mu) / sd
    return stats.truncnorm.rvs(a, b, loc=mu, scale=sd, random_state=rng)


def _people(rng: np.random.Generator, counts: Counts, age_moments=PAPER_AGE, bmi_moments=PAPER_BMI) -> pd.DataFrame:
    """Sex, label, age and BMI of every screened patient, included ones first; age and BMI per label
    with the sample moments ``age_moments`` and ``bmi_moments`` (label: (mean, SD)), the paper's by default."""
    parts = []
    for label in (1, 0):
        n_f, n_m = counts.groups[(label, "F")], counts.groups[(label, "M")]
        sex = np.array(["F"] * n_f + ["M"] * n_m)
        age = _exact_moments(rng, len(sex), *age_moments[label], lo=30, hi=99)
        bmi = _exact_moments(rng, len(sex), *bmi_moments[label], lo=13.5, hi=42)
        parts.append(pd.DataFrame({"sex": sex, "label": label, "age": age, "bmi": bmi,
                                   "included": True}))
    n_excl = sum(counts.exclusions.values())
    label = (rng.random(n_excl) < 0.6).astype(int)  # antiresorptive users: mostly osteoporotic
    sex = np.where(rng.random(n_excl) < 0.88, "F", "M")
    age = np.clip(rng.normal(74, 9, n_excl), 40, 98)
    bmi = np.clip(rng.normal(21.8, 3.5, n_excl), 14, 40)
    parts.append(pd.DataFrame({"sex": sex, "label": label, "age": age, "bmi": bmi,
                               "included": False}))
    return pd.concat(parts, ignore_index=True)


def _exclusion_flags(rng, people: pd.DataFrame, counts: Counts) -> pd.DataFrame:
    """0/1 flags; excluded patients get one flag each, in the paper's order, and one
    antiresorptive user also carries a foreign body so that the order of the flow matters."""
    flags = pd.DataFrame(0, index=people.index, columns=list(PAPER_EXCLUSIONS))
    excluded = people.index[~people["included"]].to_numpy()
    start = 0
    for name, n in counts.exclusions.items():
        flags.loc[excluded[start:start + n], name] = 1
        start += n
    if counts.exclusions["antiresorptive"] > 0:
        flags.loc[excluded[0], "foreign_body"] = 1
    return flags


def _tscores(rng, people: pd.DataFrame) -> pd.DataFrame:
    """Latent T (rounded to 0.1 as DXA reports) and the hip/spine values derived from it."""
    male = (people["sex"] == "M").to_numpy()
    mu = (T_BASE + T_AGE * (people["age"] - 70) + T_MALE * male
          + T_BMI * (people["bmi"] - 22)).to_numpy()
    osteo = people["label"].to_numpy() == 1
    t = np.empty(len(people))
    t[osteo] = _truncated(rng, mu[osteo], T_SD, -6.0, THRESHOLD)
    # -2.45 so that rounding to one decimal never carries a non-osteoporotic patient onto -2.5
    t[~osteo] = _truncated(rng, mu[~osteo], T_SD, THRESHOLD + 0.05, 3.5)
    t = np.round(t, 1)
    other = np.round(np.minimum(t + np.abs(rng.normal(0.0, 0.7, len(t))), 4.5), 1)
    hip_is_low = rng.random(len(t)) < 0.5
    hip, spine = np.where(hip_is_low, t, other), np.where(hip_is_low, other, t)
    sites = rng.random(len(t))  # 12 % hip only, 10 % spine only: the missing site is not lower
    hip = np.where(sites < 0.10, np.nan, np.where(sites < 0.22, t, hip))
    spine = np.where(sites < 0.10, t, np.where(sites < 0.22, np.nan, spine))
    return pd.DataFrame({"tscore": t, "tscore_hip": hip, "tscore_spine": spine})


def jaw_status(rng, t: np.ndarray, bmi: np.ndarray, corr: float = JAW_T_CORR) -> np.ndarray:
    """The jaw-bone status, on the T-score's scale: T's systemic part (without the weight-bearing
    effect of BMI) plus a part of the patient's own, independent of age, sex and BMI, mixed so that
    the status correlates with ``t`` at ``corr`` (in expectation)."""
    systemic = t - T_BMI * (bmi - 22)
    z = (systemic - systemic.mean()) / systemic.std()
    rho = min(1.0, corr / np.corrcoef(systemic, t)[0, 1])
    own = rng.standard_normal(len(t))
    return systemic.mean() + t.std() * (rho * z + np.sqrt(1 - rho ** 2) * own)


def _bone(rng, jaw: np.ndarray, male: np.ndarray) -> pd.DataFrame:
    """Mandibular cortical width (mm), cortical index (C1-C3) and the trabecular texture's status,
    all from the jaw-bone status."""
    mcw = np.clip(3.7 + 0.45 * jaw + 0.3 * male + rng.normal(0, 0.5, len(jaw)), 0.9, 6.5)
    z = -1.3 * (jaw + 1.7) + rng.logistic(0, 0.6, len(jaw))
    ci = np.where(z < 0.0, "C1", np.where(z < 1.8, "C2", "C3"))
    # trabecular pattern follows the status only loosely (as in reality): SD 1.2 of noise
    texture = jaw + rng.normal(0, TEXTURE_SD, len(jaw))
    return pd.DataFrame({"jaw_status": np.round(jaw, 3), "mcw_mm": np.round(mcw, 3), "cortical_index": ci,
                         "texture_t": np.round(texture, 2)})


def _body(rng, people: pd.DataFrame) -> pd.DataFrame:
    """Height and weight consistent with sex and BMI (a Japanese elderly population)."""
    male = (people["sex"] == "M").to_numpy()
    height = np.round(np.where(male, rng.normal(164, 6.5, len(male)),
                               rng.normal(151, 6.0, len(male))), 1)
    weight = np.round(people["bmi"].to_numpy() * (height / 100) ** 2, 1)
    return pd.DataFrame({"height_cm": height, "weight_kg": weight})


def _dates(rng, n: int) -> pd.DataFrame:
    dxa = np.datetime64("2014-01-06") + rng.integers(0, 6 * 365, n).astype("timedelta64[D]")
    pano = dxa + rng.integers(-330, 331, n).astype("timedelta64[D]")
    return pd.DataFrame({"dxa_date": dxa.astype(str), "radiograph_date": pano.astype(str)})


def _acquisition(rng, n: int, scale: float, devices) -> pd.DataFrame:
    """Per radiograph: the unit it was taken on (one of ``devices``, :data:`radiograph.DEVICES`), its
    canvas at ``scale``, and the acquisition as drawn for this patient: exposure, gamma, contrast, edge
    enhancement, blur, noise, vignetting, collimation, and the positioning (head tilt, shift, the
    occlusal plane's smile, the tongue's gap below the palate). Independent of everything else."""
    unknown = sorted(set(devices) - set(DEVICES))
    if unknown or not len(devices):
        raise ValueError(f"unknown devices {unknown}: choose among {sorted(DEVICES)}")
    dev = np.asarray(devices)[rng.integers(0, len(devices), n)]
    spec = [DEVICES[d] for d in dev]
    ln = lambda sd: np.exp(rng.normal(0, sd, n))
    col = np.array([s["collimation"] is not None for s in spec])
    return pd.DataFrame({
        "device": dev,
        "width": [max(32, round(s["canvas"][0] * scale)) for s in spec],
        "height": [max(16, round(s["canvas"][1] * scale)) for s in spec],
        "marker": [s["marker"][0] if s["marker"] else "none" for s in spec],
        "marker_corner": [s["marker"][1] if s["marker"] else "none" for s in spec],
        "exposure": np.round(ln(0.12), 3),
        "gamma": np.round([s["gamma"] for s in spec] * ln(0.08), 3),
        "contrast": np.round([s["contrast"] for s in spec] * ln(0.06), 3),
        "sharpen": [s["sharpen"] for s in spec],
        "blur_mm": np.round(0.12 * np.array([s["blur"] for s in spec]) * ln(0.15), 3),
        "noise": np.round([s["noise"] for s in spec] * ln(0.2), 3),
        "vignette": np.round([s["vignette"] for s in spec] * ln(0.2), 3),
        "collimation_mm": np.round(np.where(col, rng.uniform(3, 12, n), 0.0), 2),
        "tilt_deg": np.round(rng.normal(0, 1.0, n), 2),
        "shift_x_mm": np.round(rng.normal(0, 3.0, n), 2),
        "shift_y_mm": np.round(rng.normal(0, 1.0, n), 2),        # the bite block holds the height
        "smile": np.round(np.clip(rng.normal(1.0, 0.35, n), 0.2, 2.0), 2),
        "tongue_gap_mm": np.round(np.clip(rng.normal(3.0, 2.5, n), 0, 10), 2)})


def _foramina(rng, acq: pd.DataFrame, scale: float, px_mm: float) -> np.ndarray:
    """True centres (left x, left y, right x, right y) in pixels of each finished image: at 0.36 and 0.64
    of the study unit's width, 0.785 of its height (the lower border then lies at about 0.91), moved by
    the patient's shift and turned by the head's tilt about the image's centre; never so low that the
    paper's ROI (25 mm below the foramen, + 3 mm for the clinician's click) leaves the image: such a
    patient is moved up (by twice the excess), as the bite block would have held them (``shift_y_mm``
    records it)."""
    n = len(acq)
    cx, cy = (acq["width"].to_numpy() - 1) / 2, (acq["height"].to_numpy() - 1) / 2
    mid = cx + acq["shift_x_mm"].to_numpy() / px_mm
    half, sd_x, sd_y = 0.14 * FULL_WIDTH * scale, 0.009 * FULL_WIDTH * scale, 0.006 * FULL_HEIGHT * scale
    lx = mid + half + rng.normal(0, sd_x, n)
    rx = mid - half + rng.normal(0, sd_x, n)
    ly = cy + 0.285 * FULL_HEIGHT * scale + acq["shift_y_mm"].to_numpy() / px_mm + rng.normal(0, sd_y, n)
    ry = ly + rng.normal(0, 0.008 * FULL_HEIGHT * scale, n)
    r = np.radians(acq["tilt_deg"].to_numpy())
    turn = lambda x, y: (cx + np.cos(r) * (x - cx) - np.sin(r) * (y - cy), cy + np.sin(r) * (x - cx) + np.cos(r) * (y - cy))
    (lx, ly), (rx, ry) = turn(lx, ly), turn(rx, ry)
    # reflected at the limit (moved up by twice the excess), so that no patients pile up on it
    excess = 2 * np.clip(np.maximum(ly, ry) - (acq["height"].to_numpy() - 1 - 28.0 / px_mm), 0, None)
    ly, ry = ly - excess, ry - excess
    acq["shift_y_mm"] = np.round(acq["shift_y_mm"] - excess * px_mm, 2)
    return np.round(np.c_[lx, ly, rx, ry], 2)


def make_tables(n_screened: int, rng: np.random.Generator, scale: float, devices=("P1",), site=None
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Clinical table, landmarks and truth for ``n_screened`` patients on images of ``scale`` (1.0:
    0.1 mm per pixel) taken on ``devices`` (:data:`radiograph.DEVICES`; one per patient, drawn).

    ``site`` (a :class:`~osteolib.synthetic.hospitals.Site`) draws one hospital of a multi-centre cohort
    instead: its counts, age and BMI, units and landmark error (``n_screened`` and ``devices`` are then
    the site's), its patients' identifiers starting with its code, and a ``site`` column in the clinical
    table (last) and the truth (second).

    Returns
    -------
    clinical : the columns of the input layout's ``clinical.csv``.
    landmarks : patient_id, side, x, y (pixels of the scaled image), two rows per patient: where a
        clinician clicked (the true centre plus the annotation error).
    truth : patient_id, tscore, label, jaw_status, mcw_mm, cortical_index, texture_t,
        border_depth_mm, p_missing_tooth, edentulous, the foramina's true centres
        (``foramen_left_x`` ...) and the acquisition (``device`` ...; rendering facts are added by
        the image generator).
    """
    px_mm = FULL_PX_MM / scale
    code, landmark_sd = "P", LANDMARK_SD_MM
    if site is None:
        counts = Counts.for_size(n_screened)
    else:
        n_screened, devices, code, landmark_sd = site.n_screened, site.devices, site.code, site.landmark_sd_mm
        counts = Counts.for_site(site)
    people = _people(rng, counts) if site is None else _people(rng, counts, site.age, site.bmi)
    people = people.iloc[rng.permutation(len(people))].reset_index(drop=True)
    flags = _exclusion_flags(rng, people, counts)
    tscores = _tscores(rng, people)
    jaw = jaw_status(rng, tscores["tscore"].to_numpy(), people["bmi"].to_numpy())
    bone = _bone(rng, jaw, (people["sex"] == "M").to_numpy())
    body = _body(rng, people)
    ids = [f"{code}{i + 1:0{max(4, len(str(n_screened)))}d}" for i in range(len(people))]
    clinical = pd.DataFrame({"patient_id": ids, "image": [DataFolder.image_name(i, ".tif") for i in ids],
                             "sex": people["sex"], "age": np.round(people["age"]).astype(int)})
    clinical = pd.concat([clinical, body, tscores[["tscore_hip", "tscore_spine"]], flags,
                          _dates(rng, len(people))], axis=1)
    # the images' pixel spacing, as a DICOM export records it (PixelSpacing: row, column)
    clinical["spacing_row_mm"] = clinical["spacing_col_mm"] = round(px_mm, 6)
    n = len(ids)
    acq = _acquisition(rng, n, scale, devices)
    exact = _foramina(rng, acq, scale, px_mm)
    clicked = np.round(exact + rng.normal(0, landmark_sd / px_mm, exact.shape), 1)
    landmarks = pd.DataFrame({"patient_id": ids * 2, "side": ["left"] * n + ["right"] * n,
                              "x": np.r_[clicked[:, 0], clicked[:, 2]], "y": np.r_[clicked[:, 1], clicked[:, 3]]})
    landmarks = landmarks.sort_values(["patient_id", "side"], kind="stable").reset_index(drop=True)
    age = clinical["age"].to_numpy()
    # the lower border 12-16 mm below the foramen (anatomical; 150-200 px at scale 1 with the magnification)
    truth = pd.DataFrame({"patient_id": ids, "tscore": tscores["tscore"], "label": people["label"],
                          **bone, "border_depth_mm": np.round(rng.uniform(12, 16, n), 2),
                          "p_missing_tooth": np.clip(0.05 + 0.012 * (age - 45), 0.03, 0.75),
                          "edentulous": rng.random(n) < np.clip((age - 65) * 0.012, 0, 0.35),
                          **{f"foramen_{k}": exact[:, i] for i, k in enumerate(FORAMEN_COLUMNS)},
                          **{k: acq[k].to_numpy() for k in ACQUISITION}})
    if site is not None:
        clinical["site"] = truth["site"] = site.name
        truth.insert(1, "site", truth.pop("site"))
    return clinical, landmarks, truth


#: The foramina's true centres in truth.csv (``foramen_left_x`` ...), in pixels of the image.
FORAMEN_COLUMNS = ("left_x", "left_y", "right_x", "right_y")
