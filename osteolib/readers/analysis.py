"""A reader study's analysis from its ratings: each reader's AUC, the Obuchowski-Rockette-Hillis tables, and
the model alone against the readers (``python -m osteolib.readers analyse``; the notebook shows the same).

* ``reader_auc.csv``: ``reader_id``, ``modality``, ``auc``, ``n_cases``, and ``sensitivity`` / ``specificity`` at
  the reader's own call (a score of at least :data:`CALL` of the scale: 50 on 0-100, 4 on a 5-point scale);
* ``mrmc.csv``: :data:`osteolib.readers.mrmc.COLUMNS`: RRRC, FRRC and RRFC, each the test of equal modality AUCs,
  the modality difference with its 95 % interval and each modality's AUC with its interval; and, when the
  ratings hold a standalone model (reader ``model``), the readers of each modality against it
  (:mod:`osteolib.readers.mrmc`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .. import atomic
from .mrmc import aucs, or_hillis, versus_standalone
from .ratings import crossed

__all__ = ["STANDALONE", "READER_AUC_COLUMNS", "call_threshold", "reader_aucs", "analyse", "write"]

#: The reader_id of a standalone model in a ratings table (its probability as its score).
STANDALONE = "model"
READER_AUC_COLUMNS = ("reader_id", "modality", "auc", "n_cases", "sensitivity", "specificity", "call_at")


def call_threshold(scores: pd.Series) -> float:
    """The score from which a reader calls a patient osteoporotic: 4 on a 1-5 scale, 50 on a 0-100 one, 0.5
    for probabilities (a model)."""
    top = float(scores.max())
    return 0.5 if top <= 1 else 4.0 if top <= 5 else 50.0


def reader_aucs(ratings: pd.DataFrame) -> pd.DataFrame:
    """:data:`READER_AUC_COLUMNS` for every reader (and the model) in every modality (scikit-learn's AUC)."""
    rows = []
    for (reader, modality), g in ratings.groupby(["reader_id", "modality"], sort=False):
        at = call_threshold(g["score"])
        called = g["score"] >= at
        pos, neg = g["truth"] == 1, g["truth"] == 0
        rows.append({"reader_id": reader, "modality": modality, "auc": roc_auc_score(g["truth"], g["score"]),
                     "n_cases": len(g), "sensitivity": float(called[pos].mean()), "specificity": float((~called)[neg].mean()),
                     "call_at": at})
    return pd.DataFrame(rows, columns=list(READER_AUC_COLUMNS))


def analyse(ratings: pd.DataFrame, method: str = "jackknife", modalities=None, file: str = "ratings") -> dict:
    """``reader_auc`` and ``mrmc`` tables (module docstring) of a ratings table; ``method``: the covariance
    estimate, ``jackknife`` (the OR-DBM MRMC default) or ``delong``."""
    humans = ratings[ratings["reader_id"] != STANDALONE]
    scores, truth, mods, readers, cases = crossed(humans, modalities=modalities, file=file)
    table = or_hillis(aucs(scores, truth, mods, readers, method))
    parts = [table]
    model = ratings[ratings["reader_id"] == STANDALONE]
    for m in mods if len(model) else []:
        mine = model[model["modality"] == m] if (model["modality"] == m).any() else model.drop_duplicates("patient_id")
        p = mine.set_index("patient_id").reindex(cases)["score"]
        if p.isna().any():
            raise ValueError(f"{file}: the model has no score for patient {p.index[p.isna()][0]!r}")
        both = np.concatenate([scores[[mods.index(m)]], p.to_numpy(float)[None, None, :]], axis=1)
        a = aucs(both, truth, [m], [*readers, STANDALONE], method)
        parts.append(versus_standalone(a, label=f"{m} readers - model"))
    out = pd.concat(parts, ignore_index=True)
    return {"reader_auc": reader_aucs(ratings), "mrmc": out.assign(covariance=method), "n_cases": len(cases),
            "n_readers": len(readers), "modalities": mods}


def write(result: dict, out: str | Path) -> list[Path]:
    """``<out>/reader_auc.csv`` and ``<out>/mrmc.csv``, each written whole."""
    out = Path(out)
    return [atomic.write_csv(result["reader_auc"], out / "reader_auc.csv", float_format="%.6g"),
            atomic.write_csv(result["mrmc"], out / "mrmc.csv", float_format="%.6g")]
