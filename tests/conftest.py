"""Shared fixtures: tiny synthetic cohorts made once per test session (nothing is downloaded)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from osteolib.synthetic import generate

#: The smoke profile's image scale; its ROI (40 x 64 px) is the paper's 250 x 400 px scaled.
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
