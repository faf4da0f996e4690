"""The backbone registry: what the project knows about each network it can train, as data.

Each backbone is registered once with its library and constructor name, the size of its pooled
features, the layer Grad-CAM explains, its input normalisation and the ImageNet weights its library
publishes (with the prefix of their classifier, which is not loaded). An unknown name is an error
that lists the valid ones (as ``timm.create_model`` and ``torchvision.models.get_model`` do).

The paper's six come from torchvision and efficientnet-pytorch, as the published protocol built them.
The newer networks (the paper's future work: lighter and more accurate) come from timm, one of each
family: a mobile network (MobileNetV3), EfficientNetV2, ConvNeXt, RegNet and two vision
transformers (DeiT). For those the weights, classifier prefix and normalisation are timm's pretrained
configuration of the tag named here (``tests/test_models.py`` checks them against timm's own). Their
Grad-CAM layer is ``backbone.grid``: the network's last feature map in (batch, channels, rows,
columns), which for a transformer is its patch tokens (after the final LayerNorm) laid back on
their grid. A transformer takes the ROI's own size (timm's ``dynamic_img_size``: the position
embeddings are interpolated to the ROI's patch grid) and, where a side is not a multiple of the
16-pixel patch, pads it at the bottom and right (``dynamic_img_pad``; the demo's 32 x 64 ROI needs
none; with padding, Grad-CAM's grid covers the padded image and is scaled onto the ROI, so it is
shifted by at most the padding). It pools the average of its patch tokens (``global_pool='avg'``), so
that the last layer's tokens are what the head reads.

Pure data (no torch): the parameter validation of the notebooks and the workflow reads it without
loading a network library; :mod:`osteolib.models` builds the networks.

Examples
--------
>>> spec("resnet18").features, spec("efficientnet-b0").cam_layer
(512, 'backbone._conv_head')
>>> spec("resnet19")
Traceback (most recent call last):
...
osteolib.errors.ParameterError: unknown backbone 'resnet19'; valid: resnet18, resnet50, resnet152, efficientnet-b0, efficientnet-b3, efficientnet-b7, mobilenetv3_large_100, efficientnetv2_rw_t, convnext_atto, regnety_004, deit_tiny_patch16_224, deit_small_patch16_224
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ParameterError

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "BackboneSpec", "REGISTRY", "spec", "names", "paper_names"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    """What the project knows about one backbone."""

    name: str
    library: str            # "torchvision", "efficientnet-pytorch" or "timm"
    features: int           # size of the pooled feature vector
    cam_layer: str          # attribute path inside OsteoNet, for Grad-CAM
    weights_url: str        # the ImageNet weights its library publishes (file name carries the hash)
    classifier: str         # prefix of the ImageNet classifier's keys in that file (not loaded)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    tag: str = ""           # timm: the pretrained tag whose configuration gives weights and normalisation
    options: tuple = ()     # timm: (keyword, value) pairs for timm.create_model
    guided: bool = True     # whether guided backpropagation is defined for it (not for a transformer)
    paper: bool = False     # one of the paper's six

    @property
    def family(self) -> str:
        return _FAMILY[self.name]

    @property
    def weights_file(self) -> str:
        return self.weights_url.rsplit("/", 1)[-1]

    @property
    def weights_hash(self) -> str:
        """The SHA-256 prefix in the published file name (torch.hub's convention)."""
        return re.search(r"-([a-f0-9]{8,})\.", self.weights_file).group(1)


_TV = "https://download.pytorch.org/models/"
_EN = "https://github.com/lukemelas/EfficientNet-PyTorch/releases/download/1.0/"
_TIMM = "https://github.com/rwightman/pytorch-image-models/releases/download/"
_DEIT = "https://dl.fbaipublicfiles.com/deit/"
_VIT = (("dynamic_img_size", True), ("dynamic_img_pad", True), ("global_pool", "avg"), ("fc_norm", False))
REGISTRY: dict[str, BackboneSpec] = {s.name: s for s in (
    BackboneSpec("resnet18", "torchvision", 512, "backbone.layer4", _TV + "resnet18-f37072fd.pth", "fc.", paper=True),
    BackboneSpec("resnet50", "torchvision", 2048, "backbone.layer4", _TV + "resnet50-0676ba61.pth", "fc.", paper=True),
    BackboneSpec("resnet152", "torchvision", 2048, "backbone.layer4", _TV + "resnet152-394f9c45.pth", "fc.", paper=True),
    BackboneSpec("efficientnet-b0", "efficientnet-pytorch", 1280, "backbone._conv_head", _EN + "efficientnet-b0-355c32eb.pth",
                 "_fc.", paper=True),
    BackboneSpec("efficientnet-b3", "efficientnet-pytorch", 1536, "backbone._conv_head", _EN + "efficientnet-b3-5fb5a3c3.pth",
                 "_fc.", paper=True),
    BackboneSpec("efficientnet-b7", "efficientnet-pytorch", 2560, "backbone._conv_head", _EN + "efficientnet-b7-dcc49843.pth",
                 "_fc.", paper=True),
    # timm (issue: lighter and stronger networks); features = what the head reads (timm's head_hidden_size)
    BackboneSpec("mobilenetv3_large_100", "timm", 1280, "backbone.grid",
                 _TIMM + "v0.1-weights/mobilenetv3_large_100_ra-f55367f5.pth", "classifier.", tag="ra_in1k"),
    BackboneSpec("efficientnetv2_rw_t", "timm", 1024, "backbone.grid",
                 _TIMM + "v0.1-weights/efficientnetv2_t_agc-3620981a.pth", "classifier.", tag="ra2_in1k"),
    BackboneSpec("convnext_atto", "timm", 320, "backbone.grid",
                 _TIMM + "v0.1-rsb-weights/convnext_atto_d2-01bb0f51.pth", "head.fc.", tag="d2_in1k"),
    BackboneSpec("regnety_004", "timm", 440, "backbone.grid", _TV + "regnet_y_400mf-e6988f5f.pth", "head.fc.",
                 tag="tv2_in1k"),
    BackboneSpec("deit_tiny_patch16_224", "timm", 192, "backbone.grid", _DEIT + "deit_tiny_patch16_224-a1311bcf.pth",
                 "head.", tag="fb_in1k", options=_VIT, guided=False),
    BackboneSpec("deit_small_patch16_224", "timm", 384, "backbone.grid", _DEIT + "deit_small_patch16_224-cd65a155.pth",
                 "head.", tag="fb_in1k", options=_VIT, guided=False),
)}
_FAMILY = {"resnet18": "ResNet", "resnet50": "ResNet", "resnet152": "ResNet", "efficientnet-b0": "EfficientNet",
           "efficientnet-b3": "EfficientNet", "efficientnet-b7": "EfficientNet", "mobilenetv3_large_100": "MobileNetV3",
           "efficientnetv2_rw_t": "EfficientNetV2", "convnext_atto": "ConvNeXt", "regnety_004": "RegNet",
           "deit_tiny_patch16_224": "ViT (DeiT)", "deit_small_patch16_224": "ViT (DeiT)"}


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


def paper_names() -> list[str]:
    """The paper's six backbones."""
    return [n for n, s in REGISTRY.items() if s.paper]
