"""The study's contract as data: what each step (notebook) reads, what it writes, which parameters it
declares.

One table, :data:`STEPS`, says it once (as Snakemake rules and pybids' path patterns hold what goes in
and out as data). Everything else reads it:

* the workflow (``workflow/Snakefile``, through :func:`osteolib.workflow.inputs` and
  :func:`osteolib.workflow.outputs`) declares each rule's inputs and outputs from it;
* each notebook's manifest hashes exactly its step's declared inputs (:func:`write_manifest`), and
  refuses to list an output the step does not declare;
* a reader that finds a file missing names the step that writes it (:func:`require`);
* the notebooks' "Reads / Writes" cells are checked against it by the tests, and
  ``python -m osteolib.steps`` prints it (the docs' reference is generated from it).

A file is named by a :class:`Use`: the folder it lies in (the study's ``outputs/<study>/``, whose
grammar is :mod:`osteolib.layout`'s; the data folder, :mod:`osteolib.datafolder`'s; or a folder a
parameter names), its kind, whether the step can run without it, and the wildcards the step fixes.
A use with free wildcards is a family (every patient's ROI, every finished repeat's predictions).

Examples
--------
>>> [u.shown for u in STEPS["04_stats"].reads]
['cohort/cohort.csv', 'splits.csv', 'runs/<backbone>/<arm>/r<NN>/predictions.csv', 'indices/indices.csv']
>>> producer("splits")
'01_cohort'
"""
from __future__ import annotations

import argparse
import re
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import backbones, config, datafolder, layout, paths, pixels, repro, settings
from .datafolder import DataFolder
from .errors import read_text_csv
from .layout import StudyLayout

__all__ = ["Use", "Step", "STEPS", "ORDER", "producer", "require", "write_manifest", "declared_inputs", "table"]

#: Files of the data folder a step can read: key -> (what :class:`DataFolder` calls it, how it is shown).
DATA = {"clinical": ("clinical_csv", datafolder.CLINICAL), "landmarks": ("landmarks_csv", datafolder.LANDMARKS),
        "truth": ("truth_csv", datafolder.TRUTH), "images": (None, f"{datafolder.IMAGES}/<image>"),
        "cortex": (None, "cortex/<patient_id>.png"), "synthetic": ("synthetic_json", datafolder.SYNTHETIC),
        "measurements": (None, "measurements/<reader>.csv"), "readings": (None, "readings/<reader>.csv"),
        "counterfactual": ("counterfactual_csv", "counterfactual.csv")}
#: Files named by a parameter: key -> pattern (parameters in braces).
PARAM_FILES = {"backbone_params": "{backbone_params}/{backbone}.yaml", "roi_detector": "{roi_detector}/<file>"}


@dataclass(frozen=True)
class Use:
    """One file, or one family of files, that a step reads or writes.

    ``folder``: ``"study"`` (a key of :data:`osteolib.layout.FILES`), ``"data"`` (of :data:`DATA`) or
    ``"param"`` (of :data:`PARAM_FILES`); ``optional``: the step runs without it (it is read, or
    written, only in some studies); ``fixed``: the wildcards the step fixes (repeat 0 of a kept model).
    """

    folder: str
    key: str
    optional: bool = False
    fixed: tuple = ()

    def __post_init__(self):
        known = {"study": layout.FILES, "data": DATA, "param": PARAM_FILES}[self.folder]
        if self.key not in known:
            raise KeyError(f"{self.folder} file {self.key!r} is not one of {sorted(known)}")

    @property
    def shown(self) -> str:
        """How the notebooks and the docs name it (relative to its folder)."""
        if self.folder == "study":
            return layout.shown(self.key, **dict(self.fixed))
        if self.folder == "data":
            return DATA[self.key][1]
        return PARAM_FILES[self.key].replace("{", "<").replace("}", ">")

    @property
    def free(self) -> tuple[str, ...]:
        """The wildcards the step leaves open (a family of files when not empty)."""
        if self.folder == "study":
            return tuple(w for w in layout.wildcards(self.key) if w not in dict(self.fixed))
        return {"images": ("patient_id",), "cortex": ("patient_id",), "measurements": ("reader",),
                "readings": ("reader",)}.get(self.key, ())

    def path(self, lay: StudyLayout, **wildcards) -> Path:
        return lay.file(self.key, **{**dict(self.fixed), **wildcards})


