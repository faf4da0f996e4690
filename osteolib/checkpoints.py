"""A trained network on disk and back, without the training loop.

The model notebook 03 keeps (repeat 0, fold 0 of each backbone and arm, ``model_f0.safetensors``
beside its card ``model_f0.json``) and a screening bundle (:mod:`osteolib.bundle`) are both a
:mod:`osteolib.cards` pair whose card carries what is needed to use the weights, each part read by its
own ``from_card``:

* ``network``: the :class:`~osteolib.settings.NetworkConfig` (backbone, arm, input size, head) and
  the input normalisation;
* ``covariates``: the :class:`~osteolib.datasets.CovariateScaler` fitted on the training part;
* ``threshold`` and ``settings`` (the :class:`~osteolib.settings.TrainingSettings` it was trained with);
* a bundle adds ``roi``: the :class:`~osteolib.settings.RoiGeometry` its ROIs were cut with.

Screening, Grad-CAM and bundles load networks here; only :mod:`osteolib.training` writes the kept
model (:func:`save`). Cards of format ``/1`` held the network's keys at their top level; they are
still read.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from . import cards, metrics, models
from .datasets import CovariateScaler
from .layout import kept_files
from .settings import NetworkConfig, TrainingSettings

__all__ = ["FORMAT", "READS", "model_card", "save", "network", "scaler", "load", "load_kept"]

#: The format tag of the model notebook 03 keeps.
FORMAT = "osteolib-checkpoint/2"
#: The formats read (``/1``: the network's keys at the card's top level).
READS = ("osteolib-checkpoint/1", FORMAT)


def model_card(s: TrainingSettings, net: NetworkConfig, scaler_: CovariateScaler) -> dict:
    """What is needed to use a trained network: its configuration, the covariate scaler, the
    threshold and the settings it was trained with."""
    return {"network": net.as_card(), "covariates": scaler_.as_card(), "threshold": metrics.THRESHOLD,
            "settings": asdict(s)}


def save(folder: str | Path, state: dict[str, torch.Tensor], s: TrainingSettings, net: NetworkConfig,
         scaler_: CovariateScaler, fold: int = 0) -> Path:
    """The kept model: ``model_f0.safetensors`` and its card ``model_f0.json`` (another ``fold``: that
    fold's, which internal-external cross-validation keeps for every site held out)."""
    card = {**model_card(s, net, scaler_), "repeat": 0, "fold": fold}
    return cards.write(folder, state, card, FORMAT, *kept_files(fold))


def network(card: dict, state: dict[str, torch.Tensor]) -> models.OsteoNet:
    """The network a card describes, with ``state`` loaded, in eval mode on the CPU."""
    net = models.build(NetworkConfig.from_card(card), seed=0)
    net.load_state_dict(state)
    return net.eval()


def scaler(card: dict) -> CovariateScaler:
    """The covariate scaler a card records."""
    return CovariateScaler.from_card(card["covariates"])


def load(folder: str | Path, formats, weights: str, card_file: str) -> tuple[models.OsteoNet, dict]:
    """A carded network (hash checked, never unpickled) and its card."""
    state, card = cards.read(folder, formats, weights, card_file)
    return network(card, state), card


def load_kept(folder: str | Path, fold: int = 0) -> tuple[models.OsteoNet, dict]:
    """The kept model of a run folder (``runs/<backbone>/<arm>/r00``; fold 0, or another ``fold`` kept) and
    its card."""
    return load(folder, READS, *kept_files(fold))
