"""The networks of the study: a registered backbone (:mod:`osteolib.backbones`) under the paper's
two heads, built from a :class:`~osteolib.settings.NetworkConfig`.

Heads (the paper's design): the *image* arm maps the pooled CNN features through a fully connected
hidden layer with ReLU to 2 classes; the *ensemble* arm concatenates the 4-value covariate vector
(age, BMI, sex one-hot) to the pooled features before the same layers (and, with fusion
``concat+skip``, adds a linear path from the covariates straight to the logits).

Examples
--------
>>> net = build(NetworkConfig("resnet18", "ensemble", (50, 80)), seed=0)
>>> import torch
>>> net(torch.zeros(2, 3, 50, 80), torch.zeros(2, 4)).shape
torch.Size([2, 2])
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import torch
from torch import nn

from .backbones import BackboneSpec
from .settings import N_COVARIATES, NetworkConfig

__all__ = ["normalise", "OsteoNet", "build", "weight_candidates", "load_imagenet", "cam_layer"]


@functools.lru_cache(maxsize=16)
def _norm_tensors(mean: tuple, std: tuple, device: torch.device, dtype: torch.dtype):
    """(1, 3, 1, 1) mean and SD, made once per device and type (no copy per batch)."""
    return (torch.tensor(mean, device=device, dtype=dtype).view(1, 3, 1, 1),
            torch.tensor(std, device=device, dtype=dtype).view(1, 3, 1, 1))


def normalise(gray: torch.Tensor, s: BackboneSpec) -> torch.Tensor:
    """(batch, 1, h, w) gray in [0, 1] -> (batch, 3, h, w) network input: gray repeated to three
    channels and normalised with the backbone's mean and SD (training, Grad-CAM and screening alike)."""
    mean, std = _norm_tensors(tuple(s.mean), tuple(s.std), gray.device, gray.dtype)
    return (gray.expand(-1, 3, -1, -1) - mean) / std


class _EfficientNetFeatures(nn.Module):
    """efficientnet-pytorch without its classifier: image -> final feature map."""

    def __init__(self, name: str, input_size: tuple[int, int], stochastic_depth: bool = True):
        super().__init__()
        from efficientnet_pytorch import EfficientNet  # lazy: the ResNets never need this library
        # image_size fixes the static 'same' padding for this input size (else it pads for 224 x 224).
        # BatchNorm momentum 0.1 (PyTorch's default, as in the ResNets) instead of the TF-derived 0.01:
        # with ~17 steps per epoch on ~550 ROIs the running statistics would otherwise lag for
        # hundreds of steps and evaluation would see the initial statistics.
        net = EfficientNet.from_name(name, image_size=tuple(input_size), batch_norm_momentum=0.9)
        net.set_swish(memory_efficient=False)  # faster; the memory-efficient form matters only for huge batches
        self._conv_stem, self._bn0, self._blocks = net._conv_stem, net._bn0, net._blocks
        self._conv_head, self._bn1, self._swish = net._conv_head, net._bn1, net._swish
        # stochastic depth ("drop connect"), as the library sets it (0.2 for every b0-b7), or off
        self._drop_connect_rate = net._global_params.drop_connect_rate if stochastic_depth else 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._swish(self._bn0(self._conv_stem(x)))
        for i, block in enumerate(self._blocks):
            rate = self._drop_connect_rate * i / len(self._blocks) if self._drop_connect_rate else None
            x = block(x, drop_connect_rate=rate)
        return self._swish(self._bn1(self._conv_head(x)))

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        """The final feature map -> the vector the head reads (global average pooling)."""
        return torch.flatten(nn.functional.adaptive_avg_pool2d(fmap, 1), 1)


class _TorchvisionFeatures(nn.Module):
    """A torchvision ResNet without its pooling and classifier: image -> final feature map."""

    def __init__(self, name: str):
        super().__init__()
        import torchvision  # lazy: the EfficientNets never need this library
        net = torchvision.models.get_model(name, weights=None)
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        """The final feature map -> the vector the head reads (global average pooling)."""
        return torch.flatten(nn.functional.adaptive_avg_pool2d(fmap, 1), 1)


