"""Training engine: early stopping, the scaler, augmentation, a smoke run, resume after interruption."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from osteolib.settings import NetworkConfig
from osteolib import training
from osteolib.layout import StudyLayout
from osteolib.datasets import Augmentation, CovariateScaler, to_input
from conftest import copy_study
from osteolib import backbones, checkpoints, models
from osteolib.settings import TrainingSettings

CPU = torch.device("cpu")


def test_early_stopping_stops_after_patience_and_restores_the_best():
    net = torch.nn.Linear(2, 1)
    stopper = training.EarlyStopping(patience=3)
    losses = [1.0, 0.8, 0.9, 0.7, 0.75, 0.71, 0.72, 0.1]
    weights, stopped_at = [], None
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            net.weight.fill_(float(epoch))
        weights.append(net.weight.clone())
        if stopper.step(epoch, loss, net):
            stopped_at = epoch
            break
    assert stopped_at == 6, "three epochs (4, 5, 6) without a loss below 0.7"
    assert stopper.best_epoch == 3 and stopper.best == 0.7
    stopper.restore(net)
    assert torch.equal(net.weight, weights[3])


def test_scaler_sees_only_training_rows(tiny_study):
    study = training.TrainingData(StudyLayout(tiny_study), CPU)
    fold, scaler = study.fold(repeat=1, k=2, arm="ensemble")
    train_rows = study.cohort.iloc[fold.train.numpy()]
    assert scaler == CovariateScaler.fit(train_rows)
    assert scaler != CovariateScaler.fit(study.cohort)
    # mean normalisation: (x - mean) / (max - min) of the training part; sex one-hot
    cov = fold.covariates.numpy()
    age = study.cohort["age"].to_numpy()
    expected = (age - train_rows["age"].mean()) / (train_rows["age"].max() - train_rows["age"].min())
    assert np.allclose(cov[:, 0], expected, atol=1e-6)
    assert np.allclose(cov[fold.train.numpy(), 0].mean(), 0, atol=1e-6)
    assert ((cov[:, 2] + cov[:, 3]) == 1).all()
    image_fold, _ = study.fold(repeat=1, k=2, arm="image")
    assert image_fold.covariates is None


def test_augmentation_shape_dtype_seeded_and_not_in_place():
    x = torch.rand(8, 1, 40, 64)
    before = x.clone()
    aug = Augmentation()
    a = aug(x, torch.Generator().manual_seed(1))
    b = aug(x, torch.Generator().manual_seed(1))
    c = aug(x, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(x, before), "the input batch is never modified"
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(Augmentation(p=0.0)(x, torch.Generator().manual_seed(1)), x)
    # five transforms, each with p = 0.5: a sample is left untouched with probability 1/32, so of 256
    # samples about 8 are (binomial; 2..16 holds with probability > 0.99) and the rest are changed
    many = torch.rand(256, 1, 12, 16)
    out = aug(many, torch.Generator().manual_seed(3))
    unchanged = int(sum(torch.equal(out[i], many[i]) for i in range(256)))
    assert 2 <= unchanged <= 16, unchanged


def test_flip_and_rotation_are_geometric():
    x = torch.zeros(1, 1, 10, 16)
    x[..., 0, :] = 1.0
    flipped = Augmentation(p=1.0, degrees=0.0, brightness=0.0, contrast=0.0)(x, torch.Generator().manual_seed(0))
    assert torch.allclose(flipped[0, 0, -1], torch.ones(16)) and flipped[0, 0, 0].sum() == 0


def test_evaluation_images_are_not_augmented(tiny_study):
    study = training.TrainingData(StudyLayout(tiny_study), CPU)
    fold, _ = study.fold(0, 0, "image")
    net = training.models.build(NetworkConfig("resnet18", "image", study.input_size, hidden=16), seed=0).eval()
    images_before = study.images.clone()
    # evaluation batches are 4 x the training batch: 8 and 64 images
    loss1, p1 = training.Engine(net, CPU, _quick(batch_size=2)).evaluate(fold, fold.test)
    loss2, p2 = training.Engine(net, CPU, _quick(batch_size=16)).evaluate(fold, fold.test)
    assert np.allclose(p1, p2, atol=1e-6) and loss1 == pytest.approx(loss2, abs=1e-6)
    with torch.no_grad():
        direct = torch.softmax(net(to_input(study.images[fold.test], net.spec)), 1)[:, 1].numpy()
    assert np.allclose(p1, direct, atol=1e-6)
    assert torch.equal(study.images, images_before)


@pytest.mark.slow
def test_smoke_run_learns_the_planted_signal(medium_study, tmp_path):
    """Every patient predicted once; the ensemble clearly above chance (measured 0.77 at seed 0)."""
    study_dir = copy_study(medium_study, tmp_path / "s")
    study = training.TrainingData(StudyLayout(study_dir), CPU)
    s = TrainingSettings(backbone="resnet18", lr=0.01, batch_size=16, max_epochs=8, patience=4, hidden=64)
    summary = training.run(study, s, ["ensemble"], [0])
    out = StudyLayout(study_dir).run_dir("resnet18", "ensemble", 0)
    for name in ("predictions.csv", "history.csv", "metrics.json", "model_f0.safetensors", "model_f0.json"):
        assert (out / name).is_file()
    pred = pd.read_csv(out / "predictions.csv", dtype={"patient_id": str})
    assert sorted(pred["patient_id"]) == sorted(study.cohort["patient_id"])
    assert set(pred.columns) == {"repeat", "fold", "patient_id", "y_true", "p_osteoporosis", "threshold"}
    assert pred.groupby("fold")["threshold"].nunique().eq(1).all(), "one threshold per fold, from its validation part"
    auc = summary["auc"].iloc[0]
    assert auc > 0.65, f"ensemble AUC {auc:.3f} on a planted signal"
    hist = pd.read_csv(out / "history.csv")
    assert list(hist.columns) == ["fold", "epoch", "train_loss", "val_loss", "val_auc", "seconds"]
    # the kept checkpoint reproduces fold 0's test predictions, loaded without unpickling
    net, card = checkpoints.load_kept(out)
    assert card["network"]["arm"] == "ensemble" and card["network"]["input_size"] == [32, 64]
    fold, scaler = study.fold(0, 0, "ensemble")
    assert scaler.as_dict() == {k: card["covariates"][k] for k in scaler.as_dict()}
    with torch.no_grad():
        p = torch.softmax(net(to_input(study.images[fold.test], net.spec), fold.covariates[fold.test]), 1)[:, 1].numpy()
    ids = study.cohort["patient_id"].to_numpy()[fold.test.numpy()]
    expected = pred[pred.fold == 0].set_index("patient_id").loc[ids, "p_osteoporosis"].to_numpy()
    assert np.allclose(p, expected, atol=1e-5)


def _quick(seed=0, batch_size=16):
    return TrainingSettings(backbone="resnet18", lr=0.01, batch_size=batch_size, max_epochs=2, patience=1, hidden=16,
                             seed=seed)


def run_dir(study_dir, backbone, arm, repeat):
    return StudyLayout(study_dir).run_dir(backbone, arm, repeat)


@pytest.mark.slow
def test_interrupted_run_resumes_and_matches_an_uninterrupted_one(tiny_study, tmp_path, monkeypatch):
    a = copy_study(tiny_study, tmp_path / "a")
    b = copy_study(tiny_study, tmp_path / "b")
    training.run(training.TrainingData(StudyLayout(a), CPU), _quick(), ["ensemble"], [0])          # "interrupted" after repeat 0
    r0 = run_dir(a, "resnet18", "ensemble", 0)
    stamp = (r0 / "predictions.csv").stat().st_mtime_ns
    calls = []
    real = training.fit
    monkeypatch.setattr(training, "fit", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    summary = training.run(training.TrainingData(StudyLayout(a), CPU), _quick(), ["ensemble"], [0, 1])  # the rerun
    assert len(calls) == 5, "only repeat 1's five folds are trained again"
    assert summary["status"].tolist() == ["done before", "trained"]
    assert (r0 / "predictions.csv").stat().st_mtime_ns == stamp
    monkeypatch.setattr(training, "fit", real)
    training.run(training.TrainingData(StudyLayout(b), CPU), _quick(), ["ensemble"], [0, 1])        # uninterrupted
    for r in (0, 1):
        ra, rb = (run_dir(x, "resnet18", "ensemble", r) for x in (a, b))
        assert (ra / "predictions.csv").read_bytes() == (rb / "predictions.csv").read_bytes()
        ha, hb = (pd.read_csv(x / "history.csv").drop(columns="seconds") for x in (ra, rb))
        pd.testing.assert_frame_equal(ha, hb)
        ma, mb = (json.loads((x / "metrics.json").read_text())["repeat_metrics"] for x in (ra, rb))
        assert ma == mb


def test_changed_settings_are_refused_not_mixed(tiny_study, tmp_path):
    a = copy_study(tiny_study, tmp_path / "a")
    training.run(training.TrainingData(StudyLayout(a), CPU), _quick(), ["image"], [0])
    with pytest.raises(ValueError, match="other settings"):
        training.run(training.TrainingData(StudyLayout(a), CPU), _quick(seed=1), ["image"], [0])
    with pytest.raises(ValueError, match="not in splits.csv"):
        training.run(training.TrainingData(StudyLayout(a), CPU), _quick(), ["image"], [5])


@pytest.mark.slow
def test_folds_at_once_give_the_same_results(tiny_study, tmp_path):
    a = copy_study(tiny_study, tmp_path / "a")
    b = copy_study(tiny_study, tmp_path / "b")
    training.run(training.TrainingData(StudyLayout(a), CPU), _quick(), ["ensemble"], [0])
    training.run(training.TrainingData(StudyLayout(b), CPU), _quick(), ["ensemble"], [0], folds_at_once=2)
    pa, pb = (pd.read_csv(run_dir(x, "resnet18", "ensemble", 0) / "predictions.csv") for x in (a, b))
    assert pa[["fold", "patient_id"]].equals(pb[["fold", "patient_id"]])
    assert np.allclose(pa["p_osteoporosis"], pb["p_osteoporosis"], atol=1e-6)
    assert (run_dir(b, "resnet18", "ensemble", 0) / "model_f0.safetensors").is_file()


@pytest.mark.slow
def test_efficientnet_is_deterministic_whatever_the_global_rng(tiny_study, tmp_path):
    """EfficientNet's stochastic depth draws from torch's global RNG: each fold seeds it, so what ran
    before (another notebook cell, another fold) cannot change the numbers on the CPU."""
    s = TrainingSettings(backbone="efficientnet-b0", lr=0.01, batch_size=16, max_epochs=1, patience=1, hidden=16)
    out = []
    for i, warmup in enumerate((1, 2)):
        torch.manual_seed(warmup)
        torch.rand(warmup * 7)
        study = copy_study(tiny_study, tmp_path / f"s{i}")
        training.run(training.TrainingData(StudyLayout(study), torch.device("cpu")), s, ["image"], [0])
        out.append((study / "runs" / "efficientnet-b0" / "image" / "r00" / "predictions.csv").read_bytes())
    assert out[0] == out[1]



@pytest.mark.parametrize("backbone", [n for n, s in backbones.REGISTRY.items() if s.library == "timm"])
def test_every_newer_backbone_trains_a_few_steps(tiny_study, backbone):
    """One epoch of fold 0 through the study's own training loop (augmentation, SGD, validation, the
    threshold): the weights move, the test part gets probabilities, the ensemble arm's skip path works."""
    study = training.TrainingData(StudyLayout(tiny_study), CPU)
    s = TrainingSettings(backbone=backbone, lr=0.001, batch_size=16, max_epochs=1, patience=1, hidden=16)
    fold, _ = study.fold(0, 0, "ensemble")
    before = models.build(s.network("ensemble", (32, 64)), seed=0).backbone.state_dict()
    result = training.train_model(fold, s, "ensemble", (32, 64), CPU, (0, 0), progress=False)
    assert len(result.history) == 1 and np.isfinite(result.history["train_loss"]).all()
    assert len(result.p_test) == len(fold.test) and ((result.p_test >= 0) & (result.p_test <= 1)).all()
    after = result.net.backbone.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point()), "the weights moved"


