"""The one owner of a study's folder grammar: every "where is the file for this step, backbone,
arm, repeat?" is answered here, and nowhere else are path pieces joined (as pybids' ``BIDSLayout``
does for a BIDS data set).

:data:`FILES` is the grammar as data: a key per kind of file, its pattern below ``outputs/<study>/``
(wildcards in braces) and what it holds. Which step reads and writes each of them is the steps
table's (:mod:`osteolib.steps`), and ``python -m osteolib.steps`` prints the folder tree they make.

Examples
--------
>>> from pathlib import Path
>>> s = StudyLayout(Path("outputs/demo"))
>>> s.run_dir("resnet18", "image", 3).as_posix()
'outputs/demo/runs/resnet18/image/r03'
>>> s.file("predictions", backbone="resnet18", arm="image", repeat=3).name
'predictions.csv'
>>> shown("predictions")
'runs/<backbone>/<arm>/r<NN>/predictions.csv'
>>> s.manifest("03_train", backbone="resnet18", arms="image,ensemble", repeats="0,2-3").name
'manifest_03_train__image+ensemble__0_2-3.json'
>>> s.executed_notebook("03_train", backbone="resnet18", arms="image", repeats="0-9").name
'03_train__resnet18__image__r0-9.ipynb'
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from . import paths

__all__ = ["FILES", "PREDICTIONS", "HISTORY", "RUN_METRICS", "KEPT_WEIGHTS", "KEPT_CARD", "kept_files", "StudyLayout", "shown",
           "wildcards", "chunk_name", "arms_name", "manifest_step"]

#: The files of one repeat's folder (``runs/<backbone>/<arm>/r<NN>/``), which is written whole.
PREDICTIONS, HISTORY, RUN_METRICS = "predictions.csv", "history.csv", "metrics.json"
#: The models notebook 03 keeps, as weights + card (see :mod:`osteolib.cards`): fold ``f`` of repeat 0 is
#: ``model_f<f>``; fold 0 always, every fold when the splits hold sites out.
_KEPT_WEIGHTS, _KEPT_CARD = "model_f{fold}.safetensors", "model_f{fold}.json"
KEPT_WEIGHTS, KEPT_CARD = _KEPT_WEIGHTS.format(fold=0), _KEPT_CARD.format(fold=0)
_RUN = "runs/{backbone}/{arm}/r{repeat:02d}/"
_KEPT = "runs/{backbone}/{arm}/r00/"

#: Every kind of file of a study folder: key -> (pattern below ``outputs/<study>/``, what it holds).
FILES: dict[str, tuple[str, str]] = {
    "validation": ("validation.csv", "every fault of a bad input (file, row, column, value, severity, problem, what to do) and the warnings"),
    "flow": ("cohort/flow.csv", "the flow of patients: step, n_before, n_excluded, n_after, reason"),
    "cohort": ("cohort/cohort.csv", "the included patients: patient_id, label 0/1, sex, age, bmi, ..."),
    "table3": ("cohort/table3.csv", "the paper's cohort table (Table 3)"),
    "oracle": ("cohort/oracle.csv", "the synthetic cohort's bound: logistic regression on its truth"),
    "table3_sites": ("cohort/table3_sites.csv", "a multi-centre cohort: Table 3 per site, and whether the sites differ"),
    "splits": ("splits.csv", "repeat, fold, patient_id, role (train, val, test)"),
    "roi_png": ("rois/{patient_id}.png", "one patient's ROI, 8-bit gray"),
    "rois_csv": ("rois/rois.csv", "one row per ROI: patient_id, side, its box, its image, the PNG's SHA-256"),
    "roi_geometry": ("rois/geometry.json", "the crop geometry, written by the cropping itself"),
    "placement": ("rois/placement.csv", "automatic ROI placement: positions, confidences, errors"),
    "needs_landmarks": ("rois_needs_landmarks.csv", "patients the ROI detector could not place"),
    "figure": ("figures/{name}.png", "a figure (an SVG beside some)"),
    "predictions": (_RUN + PREDICTIONS, "one repeat's out-of-fold predictions: repeat, fold, patient_id, y_true, "
                                        "p_osteoporosis, threshold"),
    "history": (_RUN + HISTORY, "fold, epoch, train_loss, val_loss, val_auc, seconds"),
    "run_metrics": (_RUN + RUN_METRICS, "the repeat's settings, metrics per fold and repeat, environment"),
    "kept_weights": (_KEPT + KEPT_WEIGHTS, "the kept model: best weights of repeat 0, fold 0"),
    "kept_card": (_KEPT + KEPT_CARD, "the kept model's card: network, covariate scaler, settings, weights' SHA-256"),
    "fold_weights": (_KEPT + _KEPT_WEIGHTS, "sites held out: every fold's model (the site's), as the kept one"),
    "fold_card": (_KEPT + _KEPT_CARD, "sites held out: every fold's model card"),
    "stats_table": ("stats/{name}.csv", "a table of notebook 04"),
    "cam_panel": ("cam/{backbone}_{arm}_{patient_id}.png", "ROI | Grad-CAM | guided Grad-CAM of one patient"),
    "cam_summary": ("cam/summary.png", "every example of every backbone, both arms side by side"),
    "cam_examples": ("cam/examples.csv", "the patients explained, and why they were chosen"),
    "localisation": ("cam/localisation.csv", "per backbone, arm and cortex (measured by 02b; the synthetic truth's): the CAM's share on the cortex"),
    "localisation_patients": ("cam/localisation_patients.csv", "the same per patient"),
    "cam_contributions": ("cam/contributions.csv", "per backbone, arm and test patient: what the image and the covariates "
                                                   "contribute to the log-odds, and whether the Grad-CAM is empty"),
    "external_table": ("external/{name}.csv", "a table of notebook 06 (internal-external validation, transport)"),
    "indices_table": ("indices/{name}.csv", "a table of notebook 02b (MCW, PMI and MCI per patient and side; their agreement)"),
    "cost_table": ("cost/{name}.csv", "what each network costs (python -m osteolib.cost): cost.csv; beside its AUCs "
                                      "and the ensemble's gain: accuracy_cost.csv"),
    "readers_table": ("readers/{name}.csv", "a table of notebook 07 (a reader study: its design, ratings, reader AUCs, MRMC analysis)"),
}
#: Files of the grammar that a command writes after a study, not a notebook step: key -> the command.
WRITTEN_BY_COMMAND = {"cost_table": "python -m osteolib.cost"}
#: The step of each notebook: where its manifest lies (03's lies per backbone).
_STEP_DIRS = {"01_cohort": "cohort", "02_roi": "rois", "03_train": "runs", "04_stats": "stats", "05_gradcam": "cam",
              "06_external": "external", "02b_indices": "indices", "07_readers": "readers"}
_MANIFEST = "manifest_"
_REPEAT = re.compile(r"r(\d{2,})")


def kept_files(fold: int = 0) -> tuple[str, str]:
    """The names of fold ``fold``'s kept weights and card in its run folder: ``kept_files(2)`` ->
    ``('model_f2.safetensors', 'model_f2.json')``."""
    return _KEPT_WEIGHTS.format(fold=fold), _KEPT_CARD.format(fold=fold)


def wildcards(key: str) -> tuple[str, ...]:
    """The wildcards of a file's pattern, in order: ``wildcards("cam_panel")`` -> ``('backbone', 'arm', 'patient_id')``."""
    return tuple(f for _, f, _, _ in string.Formatter().parse(FILES[key][0]) if f)


