"""Shared fixtures: tiny synthetic cohorts made once per test session (nothing is downloaded)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from osteolib.layout import StudyLayout
from osteolib.settings import RoiGeometry
from osteolib.synthetic import generate

#: The smoke profile's image scale; its ROI is 32 x 64 px (20 x 40 mm), as in the demo.
SCALE = 0.16


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """120 screened patients with images at 0.16 x scale (read-only: copy before changing)."""
    return generate(tmp_path_factory.mktemp("tiny") / "data", n_screened=120, scale=SCALE, seed=3,
                    jobs=1, progress=False)


@pytest.fixture(scope="session")
def paper_tables(tmp_path_factory) -> Path:
    """The default screened cohort of 902, tables only."""
    return generate(tmp_path_factory.mktemp("paper") / "data", n_screened=902, scale=1.0, seed=0,
                    images=False, progress=False)


@pytest.fixture
def data_copy(tiny_data, tmp_path) -> Path:
    """A writable copy of the tiny cohort."""
    return Path(shutil.copytree(tiny_data, tmp_path / "data"))


@pytest.fixture(scope="session")
def tiny_study(tiny_data, tmp_path_factory) -> Path:
    """outputs/<study>/ of the tiny cohort after notebooks 01, 02 and 02b: cohort, 2 x 5-fold splits, ROIs, indices."""
    from osteolib import cohort, indices, roi, splits
    out = tmp_path_factory.mktemp("study")
    layout = StudyLayout(out)
    patients = cohort.build(tiny_data, layout)["cohort"]
    splits.save(splits.make(patients, n_repeats=2, n_folds=5, seed=0), layout)
    roi.crop_study(tiny_data, patients, RoiGeometry(32, 64), layout, progress=False)
    indices.run(tiny_data, patients, layout, jobs=1, progress=False)
    return out


@pytest.fixture(scope="session")
def medium_study(tmp_path_factory) -> Path:
    """A cohort big enough to learn from in a few CPU epochs: 300 screened (259 included); notebooks 01, 02, 02b."""
    from osteolib import cohort, indices, roi, splits
    data = generate(tmp_path_factory.mktemp("medium") / "data", n_screened=300, scale=SCALE, seed=4,
                    progress=False)
    out = tmp_path_factory.mktemp("medium_study")
    layout = StudyLayout(out)
    patients = cohort.build(data, layout)["cohort"]
    splits.save(splits.make(patients, n_repeats=1, n_folds=5, seed=0), layout)
    roi.crop_study(data, patients, RoiGeometry(32, 64), layout, progress=False)
    indices.run(data, patients, layout, jobs=1, progress=False)
    return out


def copy_study(src: Path, dst: Path) -> Path:
    """A writable copy of a study's inputs to training (cohort, splits, ROIs, indices), without runs."""
    for part in ("cohort", "rois", "indices"):
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part)
    shutil.copy(src / "splits.csv", dst / "splits.csv")
    return dst
