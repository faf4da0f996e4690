"""One default per setting: each knob of the network, the training loop and the ROI's geometry has its
default in one place (osteolib.settings: the paper's), and every path that builds it finds that value.

The one named, documented exception: a notebook's tagged parameters cell holds the demo profile's
values (so that a notebook run on its own is the demo); ``params/demo.yaml`` chooses them, and
``params/paper.yaml`` keeps the library's (the paper's) defaults."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from osteolib import config, models, paths, settings
from osteolib.settings import NetworkConfig, RoiGeometry, TrainingSettings
from test_config import parameters_cell

NETWORK = ("hidden", "fusion", "stochastic_depth")
TRAINING = ("max_epochs", "patience", "pretrained", "weights_dir", "seed")
ROI = {"roi_height": "height", "roi_width": "width", "roi_dx": "dx", "roi_dy": "dy", "roi_side": "side",
       "roi_pixel_mm": "pixel_mm"}


def library(name: str):
    """The one default of a knob, as its owner declares it."""
    owner = NetworkConfig if name in NETWORK else TrainingSettings
    return next(f.default for f in dataclasses.fields(owner) if f.name == name)


def test_the_library_defaults_are_the_papers():
    assert (library("fusion"), library("stochastic_depth"), library("hidden")) == ("concat", True, 256)
    assert (library("max_epochs"), library("patience")) == (100, 20)
    assert (RoiGeometry().height, RoiGeometry().width) == (250, 400)
    paper = config.load_profile("paper")
    for name in NETWORK + ("max_epochs", "patience"):
        assert paper[name] == library(name), name
    for param, knob in ROI.items():
        assert paper[param] == getattr(RoiGeometry(), knob), param


@pytest.mark.parametrize("name", NETWORK + TRAINING)
def test_a_network_and_training_setting_has_one_default_along_every_path(name):
    value = library(name)
    # the notebook's dataclass and where it says its default comes from
    assert getattr(config.TrainParams(), name) == value
    assert config.default_from(config.TrainParams, name) in (f"NetworkConfig.{name}", f"TrainingSettings.{name}")
    # the training settings, built directly and from the notebook's parameters
    assert getattr(TrainingSettings("resnet18", lr=0.01), name) == value
    s = TrainingSettings.from_params(config.TrainParams())
    assert getattr(s, name) == value
    if name in NETWORK:
        net = s.network("ensemble", (32, 64))
        assert getattr(net, name) == value
        # the card reader: a card without the key (format /1 predates it) gets the same default
        card = {k: v for k, v in net.as_card().items() if k != name}
        assert getattr(NetworkConfig.from_card(card), name) == value
        assert getattr(NetworkConfig.from_card({"network": card}), name) == value
    # the named exception: the notebook's cell holds the demo profile's value
    cell = parameters_cell(paths.NOTEBOOKS / "03_train.ipynb")
    assert cell[name] == config.load_profile("demo")[name]


def test_models_build_makes_the_default_network():
    """What models.build makes of the defaults: 256 hidden units, the paper's head (no covariate path),
    EfficientNet's stochastic depth on; and each choice changes exactly that."""
    res = models.build(NetworkConfig("resnet18", "ensemble", (32, 64)), seed=0)
    assert res.head[0].out_features == library("hidden") and res.skip is None
    eff = models.build(NetworkConfig("efficientnet-b0", "image", (32, 64)), seed=0)
    assert eff.backbone._drop_connect_rate > 0
    skip = models.build(NetworkConfig("resnet18", "ensemble", (32, 64), hidden=16, fusion="concat+skip"), seed=0)
    assert skip.head[0].out_features == 16 and skip.skip is not None
    off = models.build(NetworkConfig("efficientnet-b0", "image", (32, 64), stochastic_depth=False), seed=0)
    assert off.backbone._drop_connect_rate == 0
    assert res.config == NetworkConfig("resnet18", "ensemble", (32, 64))


def test_the_roi_geometry_has_one_default_along_every_path():
    g = RoiGeometry()
    p = config.RoiParams()
    for param, knob in ROI.items():
        assert getattr(p, param) == getattr(g, knob), param
        assert config.default_from(config.RoiParams, param) == f"RoiGeometry.{knob}"
    assert p.geometry == g
    card = {k: v for k, v in g.as_card().items() if k != "pixel_mm"}
    assert RoiGeometry.from_card(card) == g
    demo, cell = config.load_profile("demo"), parameters_cell(paths.NOTEBOOKS / "02_roi.ipynb")
    assert {k: cell[k] for k in ROI} == {k: demo[k] for k in ROI}, "the cell holds the demo's ROI"
    assert config.RoiParams.from_namespace(demo).geometry == RoiGeometry(32, 64)


def test_the_allowed_values_have_one_owner():
    assert dict(config.TrainParams.choices)["fusion"] is settings.FUSIONS
    with pytest.raises(config.ParameterError, match="unknown fusion 'sum'; valid: concat, concat\\+skip"):
        NetworkConfig("resnet18", "ensemble", (32, 64), fusion="sum")
    with pytest.raises(config.ParameterError, match="fusion must be one of concat, concat\\+skip"):
        config.TrainParams(fusion="sum")


def test_a_card_round_trip_rebuilds_the_same_network(tmp_path):
    """A kept model's card holds its network section and scaler; the loader rebuilds the same network
    from them, without the training loop."""
    from osteolib import checkpoints
    from osteolib.datasets import CovariateScaler
    s = TrainingSettings("resnet18", lr=0.01, hidden=16, fusion="concat+skip")
    cfg = s.network("ensemble", (32, 64))
    net = models.build(cfg, seed=3)
    scaler = CovariateScaler(70.0, 40.0, 22.0, 10.0)
    checkpoints.save(tmp_path, net.state_dict(), s, cfg, scaler)
    again, card = checkpoints.load_kept(tmp_path)
    assert again.config == cfg and checkpoints.scaler(card) == scaler and card["settings"]["hidden"] == 16
    x, c = torch.rand(2, 3, 32, 64), torch.rand(2, 4)
    with torch.no_grad():
        assert torch.equal(net.eval()(x, c), again(x, c))