def study(key: str, optional: bool = False, **fixed) -> Use:
    return Use("study", key, optional, tuple(sorted(fixed.items())))


def data(key: str, optional: bool = False) -> Use:
    return Use("data", key, optional)


@dataclass(frozen=True)
class Step:
    """One notebook of the study: what it reads and writes (beside its manifest, which it writes last)."""

    name: str
    title: str
    reads: tuple[Use, ...]
    writes: tuple[Use, ...]
    job: tuple[str, ...] = ()  # the parameters that name one of its workflow jobs (03: a training job)

    @property
    def params(self) -> type:
        """The dataclass that validates its parameters (:mod:`osteolib.config`)."""
        return config.Params.registry[self.name]

    @property
    def notebook(self) -> Path:
        return paths.NOTEBOOKS / f"{self.name}.ipynb"

    @property
    def manifest_shown(self) -> str:
        """Its manifest's name, as the notebooks show it."""
        if self.name == "03_train":
            return "runs/<backbone>/manifest_03_train__<arms>__<repeats>.json"
        return StudyLayout(Path(".")).manifest(self.name).as_posix()


ORDER = ("01_cohort", "02_roi", "02b_indices", "03_train", "04_stats", "05_gradcam", "06_external", "07_readers")
#: notebook 04's tables (``stats/<name>.csv``), every one written by every run.
STATS_TABLES = ("metrics_per_repeat", "metrics_per_fold", "summary", "comparisons", "auc_differences_per_repeat",
                "baselines", "bootstrap_auc", "calibration", "operating_points", "decision_curves", "subgroups",
                "table_resnet", "table_efficientnet", "test_calibration")
#: notebook 06's tables (``external/<name>.csv``); ``shifts`` for a synthetic cohort only.
EXTERNAL_TABLES = ("iecv", "pooled", "net_benefit", "transport", "learning_curve")
EXTERNAL_FIGURES = ("external_forest", "external_calibration", "external_decision", "external_learning_curve")

STEPS: dict[str, Step] = {s.name: s for s in (
    Step("01_cohort", "Cohort and splits",
         reads=(data("clinical"), data("landmarks", optional=True), data("truth", optional=True), data("images")),
         writes=(study("flow"), study("cohort"), study("table3"), study("splits"), study("oracle", optional=True),
                 study("table3_sites", optional=True),
                 study("validation", optional=True))),
    Step("02_roi", "Regions of interest",
         reads=(study("cohort"), data("landmarks", optional=True), data("images"),
                Use("param", "roi_detector", optional=True)),
         writes=(study("roi_png"), study("rois_csv"), study("roi_geometry"), study("figure", name="roi_contact_sheet"),
                 study("figure", True, name="synthetic_examples"), study("placement", True),
                 study("figure", True, name="roi_worst_placements"), study("needs_landmarks", True))),
    Step("02b_indices", "What a dentist measures: MCW, PMI and the Klemetti index",
         reads=(study("cohort"), data("landmarks", optional=True), data("images"), data("truth", optional=True),
                data("measurements", optional=True)),
         writes=(study("indices_table", name="indices"), study("indices_table", name="agreement"),
                 study("figure", name="indices_profiles"), study("figure", name="indices_agreement"))),
    Step("03_train", "Training",
         reads=(study("cohort"), study("splits"), study("rois_csv"), study("roi_png"), Use("param", "backbone_params")),
         writes=(study("predictions"), study("history"), study("run_metrics"), study("kept_weights", True),
                 study("kept_card", True), study("fold_weights", True), study("fold_card", True)),
         job=("backbone", "arms", "repeats")),
    Step("04_stats", "Statistics, baselines and figures",
         reads=(study("cohort"), study("splits"), study("predictions"), study("indices_table", name="indices")),
         writes=tuple(study("stats_table", name=n) for n in STATS_TABLES) + (study("figure", True),)),
    Step("05_gradcam", "Grad-CAM and guided Grad-CAM",
         reads=(study("cohort"), study("rois_csv"), study("roi_geometry"), study("roi_png"), study("kept_weights"), study("kept_card"),
                study("predictions", repeat=0), data("cortex", optional=True), study("indices_table", name="indices")),
         writes=(study("cam_panel"), study("cam_summary"), study("cam_examples"), study("cam_contributions"),
                 study("localisation", True),
                 study("localisation_patients", True))),
    Step("06_external", "Across sites: internal-external validation and transport",
         reads=(study("cohort"), study("splits"), study("predictions"), study("roi_png"),
                study("kept_weights"), study("kept_card"), study("fold_weights", True), study("fold_card", True),
                data("synthetic", optional=True), data("counterfactual", optional=True), study("oracle", optional=True)),
         writes=tuple(study("external_table", name=n) for n in EXTERNAL_TABLES)
         + (study("external_table", True, name="shifts"), study("external_table", True, name="device"))
         + tuple(study("figure", name=n) for n in EXTERNAL_FIGURES)),
    Step("07_readers", "Clinicians with and without the model: a reader study",
         reads=(study("cohort"), study("predictions", repeat=0), data("truth", optional=True),
                data("readings", optional=True)),
         writes=(study("readers_table", name="design"), study("readers_table", True, name="ratings"),
                 study("readers_table", True, name="reader_auc"), study("readers_table", True, name="mrmc"),
                 study("figure", True, name="readers_roc"))),
)}


