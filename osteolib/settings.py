"""The typed configurations of what the study builds, each knob with its one default: the paper's.

* :class:`NetworkConfig`: what a network is (backbone, arm, input size, head); what
  :func:`osteolib.models.build` takes and the ``network`` section of every saved network's card
  (:meth:`NetworkConfig.as_card`, :meth:`NetworkConfig.from_card`), in the spirit of timm's
  ``PretrainedCfg``;
* :class:`TrainingSettings`: how it is trained (SGD, epochs, early stopping, augmentation), recorded
  with every run;
* :class:`RoiGeometry`: where the region of interest is cut;
* :class:`MeasureSettings`: how the cortex is measured at a mental foramen (notebook 02b).

The defaults here are the published protocol's. A study chooses otherwise through its profile
(``params/demo.yaml`` for the demo); the notebooks' parameter dataclasses (:mod:`osteolib.config`)
take their defaults from here, and a card that lacks a key (an older one) is read with the default
from here. The one documented exception: a notebook's tagged parameters cell holds the *demo
profile's* values, so that a notebook run on its own is the demo (``tests/test_settings.py``
checks both rules). Pure data, no torch: the parameter validation of the notebooks and the
workflow reads this module without loading a network library.

Examples
--------
>>> NetworkConfig("resnet18", "ensemble", (32, 64)).fusion
'concat'
>>> NetworkConfig.from_card({"backbone": "resnet18", "arm": "image", "input_size": [32, 64]}).hidden
256
>>> RoiGeometry().box(1900.0, 1150.0)
(1700, 1150, 2100, 1400)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from . import backbones
from .errors import ParameterError

__all__ = ["ARMS", "FUSIONS", "CLASSES", "TARGETS", "N_COVARIATES", "check_arm", "check_fusion", "NetworkConfig",
           "AugmentationSettings", "TrainingSettings", "PAPER_PIXEL_MM", "RoiGeometry", "MeasureSettings"]

ARMS = ("image", "ensemble")
#: How the ensemble arm joins the covariates to the image: ``concat`` (the paper's head: pooled
#: features and covariates concatenated into the fully connected layers) or ``concat+skip`` (the
#: same, plus a linear path from the covariates straight to the logits; training starts it at the
#: covariates-only logistic regression of the fold's training part, :func:`osteolib.training.train_model`).
FUSIONS = ("concat", "concat+skip")
#: The head's two classes, in the order of its outputs; the positive class is the second.
CLASSES = ("non_osteoporosis", "osteoporosis")
#: What an explanation may target: the class the network chose, or always one class.
TARGETS = ("predicted", "osteoporosis", "non_osteoporosis")
#: The covariate vector of the ensemble arm: age, BMI, sex one-hot.
N_COVARIATES = 4


def check_arm(arm: str) -> str:
    """``arm`` if it is one of :data:`ARMS`; a ParameterError listing them otherwise."""
    if arm not in ARMS:
        raise ParameterError(f"unknown arm {arm!r}; valid: {', '.join(ARMS)}")
    return arm


def check_fusion(fusion: str) -> str:
    """``fusion`` if it is one of :data:`FUSIONS`; a ParameterError listing them otherwise."""
    if fusion not in FUSIONS:
        raise ParameterError(f"unknown fusion {fusion!r}; valid: {', '.join(FUSIONS)}")
    return fusion


@dataclass(frozen=True)
class NetworkConfig:
    """What a network is: the paper's head design on a registered backbone.

    Parameters
    ----------
    backbone : a registered name (:mod:`osteolib.backbones`).
    arm : ``"image"`` or ``"ensemble"`` (the latter takes the 4-value covariate vector).
    input_size : (height, width) of the ROI in pixels (EfficientNet's static padding needs it).
    hidden : units of the hidden fully connected layer of both heads.
    fusion : the ensemble arm's head (:data:`FUSIONS`); the paper's is ``concat``.
    stochastic_depth : EfficientNet's stochastic depth as its library sets it (the paper's); False
        turns it off (no effect on the ResNets).
    """

    backbone: str
    arm: str
    input_size: tuple[int, int]
    hidden: int = 256
    fusion: str = "concat"
    stochastic_depth: bool = True

    def __post_init__(self):
        backbones.spec(self.backbone)
        check_arm(self.arm)
        check_fusion(self.fusion)
        size = tuple(int(v) for v in self.input_size)
        if len(size) != 2 or min(size) < 1:
            raise ParameterError(f"input_size must be (height, width) in pixels, got {self.input_size!r}")
        object.__setattr__(self, "input_size", size)

    @property
    def spec(self) -> backbones.BackboneSpec:
        return backbones.spec(self.backbone)

    @property
    def skip(self) -> bool:
        """Whether the network has the covariates' linear path to the logits."""
        return self.arm == "ensemble" and self.fusion == "concat+skip"

    def as_card(self) -> dict:
        """The ``network`` section of a saved network's card (the normalisation is the registry's,
        recorded for a reader of the card).

        >>> NetworkConfig.from_card({"network": NetworkConfig("resnet18", "image", (32, 64)).as_card()})
        NetworkConfig(backbone='resnet18', arm='image', input_size=(32, 64), hidden=256, fusion='concat', stochastic_depth=True)
        """
        s = self.spec
        return {"backbone": self.backbone, "arm": self.arm, "input_size": list(self.input_size), "hidden": self.hidden,
                "fusion": self.fusion, "stochastic_depth": self.stochastic_depth,
                "normalisation": {"mean": list(s.mean), "std": list(s.std), "gray_to_rgb": "repeat"}}

    @classmethod
    def from_card(cls, card: dict) -> "NetworkConfig":
        """The configuration a card records: its ``network`` section, or (cards of format /1) the
        same keys at its top level; a key the card lacks takes the default above."""
        section = card.get("network", card)
        known = {"backbone", "arm", "input_size", "hidden", "fusion", "stochastic_depth"}
        return cls(**{k: v for k, v in section.items() if k in known})