def test_a_newer_backbone_through_a_whole_run_and_its_kept_model(tiny_study, tmp_path):
    """convnext_atto (LayerNorm, GELU; timm) through training.run: every patient predicted, the kept model
    saved as safetensors and loaded back without unpickling, predicting what the run wrote."""
    backbone = "convnext_atto"
    study_dir = copy_study(tiny_study, tmp_path / "s")
    study = training.TrainingData(StudyLayout(study_dir), CPU)
    s = TrainingSettings(backbone=backbone, lr=0.001, batch_size=16, max_epochs=1, patience=1, hidden=16)
    training.run(study, s, ["image"], [0])
    out = StudyLayout(study_dir).run_dir(backbone, "image", 0)
    pred = pd.read_csv(out / "predictions.csv", dtype={"patient_id": str})
    assert sorted(pred["patient_id"]) == sorted(study.cohort["patient_id"]) and pred["p_osteoporosis"].between(0, 1).all()
    net, card = checkpoints.load_kept(out)
    assert card["network"]["backbone"] == backbone
    fold, _ = study.fold(0, 0, "image")
    with torch.no_grad():
        p = torch.softmax(net.eval()(to_input(study.images[fold.test], net.spec)), 1)[:, 1].numpy()
    ids = study.cohort["patient_id"].to_numpy()[fold.test.numpy()]
    expected = pred[pred.fold == 0].set_index("patient_id").loc[ids, "p_osteoporosis"].to_numpy()
    assert np.allclose(p, expected, atol=1e-5)
