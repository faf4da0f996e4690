"""Frozen, validated parameters for each notebook.

A notebook's tagged ``parameters`` cell holds literals; papermill injects overrides after it and
only *warns* about names the notebook does not know. The cell after it therefore calls
:meth:`Params.from_namespace`, which turns the notebook's globals into a frozen dataclass and
stops on an unknown or mistyped name. A profile in ``params/`` (``-f params/demo.yaml``) is shared
by all notebooks, so a name that belongs to another notebook is accepted and ignored there.

Examples
--------
>>> CohortParams.from_namespace({"study": "x", "n_folds": 5}).study
'x'
>>> CohortParams.from_namespace({"n_fold": 5})
Traceback (most recent call last):
...
osteolib.config.ParameterError: unknown parameter 'n_fold' (did you mean 'n_folds'?)
"""
from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import yaml

from . import paths

_LITERAL = (str, int, float, bool, list, tuple, dict, type(None))
_IPYTHON_NAMES = {"In", "Out"}


class ParameterError(ValueError):
    """A notebook parameter that is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Params:
    """Base class: type checking and construction from a notebook namespace."""

    registry: ClassVar[dict[str, type["Params"]]] = {}
    notebook: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.notebook:
            Params.registry[cls.notebook] = cls

    def __post_init__(self):
        for f in fields(self):
            value, kind = getattr(self, f.name), f.type
            expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(kind)
            ok = expected is None or (isinstance(value, expected)
                                      and not (kind in ("int", "float") and isinstance(value, bool)))
            if not ok:
                raise ParameterError(f"parameter {f.name!r} must be {kind}, got {value!r}")
            if kind == "float":
                object.__setattr__(self, f.name, float(value))
        self.check()

    def check(self) -> None:
        """Range checks of a subclass."""

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

    @property
    def study_dir(self) -> Path:
        return paths.study_dir(self.study)  # type: ignore[attr-defined]

    @property
    def data_path(self) -> Path:
        return paths.data_dir(self.study, self.data_dir)  # type: ignore[attr-defined]


def _names(text: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``: a comma-separated parameter as a list."""
    return [t.strip() for t in text.split(",") if t.strip()]


def _check_backbones(backbones: list[str], where: str = "") -> None:
    from . import models
    for b in backbones:
        if b not in models.REGISTRY:
            raise ParameterError(f"unknown backbone {b!r}{where}; valid: {', '.join(models.REGISTRY)}")


def _check_arms(arms: list[str]) -> None:
    from . import models
    for arm in arms:
        if arm not in models.ARMS:
            raise ParameterError(f"unknown arm {arm!r} in arms; valid: {', '.join(models.ARMS)}")


