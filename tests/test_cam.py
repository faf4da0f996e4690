"""Grad-CAM and guided backpropagation (osteolib.cam), against pytorch-grad-cam where it applies."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from osteolib.settings import NetworkConfig
from osteolib import cam, models
from osteolib import settings
from osteolib import backbones
from osteolib.layout import StudyLayout

SIZE = (32, 64)


def _hooks(net: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in net.modules())


def _inputs(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    rois = torch.randint(0, 256, (n, *SIZE), dtype=torch.uint8, generator=g)
    cov = torch.rand(n, 4, generator=g)
    return rois, cov


@pytest.mark.parametrize("arm", settings.ARMS)
@pytest.mark.parametrize("backbone", list(backbones.REGISTRY))
def test_every_backbone_and_arm_gives_a_cam_in_0_1(backbone, arm):
    net = models.build(NetworkConfig(backbone, arm, SIZE), seed=1)
    types_before = [type(m) for m in net.modules()]
    rois, cov = _inputs()
    rois_before, cov_before = rois.clone(), cov.clone()
    with cam.Explainer(net, target="osteoporosis") as ex:
        e = ex.explain(rois, cov)
        assert _hooks(net) > 0, "pytorch-grad-cam's hooks are in place while in use"
    assert e.gradcam.shape == (2, *SIZE) and np.isfinite(e.gradcam).all()
    assert e.gradcam.min() >= 0 and e.gradcam.max() <= 1
    assert e.guided.shape == e.guided_gradcam.shape == (2, *SIZE)
    if backbones.spec(backbone).guided:
        assert np.isfinite(e.guided).all() and np.abs(e.guided).sum() > 0, "guided backpropagation reaches the input"
    else:  # a transformer: no guided map, said as NaN (not zeros, which would read as "no evidence")
        assert np.isnan(e.guided).all() and np.isnan(e.guided_gradcam).all()
    assert ((e.probability >= 0) & (e.probability <= 1)).all() and (e.target == 1).all()
    # nothing of the caller's changed: no hooks left, same modules, same tensors, no gradients kept
    assert _hooks(net) == 0
    assert [type(m) for m in net.modules()] == types_before
    assert torch.equal(rois, rois_before) and torch.equal(cov, cov_before) and not rois.requires_grad
    assert all(p.grad is None for p in net.parameters()), "no parameter gradients left behind"


def test_the_wrapper_sees_what_training_saw():
    """OneInput(gray / 255) equals the network on training's own input pipeline (datasets.to_input)."""
    from osteolib.datasets import to_input
    net = models.build(NetworkConfig("efficientnet-b0", "ensemble", SIZE), seed=2).eval()
    rois, cov = _inputs(3)
    wrapped = cam.OneInput(net)
    wrapped.covariates = cov
    with torch.no_grad():
        a = wrapped((rois.float() / 255).unsqueeze(1))
        b = net(to_input(rois, net.spec), cov)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def _silu_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.SiLU(), nn.Conv2d(6, 6, 3, padding=1), nn.SiLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 8), nn.SiLU(), nn.Linear(8, 2))


def _input_gradient(net, x, target=1):
    x = x.clone().requires_grad_(True)
    net(x)[:, target].sum().backward()
    return x.grad