class _TimmFeatures(nn.Module):
    """A timm network without its classifier: image -> final feature map (batch, channels, rows,
    columns), passed through ``grid`` (an identity: the module Grad-CAM hooks); :meth:`pool` -> the
    vector timm's own head computes before its classifier (``forward_head(pre_logits=True)``: e.g.
    ConvNeXt's LayerNorm and MobileNetV3's 1x1 head convolution after pooling).

    A transformer's tokens (batch, tokens, channels) are laid back on the patch grid of this input
    (the prefix tokens, class and distillation, are dropped: the head averages the patch tokens)."""

    def __init__(self, spec: BackboneSpec):
        super().__init__()
        import timm  # lazy: the paper's six never need this library
        self.model = timm.create_model(spec.name, pretrained=False, num_classes=0, **dict(spec.options))
        self.grid = nn.Identity()
        self.tokens = hasattr(self.model, "patch_embed")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.model.forward_features(x)
        if self.tokens:
            rows, cols = self.model.patch_embed.dynamic_feat_size(x.shape[-2:])
            f = f[:, self.model.num_prefix_tokens:].transpose(1, 2).reshape(len(f), -1, rows, cols)
        return self.grid(f)

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        if self.tokens:  # = timm's global_pool='avg' over the patch tokens (fc_norm off: the final norm came first)
            return fmap.mean((2, 3))
        return self.model.forward_head(fmap, pre_logits=True)


def _features(config: NetworkConfig) -> nn.Module:
    library = config.spec.library
    if library == "torchvision":
        return _TorchvisionFeatures(config.backbone)
    if library == "timm":
        return _TimmFeatures(config.spec)
    return _EfficientNetFeatures(config.backbone, config.input_size, config.stochastic_depth)


class OsteoNet(nn.Module):
    """Backbone -> global average pooling -> [concat covariates] -> FC + ReLU -> FC(2), as ``config``
    describes it (:class:`~osteolib.settings.NetworkConfig`). With fusion ``concat+skip`` a linear
    layer maps the 4 covariates straight to the 2 logits, beside the paper's head; built at zero, so
    every other weight is initialised as in the paper's head."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config
        self.spec, self.arm, self.input_size = config.spec, config.arm, config.input_size
        self.backbone = _features(config)
        n_in = self.spec.features + (N_COVARIATES if self.arm == "ensemble" else 0)
        self.head = nn.Sequential(nn.Linear(n_in, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 2))
        self.skip = None
        if config.skip:
            self.skip = nn.Linear(N_COVARIATES, 2)
            nn.init.zeros_(self.skip.weight), nn.init.zeros_(self.skip.bias)

    def forward(self, x: torch.Tensor, covariates: torch.Tensor | None = None) -> torch.Tensor:
        return self.hidden_and_logits(x, covariates)[1]

    def hidden_and_logits(self, x: torch.Tensor, covariates: torch.Tensor | None = None
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's hidden layer (after its ReLU: what the output layer reads) and the logits; the
        logits are :meth:`forward`'s."""
        z = self.backbone.pool(self.backbone(x))
        if self.arm == "ensemble":
            if covariates is None:
                raise ValueError("the ensemble arm needs the covariates")
            covariates = covariates.to(z.dtype)
            z = torch.cat([z, covariates], dim=1)
        hidden = self.head[:-1](z)
        logits = self.head[-1](hidden)
        if self.arm == "ensemble" and self.skip is not None:
            logits = logits + self.skip(covariates)
        return hidden, logits