def shown(key: str, **fixed) -> str:
    """A file's pattern as the docs and the notebooks show it, wildcards in angle brackets (``r<NN>``
    for a repeat) unless fixed: ``shown("stats_table", name="summary")`` -> ``'stats/summary.csv'``."""
    out = []
    for literal, field, spec, _ in string.Formatter().parse(FILES[key][0]):
        out.append(literal)
        if field:
            out.append(format(fixed[field], spec) if field in fixed else "<NN>" if field == "repeat" else f"<{field}>")
    return "".join(out)


def _at(key: str) -> property:
    """A file of :data:`FILES` without wildcards, as a read-only property."""
    return property(lambda self: self.file(key), doc=f"``{FILES[key][0]}``: {FILES[key][1]}")


def _dir(relative: str, what: str) -> property:
    return property(lambda self: self.root / relative, doc=f"``{relative}/``: {what}")


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
    def named(cls, study: str) -> "StudyLayout":
        """The layout of the study ``outputs/<study>/`` (the outputs root may be moved, :mod:`osteolib.paths`)."""
        return cls(paths.study_dir(study))

    @property
    def name(self) -> str:
        return self.root.name

    def file(self, key: str, **wildcards) -> Path:
        """The file of kind ``key`` (:data:`FILES`) with its wildcards filled in."""
        return self.root / FILES[key][0].format(**wildcards)

    # --- 01: cohort and splits ---------------------------------------------------------------------
    cohort_dir = _dir("cohort", "notebook 01's tables")
    cohort_csv = _at("cohort")
    splits_csv = _at("splits")
    validation_csv = _at("validation")

    def cohort_table(self, name: str) -> Path:
        """``cohort/<name>.csv``: flow, cohort, table3, oracle."""
        return self.file(name)

    # --- 02: regions of interest ----------------------------------------------------------------------
    rois_dir = _dir("rois", "notebook 02's ROIs")
    rois_csv = _at("rois_csv")
    roi_geometry = _at("roi_geometry")
    placement_csv = _at("placement")
    needs_landmarks_csv = _at("needs_landmarks")

    def roi_png(self, patient_id: str, rois_dir: Path | None = None) -> Path:
        """One patient's ROI (``rois_dir``: the folder being written, when it is not yet in place)."""
        return (rois_dir or self.rois_dir) / self.file("roi_png", patient_id=patient_id).name

    # --- 03: runs ------------------------------------------------------------------------------------
    runs_dir = _dir("runs", "notebook 03's repeats")

    def arm_dir(self, backbone: str, arm: str) -> Path:
        return self.runs_dir / backbone / arm

    def run_dir(self, backbone: str, arm: str, repeat: int) -> Path:
        """``runs/<backbone>/<arm>/r<NN>/``: one repeat, written whole."""
        return self.file("predictions", backbone=backbone, arm=arm, repeat=int(repeat)).parent

    def predictions(self, backbone: str, arm: str, repeat: int) -> Path:
        return self.file("predictions", backbone=backbone, arm=arm, repeat=int(repeat))

    def run_metrics(self, backbone: str, arm: str, repeat: int) -> Path:
        return self.file("run_metrics", backbone=backbone, arm=arm, repeat=int(repeat))

    def kept_model(self, backbone: str, arm: str) -> Path:
        """The folder of the model notebook 03 keeps (repeat 0, fold 0)."""
        return self.file("kept_card", backbone=backbone, arm=arm).parent

    def has_kept_model(self, backbone: str, arm: str) -> bool:
        return self.file("kept_card", backbone=backbone, arm=arm).is_file()

    def repeats(self, backbone: str, arm: str) -> list[int]:
        """The finished repeats of one backbone and arm (their folders appear whole)."""
        d = self.arm_dir(backbone, arm)
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for p in d.iterdir() if p.is_dir() and (m := _REPEAT.fullmatch(p.name)))

    # --- 04: statistics and figures --------------------------------------------------------------------
    stats_dir = _dir("stats", "notebook 04's tables")
    figures_dir = _dir("figures", "the figures of notebooks 02 and 04")

    def stats_table(self, name: str) -> Path:
        return self.file("stats_table", name=name)

    def figure(self, name: str) -> Path:
        """``figures/<name>.png`` (other formats beside it)."""
        return self.file("figure", name=name)

    # --- 05, 06, and the audit trail -------------------------------------------------------------------
    cam_dir = _dir("cam", "notebook 05's panels and tables")
    external_dir = _dir("external", "notebook 06's tables: internal-external validation and transport")

    def external_table(self, name: str) -> Path:
        return self.file("external_table", name=name)
    indices_dir = _dir("indices", "notebook 02b's tables: the radiomorphometric indices and their agreement")

    def indices_table(self, name: str) -> Path:
        """``indices/<name>.csv``: indices, agreement."""
        return self.file("indices_table", name=name)
    readers_dir = _dir("readers", "notebook 07's tables: a reader study")

    def readers_table(self, name: str) -> Path:
        """``readers/<name>.csv``: design, ratings, reader_auc, mrmc."""
        return self.file("readers_table", name=name)
    notebooks_dir = _dir("notebooks", "the executed notebooks, the audit trail")

    def executed_notebook(self, notebook: str, backbone: str | None = None, arms: str | None = None,
                          repeats: str | None = None) -> Path:
        """The executed copy of a notebook: ``notebooks/03_train__<backbone>__<arms>__r<repeats>.ipynb``
        for a training job, ``notebooks/<notebook>.ipynb`` otherwise."""
        parts = [notebook]
        if notebook == "03_train":
            _job(backbone, arms, repeats)
            parts += [backbone, arms_name(arms), f"r{chunk_name(repeats)}"]
        return self.notebooks_dir / ("__".join(parts) + ".ipynb")

    def manifests(self) -> list[Path]:
        """Every manifest the study's steps have written, in path order."""
        return sorted(self.root.rglob(f"{_MANIFEST}*.json")) if self.root.is_dir() else []

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
