"""Where things live: the repository root and a study's folders.

Every path is resolved from this file's location, never from the working directory, so a
notebook runs the same from JupyterLab, from the repository root or from ``notebooks/``.

Examples
--------
>>> from osteolib import paths
>>> paths.study_dir("demo").relative_to(paths.ROOT).as_posix()
'outputs/demo'
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"


def resolve(path: str | Path) -> Path:
    """An absolute path; a relative one is taken from the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (ROOT / path).resolve()


def study_dir(study: str) -> Path:
    """``outputs/<study>/``: every artifact of one study lives below it."""
    return ROOT / "outputs" / study


def synthetic_data_dir(study: str) -> Path:
    """``data/<study>/``: where a study's synthetic cohort is generated when no data folder is given."""
    return ROOT / "data" / study


def data_dir(study: str, given: str | Path | None) -> Path:
    """The study's input folder: ``given`` if set, else its synthetic folder."""
    return resolve(given) if given else synthetic_data_dir(study)
