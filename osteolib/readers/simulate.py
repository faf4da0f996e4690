"""Simulated readers for the demo and the tests: SIMULATED, never a clinician's reading.

A synthetic cohort knows each patient's jaw-bone status (``truth.csv``'s ``jaw_status``, on the T-score's
scale: low is poor bone). A simulated reader sees it through their own perception error (persistent for a
reader and case: what they make of that radiograph), adds what age, sex and BMI suggest when the design shows
them (the OSTA index's direction: older and lighter is riskier), and states a confidence that the patient has
osteoporosis through their own threshold and slope; each reading adds fresh noise (a case read twice is not
read identically). Aided, the reader's probability moves toward the model's by their own reliance w:
q_aided = (1 - w) q_unaided + w p_model, before the reading's noise. Scores are 0-100 (the confidence in
percent) or a 5-point scale (the confidence in fifths: 1 definitely not ... 5 definitely). Reading times are
drawn (log-normal about each reader's median), so the ratings table has the columns a real study has.

The parameters of each reader are drawn from the seed within ranges chosen so that unaided readers fall below
the demo's ensemble model and aided readers between (:data:`RANGES`): an illustration of the analysis, not a
claim about clinicians.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["RANGES", "SCALES", "SimulatedReader", "draw", "simulate"]

#: The ranges each reader's parameters are drawn from (uniform).
RANGES = {"perception_sd": (1.6, 2.4), "threshold": (-2.9, -2.1), "slope": (1.2, 2.0), "reliance": (0.2, 0.6),
          "covariate_weight": (0.3, 0.8), "reading_sd": (0.3, 0.6), "seconds_median": (8.0, 20.0)}
SCALES = ("0-100", "5-point")


@dataclass(frozen=True)
class SimulatedReader:
    reader_id: str
    perception_sd: float      # T-score units: how well the reader sees the jaw bone
    threshold: float          # the bone status (T-score units) at which the reader is 50 % sure
    slope: float              # how steeply confidence rises as the bone looks worse
    reliance: float           # w: how far the aided probability moves toward the model's
    covariate_weight: float   # how much age, sex and BMI move the reader (standardised OSTA risk)
    reading_sd: float         # fresh noise of each reading (logit units)
    seconds_median: float

    def as_row(self) -> dict:
        return asdict(self)


def draw(n: int, seed: int = 0) -> list[SimulatedReader]:
    """``n`` readers ``S1``.. ``Sn`` with parameters drawn from :data:`RANGES`."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    return [SimulatedReader(f"S{k + 1}", **{name: float(rng.uniform(*span)) for name, span in RANGES.items()})
            for k in range(n)]


def _score(q: np.ndarray, scale: str) -> np.ndarray:
    if scale == "0-100":
        return np.round(100 * q).astype(int)
    return np.clip(np.ceil(q * 5), 1, 5).astype(int)


def simulate(plan: pd.DataFrame, cases: pd.DataFrame, readers: list[SimulatedReader], scale: str = "0-100",
             show_covariates: bool = True, seed: int = 0) -> pd.DataFrame:
    """The ratings of ``readers`` following ``plan`` (:func:`osteolib.readers.design.plan`) on ``cases``
    (patient_id, truth, p_model, jaw_status, age, weight_kg): reader_id, modality, patient_id, truth, score,
    session, seconds, simulated (True)."""
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r}: one of {SCALES}")
    c = cases.set_index("patient_id")
    osta = 0.2 * (c["weight_kg"] - c["age"])
    risk = -(osta - osta.mean()) / osta.std()                  # standardised: higher is riskier
    parts = []
    for k, r in enumerate(readers):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11, k)))
        seen = c["jaw_status"] + rng.normal(0, r.perception_sd, len(c))   # this reader's view of each radiograph
        mine = plan[plan["reader_id"] == r.reader_id]
        pid = mine["patient_id"].to_numpy()
        logit = r.slope * (r.threshold - seen.loc[pid].to_numpy()) + (r.covariate_weight * risk.loc[pid].to_numpy()
                                                                      if show_covariates else 0.0)
        q = 1 / (1 + np.exp(-logit))
        aided = (mine["modality"] == "aided").to_numpy()
        q = np.where(aided, (1 - r.reliance) * q + r.reliance * c.loc[pid, "p_model"].to_numpy(), q)
        noisy = np.log(q / (1 - q)) + rng.normal(0, r.reading_sd, len(q))
        parts.append(pd.DataFrame({"reader_id": r.reader_id, "modality": mine["modality"].to_numpy(), "patient_id": pid,
                                   "truth": c.loc[pid, "truth"].to_numpy(int),
                                   "score": _score(1 / (1 + np.exp(-noisy)), scale),
                                   "session": mine["session"].to_numpy(),
                                   "seconds": np.round(r.seconds_median * np.exp(rng.normal(0, 0.4, len(q))), 1),
                                   "simulated": True}))
    return pd.concat(parts, ignore_index=True)
