"""The one owner of a study's folder grammar: every "where is the file for this step, backbone,
arm, repeat?" is answered here, and nowhere else are path pieces joined (as pybids' ``BIDSLayout``
does for a BIDS data set).

::

    outputs/<study>/
      cohort/      flow.csv  cohort.csv  table3.csv  manifest_01_cohort.json          (01)
      splits.csv                                                                      (01)
      rois/        <patient_id>.png  rois.csv  geometry.json  placement.csv
                   manifest_02_roi.json                                               (02)
      rois_needs_landmarks.csv                                 (02, automatic ROIs it could not place)
      runs/<backbone>/<arm>/r<NN>/  predictions.csv  history.csv  metrics.json
                                    model_f0.safetensors  model_f0.json      (r00: the kept model)
      runs/<backbone>/manifest_03_train__<arms>__<repeats>.json                       (03)
      stats/       *.csv  manifest_04_stats.json                                      (04)
      figures/     *.png  *.svg                                                       (02, 04)
      cam/         panels, summary.png, examples.csv, localisation*.csv,
                   manifest_05_gradcam.json                                           (05)
      notebooks/   the executed notebooks (the audit trail)

Examples
--------
>>> from pathlib import Path
>>> s = StudyLayout(Path("outputs/demo"))
>>> s.run_dir("resnet18", "image", 3).as_posix()
'outputs/demo/runs/resnet18/image/r03'
>>> s.manifest("03_train", backbone="resnet18", arms="image,ensemble", repeats="0,2-3").name
'manifest_03_train__image+ensemble__0_2-3.json'
>>> s.executed_notebook("03_train", backbone="resnet18", arms="image", repeats="0-9").name
'03_train__resnet18__image__r0-9.ipynb'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import paths

#: The step of each notebook: where its manifest lies (03's lies per backbone).
_STEP_DIRS = {"01_cohort": "cohort", "02_roi": "rois", "03_train": "runs", "04_stats": "stats",
              "05_gradcam": "cam"}
#: The files of one repeat's folder (``runs/<backbone>/<arm>/r<NN>/``), which is written whole.
PREDICTIONS, HISTORY, RUN_METRICS = "predictions.csv", "history.csv", "metrics.json"
#: The model notebook 03 keeps (repeat 0, fold 0), as weights + card (see :mod:`osteolib.cards`).
KEPT_WEIGHTS, KEPT_CARD = "model_f0.safetensors", "model_f0.json"
_MANIFEST = "manifest_"
_REPEAT = re.compile(r"r(\d{2,})")


def _at(relative: str, what: str) -> property:
    """A file or folder at ``relative`` below the study's root, as a read-only property."""
    return property(lambda self: self.root / relative, doc=f"``{relative}``: {what}")


def chunk_name(repeats: str) -> str:
    """A repeats parameter as it appears in file names: ``"0,2-3"`` -> ``"0_2-3"``."""
    return str(repeats).replace(",", "_").replace(" ", "")


def arms_name(arms: str) -> str:
    """An arms parameter as it appears in file names: ``"image, ensemble"`` -> ``"image+ensemble"``."""
    return "+".join(a.strip() for a in str(arms).split(",") if a.strip())


