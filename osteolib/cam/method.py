"""The method: Grad-CAM, guided backpropagation and guided Grad-CAM of one network (no file or
study I/O here; :mod:`osteolib.cam.pipeline` runs it over a study's kept models).

Grad-CAM comes from pytorch-grad-cam, on the layer each backbone registers
(:func:`osteolib.models.cam_layer`). That library wants a one-input model, so the network is
wrapped (:class:`OneInput`) as ``f(gray ROI)``: the wrapper does the gray-to-RGB normalisation of
training (:func:`osteolib.models.normalise`) and, for the ensemble arm, holds the patients'
covariate vectors.
Gradients therefore come back in the pixels of the ROI itself.

Guided backpropagation is written here because no library does it for SiLU/Swish: pytorch-grad-cam
handles ReLU only, which leaves EfficientNet's guided maps meaningless. Each rectifier's backward
pass is replaced by its own local derivative with the negative parts of both that derivative and
the incoming gradient set to zero::

    grad_in = max(grad_out, 0) * max(f'(x), 0)

For ReLU (f' = 1[x > 0]) this is exactly Springenberg et al.'s guided rule; for SiLU
(f' = s(x) (1 + x (1 - s(x))), s the logistic function) it passes only positive gradients where the
unit responds positively. The same rule defines it for the newer networks' rectifiers: GELU (exact,
f' = Phi(x) + x phi(x), negative below about -0.75: ConvNeXt) and hard swish (f' = 0 below -3,
x/3 + 1/2 up to 3, 1 above: MobileNetV3). Normalisation layers (BatchNorm, and ConvNeXt's LayerNorm)
and the squeeze-and-excitation gates are not rectifiers: their gradient passes unchanged, as a
BatchNorm's always did here. Guided Grad-CAM = guided backpropagation x the upsampled Grad-CAM
(Selvaraju et al.).

For a vision transformer (a backbone registered with ``guided=False``) no guided map is made: the
path from a pixel to the output runs through attention, softmax(QK^T/sqrt(d)) V, a product of two
functions of the input, where the rectifier's sign rule does not say which paths are "guided" (zeroing
the negative gradients at the GELUs leaves the attention's mixing untouched, so the map is neither
Springenberg's nor class-discriminative; Chefer et al., CVPR 2021, show as much for gradient maps of
ViTs). Its guided and guided Grad-CAM maps are NaN ("not defined"), the figures say so, and its
Grad-CAM alone is shown: on the last layer's patch tokens laid on their grid, as for a CNN's map.

Use :class:`Explainer` as a context manager: its hooks are released on exit, the caller's network
(a private copy is made for guided backpropagation) and tensors are never modified.

Examples
--------
>>> import torch
>>> from osteolib import models
>>> from osteolib.settings import NetworkConfig
>>> net = models.build(NetworkConfig("resnet18", "ensemble", (40, 64)), seed=0)
>>> rois = torch.randint(0, 256, (2, 40, 64), dtype=torch.uint8)
>>> with Explainer(net) as ex:
...     cams = ex.gradcam(rois, covariates=torch.zeros(2, 4))
>>> cams.shape, float(cams.min()) >= 0, float(cams.max()) <= 1
((2, 40, 64), True, True)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from efficientnet_pytorch.utils import MemoryEfficientSwish, Swish
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from .. import models
from ..settings import TARGETS

__all__ = ["OneInput", "GuidedActivation", "guided_copy", "Explanation", "Explainer", "band_share"]


class OneInput(nn.Module):
    """``f(gray)``: a study network as the one-input model the CAM library expects.

    ``gray`` is a (batch, 1, height, width) float tensor in [0, 1] (the ROI / 255); the wrapper
    repeats it to 3 channels with the backbone's normalisation, exactly as training does
    (:func:`osteolib.models.normalise`) and, for the
    ensemble arm, appends ``self.covariates`` (set per batch by :class:`Explainer`).
    """

    def __init__(self, net: models.OsteoNet):
        super().__init__()
        self.net = net
        self.covariates: torch.Tensor | None = None

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        return self.net(models.normalise(gray, self.net.spec), self.covariates)


class _Guided(torch.autograd.Function):
    """A rectifier whose backward pass is the guided rule of the module docstring."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kind: str) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.kind = kind
        return _FORWARD[kind](x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        if ctx.kind == "relu":
            local = (x > 0).to(grad.dtype)
        elif ctx.kind == "silu":
            s = torch.sigmoid(x)
            local = (s * (1 + x * (1 - s))).clamp(min=0)
        elif ctx.kind == "gelu":
            local = (0.5 * (1 + torch.erf(x * 0.5 ** 0.5)) + x * torch.exp(-0.5 * x * x) / (2 * torch.pi) ** 0.5).clamp(min=0)
        else:  # hardswish: x relu6(x + 3) / 6
            local = torch.where(x < -3, torch.zeros_like(x), torch.where(x > 3, torch.ones_like(x), x / 3 + 0.5)).clamp(min=0)
        return grad.clamp(min=0) * local, None


_FORWARD = {"relu": torch.relu, "silu": nn.functional.silu, "gelu": nn.functional.gelu,
            "hardswish": nn.functional.hardswish}


class GuidedActivation(nn.Module):
    """Drop-in replacement of ReLU, SiLU/Swish, GELU (exact) or hard swish for guided backpropagation."""

    def __init__(self, kind: str):
        super().__init__()
        if kind not in _FORWARD:
            raise ValueError(f"unknown activation kind {kind!r}")
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _Guided.apply(x, self.kind)


def _activation_kinds() -> dict[type, str]:
    # efficientnet-pytorch's two Swish modules (the memory-efficient one has its own autograd) are SiLU;
    # timm's own GELU, Swish and HardSwish modules (not subclasses of PyTorch's) are what their names say
    from timm.layers import activations as ta  # lazy: importing timm takes a second the paper's six never need
    return {nn.ReLU: "relu", nn.SiLU: "silu", Swish: "silu", MemoryEfficientSwish: "silu", nn.Hardswish: "hardswish",
            ta.GELU: "gelu", ta.Swish: "silu", ta.HardSwish: "hardswish"}


def _unsupported() -> tuple[type, ...]:
    from timm.layers import activations as ta  # lazy: as in _activation_kinds
    return (nn.GELU, nn.ELU, nn.LeakyReLU, nn.Mish, nn.ReLU6, nn.PReLU, nn.SELU, nn.CELU,
            ta.GELUTanh, ta.QuickGELU, ta.Mish, ta.PReLU)


def _kind(module: nn.Module) -> str | None:
    if type(module) is nn.GELU:
        return "gelu" if module.approximate == "none" else None  # the tanh form's derivative is not written here
    return _activation_kinds().get(type(module))


def guided_copy(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with every ReLU, SiLU/Swish, GELU and hard swish module replaced by
    :class:`GuidedActivation`.

    Raises ValueError for activation modules the guided rule is not defined for here (ELU, Mish,
    GELU's tanh approximation, ...), rather than silently treating them as linear; and for a
    transformer (its attention: see the module docstring).
    """
    if any(m.__class__.__name__ == "Attention" for m in net.modules()):
        raise ValueError("guided backpropagation is not defined for a transformer (attention); use Grad-CAM alone")
    out = copy.deepcopy(net)
    unsupported = _unsupported()
    for parent in out.modules():
        for name, child in parent.named_children():
            kind = _kind(child)
            if kind is not None:
                setattr(parent, name, GuidedActivation(kind))
            elif isinstance(child, unsupported):
                raise ValueError(f"guided backpropagation does not handle {type(child).__name__} ({name})")
    return out


@dataclass(frozen=True)
class Explanation:
    """The maps of a batch, each (batch, height, width) float32, and the predictions."""

    gradcam: np.ndarray           # in [0, 1] per image (pytorch-grad-cam's scaling)
    guided: np.ndarray            # guided backpropagation, the gradient at each ROI pixel (NaN: not defined)
    guided_gradcam: np.ndarray    # guided x Grad-CAM (NaN for a transformer)
    probability: np.ndarray       # P(osteoporosis)
    target: np.ndarray            # the class explained (1 = osteoporosis)


class Explainer:
    """Grad-CAM and guided Grad-CAM of one trained network; a context manager.

    Parameters
    ----------
    net : an :class:`osteolib.models.OsteoNet` (image or ensemble arm); used in eval mode on its device.
    target : ``"predicted"`` (the class the network chose, as in the paper's figures),
        ``"osteoporosis"`` or ``"non_osteoporosis"``.
    """

    def __init__(self, net: models.OsteoNet, target: str = "predicted"):
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")
        self.target = target
        self._was_training = net.training
        self.net = net.eval()
        self.device = next(net.parameters()).device
        self._guided = None   # a transformer: no guided map (module docstring)
        if net.spec.guided:
            self._guided = OneInput(guided_copy(net)).eval()   # copied before any hook is registered
            for p in self._guided.parameters():   # only the input's gradient is wanted from the copy
                p.requires_grad_(False)
        self._model = OneInput(net)
        self._cam = GradCAM(model=self._model, target_layers=[models.cam_layer(net)])

    def __enter__(self) -> "Explainer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the CAM library's hooks from the network and restore its train/eval mode."""
        self._cam.activations_and_grads.release()
        self.net.train(self._was_training)

    def _inputs(self, rois: torch.Tensor, covariates: torch.Tensor | None):
        if rois.dim() == 2:
            rois = rois.unsqueeze(0)
        gray = (rois.to(self.device, torch.float32) / 255.0).unsqueeze(1)
        cov = None
        if self.net.arm == "ensemble":
            if covariates is None:
                raise ValueError("the ensemble arm needs the patients' covariate vectors")
            cov = covariates.to(self.device, torch.float32).reshape(len(gray), -1).clone()
        return gray, cov

    def _targets(self, logits: torch.Tensor) -> torch.Tensor:
        if self.target == "predicted":
            return logits.argmax(1)
        return torch.full((len(logits),), 1 if self.target == "osteoporosis" else 0, device=logits.device)

    def gradcam(self, rois: torch.Tensor, covariates: torch.Tensor | None = None) -> np.ndarray:
        """Grad-CAM of uint8 ROIs (batch, height, width): (batch, height, width) in [0, 1]."""
        return self.explain(rois, covariates, guided=False).gradcam

    def explain(self, rois: torch.Tensor, covariates: torch.Tensor | None = None,
                guided: bool = True) -> Explanation:
        """Grad-CAM, guided backpropagation and guided Grad-CAM of uint8 ROIs (batch, height, width)."""
        gray, cov = self._inputs(rois, covariates)
        with torch.no_grad():
            self._model.covariates = cov
            logits = self._model(gray)
        target = self._targets(logits)
        cams = self._cam(input_tensor=gray.clone(), targets=[ClassifierOutputTarget(int(t)) for t in target])
        self.net.zero_grad(set_to_none=True)  # the CAM library's backward pass leaves parameter gradients
        cams = np.nan_to_num(cams.astype(np.float32), nan=0.0)
        g = np.zeros_like(cams)
        if guided and self._guided is None:
            g = np.full_like(cams, np.nan)
        elif guided:
            x = gray.clone().requires_grad_(True)
            self._guided.covariates = cov
            out = self._guided(x)
            out.gather(1, target.view(-1, 1)).sum().backward()
            g = x.grad[:, 0].detach().cpu().numpy().astype(np.float32)
        p = torch.softmax(logits.float(), 1)[:, 1].cpu().numpy()
        return Explanation(cams, g, g * cams, p, target.cpu().numpy())


def band_share(cam: np.ndarray, band: np.ndarray) -> tuple[float, float]:
    """(share of the CAM's mass inside ``band``, share of the image that ``band`` covers).

    A CAM that ignores the band puts about the band's area share of its mass there; one that
    looks at the band puts more. A CAM with no mass at all gives nan.

    >>> cam = np.zeros((4, 4)); cam[1, :] = 1
    >>> band = np.zeros((4, 4), bool); band[:2] = True
    >>> band_share(cam, band)
    (1.0, 0.5)
    """
    total = float(cam.sum())
    inside = float(cam[band].sum()) / total if total > 0 else float("nan")
    return inside, float(band.mean())