def producer(key: str) -> str:
    """The step that writes the study's files of kind ``key``."""
    for s in STEPS.values():
        if any(u.folder == "study" and u.key == key for u in s.writes):
            return s.name
    raise KeyError(f"no step writes {key!r}")


def require(file: str | Path, key: str, what: str = "") -> Path:
    """``file`` if it exists; else FileNotFoundError naming the notebook that writes it (``what``:
    more to say, e.g. which repeat)."""
    file = Path(file)
    if not file.is_file():
        extra = f" ({what})" if what else ""
        raise FileNotFoundError(f"{file} not found: run notebooks/{producer(key)}.ipynb{extra} for this study first")
    return file


# --- the files a step read, for its manifest -----------------------------------------------------------

def _cohort(lay: StudyLayout) -> pd.DataFrame:
    """The included patients' ids and images (the scope of the per-patient families)."""
    return pd.read_csv(require(lay.cohort_csv, "cohort"), dtype={"patient_id": str}, usecols=["patient_id", "image"])


def _runs(cfg, lay: StudyLayout, use: Use) -> list[dict]:
    """The (backbone, arm, repeat) a step read, of a run family: those on disk that its parameters select."""
    names = [cfg.backbone] if hasattr(cfg, "backbone") else (getattr(cfg, "backbone_list", None) or backbones.names())
    arms = getattr(cfg, "arm_list", None) or list(settings.ARMS)
    out = []
    for b in names:
        for arm in arms:
            reps = [dict(use.fixed)["repeat"]] if "repeat" in dict(use.fixed) else lay.repeats(b, arm)
            out += [{"backbone": b, "arm": arm, "repeat": r} for r in reps]
    return out


def _resolve(use: Use, cfg, lay: StudyLayout, folder: DataFolder | None) -> dict[str, Path]:
    """role -> file for one read: every member of a family that exists; a single file (if it exists
    or the use is required: a required one that is missing is an error)."""
    if use.folder == "param":
        if use.key == "backbone_params":
            base = paths.resolve(cfg.backbone_params) if cfg.backbone_params else paths.PARAMS
            return {f"{use.key}/{cfg.backbone}.yaml": base / f"{cfg.backbone}.yaml"}
        if cfg.roi_source != "auto":
            return {}
        d = paths.resolve(cfg.roi_detector)
        return {f"{use.key}/{p.name}": p for p in sorted(d.iterdir()) if p.is_file()}
    if use.folder == "data":
        if use.key == "images":  # 01 reads every radiograph clinical.csv names; the later steps the cohort's
            names = (read_text_csv(folder.clinical_csv, ("image",))["image"].str.strip() if cfg.notebook == "01_cohort"
                     else _cohort(lay)["image"])
            return {f"data_dir/{rel}": folder.image(rel) for rel in names}
        if use.key in ("measurements", "readings"):
            where = folder.measurements_dir if use.key == "measurements" else folder.readings_dir
            found = sorted(where.glob("*.csv")) if where.is_dir() else []
            return {f"data_dir/{p.relative_to(folder.root).as_posix()}": p for p in found}
        if use.key == "cortex":
            files = {f"data_dir/{folder.cortex_mask(p).relative_to(folder.root).as_posix()}": folder.cortex_mask(p)
                     for p in _cohort(lay)["patient_id"]}
            return {k: v for k, v in files.items() if v.is_file()}
        file = getattr(folder, DATA[use.key][0])
        return {f"data_dir/{DATA[use.key][1]}": file} if (file.is_file() or not use.optional) else {}
    free = use.free
    if not free:
        file = use.path(lay)
        if not use.optional:
            require(file, use.key)
        return {file.relative_to(lay.root).as_posix(): file} if file.is_file() else {}
    if free == ("patient_id",):
        members = [{"patient_id": p} for p in _cohort(lay)["patient_id"]]
    else:
        members = [{k: m[k] for k in free if k != "fold"} for m in _runs(cfg, lay, use)]
        if "fold" in free:  # every fold's kept model beyond fold 0's (sites held out): the folds of the splits
            n_folds = int(pd.read_csv(require(lay.splits_csv, "splits"), usecols=["fold"])["fold"].max()) + 1
            members = [{**m, "fold": f} for m in members for f in range(1, n_folds)]
    files = [use.path(lay, **m) for m in members]
    return {f.relative_to(lay.root).as_posix(): f for f in files if f.is_file()}


