"""Repeated stratified k-fold cross-validation with an inner train/validation split.

For each repeat ``r`` the patients are split into ``n_folds`` stratified folds
(:class:`sklearn.model_selection.StratifiedKFold`, shuffled with a seed derived from the master
seed and ``r``); inside each fold the remaining patients are split train:validation = 8:1,
stratified (:func:`sklearn.model_selection.train_test_split`). The validation part serves early
stopping only; the test fold is never looked at before the final prediction.

All arms and backbones read the same ``splits.csv`` (columns repeat, fold, patient_id, role),
so their results are paired repeat by repeat.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from . import atomic, repro, steps
from .layout import StudyLayout

__all__ = ["ROLES", "VAL_FRACTION", "make", "leave_site_out", "check", "check_sites", "held_out", "save", "read", "summary"]

ROLES = ("train", "val", "test")
VAL_FRACTION = 1 / 9  # train:validation = 8:1 (the paper)


def make(cohort: pd.DataFrame, n_repeats: int = 30, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Splits of ``cohort`` (columns patient_id, label).

    Returns
    -------
    DataFrame with columns repeat, fold, patient_id, role; one row per patient, repeat and fold.

    Examples
    --------
    >>> c = pd.DataFrame({"patient_id": [f"p{i}" for i in range(40)], "label": [0, 1] * 20})
    >>> s = make(c, n_repeats=2, n_folds=5, seed=0)
    >>> s.groupby(["repeat", "role"]).size().loc[0].to_dict()
    {'test': 40, 'train': 140, 'val': 20}
    """
    ids = cohort["patient_id"].to_numpy()
    y = cohort["label"].to_numpy()
    parts = []
    for r in range(n_repeats):
        skf = StratifiedKFold(n_folds, shuffle=True, random_state=repro.child_seed(seed, r) % 2**32)
        for f, (rest, test) in enumerate(skf.split(ids, y)):
            train, val = train_test_split(rest, test_size=VAL_FRACTION, stratify=y[rest],
                                          random_state=repro.child_seed(seed, r, f) % 2**32)
            for role, idx in (("train", train), ("val", val), ("test", test)):
                parts.append(pd.DataFrame({"repeat": r, "fold": f, "patient_id": ids[np.sort(idx)],
                                           "role": role}))
    splits = pd.concat(parts, ignore_index=True)
    check(splits, cohort)
    return splits


def leave_site_out(cohort: pd.DataFrame, n_repeats: int = 1, seed: int = 0) -> pd.DataFrame:
    """Internal-external cross-validation splits of a multi-site ``cohort`` (columns patient_id, label,
    site): fold ``f`` holds out the ``f``-th site (sorted by name) as its test part and trains on all the
    others, whose patients are split train:validation = 8:1 stratified by site and label (so every
    training site is in the validation part); repeats differ in that split only (the test part of a
    site is the whole site). The same columns as :func:`make`, and ``site``: the site held out.

    Examples
    --------
    >>> c = pd.DataFrame({"patient_id": [f"p{i}" for i in range(60)], "label": [0, 1] * 30,
    ...                   "site": ["A"] * 20 + ["B"] * 20 + ["C"] * 20})
    >>> s = leave_site_out(c)
    >>> s[s.role == "test"].groupby("site").size().to_dict()
    {'A': 20, 'B': 20, 'C': 20}
    """
    if "site" not in cohort:
        raise ValueError("leave-one-site-out needs a 'site' column in the cohort")
    sites = sorted(cohort["site"].astype(str).unique())
    if len(sites) < 2:
        raise ValueError(f"leave-one-site-out needs at least 2 sites; the cohort has {len(sites)}")
    ids, y, site = cohort["patient_id"].to_numpy(), cohort["label"].to_numpy(), cohort["site"].astype(str).to_numpy()
    parts = []
    for r in range(n_repeats):
        for f, held in enumerate(sites):
            test, rest = np.flatnonzero(site == held), np.flatnonzero(site != held)
            strata = np.char.add(site[rest].astype(str), y[rest].astype(str))
            train, val = train_test_split(rest, test_size=VAL_FRACTION, stratify=strata,
                                          random_state=repro.child_seed(seed, r, f) % 2**32)
            for role, idx in (("train", train), ("val", val), ("test", test)):
                parts.append(pd.DataFrame({"repeat": r, "fold": f, "patient_id": ids[np.sort(idx)], "role": role,
                                           "site": held}))
    splits = pd.concat(parts, ignore_index=True)
    check(splits, cohort)
    check_sites(splits, cohort)
    return splits