@dataclass(frozen=True)
class StudyLayout:
    """The files of one study below ``root`` (``outputs/<study>/``)."""

    root: Path

    @classmethod
    def of(cls, study: "str | Path | StudyLayout") -> "StudyLayout":
        """A layout from a study name (``outputs/<name>/``), a study folder, or a layout."""
        if isinstance(study, StudyLayout):
            return study
        return cls(Path(study) if isinstance(study, Path) else paths.study_dir(study))

    @property
    def name(self) -> str:
        return self.root.name

    # --- 01: cohort and splits ---------------------------------------------------------------------
    cohort_dir = _at("cohort", "notebook 01's tables")
    cohort_csv = _at("cohort/cohort.csv", "the included patients")
    splits_csv = _at("splits.csv", "repeat, fold, patient_id, role")
    validation_csv = _at("validation.csv", "every fault of a bad input (file, row, column, value, problem)")

    def cohort_table(self, name: str) -> Path:
        """``cohort/<name>.csv``: flow, cohort, table3, oracle."""
        return self.cohort_dir / f"{name}.csv"

    # --- 02: regions of interest ----------------------------------------------------------------------
    rois_dir = _at("rois", "notebook 02's ROIs")
    rois_csv = _at("rois/rois.csv", "one row per ROI: its box, its image, the PNG's SHA-256")
    roi_geometry = _at("rois/geometry.json", "the crop geometry, written by the cropping itself")
    placement_csv = _at("rois/placement.csv", "automatic ROI placement: positions, confidences, errors")
    needs_landmarks_csv = _at("rois_needs_landmarks.csv", "patients the ROI detector could not place")

    def roi_png(self, patient_id: str, rois_dir: Path | None = None) -> Path:
        """One patient's ROI (``rois_dir``: the folder being written, when it is not yet in place)."""
        return (rois_dir or self.rois_dir) / f"{patient_id}.png"

    # --- 03: runs ------------------------------------------------------------------------------------
    runs_dir = _at("runs", "notebook 03's repeats")

    def arm_dir(self, backbone: str, arm: str) -> Path:
        return self.runs_dir / backbone / arm

    def run_dir(self, backbone: str, arm: str, repeat: int) -> Path:
        """``runs/<backbone>/<arm>/r<NN>/``: one repeat, written whole."""
        return self.arm_dir(backbone, arm) / f"r{int(repeat):02d}"

    def predictions(self, backbone: str, arm: str, repeat: int) -> Path:
        return self.run_dir(backbone, arm, repeat) / PREDICTIONS

    def run_metrics(self, backbone: str, arm: str, repeat: int) -> Path:
        return self.run_dir(backbone, arm, repeat) / RUN_METRICS

    def kept_model(self, backbone: str, arm: str) -> Path:
        """The folder of the model notebook 03 keeps (repeat 0, fold 0)."""
        return self.run_dir(backbone, arm, 0)

    def has_kept_model(self, backbone: str, arm: str) -> bool:
        return (self.kept_model(backbone, arm) / KEPT_CARD).is_file()

    def repeats(self, backbone: str, arm: str) -> list[int]:
        """The finished repeats of one backbone and arm (their folders appear whole)."""
        d = self.arm_dir(backbone, arm)
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for p in d.iterdir() if p.is_dir() and (m := _REPEAT.fullmatch(p.name)))

    # --- 04: statistics and figures --------------------------------------------------------------------
    stats_dir = _at("stats", "notebook 04's tables")
    figures_dir = _at("figures", "the figures of notebooks 02 and 04")

    def stats_table(self, name: str) -> Path:
        return self.stats_dir / f"{name}.csv"

    def figure(self, name: str) -> Path:
        """``figures/<name>.png`` (other formats beside it)."""
        return self.figures_dir / f"{name}.png"

    # --- 05, and the audit trail -----------------------------------------------------------------------
    cam_dir = _at("cam", "notebook 05's panels and tables")
    notebooks_dir = _at("notebooks", "the executed notebooks, the audit trail")

    def executed_notebook(self, notebook: str, backbone: str | None = None, arms: str | None = None,
                          repeats: str | None = None) -> Path:
        """The executed copy of a notebook: ``notebooks/03_train__<backbone>__<arms>__r<repeats>.ipynb``
        for a training job, ``notebooks/<notebook>.ipynb`` otherwise."""
        parts = [notebook]
        if notebook == "03_train":
            _job(backbone, arms, repeats)
            parts += [backbone, arms_name(arms), f"r{chunk_name(repeats)}"]
        return self.notebooks_dir / ("__".join(parts) + ".ipynb")

    def manifest(self, notebook: str, backbone: str | None = None, arms: str | None = None,
                 repeats: str | None = None) -> Path:
        """``<step folder>/manifest_<step>.json``; training writes one per backbone, arms and chunk of
        repeats (a training job)."""
        if notebook == "03_train":
            _job(backbone, arms, repeats)
            return self.runs_dir / backbone / f"{_MANIFEST}03_train__{arms_name(arms)}__{chunk_name(repeats)}.json"
        return self.root / _STEP_DIRS[notebook] / f"{_MANIFEST}{notebook}.json"


def _job(backbone, arms, repeats) -> None:
    if backbone is None or arms is None or repeats is None:
        raise ValueError("a training job is named by its backbone, arms and repeats")


def manifest_step(path: str | Path) -> str:
    """The step a manifest records, from its name: ``manifest_03_train__0-9.json`` -> ``03_train__0-9``."""
    return Path(path).stem.removeprefix(_MANIFEST)
