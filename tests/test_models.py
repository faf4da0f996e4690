"""The backbone registry and the heads: every registered backbone, both arms (as timm tests every model)."""
from __future__ import annotations

import dataclasses
import hashlib

import pytest
import torch

from osteolib.settings import NetworkConfig
from osteolib import models
from osteolib.errors import ParameterError
from osteolib import settings
from osteolib import backbones


@pytest.mark.parametrize("name", list(backbones.REGISTRY))
def test_every_backbone_builds_and_runs_both_arms(name):
    x = torch.rand(2, 3, 40, 64)
    cov = torch.tensor([[0.1, -0.2, 1.0, 0.0], [-0.3, 0.1, 0.0, 1.0]])
    for arm in settings.ARMS:
        net = models.build(NetworkConfig(name, arm, (40, 64), hidden=32), seed=0).eval()
        with torch.no_grad():
            out = net(x, cov if arm == "ensemble" else None)
        assert out.shape == (2, 2) and torch.isfinite(out).all()
        layer = models.cam_layer(net)
        assert isinstance(layer, torch.nn.Module)
        feats = []
        handle = layer.register_forward_hook(lambda m, i, o: feats.append(o))
        with torch.no_grad():
            net(x, cov if arm == "ensemble" else None)
        handle.remove()
        assert feats and feats[0].ndim == 4, "the Grad-CAM layer yields a feature map"
    assert net.head[0].in_features == backbones.spec(name).features + models.N_COVARIATES


@pytest.mark.parametrize("name", [n for n, s in backbones.REGISTRY.items() if s.library == "timm"])
def test_timm_backbones_as_timm_configures_them(name):
    """The registry's data for a timm backbone is timm's pretrained configuration of its tag: the weights
    file (its published URL, whose name carries the hash), the classifier, the normalisation; the
    feature size is what timm's own head reads before its classifier."""
    import timm
    s = backbones.spec(name)
    net = timm.create_model(f"{name}.{s.tag}", pretrained=False)
    cfg = net.pretrained_cfg
    assert cfg["url"] == s.weights_url and cfg["tag"] == s.tag
    assert (cfg["classifier"] + ".") == s.classifier
    assert tuple(cfg["mean"]) == s.mean and tuple(cfg["std"]) == s.std
    assert net.head_hidden_size == s.features
    assert s.weights_hash and not s.paper


def test_same_seed_same_weights_and_covariates_matter():
    a, b = (models.build(NetworkConfig("resnet18", "ensemble", (40, 64)), seed=5) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = models.build(NetworkConfig("resnet18", "ensemble", (40, 64)), seed=6)
    assert not torch.equal(a.head[0].weight, c.head[0].weight)
    # the image arm starts from the same backbone weights as the ensemble arm
    img = models.build(NetworkConfig("resnet18", "image", (40, 64)), seed=5)
    assert torch.equal(img.backbone.conv1.weight, a.backbone.conv1.weight)
    x = torch.rand(1, 3, 40, 64)
    with torch.no_grad():
        a.eval()
        assert not torch.equal(a(x, torch.zeros(1, 4)), a(x, torch.ones(1, 4)))
    with pytest.raises(ValueError, match="needs the covariates"):
        a(x)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ParameterError, match="unknown backbone 'resnet19'; valid: resnet18, resnet50"):
        backbones.spec("resnet19")
    with pytest.raises(ValueError, match="unknown arm"):
        models.build(NetworkConfig("resnet18", "both", (40, 64)), seed=0)


def _publish(net, folder, name):
    """Write ``net``'s backbone as a 'published' weights file whose name carries its hash."""
    tmp = folder / "w.pth"
    state = {**net.backbone.state_dict(), "fc.weight": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)}
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    final = folder / f"{name}-{digest}.pth"
    tmp.rename(final)
    return final


def test_pretrained_weights_from_a_local_file(tmp_path, monkeypatch):
    source = models.build(NetworkConfig("resnet18", "image", (40, 64)), seed=123)
    file = _publish(source, tmp_path, "resnet18")
    fake = dataclasses.replace(backbones.REGISTRY["resnet18"], weights_url="https://example.invalid/" + file.name)
    monkeypatch.setitem(backbones.REGISTRY, "resnet18", fake)
    net = models.build(NetworkConfig("resnet18", "ensemble", (40, 64)), seed=0, pretrained=True, weights_dir=tmp_path, download=False)
    assert torch.equal(net.backbone.layer4[1].conv2.weight, source.backbone.layer4[1].conv2.weight)
    fresh = models.build(NetworkConfig("resnet18", "ensemble", (40, 64)), seed=0)
    assert torch.equal(net.head[0].weight, fresh.head[0].weight), "the head is not pretrained"


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    file = _publish(models.build(NetworkConfig("resnet18", "image", (40, 64)), seed=1), tmp_path, "resnet18")
    fake = dataclasses.replace(backbones.REGISTRY["resnet18"], weights_url="https://example.invalid/" + file.name)
    monkeypatch.setitem(backbones.REGISTRY, "resnet18", fake)
    data = bytearray(file.read_bytes())
    data[-10] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the published"):
        models.build(NetworkConfig("resnet18", "image", (40, 64)), seed=0, pretrained=True, weights_dir=tmp_path, download=False)


def _publish_timm(net, folder, name):
    """``net``'s timm backbone as a 'published' file as timm's releases hold them: the classifier
    included, and for DeiT nested under 'model' (as Facebook's files are)."""
    s = net.spec
    state = dict(net.backbone.model.state_dict())
    state[s.classifier + "weight"] = torch.zeros(1000, s.features)
    state[s.classifier + "bias"] = torch.zeros(1000)
    tmp = folder / "w.pth"
    torch.save({"model": state} if name.startswith("deit") else state, tmp)
    final = folder / f"{name}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(final)
    return final


@pytest.mark.parametrize("name", [n for n, s in backbones.REGISTRY.items() if s.library == "timm"])
def test_timm_weights_from_a_local_file_by_their_hash(tmp_path, monkeypatch, name):
    """Made weights, named by their hash, loaded through timm's own reading of the file; never downloaded
    (download=False; and the hub is offline)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = models.build(NetworkConfig(name, "image", (32, 64)), seed=123)
    file = _publish_timm(source, tmp_path, name)
    monkeypatch.setitem(backbones.REGISTRY, name, dataclasses.replace(backbones.spec(name),
                                                                       weights_url="https://example.invalid/" + file.name))
    net = models.build(NetworkConfig(name, "ensemble", (32, 64)), seed=0, pretrained=True, weights_dir=tmp_path, download=False)
    theirs, ours = source.backbone.model.state_dict(), net.backbone.model.state_dict()
    assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in theirs)
    data = bytearray(file.read_bytes())
    data[-10] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the published"):
        models.build(NetworkConfig(name, "image", (32, 64)), seed=0, pretrained=True, weights_dir=tmp_path, download=False)


def test_absent_weights_say_where_to_put_which_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError) as err:
        models.build(NetworkConfig("efficientnet-b0", "image", (40, 64)), seed=0, pretrained=True, weights_dir=tmp_path / "mine", download=False)
    message = str(err.value)
    assert "efficientnet-b0-355c32eb.pth" in message and str(tmp_path / "mine") in message
    assert str(tmp_path / "hub" / "checkpoints") in message and "https://" in message