def check_sites(splits: pd.DataFrame, cohort: pd.DataFrame) -> None:
    """Raise ValueError unless, in every fold, the held-out site's patients are all in the test part and
    no other patient is (none of them ever trains or validates a model that is tested on their site)."""
    where = splits.merge(cohort[["patient_id", "site"]].astype({"site": str}), on="patient_id",
                         suffixes=("_held", ""))
    leaked = where[(where["site"] == where["site_held"]) != (where["role"] == "test")]
    if len(leaked):
        row = leaked.iloc[0]
        raise ValueError(f"patient {row['patient_id']} of site {row['site']} is in the {row['role']} part of "
                         f"repeat {row['repeat']}, fold {row['fold']}, which holds out site {row['site_held']}")


def held_out(predictions: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """``predictions`` (runs, baselines, the oracle: repeat, fold, patient_id, ...) of splits that hold sites
    out (:func:`leave_site_out`) with ``site``: the site each fold held out (its test part);
    ValueError when the splits do not hold sites out, or a prediction is of a patient its fold did not test."""
    if "site" not in splits.columns:
        raise ValueError("the study's splits do not hold sites out: run notebook 01 with split: leave_site_out "
                         "on a cohort with a site column")
    test = splits.loc[splits["role"] == "test", ["repeat", "fold", "patient_id", "site"]]
    out = predictions.merge(test, on=["repeat", "fold", "patient_id"], how="left", validate="many_to_one")
    if out["site"].isna().any():
        row = out[out["site"].isna()].iloc[0]
        raise ValueError(f"patient {row['patient_id']} is predicted in repeat {row['repeat']}, fold {row['fold']} "
                         "but is not in that fold's test part")
    return out


def check(splits: pd.DataFrame, cohort: pd.DataFrame) -> None:
    """Raise ValueError unless every patient is tested exactly once per repeat and, within each
    fold, has exactly one role (train, validation and test never overlap)."""
    ids = set(cohort["patient_id"])
    if set(splits["patient_id"]) != ids:
        raise ValueError("splits and cohort hold different patients")
    if not splits["role"].isin(ROLES).all():
        raise ValueError(f"unknown role (expected {ROLES})")
    per_fold = splits.groupby(["repeat", "fold", "patient_id"]).size()
    if (per_fold != 1).any():
        r, f, p = per_fold[per_fold != 1].index[0]
        raise ValueError(f"patient {p} has more than one role in repeat {r}, fold {f}")
    n_folds = splits.groupby("repeat")["fold"].nunique()
    if not (per_fold.groupby(level=["repeat", "fold"]).size() == len(ids)).all():
        raise ValueError("a fold does not assign a role to every patient")
    tests = splits[splits["role"] == "test"].groupby(["repeat", "patient_id"]).size()
    if (tests != 1).any() or len(tests) != len(ids) * len(n_folds):
        r, p = tests[tests != 1].index[0] if (tests != 1).any() else (None, None)
        raise ValueError(f"patient {p} is not tested exactly once in repeat {r}")


def save(splits: pd.DataFrame, layout: StudyLayout) -> Path:
    """Write ``splits.csv`` once.

    An identical file is left untouched (its time stamp too, so workflows see nothing new).
    A different one is refused while trained runs exist, because their predictions were made on
    the old splits; start a new study (or remove ``runs/``) to change them.
    """
    target = layout.splits_csv
    text = splits.to_csv(index=False)
    if target.exists():
        if target.read_text() == text:
            return target
        runs = layout.runs_dir
        if runs.exists() and any(runs.iterdir()):
            raise FileExistsError(f"{target} exists with different splits and {runs} holds runs trained "
                                  "on it: use a new study name, or remove runs/ to retrain")
    return atomic.write_text(text, target)


def read(layout: StudyLayout) -> pd.DataFrame:
    """``splits.csv`` as notebook 01 wrote it."""
    file = steps.require(layout.splits_csv, "splits")
    return pd.read_csv(file, dtype={"patient_id": str})


def summary(splits: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Patients and osteoporosis prevalence per role, averaged over repeats and folds."""
    s = splits.merge(cohort[["patient_id", "label"]], on="patient_id")
    g = s.groupby(["repeat", "fold", "role"])["label"].agg(n="size", prevalence="mean")
    return g.groupby("role").agg(n_mean=("n", "mean"), n_min=("n", "min"), n_max=("n", "max"),
                                 prevalence=("prevalence", "mean")).round(3)
