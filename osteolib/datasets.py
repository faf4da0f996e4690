"""Images and covariates as tensors; the covariate scaler; the paper's augmentation on the device.

The ROIs of a study are small, so they are loaded once into one uint8 tensor of shape
(n_patients, height, width) on the training device; a batch is an index into it. Augmentation
and normalisation happen on the device, batch by batch, drawn from an explicit
:class:`torch.Generator`, so there is no per-image Python work and no DataLoader.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch
from PIL import Image

from . import steps
from .backbones import BackboneSpec
from .layout import StudyLayout
from .models import normalise
from .settings import AugmentationSettings

__all__ = ["load_rois", "CovariateScaler", "Augmentation", "to_input"]


def load_rois(layout: StudyLayout, patient_ids, device: str | torch.device = "cpu") -> torch.Tensor:
    """ROIs of ``patient_ids`` (in that order) as a (n, height, width) uint8 tensor on ``device``."""
    rois_dir = layout.rois_dir
    arrays = []
    for pid in patient_ids:
        file = steps.require(layout.roi_png(pid), "roi_png")
        arrays.append(np.asarray(Image.open(file).convert("L")))
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"ROIs in {rois_dir} differ in size: {sorted(shapes)}")
    return torch.from_numpy(np.stack(arrays)).to(device)


@dataclass(frozen=True)
class CovariateScaler:
    """Mean normalisation of age and BMI, one-hot sex: the 4-value covariate vector.

    ``x' = (x - mean) / (max - min)`` with mean, min and max of the training part of a fold only.
    Columns of the vector: age, bmi, sex_F, sex_M.

    Examples
    --------
    >>> train = pd.DataFrame({"age": [60, 80], "bmi": [20.0, 24.0], "sex": ["F", "M"]})
    >>> s = CovariateScaler.fit(train)
    >>> s.transform(pd.DataFrame({"age": [70], "bmi": [26.0], "sex": ["M"]})).tolist()
    [[0.0, 1.0, 0.0, 1.0]]
    """

    age_mean: float
    age_range: float
    bmi_mean: float
    bmi_range: float

    COLUMNS = ("age", "bmi", "sex_F", "sex_M")

    @classmethod
    def fit(cls, train: pd.DataFrame) -> "CovariateScaler":
        def rng(x: pd.Series) -> float:
            r = float(x.max() - x.min())
            return r if r > 0 else 1.0
        return cls(float(train["age"].mean()), rng(train["age"]), float(train["bmi"].mean()), rng(train["bmi"]))

    def transform(self, df: pd.DataFrame) -> torch.Tensor:
        """(n, 4) float32 tensor."""
        sex = df["sex"].to_numpy()
        x = np.stack([(df["age"].to_numpy(float) - self.age_mean) / self.age_range,
                      (df["bmi"].to_numpy(float) - self.bmi_mean) / self.bmi_range,
                      (sex == "F").astype(float), (sex == "M").astype(float)], axis=1)
        return torch.from_numpy(x.astype(np.float32))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def as_card(self) -> dict:
        """The scaler as a card records it (the ``covariates`` section): the vector's columns and the
        four statistics.

        >>> CovariateScaler.from_card(CovariateScaler(70.0, 40.0, 22.0, 10.0).as_card()).age_range
        40.0
        """
        return {"columns": list(self.COLUMNS), **self.as_dict()}

    @classmethod
    def from_card(cls, card: dict) -> "CovariateScaler":
        return cls(*(float(card[k]) for k in ("age_mean", "age_range", "bmi_mean", "bmi_range")))


class Augmentation(AugmentationSettings):
    """The paper's training augmentation (:class:`~osteolib.settings.AugmentationSettings`, which holds
    its parameters and their defaults), applied on the device."""

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Augment a (batch, 1, height, width) float batch in [0, 1]; returns a new tensor.

        Samples that draw no transform come back bit-identical.
        """
        b, _, h, w = x.shape
        dev = x.device
        u = lambda: torch.rand(b, generator=gen, device=dev)
        on_rot, angle = u() < self.p, (u() * 2 - 1) * math.radians(self.degrees)
        on_v, on_h = u() < self.p, u() < self.p
        on_b, fb = u() < self.p, 1 + (u() * 2 - 1) * self.brightness
        on_c, fc = u() < self.p, 1 + (u() * 2 - 1) * self.contrast
        view = lambda m: m.view(b, 1, 1, 1)
        out = torch.where(view(on_v), x.flip(-2), x)
        out = torch.where(view(on_h), out.flip(-1), out)
        # every sample goes through the sampler (no data-dependent indexing, so no GPU sync); the
        # unrotated ones are then taken back unchanged
        cos, sin = torch.cos(angle), torch.sin(angle)
        # rotation about the centre in pixel space, in affine_grid's normalised coordinates
        theta = torch.zeros(b, 2, 3, device=dev, dtype=x.dtype)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
        theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
        grid = torch.nn.functional.affine_grid(theta, [b, 1, h, w], align_corners=False)
        rotated = torch.nn.functional.grid_sample(out, grid, mode="bilinear", padding_mode="zeros",
                                                  align_corners=False)
        out = torch.where(view(on_rot), rotated, out)
        out = torch.where(view(on_b), out * view(fb).to(x.dtype), out)
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = torch.where(view(on_c), (out - mean) * view(fc).to(x.dtype) + mean, out)
        return out.clamp(0, 1)


def to_input(images: torch.Tensor, spec: BackboneSpec, dtype: torch.dtype = torch.float32,
             augment: Augmentation | None = None, gen: torch.Generator | None = None,
             channels_last: bool = False) -> torch.Tensor:
    """uint8 (batch, h, w) ROIs -> normalised (batch, 3, h, w) input of the backbone ``spec``.

    Gray is repeated to 3 channels and normalised with the backbone's mean and SD
    (:func:`osteolib.models.normalise`, as Grad-CAM's wrapper does).
    """
    x = images.unsqueeze(1).to(torch.float32).div_(255.0)
    if augment is not None:
        x = augment(x, gen)
    x = normalise(x, spec).to(dtype)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()
