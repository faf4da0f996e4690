"""The ratings table of a reader study: read, validated, and laid out for the MRMC analysis.

One row per reading: ``reader_id``, ``modality`` (e.g. ``unaided``, ``aided``), ``patient_id``, ``truth``
(0/1), ``score`` (the reader's confidence that the patient has osteoporosis: 0-100, or a 5-point scale),
optionally ``session`` and ``seconds``. Several readers' files combine into one (:func:`combine`). The
analysis needs a fully crossed design: every reader reads every case in every modality, once. Every
fault is reported by file, row and column (:class:`osteolib.errors.InputError`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["COLUMNS", "OPTIONAL", "read", "combine", "crossed"]

COLUMNS = ("reader_id", "modality", "patient_id", "truth", "score")
OPTIONAL = ("session", "seconds")


def read(file: str | Path) -> pd.DataFrame:
    """A ratings CSV, validated: the columns, numbers where numbers belong, truth 0/1 and the same for every
    reading of a patient, no patient read twice by a reader in a modality."""
    file = Path(file)
    if not file.is_file():
        raise InputError(file, "file not found")
    t = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in t.columns]
    if missing:
        raise InputError(file, f"no column(s) {missing} (expected {', '.join(COLUMNS)})", column=missing[0])
    for c in ("reader_id", "modality", "patient_id"):
        t[c] = t[c].str.strip()
        bad = np.flatnonzero(t[c] == "")
        if len(bad):
            raise InputError(file, f"empty {c}", row=int(bad[0]) + 2, column=c)
    for c in ("truth", "score", *[o for o in OPTIONAL if o in t.columns and o != "session"]):
        values = pd.to_numeric(t[c].str.strip(), errors="coerce")
        bad = np.flatnonzero(values.isna())
        if len(bad):
            raise InputError(file, f"{t[c].iloc[bad[0]]!r} is not a number", row=int(bad[0]) + 2, column=c)
        t[c] = values
    bad = np.flatnonzero(~t["truth"].isin([0, 1]))
    if len(bad):
        raise InputError(file, f"truth {t['truth'].iloc[bad[0]]!r} is not 0 or 1", row=int(bad[0]) + 2, column="truth")
    t["truth"] = t["truth"].astype(int)
    flips = t.groupby("patient_id")["truth"].transform("nunique") > 1
    if flips.any():
        i = int(np.flatnonzero(flips)[0])
        raise InputError(file, f"patient {t['patient_id'].iloc[i]!r} has truth 0 in some rows and 1 in others",
                         row=i + 2, column="truth")
    twice = t.duplicated(["reader_id", "modality", "patient_id"], keep="first")
    if twice.any():
        i = int(np.flatnonzero(twice)[0])
        raise InputError(file, f"reader {t['reader_id'].iloc[i]!r} read patient {t['patient_id'].iloc[i]!r} twice in "
                         f"modality {t['modality'].iloc[i]!r}", row=i + 2, column="patient_id")
    return t


def combine(files) -> pd.DataFrame:
    """Several readers' ratings files as one table (each validated; a reader in two files is an error)."""
    parts = [read(f).assign(_file=str(f)) for f in files]
    both = pd.concat(parts, ignore_index=True)
    owners = both.groupby("reader_id")["_file"].nunique()
    if (owners > 1).any():
        reader = owners.index[owners > 1][0]
        raise InputError(", ".join(sorted(both.loc[both["reader_id"] == reader, "_file"].unique())),
                         f"reader {reader!r} appears in more than one file", column="reader_id")
    return both.drop(columns="_file")


def crossed(ratings: pd.DataFrame, readers=None, modalities=None, file: str = "ratings") -> tuple[np.ndarray, np.ndarray, list, list, list]:
    """(scores (modalities, readers, cases), truth (cases), modalities, readers, patient ids) of a fully
    crossed design; an InputError naming the first missing reading otherwise."""
    readers = list(readers if readers is not None else dict.fromkeys(ratings["reader_id"]))
    modalities = list(modalities if modalities is not None else dict.fromkeys(ratings["modality"]))
    cases = sorted(ratings["patient_id"].unique())
    grid = ratings.set_index(["modality", "reader_id", "patient_id"])["score"]
    full = pd.MultiIndex.from_product([modalities, readers, cases], names=grid.index.names)
    missing = full.difference(grid.index)
    if len(missing):
        m, r, p = missing[0]
        raise InputError(file, f"not fully crossed: reader {r!r} has no {m!r} reading of patient {p!r} "
                         f"({len(missing)} readings missing)", column="score")
    scores = grid.reindex(full).to_numpy(float).reshape(len(modalities), len(readers), len(cases))
    truth = ratings.drop_duplicates("patient_id").set_index("patient_id").loc[cases, "truth"].to_numpy(int)
    return scores, truth, modalities, readers, cases
