"""Frozen, validated parameters for each notebook.

A notebook's tagged ``parameters`` cell holds literals; papermill injects overrides after it and
only *warns* about names the notebook does not know. The cell after it therefore calls
:meth:`Params.from_namespace`, which turns the notebook's globals into a frozen dataclass and
stops on an unknown or mistyped name. A profile in ``params/`` (``-f params/demo.yaml``) is shared
by all notebooks, so a name that belongs to another notebook is accepted and ignored there.

A profile is validated once, by :func:`load_profile`: unknown keys are refused and every notebook's
parameters are built from it (so a bad value stops before any job runs). The workflow and the
notebooks share that code; the workflow then gives each notebook only the values it declares
(:func:`notebook_values`).

A parameter that sets a knob of the library (the network's head, the training loop, the ROI's
geometry) takes its default from the one place that owns it (:mod:`osteolib.settings`: the paper's
values); the notebooks' parameter cells hold the demo profile's values instead, so that a notebook
run on its own is the demo (the one exception, checked by ``tests/test_settings.py``).

Examples
--------
>>> CohortParams.from_namespace({"study": "x", "n_folds": 5}).study
'x'
>>> CohortParams.from_namespace({"n_fold": 5})
Traceback (most recent call last):
...
osteolib.errors.ParameterError: unknown parameter 'n_fold' (did you mean 'n_folds'?)
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import yaml

from . import backbones, paths, settings
from .datafolder import DataFolder
from .errors import ParameterError
from .layout import StudyLayout
from .settings import FUSIONS, TARGETS, MeasureSettings, NetworkConfig, RoiGeometry, TrainingSettings
from .synthetic import hospitals

__all__ = ["ParameterError", "default_from", "Params", "IngestParams", "CohortParams", "RoiParams", "IndicesParams", "TrainParams",
           "StatsParams", "CamParams", "ReadersParams", "ReadingParams",
           "ExternalParams", "WorkflowParams", "SPLITS", "load_profile", "profile_path", "notebook_values", "parse_repeats"]

_LITERAL = (str, int, float, bool, list, tuple, dict, type(None))
#: How notebook 01 splits: repeated stratified k-fold (``cv``), or one site held out per fold
#: (``leave_site_out``: internal-external cross-validation; the cohort needs a ``site`` column).
SPLITS = ("cv", "leave_site_out")


def _library(owner: type, name: str):
    """A parameter whose default is the library's own knob ``owner.name`` (:mod:`osteolib.settings`:
    the paper's value), recorded in the field's metadata (``default_from``) for the docs and tests."""
    return field(default=getattr(owner, name), metadata={"default_from": f"{owner.__name__}.{name}"})


def default_from(params: type, name: str) -> str | None:
    """Where a parameter's default comes from: ``"NetworkConfig.fusion"``, or None when the parameter
    is the notebook's own (its default is then the demo's, as in the notebook's parameters cell)."""
    return next(f.metadata.get("default_from") for f in fields(params) if f.name == name)
_IPYTHON_NAMES = {"In", "Out"}