def build(config: NetworkConfig, seed: int, pretrained: bool = False, weights_dir: str | Path | None = None,
          download: bool = True) -> OsteoNet:
    """A freshly initialised network; the initial weights depend on ``seed`` only.

    With ``pretrained`` the backbone gets the ImageNet weights its library publishes
    (see :func:`load_imagenet`); the head is always initialised from ``seed``.
    """
    with torch.random.fork_rng(devices=[]):  # seeded init without disturbing the caller's RNG
        torch.manual_seed(seed)
        net = OsteoNet(config)
    if pretrained:
        load_imagenet(net, weights_dir, download)
    return net


def weight_candidates(s: BackboneSpec, weights_dir: str | Path | None) -> list[Path]:
    """Where the ImageNet weights file is looked for, in order."""
    out = [Path(weights_dir) / s.weights_file] if weights_dir else []
    return out + [Path(torch.hub.get_dir()) / "checkpoints" / s.weights_file]


def _verified(path: Path, s: BackboneSpec) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(s.weights_hash):
        raise ValueError(f"{path}: SHA-256 {digest[:12]}... does not match the published "
                         f"{s.weights_hash} of {s.weights_file}: the file is corrupt or not the published one")
    return path


def load_imagenet(net: OsteoNet, weights_dir: str | Path | None = None, download: bool = True) -> OsteoNet:
    """Load the published ImageNet weights into ``net.backbone`` (hash checked, no unpickling).

    Looks in ``weights_dir``, then in the standard torch cache (``torch.hub.get_dir()/checkpoints``);
    if absent and ``download``, fetches the file into the cache. Raises FileNotFoundError saying
    where to put which file when it can be neither found nor downloaded.
    """
    s = net.spec
    found = next((p for p in weight_candidates(s, weights_dir) if p.is_file()), None)
    if found is None and download:
        try:
            torch.hub.load_state_dict_from_url(s.weights_url, check_hash=True, progress=False,
                                               map_location="cpu", weights_only=True)
            found = weight_candidates(s, None)[0]
        except Exception as e:  # no network, proxy, ...
            reason = f" (download failed: {type(e).__name__})"
        else:
            reason = ""
    else:
        reason = "" if found else " (download disabled)"
    if found is None:
        places = " or ".join(str(p.parent) for p in weight_candidates(s, weights_dir))
        raise FileNotFoundError(f"ImageNet weights for {s.name} not found{reason}: download {s.weights_url} "
                                f"and put {s.weights_file} in {places}")
    if s.library == "timm":
        _load_timm(net, _verified(found, s))
        return net
    state = torch.load(_verified(found, s), map_location="cpu", weights_only=True)
    _load_backbone_state(net, state)
    return net


def _load_timm(net: OsteoNet, path: Path) -> None:
    """timm reads the (verified) file as its pretrained configuration says (its own key filter: e.g.
    DeiT's nested 'model' dict, the classifier dropped), into a network of the same construction;
    its weights are then copied, every key, into ``net``'s."""
    import timm  # lazy: the paper's six never need this library
    s = net.spec
    try:
        source = timm.create_model(f"{s.name}.{s.tag}", pretrained=True, num_classes=0,
                                   pretrained_cfg_overlay={"file": str(path), "hf_hub_id": None, "url": None},
                                   **dict(s.options))
        net.backbone.model.load_state_dict(source.state_dict(), strict=True)
    except (RuntimeError, KeyError) as e:
        raise ValueError(f"weights do not fit {s.name}: {str(e)[:300]}") from None


def _load_backbone_state(net: OsteoNet, state: dict[str, torch.Tensor]) -> None:
    state = {k: v for k, v in state.items() if not k.startswith(net.spec.classifier)}
    missing, unexpected = net.backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"weights do not fit {net.spec.name}: missing {missing[:3]}, unexpected {unexpected[:3]}")


def cam_layer(net: OsteoNet) -> nn.Module:
    """The module Grad-CAM explains (the last convolutional stage)."""
    module: nn.Module = net
    for part in net.spec.cam_layer.split("."):
        module = getattr(module, part)
    return module
