"""Reading the training outputs of a study: which models exist, and their validated predictions.

A study's ``runs/<backbone>/<arm>/r<NN>/predictions.csv`` files are the central artifact: every
metric, table and figure is recomputed from them. A file that is corrupt or partial (a missing
column, a patient missing or predicted twice, a probability outside [0, 1], a label that disagrees
with the cohort) is an error naming it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import backbones, settings, steps
from .errors import InputError, first_bad_row
from .layout import StudyLayout

__all__ = ["COLUMNS", "available", "missing_backbones", "read_predictions", "load"]

COLUMNS = ("repeat", "fold", "patient_id", "y_true", "p_osteoporosis")  # and, from training, threshold


def available(layout: StudyLayout) -> pd.DataFrame:
    """One row per (backbone, arm) with finished repeats: backbone, arm, repeats (list)."""
    rows = [{"backbone": b, "arm": arm, "repeats": layout.repeats(b, arm)}
            for b in backbones.names() for arm in settings.ARMS if layout.repeats(b, arm)]
    return pd.DataFrame(rows, columns=["backbone", "arm", "repeats"])


def missing_backbones(layout: StudyLayout) -> list[str]:
    """Registered backbones without any finished repeat (listed, not an error)."""
    have = set(available(layout)["backbone"])
    return [b for b in backbones.names() if b not in have]


def read_predictions(file: str | Path, cohort: pd.DataFrame, repeat: int) -> pd.DataFrame:
    """One repeat's predictions, validated against the cohort."""
    file = Path(file)
    try:
        df = pd.read_csv(file, dtype={"patient_id": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(file, f"cannot be read as a table ({type(e).__name__})") from e
    for col in COLUMNS:
        if col not in df.columns:
            raise InputError(file, "missing column", column=col)
    p = pd.to_numeric(df["p_osteoporosis"], errors="coerce")
    first_bad_row(p.isna() | (p < 0) | (p > 1), file, "p_osteoporosis",
                  lambda i: f"{df['p_osteoporosis'].iloc[i]!r} is not a probability")
    if "threshold" in df:  # each fold's operating point, chosen on its validation part (NaN: none)
        t = pd.to_numeric(df["threshold"], errors="coerce")
        first_bad_row((t < 0) | (t > 1), file, "threshold", lambda i: f"{df['threshold'].iloc[i]!r} is not in [0, 1]")
        df = df.assign(threshold=t)
    if (df["repeat"] != repeat).any():
        raise InputError(file, f"holds repeats other than {repeat}", column="repeat")
    first_bad_row(df["patient_id"].duplicated(), file, "patient_id",
                  lambda i: f"patient {df['patient_id'].iloc[i]!r} predicted twice")
    missing = sorted(set(cohort["patient_id"]) - set(df["patient_id"]))
    if missing:
        raise InputError(file, f"partial: {len(missing)} patients of the cohort are not predicted "
                               f"(e.g. {missing[0]!r})", column="patient_id")
    labels = cohort.set_index("patient_id")["label"]
    first_bad_row(df["patient_id"].map(labels) != df["y_true"], file, "y_true",
                  lambda i: f"y_true disagrees with the cohort's label for {df['patient_id'].iloc[i]!r}")
    return df.assign(p_osteoporosis=p)


def load(layout: StudyLayout, cohort: pd.DataFrame) -> pd.DataFrame:
    """All finished predictions of a study, with columns backbone and arm added."""
    parts = []
    for _, m in available(layout).iterrows():
        for r in m["repeats"]:
            f = layout.predictions(m["backbone"], m["arm"], r)
            parts.append(read_predictions(f, cohort, r).assign(backbone=m["backbone"], arm=m["arm"]))
    if not parts:
        raise FileNotFoundError(f"no predictions under {layout.runs_dir}: run notebooks/{steps.producer('predictions')}.ipynb "
                                "for this study first")
    return pd.concat(parts, ignore_index=True)