@dataclass(frozen=True)
class Params:
    """Base class: type checking and construction from a notebook namespace."""

    registry: ClassVar[dict[str, type["Params"]]] = {}
    notebook: ClassVar[str] = ""
    #: Closed intervals ``name: (low, high)`` (None: unbounded) and allowed values ``name: (...)``.
    bounds: ClassVar[dict[str, tuple]] = {}
    choices: ClassVar[dict[str, tuple]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.notebook:
            Params.registry[cls.notebook] = cls

    def __post_init__(self):
        for f in fields(self):
            value, kind = getattr(self, f.name), f.type
            if kind == "str" and isinstance(value, int) and not isinstance(value, bool):
                # what a user types: papermill's -p repeats 0 (or a profile's repeats: 3) arrives as an int
                value = str(value)
                object.__setattr__(self, f.name, value)
            expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(kind)
            ok = expected is None or (isinstance(value, expected)
                                      and not (kind in ("int", "float") and isinstance(value, bool)))
            if not ok:
                raise ParameterError(f"parameter {f.name!r} must be {kind}, got {value!r}")
            if kind == "float":
                object.__setattr__(self, f.name, float(value))
        for name, (lo, hi) in self.bounds.items():
            v = getattr(self, name)
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                span = f"at least {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}]"
                raise ParameterError(f"{name} must be {span}, got {v!r}")
        for name, allowed in self.choices.items():
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        self.check()

    def check(self) -> None:
        """Checks of a subclass beyond its bounds and choices (call the base's too)."""

    @classmethod
    def known_names(cls) -> set[str]:
        return {f.name for p in Params.registry.values() for f in fields(p)}

    @classmethod
    def from_namespace(cls, namespace: dict[str, Any]) -> "Params":
        """Validate a notebook's globals (after papermill's injection) into this dataclass."""
        candidates = {k for k, v in namespace.items()
                      if not k.startswith("_") and k not in _IPYTHON_NAMES and isinstance(v, _LITERAL)}
        known = cls.known_names() | {f.name for f in fields(cls)}
        for name in sorted(candidates - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"unknown parameter {name!r}{hint}")
        own = {f.name: namespace[f.name] for f in fields(cls) if f.name in namespace}
        return cls(**own)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

def _names(text: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``: a comma-separated parameter as a list."""
    return [t.strip() for t in text.split(",") if t.strip()]


def _check_names(names: list[str], arms: list[str]) -> None:
    """Backbone and arm names, checked by their owners (:mod:`osteolib.backbones`, :mod:`osteolib.settings`)."""
    for b in names:
        backbones.spec(b)
    for arm in arms:
        settings.check_arm(arm)


@dataclass(frozen=True)
class StudyParams(Params):
    """A notebook of one study: ``study`` names its folder, ``outputs/<study>/``."""

    study: str = "demo"

    def check(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.study):
            raise ParameterError(f"study {self.study!r} must be a plain folder name (letters, digits, _ . -)")

    @property
    def study_dir(self) -> Path:
        return paths.study_dir(self.study)

    @property
    def layout(self) -> StudyLayout:
        """The study's files (:class:`osteolib.layout.StudyLayout`)."""
        return StudyLayout(self.study_dir)


@dataclass(frozen=True)
class DataParams(StudyParams):
    """A notebook that reads the study's data folder (empty ``data_dir``: the synthetic cohort)."""

    data_dir: str = ""

    @property
    def data_path(self) -> Path:
        return paths.data_dir(self.study, self.data_dir)


@dataclass(frozen=True)
class IngestParams(DataParams):
    """Parameters of ``00_data.ipynb``: a hospital export in, the study's data folder (``data_dir``) out.

    Empty ``mapping``: the worked example, the synthetic cohort exported as a hospital would
    (``n_screened`` patients, ``seed``) into ``data/<study>-export/`` and ingested into
    ``data/<study>-ingested/``. Otherwise ``data_dir`` is the folder to write, the one notebooks
    01-05 then read.

    ``landmark``: open the landmarking widget on the data folder (the one ingested; or, with an empty
    ``mapping`` and a ``data_dir``, that folder as it is, nothing ingested), reviewing the proposals of
    ``roi_detector`` when one is given. ``measure_reader``: open the measuring widget on the same folder for
    that clinician (the cortex below each landmarked foramen measured by hand and graded; notebook 02b
    compares it with the automatic measurement and with the other clinicians).
    """

    notebook: ClassVar[str] = "00_data"
    bounds: ClassVar[dict] = {"n_screened": (20, None)}
    mapping: str = ""
    key_file: str = ""
    n_screened: int = 902
    seed: int = 0
    landmark: bool = False
    roi_detector: str = ""
    measure_reader: str = ""

    def check(self) -> None:
        super().check()
        if self.measure_reader and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.measure_reader):
            raise ParameterError(f"measure_reader {self.measure_reader!r} must be a plain name (letters, digits, _ . -): "
                                 "it names the clinician's file measurements/<reader>.csv")
        if self.mapping and not self.data_dir:
            raise ParameterError("mapping is given but data_dir is empty: give the data folder to write (the one "
                                 "notebooks 01-05 read with the same data_dir)")

    @property
    def example(self) -> bool:
        """No mapping: the synthetic messy export is the input (a profile's data_dir is then left alone:
        it is the folder of data ingested before, or in the layout already) -- unless the notebook is
        only to landmark a given data_dir."""
        return not self.mapping and not self.landmark_only

    @property
    def landmark_only(self) -> bool:
        """Landmarking (or measuring) a data folder in the layout already: nothing ingested."""
        return (self.landmark or bool(self.measure_reader)) and not self.mapping and bool(self.data_dir)

    @property
    def ingesting(self) -> bool:
        return not self.landmark_only

    @property
    def landmark_path(self) -> Path:
        """The data folder the landmarking widget writes ``landmarks.csv`` into (and the measuring widget its
        ``measurements/<reader>.csv``)."""
        return paths.resolve(self.data_dir) if self.landmark_only else self.ingest_path

    @property
    def export_path(self) -> Path:
        return paths.data_root() / f"{self.study}-export"

    @property
    def mapping_path(self) -> Path:
        return paths.resolve(self.mapping) if self.mapping else self.export_path / "mapping.yaml"

    @property
    def ingest_path(self) -> Path:
        """The data folder written: ``data_dir``, or ``data/<study>-ingested`` for the example."""
        return paths.resolve(self.data_dir) if self.mapping else paths.data_root() / f"{self.study}-ingested"

    @property
    def key_path(self) -> Path:
        return paths.resolve(self.key_file) if self.key_file else DataFolder(self.ingest_path).key_csv


@dataclass(frozen=True)
class CohortParams(DataParams):
    """Parameters of ``01_cohort.ipynb``: data, cohort, splits."""

    notebook: ClassVar[str] = "01_cohort"
    bounds: ClassVar[dict] = {"n_screened": (20, None), "image_scale": (0.02, 1.0), "n_repeats": (1, None),
                              "n_folds": (2, None), "osteoporosis_t": (-7.0, 5.0)}
    n_screened: int = 902
    image_scale: float = 0.16
    seed: int = 0
    n_repeats: int = 30
    n_folds: int = 5
    osteoporosis_t: float = -2.5
    osteoporosis_t_inclusive: bool = True
    sites: str = ""
    split: str = "cv"

    def check(self) -> None:
        super().check()
        if self.split not in SPLITS:
            raise ParameterError(f"split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.sites:
            try:
                hospitals.parse(self.sites)
            except ValueError as e:
                raise ParameterError(f"sites: {e}") from None

    @property
    def by_site(self) -> bool:
        """Whether the splits hold one site out per fold (internal-external cross-validation)."""
        return self.split == "leave_site_out"


@dataclass(frozen=True)
class RoiParams(DataParams):
    """Parameters of ``02_roi.ipynb``: the crop geometry, in pixels of the study's images."""

    notebook: ClassVar[str] = "02_roi"
    bounds: ClassVar[dict] = {"roi_height": (8, None), "roi_width": (8, None), "min_confidence": (0.0, 1.0),
                              "roi_pixel_mm": (0.0, 5.0)}
    choices: ClassVar[dict] = {"roi_side": ("left", "right"), "roi_source": ("landmarks", "auto")}
    roi_height: int = _library(RoiGeometry, "height")
    roi_width: int = _library(RoiGeometry, "width")
    roi_dx: int = _library(RoiGeometry, "dx")
    roi_dy: int = _library(RoiGeometry, "dy")
    roi_side: str = _library(RoiGeometry, "side")
    roi_pixel_mm: float = _library(RoiGeometry, "pixel_mm")
    roi_source: str = "landmarks"
    roi_detector: str = ""
    min_confidence: float = 0.5

    def check(self) -> None:
        super().check()
        if self.roi_source == "auto" and not self.roi_detector:
            raise ParameterError("roi_source='auto' needs roi_detector: a folder written by "
                                 "`python -m osteolib.placement train`")

    @property
    def geometry(self) -> RoiGeometry:
        return RoiGeometry(self.roi_height, self.roi_width, self.roi_dx, self.roi_dy, self.roi_side, self.roi_pixel_mm)


@dataclass(frozen=True)
class IndicesParams(DataParams):
    """Parameters of ``02b_indices.ipynb``: what a dentist measures at the mental foramina (MCW, PMI, MCI).
    ``magnification``: the panoramic unit's (radiographic / anatomical length, for the anatomical width);
    ``seed``: the MCI grader's cross-fitting folds."""

    notebook: ClassVar[str] = "02b_indices"
    bounds: ClassVar[dict] = {"magnification": (1.0, 2.0)}
    magnification: float = _library(MeasureSettings, "magnification")
    seed: int = 0

    @property
    def settings(self) -> MeasureSettings:
        return MeasureSettings(magnification=self.magnification)


def profile_path(name_or_path: str | Path) -> Path:
    """``demo`` -> ``params/demo.yaml``; a path is taken from the repository root."""
    path = Path(name_or_path)
    return paths.resolve(path if path.suffix else paths.PARAMS / f"{name_or_path}.yaml")


def load_profile(name_or_path: str | Path) -> dict[str, Any]:
    """Read and validate a profile from ``params/`` (by name, e.g. ``"smoke"``) or from a path.

    Unknown keys are refused, and every notebook's parameters (and the workflow's) are built from
    it, so a value of the wrong type or out of range stops here, naming the file.
    """
    path = profile_path(name_or_path)
    with open(path) as f:
        profile = yaml.safe_load(f) or {}
    unknown = set(profile) - Params.known_names()
    if unknown:
        raise ParameterError(f"{path}: unknown parameter(s) {sorted(unknown)}")
    for cls in Params.registry.values():
        try:
            cls.from_namespace(profile)
        except ParameterError as e:
            raise ParameterError(f"{path}: {e}") from None
    return profile


def notebook_values(notebook: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The profile's values of the parameters ``notebook`` declares (what its job is given and what
    decides whether it reruns).

    >>> notebook_values("04_stats", {"study": "demo", "n_boot": 200, "max_epochs": 3})
    {'study': 'demo', 'n_boot': 200}
    """
    names = [f.name for f in fields(Params.registry[notebook])]
    return {k: profile[k] for k in names if k in profile}


def parse_repeats(text: str, n_available: int) -> list[int]:
    """``"all"``, ``"3"``, ``"0-9"`` or ``"0,2,5-7"`` -> sorted repeat numbers.

    >>> parse_repeats("0,2,5-7", 30)
    [0, 2, 5, 6, 7]
    """
    if text.strip() == "all":
        return list(range(n_available))
    out: set[int] = set()
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise ParameterError(f"repeats {text!r}: expected 'all', '3', '0-9' or '0,2,5-7'")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ParameterError(f"repeats {text!r}: {lo}-{hi} is empty")
        out.update(range(lo, hi + 1))
    return sorted(out)


@dataclass(frozen=True)
class TrainParams(StudyParams):
    """Parameters of ``03_train.ipynb``. ``lr`` and ``batch_size`` of 0 take the backbone's own
    values from ``<backbone_params>/<backbone>.yaml`` (default ``params/``)."""

    notebook: ClassVar[str] = "03_train"
    bounds: ClassVar[dict] = {"max_epochs": (1, None), "patience": (1, None), "lr": (0.0, None),
                              "batch_size": (0, None), "folds_at_once": (1, None)}
    choices: ClassVar[dict] = {"fusion": FUSIONS}
    backbone: str = "resnet18"
    arms: str = "image,ensemble"
    repeats: str = "0"
    max_epochs: int = _library(TrainingSettings, "max_epochs")
    patience: int = _library(TrainingSettings, "patience")
    lr: float = 0.0
    batch_size: int = 0
    backbone_params: str = ""
    hidden: int = _library(NetworkConfig, "hidden")
    fusion: str = _library(NetworkConfig, "fusion")
    stochastic_depth: bool = _library(NetworkConfig, "stochastic_depth")
    pretrained: bool = _library(TrainingSettings, "pretrained")
    weights_dir: str = _library(TrainingSettings, "weights_dir")
    device: str = "auto"
    folds_at_once: int = 1
    retrain_changed: bool = False
    seed: int = _library(TrainingSettings, "seed")

    def check(self) -> None:
        super().check()
        _check_names([self.backbone], self.arm_list)
        parse_repeats(self.repeats, 10**6)

    @property
    def arm_list(self) -> list[str]:
        return _names(self.arms)

    def backbone_defaults(self) -> dict[str, Any]:
        """``<backbone_params>/<backbone>.yaml`` (default ``params/``): the backbone's learning rate
        and batch size."""
        path = (paths.resolve(self.backbone_params) if self.backbone_params else paths.PARAMS) / f"{self.backbone}.yaml"
        values = load_profile(path)
        if values.get("backbone") != self.backbone:
            raise ParameterError(f"{path}: backbone must be {self.backbone!r}")
        return values


@dataclass(frozen=True)
class StatsParams(StudyParams):
    """Parameters of ``04_stats.ipynb``."""

    notebook: ClassVar[str] = "04_stats"
    bounds: ClassVar[dict] = {"n_boot": (100, None), "rope": (0.0, 0.5), "n_sim": (0, None), "harm": (0.0, 1.0)}
    n_boot: int = 2000
    seed: int = 0
    rope: float = 0.01
    n_sim: int = 200
    harm: float = 0.0


@dataclass(frozen=True)
class CamParams(DataParams):
    """Parameters of ``05_gradcam.ipynb``. ``backbones``: comma-separated, or ``"all"`` for every
    backbone with a kept model; ``arms``: comma-separated."""

    notebook: ClassVar[str] = "05_gradcam"
    bounds: ClassVar[dict] = {"n_examples": (1, 20)}
    backbones: str = "resnet18,efficientnet-b0"
    arms: str = "image,ensemble"
    n_examples: int = 1
    cam_target: str = "predicted"
    device: str = "auto"

    def check(self) -> None:
        super().check()
        _check_names(self.backbone_list or [], self.arm_list)
        if self.cam_target not in TARGETS:
            raise ParameterError(f"cam_target must be one of {', '.join(TARGETS)}, got {self.cam_target!r}")

    @property
    def backbone_list(self) -> list[str] | None:
        """None for ``"all"``."""
        if self.backbones.strip() == "all":
            return None
        return _names(self.backbones)

    @property
    def arm_list(self) -> list[str]:
        return _names(self.arms)


@dataclass(frozen=True)
class ExternalParams(DataParams):
    """Parameters of ``06_external.ipynb``: a study whose splits hold sites out (``split:
    leave_site_out``). ``backbones``/``arms`` as 05's; ``local_fraction``: the share of a site's patients
    given to updating the model carried there (stratified, seeded), the rest evaluates;
    ``learning_sizes``: the local sample sizes of the learning curve (comma-separated); ``draws``:
    stratified draws per size."""

    notebook: ClassVar[str] = "06_external"
    bounds: ClassVar[dict] = {"local_fraction": (0.1, 0.9), "draws": (1, None)}
    backbones: str = "resnet18,efficientnet-b0"
    arms: str = "image,ensemble"
    local_fraction: float = 0.5
    learning_sizes: str = "25,50,100"
    draws: int = 20
    seed: int = 0
    device: str = "auto"

    def check(self) -> None:
        super().check()
        _check_names(self.backbone_list, self.arm_list)
        try:
            sizes = self.size_list
        except ValueError:
            raise ParameterError(f"learning_sizes must be whole numbers, comma-separated; got {self.learning_sizes!r}") from None
        if not sizes or min(sizes) < 10:
            raise ParameterError(f"learning_sizes: at least one size, each at least 10; got {self.learning_sizes!r}")

    @property
    def backbone_list(self) -> list[str]:
        return _names(self.backbones)

    @property
    def arm_list(self) -> list[str]:
        return _names(self.arms)

    @property
    def size_list(self) -> list[int]:
        return [int(t) for t in _names(self.learning_sizes)]


@dataclass(frozen=True)
class ReadersParams(DataParams):
    """Parameters of ``07_readers.ipynb``: a reader study of one of the study's models (``aid_backbone``,
    ``aid_arm``: its repeat 0 predictions and, for the reading widget, its kept model), on ``n_cases`` cases read
    by ``n_readers`` readers (simulated on a synthetic cohort without clinicians' readings), on a ``reader_scale``
    of 0-100 or 5 points, with or without age, sex and BMI shown, two sessions ``washout_days`` apart, the
    MRMC covariances by the jackknife or DeLong's method; ``reader_ids``: the clinicians who will read, by name
    (empty: ``n_readers`` readers ``S1``..)."""

    notebook: ClassVar[str] = "07_readers"
    bounds: ClassVar[dict] = {"n_cases": (10, None), "n_readers": (2, None), "washout_days": (0, None)}
    choices: ClassVar[dict] = {"reader_scale": ("0-100", "5-point"), "covariance": ("jackknife", "delong")}
    aid_backbone: str = "resnet18"
    aid_arm: str = "ensemble"
    n_cases: int = 100
    n_readers: int = 5
    reader_scale: str = "0-100"
    show_covariates: bool = True
    washout_days: int = 28
    covariance: str = "jackknife"
    reader_ids: str = ""
    seed: int = 0

    def check(self) -> None:
        super().check()
        _check_names([self.aid_backbone], [self.aid_arm])
        bad = [r for r in self.reader_list or [] if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", r)]
        if bad:
            raise ParameterError(f"reader_ids: {bad[0]!r} is not a plain name (letters, digits, _ . -)")

    @property
    def reader_list(self) -> list[str] | None:
        """The clinicians who read (None: ``n_readers`` readers ``S1``.., simulated on the synthetic cohort)."""
        return _names(self.reader_ids) or None

    @property
    def backbone_list(self) -> list[str]:
        return [self.aid_backbone]

    @property
    def arm_list(self) -> list[str]:
        return [self.aid_arm]


@dataclass(frozen=True)
class ReadingParams(DataParams):
    """Parameters of ``08_reading.ipynb``: ``reader`` (one of notebook 07's ``reader_ids``) reads the study's
    reader-study cases in JupyterLab; the readings go to the data folder's ``readings/<reader>.csv``."""

    notebook: ClassVar[str] = "08_reading"
    reader: str = ""

    def check(self) -> None:
        super().check()
        if self.reader and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.reader):
            raise ParameterError(f"reader {self.reader!r} must be a plain name (letters, digits, _ . -)")


@dataclass(frozen=True)
class WorkflowParams(Params):
    """Settings of the Snakemake workflow that no notebook reads: how many repeats one training
    job runs (a job is the unit that is scheduled, retried and, on a cluster, given a time limit)."""

    notebook: ClassVar[str] = "workflow"
    bounds: ClassVar[dict] = {"repeats_per_job": (1, None)}
    repeats_per_job: int = field(default=1, metadata={"help": "repeats one training job runs (the unit the "
                                                              "workflow schedules, retries and gives a time limit)"})
