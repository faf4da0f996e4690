"""A reader study's design as data: the case set, and who reads what, in which session and order.

* :func:`case_set`: the cases, drawn stratified by truth (seeded) from the test part of the fold whose model is
  the one shown to aided readers (repeat 0, fold 0: the kept model never trained on them), with the model's
  probability for each;
* :func:`plan`: every reader reads every case in both modalities (fully crossed), in two sessions separated by
  a washout; the order of the modalities is counterbalanced (half the readers read unaided first) and each
  reader's case order in each session is drawn from the study's seed. One row per reading: reader_id,
  session, modality, position, patient_id, and the earliest date the session may start (days after the first).

Examples
--------
>>> cases = pd.DataFrame({"patient_id": [f"P{i}" for i in range(8)], "y_true": [0, 1] * 4, "p_osteoporosis": 0.5})
>>> p = plan(case_set(cases, 4, seed=0), ["A", "B"], seed=0, washout_days=28)
>>> p.groupby(["reader_id", "session"])["modality"].first().tolist()
['unaided', 'aided', 'aided', 'unaided']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MODALITIES", "PLAN_COLUMNS", "case_set", "plan"]

MODALITIES = ("unaided", "aided")
PLAN_COLUMNS = ("reader_id", "session", "modality", "position", "patient_id", "not_before_day")


def case_set(test_part: pd.DataFrame, n_cases: int, seed: int = 0) -> pd.DataFrame:
    """``n_cases`` patients of ``test_part`` (patient_id, y_true, p_osteoporosis: the predictions of the model
    that held them out), stratified by truth and seeded: patient_id, truth, p_model. All of them when there
    are fewer."""
    t = test_part.sort_values("patient_id").reset_index(drop=True)
    if n_cases < len(t):
        # each class in proportion (largest remainders), drawn without replacement from the seed: scikit-learn's
        # stratified split refuses a remainder smaller than the number of classes, which 20 of 21 cases is
        rng = np.random.default_rng(seed)
        share = t["y_true"].value_counts().sort_index() * n_cases / len(t)
        take = np.floor(share).astype(int)
        take[(share - take).sort_values(ascending=False).index[:n_cases - take.sum()]] += 1
        chosen = [rng.choice(t.index[t["y_true"] == c], k, replace=False) for c, k in take.items()]
        t = t.loc[np.sort(np.concatenate(chosen))]
    return pd.DataFrame({"patient_id": t["patient_id"].to_numpy(), "truth": t["y_true"].astype(int).to_numpy(),
                         "p_model": t["p_osteoporosis"].to_numpy()}).sort_values("patient_id").reset_index(drop=True)


def plan(cases: pd.DataFrame, readers: list[str], seed: int = 0, washout_days: int = 28) -> pd.DataFrame:
    """:data:`PLAN_COLUMNS` for every reader (see the module docstring): reader k (0-based) reads unaided in
    session 1 when k is even, aided when odd; each session's order is a permutation drawn from the seed."""
    rows = []
    for k, reader in enumerate(readers):
        order = MODALITIES if k % 2 == 0 else MODALITIES[::-1]
        for session, modality in enumerate(order, start=1):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, session)))
            ids = cases["patient_id"].to_numpy()[rng.permutation(len(cases))]
            rows += [{"reader_id": reader, "session": session, "modality": modality, "position": i + 1,
                      "patient_id": pid, "not_before_day": 0 if session == 1 else washout_days} for i, pid in enumerate(ids)]
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
