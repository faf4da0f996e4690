"""What the image and the covariates contribute to a prediction (osteolib.contribution): exact and additive, zero
for the covariates of an image-arm network, the covariates' own path seen as theirs, and said in words."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from osteolib import contribution, models
from osteolib.settings import NetworkConfig


@pytest.fixture(scope="module")
def nets():
    return {arm: models.build(NetworkConfig("resnet18", arm, (32, 64), fusion="concat+skip", hidden=16), seed=1).eval()
            for arm in ("image", "ensemble")}


def _inputs(n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    rois = torch.randint(0, 256, (n, 32, 64), generator=g, dtype=torch.uint8)
    cov = torch.tensor([[0.3, -0.2, 1.0, 0.0], [-0.4, 0.1, 0.0, 1.0]] * 3)[:n]
    return rois, cov


def test_the_two_contributions_add_up_to_the_log_odds_and_are_the_shapley_values(nets):
    rois, cov = _inputs()
    net = nets["ensemble"]
    t = contribution.decompose(net, rois, cov)
    assert np.allclose(t["reference_logit"] + t["image"] + t["covariates"], t["logit"], atol=1e-5)
    # the Shapley value by its definition: each input's marginal contribution averaged over both orders of joining
    ref_img, ref_cov = contribution.reference(32, 64, len(rois))
    f = lambda img, c: contribution._log_odds(net, img, c)
    value = {frozenset(s): f(rois if "i" in s else ref_img, cov if "c" in s else ref_cov)
             for k in range(3) for s in itertools.combinations("ic", k)}
    for player, column in (("i", "image"), ("c", "covariates")):
        other = ({"c"} if player == "i" else {"i"})
        phi = 0.5 * ((value[frozenset({player})] - value[frozenset()]) + (value[frozenset({"i", "c"})] - value[frozenset(other)]))
        assert np.allclose(phi, t[column], atol=1e-6)


def test_an_image_arm_owes_nothing_to_the_covariates(nets):
    t = contribution.decompose(nets["image"], _inputs()[0])
    assert (t["covariates"] == 0).all() and (t["covariate_share"].fillna(0) == 0).all()


def test_the_covariates_own_path_is_theirs(nets):
    """A skip path that dominates the logit: the covariates carry the prediction, and the sentence says so."""
    net = models.build(NetworkConfig("resnet18", "ensemble", (32, 64), fusion="concat+skip", hidden=16), seed=1).eval()
    with torch.no_grad():
        net.skip.weight[1] = torch.tensor([8.0, 0.0, 0.0, 0.0])      # age drives the osteoporosis logit
    rois, cov = _inputs()
    t = contribution.decompose(net, rois, cov)
    assert (t["covariate_share"] > 0.5).all()
    assert np.allclose(t["covariates"] - contribution.decompose(nets["ensemble"], rois, cov)["covariates"],
                       8.0 * (cov[:, 0].numpy() - 0.0), atol=1e-4)     # the skip's own term, against a mean-age reference
    words = contribution.in_words(t.iloc[0], cam_empty=True)
    assert words.startswith("Grad-CAM is empty") and "age, sex and BMI" in words
    assert not contribution.in_words(t.iloc[0], cam_empty=False).startswith("Grad-CAM is empty")
