"""The backbone registry: what the project knows about each network it can train, as data.

Each backbone is registered once with its library and constructor name, the size of its pooled
features, the layer Grad-CAM explains, its input normalisation and the ImageNet weights its library
publishes (with the prefix of their classifier, which is not loaded). An unknown name is an error
that lists the valid ones (as ``timm.create_model`` and ``torchvision.models.get_model`` do).

Pure data (no torch): the parameter validation of the notebooks and the workflow reads it without
loading a network library; :mod:`osteolib.models` builds the networks.

Examples
--------
>>> spec("resnet18").features, spec("efficientnet-b0").cam_layer
(512, 'backbone._conv_head')
>>> spec("resnet19")
Traceback (most recent call last):
...
osteolib.errors.ParameterError: unknown backbone 'resnet19'; valid: resnet18, resnet50, resnet152, efficientnet-b0, efficientnet-b3, efficientnet-b7
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ParameterError

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "BackboneSpec", "REGISTRY", "spec", "names"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    """What the project knows about one backbone."""

    name: str
    library: str            # "torchvision" or "efficientnet-pytorch"
    features: int           # size of the pooled feature vector
    cam_layer: str          # attribute path inside OsteoNet, for Grad-CAM
    weights_url: str        # the ImageNet weights its library publishes (file name carries the hash)
    classifier: str         # prefix of the ImageNet classifier's keys in that file (not loaded)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    @property
    def weights_file(self) -> str:
        return self.weights_url.rsplit("/", 1)[-1]

    @property
    def weights_hash(self) -> str:
        """The SHA-256 prefix in the published file name (torch.hub's convention)."""
        return re.search(r"-([a-f0-9]{8,})\.", self.weights_file).group(1)


_TV = "https://download.pytorch.org/models/"
_EN = "https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/"
REGISTRY: dict[str, BackboneSpec] = {s.name: s for s in (
    BackboneSpec("resnet18", "torchvision", 512, "backbone.layer4", _TV + "resnet18-f37072fd.pth", "fc."),
    BackboneSpec("resnet50", "torchvision", 2048, "backbone.layer4", _TV + "resnet50-0676ba61.pth", "fc."),
    BackboneSpec("resnet152", "torchvision", 2048, "backbone.layer4", _TV + "resnet152-394f9c45.pth", "fc."),
    BackboneSpec("efficientnet-b0", "efficientnet-pytorch", 1280, "backbone._conv_head", _EN + "efficientnet-b0-355c32eb.pth",
                 "_fc."),
    BackboneSpec("efficientnet-b3", "efficientnet-pytorch", 1536, "backbone._conv_head", _EN + "efficientnet-b3-5fb5a3c3.pth",
                 "_fc."),
    BackboneSpec("efficientnet-b7", "efficientnet-pytorch", 2560, "backbone._conv_head", _EN + "efficientnet-b7-dcc49843.pth",
                 "_fc."),
)}


def spec(name: str) -> BackboneSpec:
    """The registered backbone ``name``; a ParameterError listing the valid names otherwise (the
    one check of a backbone name: notebooks, workflow and command lines all come here)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ParameterError(f"unknown backbone {name!r}; valid: {', '.join(REGISTRY)}") from None


def names() -> list[str]:
    """Every registered backbone, in registry order."""
    return list(REGISTRY)
