"""A trained model as a self-contained bundle that a clinic-side researcher can screen with.

``python -m osteolib.bundle --study demo --backbone resnet18 --arm ensemble --out bundles/r18``

A bundle folder holds two files and nothing that needs pickle to load:

* ``model.safetensors``: the weights (a state dict in the safetensors format);
* ``card.json``: what is needed to use them and to judge them (:mod:`osteolib.checkpoints`): the
  network (backbone, arm, input size, head, input normalisation), the covariate scaler, the ROI
  geometry (pixels of the study's images), the screening threshold, the study's cross-validated
  metrics of this backbone and arm (mean, SD over repeats), where the weights come from, versions,
  git commit, and the SHA-256 of the weights file, which :func:`load` checks before reading it.

The weights are those notebook 03 kept (repeat 0, fold 0: trained on about 70 % of the cohort, with
its own validation part for early stopping), or with ``--refit`` a model trained on every patient
of the cohort for the median number of epochs that early stopping chose across repeat 0's folds
(:func:`osteolib.training.refit`; the command line runs it, so that loading a bundle never imports
the training loop).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import atomic, cards, checkpoints, metrics, models, paths, repro, roi, steps
from ..datasets import CovariateScaler
from ..layout import StudyLayout
from ..settings import RoiGeometry

__all__ = ["FORMAT", "READS", "WEIGHTS", "CARD", "cv_metrics", "write", "Bundle", "load"]

FORMAT = "osteolib-bundle/2"
#: The formats read (``/1``: the network's keys at the card's top level).
READS = ("osteolib-bundle/1", FORMAT)
WEIGHTS = "model.safetensors"
CARD = "card.json"


def cv_metrics(layout: StudyLayout, backbone: str, arm: str) -> dict:
    """Mean and SD over the finished repeats of each repeat-level metric (from their metrics.json)."""
    reps = layout.repeats(backbone, arm)
    if not reps:
        steps.require(layout.run_metrics(backbone, arm, 0), "run_metrics", f"{backbone}, {arm} arm")
    rows = [json.loads(layout.run_metrics(backbone, arm, r).read_text())["repeat_metrics"] for r in reps]
    df = pd.DataFrame(rows)
    return {"n_repeats": len(df), "threshold": metrics.THRESHOLD,
            **{m: {"mean": float(df[m].mean()), "sd": float(df[m].std(ddof=1)) if len(df) > 1 else None}
               for m in df.columns}}


def write(layout: StudyLayout, backbone: str, arm: str, out: str | Path, refit: tuple[dict, dict] | None = None) -> Path:
    """Write the bundle of one backbone and arm of a study to ``out`` (whole, or not at all): the kept
    model, or with ``refit`` the state and card facts of :func:`osteolib.training.refit`."""
    folder = layout.kept_model(backbone, arm)
    steps.require(layout.file("kept_card", backbone=backbone, arm=arm), "kept_card", "repeat 0")
    net, card = checkpoints.load_kept(folder)
    state = net.state_dict()
    source = {"model": "repeat 0, fold 0 of the cross-validation (its test part was never seen)",
              "checkpoint": paths.shown(folder), "checkpoint_sha256": card["weights"]["sha256"]}
    covariates = card["covariates"]
    if refit is not None:
        state, facts = refit
        covariates, source = facts["covariates"], {**source, **facts["source"]}
    with atomic.atomic_dir(Path(out)) as tmp:
        cards.write(tmp, state, {
            "network": net.config.as_card(), "covariates": covariates,
            "roi": roi.read_geometry(layout).as_card(), "threshold": card["threshold"],
            "positive_class": "osteoporosis (DXA T-score <= -2.5)",
            "study": {"name": layout.name, "cv_metrics": cv_metrics(layout, backbone, arm)},
            "source": source, "settings": card["settings"],
            "versions": repro.versions(), "git": repro.git_state(),
        }, FORMAT, WEIGHTS, CARD)
    return Path(out)


class Bundle:
    """A loaded bundle: the network (eval mode, CPU), its card, and what the card carries."""

    def __init__(self, net: models.OsteoNet, card: dict, folder: Path):
        self.net, self.card, self.folder = net, card, folder

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    @property
    def geometry(self) -> RoiGeometry:
        return RoiGeometry.from_card(self.card["roi"])

    @property
    def scaler(self) -> CovariateScaler:
        return checkpoints.scaler(self.card)


def load(folder: str | Path) -> Bundle:
    """Read a bundle; the weights file must match the hash in its card. Never unpickles."""
    folder = Path(folder)
    for f in (folder / CARD, folder / WEIGHTS):
        if not f.is_file():
            raise FileNotFoundError(f"{f} not found: is {folder} a bundle written by `python -m osteolib.bundle`?")
    net, card = checkpoints.load(folder, READS, WEIGHTS, CARD)
    return Bundle(net, card, folder)
