"""What a network costs (osteolib.cost), against published counts; the accuracy-against-cost table,
its Pareto front and the ensemble's gain against size; the page (osteolib.report networks)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from osteolib import cost, report, tradeoff
from osteolib.layout import StudyLayout


@pytest.mark.parametrize("backbone, weights", [("resnet18", "ResNet18_Weights"), ("regnety_004", "RegNet_Y_400MF_Weights")])
def test_multiply_adds_agree_with_torchvision_published_counts(backbone, weights):
    """torchvision publishes each model's operation count at 224 x 224 (GMACs); ours is the whole image-arm
    network (backbone + the paper's head instead of ImageNet's 1000-class classifier); regnety_004 is timm's
    network, torchvision's count."""
    import torchvision
    published = getattr(torchvision.models, weights).DEFAULT.meta["_ops"] * 1e9
    ours = cost.count(backbone, (224, 224))["macs"]
    assert ours == pytest.approx(published, rel=0.005)


def test_a_transformers_attention_is_counted():
    """DeiT-tiny at 224 x 224 by hand: the patch embedding, then per block the qkv, attention (QK^T and AV),
    projection and MLP products over 197 tokens of width 192 (the count would miss the attention's
    0.18 G with timm's fused kernel)."""
    t, d, blocks = 197, 192, 12
    per_block = 3 * t * d * d + 2 * t * t * d + t * d * d + 2 * t * d * 4 * d
    by_hand = 196 * d * 3 * 16 * 16 + blocks * per_block + d * 256 + 256 * 2
    assert cost.count("deit_tiny_patch16_224", (224, 224))["macs"] == pytest.approx(by_hand, rel=1e-3)


def test_latency_is_measured_beside_the_reference():
    out = cost.latency(["resnet18", "convnext_atto"], (32, 64), warmup=1, repeats=3)
    assert list(out.backbone) == ["resnet18", "convnext_atto"]
    assert (out.latency_ms > 0).all() and (out.reference_ms > 0).all()
    np.testing.assert_allclose(out.latency_ratio, out.latency_ms / out.reference_ms)


def test_pareto_front():
    c = pd.Series([10, 20, 30, 40, 50])
    v = pd.Series([0.80, 0.78, 0.85, 0.85, 0.90])
    assert tradeoff.pareto(c, v).tolist() == [True, False, True, False, True]


def _tables():
    names = ["a", "b", "c", "d"]
    costs = pd.DataFrame({"backbone": names, "family": "x", "paper": [True, False, False, True],
                          "params": [1e6, 2e6, 4e6, 8e6], "backbone_params": [1e6] * 4, "macs": [1e7, 2e7, 4e7, 8e7],
                          "latency_ms": [1.0, 2.0, 3.0, 4.0], "latency_ratio": [0.5, 1.0, 1.5, 2.0],
                          "reference_ms": 2.0, "threads": 1, "epoch_seconds_image": [1.0, 2, 3, 4],
                          "epoch_seconds_ensemble": [1.0, 2, 3, 4], "input_size": "32x64", "device": "cpu",
                          "commit": "abc"})
    auc = pd.concat([pd.DataFrame({"backbone": names, "arm": arm, "auc": a, "ci_low": np.array(a) - 0.03,
                                   "ci_high": np.array(a) + 0.03})
                     for arm, a in (("image", [0.70, 0.75, 0.80, 0.82]), ("ensemble", [0.85, 0.86, 0.86, 0.85]))])
    comp = pd.concat([pd.DataFrame({"backbone": names, "comparison": "ensemble vs image", "metric": "auc",
                                    "test": test, "difference": [0.15, 0.11, 0.06, 0.03],
                                    "diff_ci_low": [0.1, 0.05, 0.0, -0.02], "diff_ci_high": [0.2, 0.15, 0.1, 0.08],
                                    "p_value": p, "p_holm": p})
                      for test, p in (("paired patient-level bootstrap of the AUC difference", np.nan),
                                      ("DeLong within each repeat", [0.001, 0.01, 0.05, 0.3]))])
    return costs, auc, comp


def test_accuracy_beside_cost_and_the_gain_against_size():
    t = tradeoff.accuracy_cost(*_tables())
    assert t.set_index("backbone").loc["b", "image_auc"] == 0.75 and t.set_index("backbone").loc["c", "gain_p"] == 0.05
    assert t.set_index("backbone").loc["a", "gain_ci_low"] == 0.1
    assert t.front_image_macs.tolist() == [True, True, True, True] and t.front_ensemble_macs.tolist() == [True, True, False, False]
    g = tradeoff.gain_against_size(t, "macs")
    assert g["n"] == 4 and g["rho"] == pytest.approx(-1.0)


def test_the_networks_page_says_what_the_table_shows(tmp_path):
    from osteolib import repro
    layout = StudyLayout(tmp_path / "networks")
    t = tradeoff.accuracy_cost(*_tables())
    (layout.root / "cost").mkdir(parents=True)
    repro.write_manifest(layout.manifest("04_stats"), {"n_folds": 3, "max_epochs": 8, "repeats": "0"}, {})
    t.to_csv(layout.root / "cost" / "accuracy_cost.csv", index=False)
    page = report.networks_page(layout)
    assert "| a (paper)" in page and "0.750 (0.720-0.780)" in page
    assert "ensemble arm, by multiply-adds: `a`" in page and "image arm, by multiply-adds: `a`, `b`, `c`, `d`" in page
    assert "Spearman rho -1.00 over 4 backbones" in page and "smaller networks gain more here" in page
    t.assign(gain=t.gain[::-1].to_numpy()).to_csv(layout.root / "cost" / "accuracy_cost.csv", index=False)
    assert "this study does not show that smaller networks gain more" in report.networks_page(layout)


def test_the_page_needs_the_cost_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m osteolib.cost"):
        report.networks_page(StudyLayout(tmp_path / "x"))