@dataclass(frozen=True)
class AugmentationSettings:
    """The paper's training augmentation (applied by :class:`osteolib.datasets.Augmentation`): each
    transform applied to a sample with probability ``p``; rotation uniform in [-degrees, +degrees];
    vertical and horizontal flip; brightness and contrast factors uniform in [1 - x, 1 + x]."""

    p: float = 0.5
    degrees: float = 25.0
    brightness: float = 0.05
    contrast: float = 0.05


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that shapes a trained model, recorded with every run (``metrics.json``'s
    ``settings``): the paper's SGD, epochs and early stopping, and the network's head
    (:class:`NetworkConfig`'s defaults)."""

    backbone: str
    lr: float
    batch_size: int = 32
    max_epochs: int = 100
    patience: int = 20
    hidden: int = NetworkConfig.hidden
    fusion: str = NetworkConfig.fusion
    stochastic_depth: bool = NetworkConfig.stochastic_depth
    pretrained: bool = False
    weights_dir: str = ""
    momentum: float = 0.9
    weight_decay: float = 0.0
    seed: int = 0
    augmentation: dict = field(default_factory=lambda: asdict(AugmentationSettings()))

    def network(self, arm: str, input_size) -> NetworkConfig:
        """The network these settings train for ``arm`` on ROIs of ``input_size``."""
        return NetworkConfig(self.backbone, arm, tuple(input_size), self.hidden, self.fusion, self.stochastic_depth)

    @classmethod
    def from_params(cls, p) -> "TrainingSettings":
        """The settings notebook 03's parameters (:class:`osteolib.config.TrainParams`) resolve to:
        the fields they share, with a learning rate or batch size of 0 taken from the backbone's
        own file (``<backbone_params>/<backbone>.yaml``)."""
        own = p.backbone_defaults()
        shared = {f: getattr(p, f) for f in cls.__dataclass_fields__ if hasattr(p, f)}
        return cls(**{**shared, "lr": p.lr or float(own["lr"]), "batch_size": p.batch_size or int(own["batch_size"])})


#: The paper's device: about 0.1 mm per pixel (2964 x 1464 px panoramics), the synthetic cohort's at
#: scale 1; its 250 x 400 px ROI is 25 x 40 mm there.
PAPER_PIXEL_MM = 0.1


@dataclass(frozen=True)
class RoiGeometry:
    """Crop geometry: in pixels of the images it is applied to, or in millimetres.

    Parameters
    ----------
    height, width : ROI size in pixels of the ROI (paper: 250 x 400).
    dx : horizontal offset of the box centre from the landmark (+ towards the image's right), ROI pixels.
    dy : vertical offset of the box's top edge from the landmark (+ downwards), ROI pixels.
    side : which mental foramen, ``"left"`` (the patient's left, on the image's right) or ``"right"``.
    pixel_mm : 0 (default): the box is cut in the image's own pixels, as the paper did (250 x 400 px
        at its device's about 0.1 mm per pixel: 25 x 40 mm). > 0: the ROI's pixel size in mm: a box of
        ``height`` x ``width`` x ``pixel_mm`` mm is cut from each image by its own pixel spacing and
        resampled to ``height`` x ``width`` px, so devices of different spacing give the same anatomy.

    Examples
    --------
    >>> RoiGeometry(250, 400, pixel_mm=0.1).source_box(1900.0, 1150.0, (0.125, 0.125))
    (1740.0, 1150.0, 2060.0, 1350.0)
    """

    height: int = 250
    width: int = 400
    dx: int = 0
    dy: int = 0
    side: str = "left"
    pixel_mm: float = 0.0

    @property
    def in_mm(self) -> bool:
        return self.pixel_mm > 0

    def source_box(self, x: float, y: float, spacing: tuple[float, float]) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in pixels of an image of ``spacing`` (row, column mm) holding the box in mm."""
        row_mm, col_mm = spacing
        w, h = self.width * self.pixel_mm / col_mm, self.height * self.pixel_mm / row_mm
        x0 = x + self.dx * self.pixel_mm / col_mm - w / 2
        y0 = y + self.dy * self.pixel_mm / row_mm
        return tuple(float(round(v, 3)) for v in (x0, y0, x0 + w, y0 + h))

    def box(self, x: float, y: float) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), half-open, of the ROI for a landmark at (x, y)."""
        x0 = int(np.floor(x + self.dx - self.width / 2 + 0.5))
        y0 = int(np.floor(y + self.dy + 0.5))
        return x0, y0, x0 + self.width, y0 + self.height

    def scaled(self, factor: float) -> "RoiGeometry":
        """The same anatomy on images scaled by ``factor``."""
        r = lambda v: int(round(v * factor))
        return RoiGeometry(r(self.height), r(self.width), r(self.dx), r(self.dy), self.side)

    def as_card(self) -> dict:
        """The geometry as ``rois/geometry.json`` and a bundle's card record it.

        >>> RoiGeometry.from_card(RoiGeometry(40, 64).as_card())
        RoiGeometry(height=40, width=64, dx=0, dy=0, side='left', pixel_mm=0.0)
        """
        card = {"height": self.height, "width": self.width, "dx": self.dx, "dy": self.dy, "side": self.side,
                "pixel_mm": self.pixel_mm,
                "anchor": "box centred on the mental foramen's x (+ dx), top edge at its y (+ dy)"}
        if self.in_mm:
            mm = lambda v: round(v * self.pixel_mm, 4)
            return {**card, "units": "mm, cut from each image by its pixel spacing and resampled to height x width px",
                    "height_mm": mm(self.height), "width_mm": mm(self.width), "dx_mm": mm(self.dx),
                    "dy_mm": mm(self.dy)}
        return {**card, "units": "pixels of the study's radiographs (at the paper's device, about "
                                 f"{PAPER_PIXEL_MM} mm per pixel, {self.height * PAPER_PIXEL_MM:g} x "
                                 f"{self.width * PAPER_PIXEL_MM:g} mm)"}

    @classmethod
    def from_card(cls, card: dict) -> "RoiGeometry":
        return cls(int(card["height"]), int(card["width"]), int(card["dx"]), int(card["dy"]), card["side"],
                   float(card.get("pixel_mm", cls.pixel_mm)))


@dataclass(frozen=True)
class MeasureSettings:
    """How the mandibular cortex is measured at a mental foramen (:mod:`osteolib.indices.cortex`; lengths
    in radiographic mm). The defaults hold for panoramic radiographs of adults; ``magnification`` (about 1.25
    on panoramic units) turns a radiographic width into an anatomical one."""

    search_mm: tuple[float, float] = (5.0, 35.0)   # where the lower border is sought, below the foramen
    border_half_mm: float = 10.0                   # the border traced this far either side of the foramen
    border_step_mm: float = 0.5
    band_mm: float = 1.0                            # the profile averaged over parallel lines this wide
    max_width_mm: float = 9.0                       # the widest cortex considered
    min_width_mm: float = 0.3
    foramen_mm: float = 2.5                         # how far along the line from the landmark its centre may lie
    min_contrast: float = 3.0                       # cortex above marrow, in the fit's residual SDs
    magnification: float = 1.25                     # radiographic / anatomical length
    assumed_px_mm: float = 0.1                      # sets the search windows when an image has no spacing