def declared_inputs(cfg) -> dict[str, Path]:
    """Every file the step of ``cfg`` (a notebook's validated parameters) declares it reads, as it is on
    disk now: the inputs its manifest hashes."""
    step = STEPS[cfg.notebook]
    folder = DataFolder(cfg.data_path) if hasattr(cfg, "data_path") else None
    out: dict[str, Path] = {}
    for use in step.reads:
        out.update(_resolve(use, cfg, cfg.layout, folder))
    return out


def _pattern(use: Use) -> re.Pattern:
    """A regular expression of the files of a study use, relative to the study folder."""
    fixed = dict(use.fixed)
    parts = []
    for literal, name, spec, _ in string.Formatter().parse(layout.FILES[use.key][0]):
        parts.append(re.escape(literal))
        if name:
            parts.append(re.escape(format(fixed[name], spec)) if name in fixed else r"[^/]+")
    return re.compile("".join(parts))


def declared_output(step: Step, relative: str) -> bool:
    """Whether a file (relative to the study folder) is one the step declares it writes."""
    return any(u.folder == "study" and _pattern(u).fullmatch(relative) for u in step.writes)


def write_manifest(cfg, outputs=(), extra: dict | None = None) -> Path:
    """The manifest of the step of ``cfg``, written last: its parameters, the environment, the SHA-256
    of every declared input (:func:`declared_inputs`) and of ``outputs``, each of which must be a
    file the step declares it writes."""
    step, lay = STEPS[cfg.notebook], cfg.layout
    for f in outputs:
        rel = Path(f).resolve().relative_to(lay.root.resolve()).as_posix()
        if not declared_output(step, rel):
            raise ValueError(f"{step.name} wrote {rel}, which the steps table does not declare (osteolib.steps)")
    job = {k: getattr(cfg, k) for k in step.job}
    if any(u.key == "images" for u in step.reads):  # how every radiograph became its 8-bit gray
        extra = {"image_display_rule": pixels.RULE, **(extra or {})}
    return repro.write_manifest(lay.manifest(step.name, **job), cfg.as_dict(), declared_inputs(cfg), list(outputs), extra)


# --- the table in words ----------------------------------------------------------------------------------

def table() -> pd.DataFrame:
    """The steps table as a tidy table: step, direction (reads / writes), folder, file, optional, what."""
    rows = []
    for s in STEPS.values():
        for direction, uses in (("reads", s.reads), ("writes", s.writes)):
            for u in uses:
                what = layout.FILES[u.key][1] if u.folder == "study" else ""
                rows.append({"step": s.name, "direction": direction, "folder": u.folder, "file": u.shown,
                             "optional": u.optional, "what": what})
        rows.append({"step": s.name, "direction": "writes", "folder": "study", "file": s.manifest_shown,
                     "optional": False, "what": "its manifest, written last: parameters, environment, hashes"})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.steps", description=__doc__.split("\n\n")[0])
    ap.add_argument("--markdown", action="store_true", help="as a markdown table")
    args = ap.parse_args(argv)
    t = table()
    print(t.to_markdown(index=False) if args.markdown else t.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
