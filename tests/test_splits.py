"""Repeated stratified folds with the inner 8:1 train/validation split."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from osteolib import splits
from osteolib.layout import StudyLayout


@pytest.fixture(scope="module")
def patients():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"patient_id": [f"P{i:04d}" for i in range(778)],
                         "label": (rng.permutation(778) < 237).astype(int)})


@pytest.fixture(scope="module")
def folds(patients):
    return splits.make(patients, n_repeats=3, n_folds=5, seed=11)


def test_every_patient_tested_once_per_repeat(folds, patients):
    test = folds[folds.role == "test"]
    assert (test.groupby(["repeat", "patient_id"]).size() == 1).all()
    assert test.groupby("repeat")["patient_id"].nunique().eq(len(patients)).all()


def test_roles_never_overlap_and_sizes_match_the_paper(folds, patients):
    per = folds.groupby(["repeat", "fold", "patient_id"]).size()
    assert (per == 1).all() and len(per) == 3 * 5 * len(patients)
    n = folds.groupby(["repeat", "fold", "role"]).size().unstack()
    assert n["test"].between(155, 156).all()           # the paper: test fold about 156 images
    assert (n["train"] / n["val"]).between(7.5, 8.5).all()  # train:validation = 8:1


def test_stratified(folds, patients):
    s = folds.merge(patients, on="patient_id")
    prevalence = s.groupby(["repeat", "fold", "role"])["label"].mean()
    assert (prevalence - patients["label"].mean()).abs().max() < 0.02


def test_same_seed_same_splits_other_seed_other_splits(folds, patients):
    again = splits.make(patients, n_repeats=3, n_folds=5, seed=11)
    other = splits.make(patients, n_repeats=3, n_folds=5, seed=12)
    assert again.equals(folds)
    assert not other.equals(folds)
    # repeats differ from each other
    t = folds[folds.role == "test"]
    assert not t[t.repeat == 0].sort_values("patient_id")["fold"].reset_index(drop=True).equals(
        t[t.repeat == 1].sort_values("patient_id")["fold"].reset_index(drop=True))


def test_check_catches_leakage(folds, patients):
    leaky = folds.copy()
    i = leaky.index[(leaky.role == "train")][0]
    extra = leaky.loc[[i]].assign(role="test")
    with pytest.raises(ValueError, match="more than one role"):
        splits.check(pd.concat([leaky, extra]), patients)
    moved = folds.copy()
    j = moved.index[(moved.role == "test") & (moved.repeat == 0)][0]
    moved.loc[j, "role"] = "train"
    with pytest.raises(ValueError, match="not tested exactly once"):
        splits.check(moved, patients)


def test_saved_once(folds, patients, tmp_path):
    target = splits.save(folds, StudyLayout(tmp_path))
    stamp = target.stat().st_mtime_ns
    splits.save(folds, StudyLayout(tmp_path))
    assert target.stat().st_mtime_ns == stamp, "identical splits must not be rewritten"
    assert splits.read(StudyLayout(tmp_path)).equals(folds)
    (tmp_path / "runs" / "resnet18").mkdir(parents=True)
    other = splits.make(patients, n_repeats=3, n_folds=5, seed=99)
    with pytest.raises(FileExistsError, match="runs"):
        splits.save(other, StudyLayout(tmp_path))
    assert splits.read(StudyLayout(tmp_path)).equals(folds)


def test_leave_one_site_out_never_trains_or_validates_on_the_held_out_site():
    """Internal-external cross-validation: each site held out once, whole, and none of its patients in
    any training or validation part of its fold; every training site in the validation part."""
    rng = np.random.default_rng(0)
    sizes = {"clinic": 120, "dxa": 300, "hospital": 80}
    cohort = pd.DataFrame({"patient_id": [f"p{i:04d}" for i in range(sum(sizes.values()))],
                           "site": np.repeat(list(sizes), list(sizes.values())),
                           "label": (rng.random(sum(sizes.values())) < 0.3).astype(int)})
    s = splits.leave_site_out(cohort, n_repeats=2, seed=5)
    m = s.merge(cohort, on="patient_id", suffixes=("_held", ""))
    for (r, f), g in m.groupby(["repeat", "fold"]):
        held = g["site_held"].iloc[0]
        assert set(g.loc[g.role == "test", "site"]) == {held}
        assert (g.loc[g.role == "test"].shape[0]) == sizes[held]
        assert held not in set(g.loc[g.role != "test", "site"])
        assert set(g.loc[g.role == "val", "site"]) == set(sizes) - {held}
    assert s["fold"].nunique() == 3 and sorted(s.groupby("fold")["site"].first()) == sorted(sizes)
    assert s.equals(splits.leave_site_out(cohort, n_repeats=2, seed=5))
    r0, r1 = (s[(s.repeat == r) & (s.role == "val")]["patient_id"].tolist() for r in (0, 1))
    assert r0 != r1, "repeats differ in the train/validation split"
    leaked = s.copy()
    i = leaked.index[(leaked.role == "train")][0]
    j = leaked.index[(leaked.role == "test") & (leaked.fold == leaked.loc[i, "fold"])][0]
    leaked.loc[[i, j], "patient_id"] = leaked.loc[[j, i], "patient_id"].to_numpy()
    with pytest.raises(ValueError, match="which holds out site"):
        splits.check_sites(leaked, cohort)
    with pytest.raises(ValueError, match="at least 2 sites"):
        splits.leave_site_out(cohort.assign(site="one"))