def test_guided_backprop_on_silu_passes_only_positive_gradients():
    net = _silu_net()
    guided = cam.guided_copy(net)
    assert sum(isinstance(m, cam.GuidedActivation) for m in guided.modules()) == 3
    assert not any(isinstance(m, cam.GuidedActivation) for m in net.modules()), "the original is untouched"
    seen = []
    for m in guided.modules():
        if isinstance(m, cam.GuidedActivation):
            m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin[0], gout[0])))
    x = torch.randn(4, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    g_guided = _input_gradient(guided, x)
    g_plain = _input_gradient(net, x)
    assert len(seen) == 3
    for gin, gout in seen:
        assert (gin >= 0).all(), "each activation passes only positive gradients"
        assert (gout < 0).any(), "there were negative gradients to stop"
    assert not torch.allclose(g_guided, g_plain, atol=1e-6), "guided differs from the plain input gradient"


@pytest.mark.parametrize("kind, module, negative", [("silu", nn.SiLU(), True), ("gelu", nn.GELU(), True),
                                                    ("hardswish", nn.Hardswish(), True), ("relu", nn.ReLU(), False)])
def test_guided_rule_against_autograd(kind, module, negative):
    """backward = max(grad, 0) * max(f'(x), 0), with f' taken from autograd of PyTorch's own module (the
    reference); the forward pass is the module's."""
    x = torch.linspace(-6, 6, 241, dtype=torch.float64).requires_grad_(True)
    grad = torch.randn(241, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (local,) = torch.autograd.grad(module(x).sum(), x)
    guided = cam.GuidedActivation(kind)
    torch.testing.assert_close(guided(x), module(x))
    (ours,) = torch.autograd.grad(guided(x), x, grad)
    torch.testing.assert_close(ours, grad.clamp(min=0) * local.clamp(min=0))
    # SiLU's derivative is negative below about -1.28, GELU's below about -0.75, hard swish's between -3 and -1.5
    assert bool((local < 0).any()) == negative


@pytest.mark.parametrize("backbone", [n for n, s in backbones.REGISTRY.items() if s.library == "timm" and s.guided])
def test_every_rectifier_of_the_newer_cnns_is_guided(backbone):
    """No activation module of a timm CNN is left to plain backpropagation (e.g. ConvNeXt's GELU,
    MobileNetV3's hard swish inside timm's BatchNormAct2d)."""
    guided = cam.guided_copy(models.build(NetworkConfig(backbone, "image", SIZE), seed=0))
    left = [type(m).__name__ for m in guided.modules()
            if any(k in type(m).__name__.lower() for k in ("relu", "silu", "swish", "gelu"))
            and not isinstance(m, cam.GuidedActivation)]
    assert not left, left
    assert sum(isinstance(m, cam.GuidedActivation) for m in guided.modules()) >= 5


def test_a_transformer_has_no_guided_map():
    net = models.build(NetworkConfig("deit_tiny_patch16_224", "image", SIZE), seed=0)
    with pytest.raises(ValueError, match="transformer"):
        cam.guided_copy(net)


@pytest.mark.parametrize("arm", settings.ARMS)
def test_guided_backprop_on_relu_matches_pytorch_grad_cam(arm):
    from pytorch_grad_cam import GuidedBackpropReLUModel
    net = models.build(NetworkConfig("resnet18", arm, SIZE), seed=3).eval()
    rois, cov = _inputs(1, seed=4)
    with cam.Explainer(net, target="osteoporosis") as ex:
        ours = ex.explain(rois, cov).guided[0]
    reference_model = cam.OneInput(copy.deepcopy(net)).eval()
    reference_model.covariates = cov
    theirs = GuidedBackpropReLUModel(reference_model, device="cpu")((rois.float() / 255).unsqueeze(1), 1)
    assert np.abs(ours).max() > 0
    np.testing.assert_allclose(ours, theirs[..., 0], rtol=1e-4, atol=1e-7 * np.abs(ours).max())


def test_memory_efficient_swish_is_handled_like_swish():
    from efficientnet_pytorch.utils import MemoryEfficientSwish
    net = models.build(NetworkConfig("efficientnet-b0", "image", SIZE), seed=5).eval()
    efficient = copy.deepcopy(net)
    for m in efficient.modules():
        if hasattr(m, "set_swish"):
            m.set_swish(memory_efficient=True)
    efficient.backbone._swish = MemoryEfficientSwish()
    assert any(isinstance(m, MemoryEfficientSwish) for m in efficient.modules())
    rois, _ = _inputs(2, seed=6)
    with cam.Explainer(net, "osteoporosis") as a, cam.Explainer(efficient, "osteoporosis") as b:
        ga, gb = a.explain(rois).guided, b.explain(rois).guided
    np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-6 * np.abs(ga).max())


def test_unsupported_activation_is_an_error():
    with pytest.raises(ValueError, match="GELU"):
        cam.guided_copy(nn.Sequential(nn.Linear(2, 2), nn.GELU(approximate="tanh")))
    with pytest.raises(ValueError, match="Mish"):
        cam.guided_copy(nn.Sequential(nn.Linear(2, 2), nn.Mish()))


def test_ensemble_arm_needs_covariates():
    net = models.build(NetworkConfig("resnet18", "ensemble", SIZE), seed=0)
    with cam.Explainer(net) as ex, pytest.raises(ValueError, match="covariate"):
        ex.explain(_inputs()[0])


def test_cortex_bands_lie_in_every_roi(tiny_study, tiny_data):
    import pandas as pd
    ids = pd.read_csv(tiny_study / "cohort" / "cohort.csv", dtype={"patient_id": str})["patient_id"][:20]
    bands = cam.cortex_bands(tiny_data, StudyLayout(tiny_study), ids)
    assert bands.shape == (20, *SIZE) and bands.dtype == bool
    area = bands.mean(axis=(1, 2))
    assert (area > 0.01).all() and (area < 0.6).all(), "the ROI holds part of the cortex, not only cortex"
    per = cam.localisation(np.ones((20, *SIZE)), bands, ids)
    np.testing.assert_allclose(per["cam_in_band"], area)  # a flat CAM: mass share = area share
    np.testing.assert_allclose(per["enrichment"], 1.0)


def test_no_kept_models_says_which_notebook_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run notebooks/03_train.ipynb"):
        cam.kept_models(StudyLayout(tmp_path))


def test_localisation_intervals_hold_their_means():
    """Skewed per-patient shares (most CAMs miss the band, a few sit on it): each reported interval
    contains the mean reported beside it (a logit-scale interval would be one of the mean logit)."""
    import pandas as pd
    from osteolib.cam.pipeline import summarise_localisation
    rng = np.random.default_rng(0)
    share = np.clip(rng.beta(0.4, 2.0, 150), 1e-4, None)
    per = pd.DataFrame({"backbone": "resnet18", "arm": "image", "patient_id": [f"P{i}" for i in range(150)],
                        "cam_in_band": share, "band_area": np.full(150, 0.16)})
    row = summarise_localisation(per.assign(enrichment=per["cam_in_band"] / per["band_area"])).iloc[0]
    for col in ("cam_in_band", "band_area", "enrichment"):
        assert row[f"{col}_ci_low"] <= row[col] <= row[f"{col}_ci_high"], col