def _check_study(study: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", study):
        raise ParameterError(f"study {study!r} must be a plain folder name (letters, digits, _ . -)")


@dataclass(frozen=True)
class CohortParams(Params):
    """Parameters of ``01_cohort.ipynb``: data, cohort, splits."""

    notebook: ClassVar[str] = "01_cohort"
    study: str = "demo"
    data_dir: str = ""
    n_screened: int = 902
    image_scale: float = 0.16
    seed: int = 0
    n_repeats: int = 30
    n_folds: int = 5

    def check(self) -> None:
        _check_study(self.study)
        if self.n_screened < 20:
            raise ParameterError("n_screened must be at least 20")
        if not 0.02 <= self.image_scale <= 1.0:
            raise ParameterError("image_scale must lie in [0.02, 1]")
        if self.n_repeats < 1 or self.n_folds < 2:
            raise ParameterError("n_repeats must be >= 1 and n_folds >= 2")


@dataclass(frozen=True)
class RoiParams(Params):
    """Parameters of ``02_roi.ipynb``: the crop geometry, in pixels of the study's images."""

    notebook: ClassVar[str] = "02_roi"
    study: str = "demo"
    data_dir: str = ""
    roi_height: int = 40
    roi_width: int = 64
    roi_dx: int = 0
    roi_dy: int = 0
    roi_side: str = "left"
    roi_source: str = "landmarks"
    roi_detector: str = ""
    min_confidence: float = 0.5

    def check(self) -> None:
        _check_study(self.study)
        if self.roi_source not in ("landmarks", "auto"):
            raise ParameterError(f"roi_source must be 'landmarks' or 'auto', got {self.roi_source!r}")
        if self.roi_source == "auto" and not self.roi_detector:
            raise ParameterError("roi_source='auto' needs roi_detector: a folder written by "
                                 "`python -m osteolib.placement train`")
        if self.roi_height < 8 or self.roi_width < 8:
            raise ParameterError("roi_height and roi_width must be at least 8 pixels")
        if self.roi_side not in ("left", "right"):
            raise ParameterError(f"roi_side must be 'left' or 'right', got {self.roi_side!r}")

    @property
    def geometry(self):
        from .roi import RoiGeometry
        return RoiGeometry(self.roi_height, self.roi_width, self.roi_dx, self.roi_dy, self.roi_side)


def load_profile(name_or_path: str | Path) -> dict[str, Any]:
    """Read a profile from ``params/`` (by name, e.g. ``"smoke"``) or from a path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = paths.PARAMS / f"{name_or_path}.yaml"
    path = paths.resolve(path)
    with open(path) as f:
        profile = yaml.safe_load(f) or {}
    unknown = set(profile) - Params.known_names()
    if unknown:
        raise ParameterError(f"{path}: unknown parameter(s) {sorted(unknown)}")
    return profile


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
class TrainParams(Params):
    """Parameters of ``03_train.ipynb``. ``lr`` and ``batch_size`` of 0 take the backbone's own
    values from ``<backbone_params>/<backbone>.yaml`` (default ``params/``)."""

    notebook: ClassVar[str] = "03_train"
    study: str = "demo"
    backbone: str = "resnet18"
    arms: str = "image,ensemble"
    repeats: str = "0-1"
    max_epochs: int = 3
    patience: int = 2
    lr: float = 0.03
    batch_size: int = 0
    backbone_params: str = ""
    hidden: int = 256
    pretrained: bool = False
    weights_dir: str = ""
    device: str = "auto"
    folds_at_once: int = 1
    retrain_changed: bool = False
    seed: int = 0

    def check(self) -> None:
        _check_study(self.study)
        _check_backbones([self.backbone])
        _check_arms(self.arm_list)
        parse_repeats(self.repeats, 10**6)
        if self.max_epochs < 1 or self.patience < 1 or self.lr < 0 or self.batch_size < 0 or self.folds_at_once < 1:
            raise ParameterError("max_epochs, patience and folds_at_once must be >= 1, lr and batch_size >= 0")

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

    def settings(self):
        """The :class:`osteolib.training.Settings` these parameters resolve to."""
        from .training import Settings
        own = self.backbone_defaults()
        return Settings(backbone=self.backbone, lr=self.lr or float(own["lr"]),
                        batch_size=self.batch_size or int(own["batch_size"]), max_epochs=self.max_epochs,
                        patience=self.patience, hidden=self.hidden, pretrained=self.pretrained,
                        weights_dir=self.weights_dir, seed=self.seed)


@dataclass(frozen=True)
class StatsParams(Params):
    """Parameters of ``04_stats.ipynb``."""

    notebook: ClassVar[str] = "04_stats"
    study: str = "demo"
    n_boot: int = 2000
    seed: int = 0

    def check(self) -> None:
        _check_study(self.study)
        if self.n_boot < 100:
            raise ParameterError("n_boot must be at least 100")


@dataclass(frozen=True)
class CamParams(Params):
    """Parameters of ``05_gradcam.ipynb``. ``backbones``: comma-separated, or ``"all"`` for every
    backbone with a kept model; ``arms``: comma-separated."""

    notebook: ClassVar[str] = "05_gradcam"
    study: str = "demo"
    data_dir: str = ""
    backbones: str = "resnet18,efficientnet-b0"
    arms: str = "image,ensemble"
    n_examples: int = 1
    cam_target: str = "predicted"
    device: str = "auto"

    def check(self) -> None:
        from . import cam
        _check_study(self.study)
        _check_backbones(self.backbone_list or [], " in backbones")
        _check_arms(self.arm_list)
        if self.cam_target not in cam.TARGETS:
            raise ParameterError(f"cam_target must be one of {', '.join(cam.TARGETS)}, got {self.cam_target!r}")
        if not 1 <= self.n_examples <= 20:
            raise ParameterError("n_examples (per category) must lie in 1..20")

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
class WorkflowParams(Params):
    """Settings of the Snakemake workflow that no notebook reads: how many repeats one training
    job runs (a job is the unit that is scheduled, retried and, on a cluster, given a time limit)."""

    notebook: ClassVar[str] = "workflow"
    repeats_per_job: int = 1

    def check(self) -> None:
        if self.repeats_per_job < 1:
            raise ParameterError("repeats_per_job must be >= 1")
