"""Where things live: the repository, and the roots under which studies and data are kept.

Every path is resolved from this file's location, never from the working directory, so a
notebook runs the same from JupyterLab, from the repository root or from ``notebooks/``.
Studies go to ``outputs/`` and generated cohorts to ``data/`` in the repository, unless the
environment variables ``OSTEOLIB_OUTPUTS`` / ``OSTEOLIB_DATA`` name other folders (a cluster's
scratch space, or a test's temporary folder). What lies inside one study folder is the business of
:mod:`osteolib.layout`.

Examples
--------
>>> from osteolib import paths
>>> import os
>>> "OSTEOLIB_OUTPUTS" in os.environ or paths.study_dir("demo").relative_to(paths.ROOT).as_posix() == "outputs/demo"
True
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "PARAMS", "NOTEBOOKS", "OUTPUTS_ENV", "DATA_ENV", "resolve", "outputs_root", "data_root",
           "study_dir", "synthetic_data_dir", "data_dir", "shown"]

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
#: Environment variables that move the outputs and the generated data elsewhere.
OUTPUTS_ENV, DATA_ENV = "OSTEOLIB_OUTPUTS", "OSTEOLIB_DATA"


def resolve(path: str | Path) -> Path:
    """An absolute path; a relative one is taken from the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (ROOT / path).resolve()


def outputs_root() -> Path:
    """Where studies are kept: ``$OSTEOLIB_OUTPUTS``, else ``outputs/`` in the repository."""
    return resolve(os.environ.get(OUTPUTS_ENV) or "outputs")


def data_root() -> Path:
    """Where synthetic cohorts are generated: ``$OSTEOLIB_DATA``, else ``data/`` in the repository."""
    return resolve(os.environ.get(DATA_ENV) or "data")


def study_dir(study: str) -> Path:
    """``outputs/<study>/``: every artifact of one study lives below it."""
    return outputs_root() / study


def synthetic_data_dir(study: str) -> Path:
    """``data/<study>/``: where a study's synthetic cohort is generated when no data folder is given."""
    return data_root() / study


def data_dir(study: str, given: str | Path | None) -> Path:
    """The study's input folder: ``given`` if set, else its synthetic folder."""
    return resolve(given) if given else synthetic_data_dir(study)


def shown(path: str | Path) -> str:
    """A path as a manifest or a card records it: relative to the repository when inside it."""
    path = Path(path)
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
