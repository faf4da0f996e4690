"""A trained model as a self-contained bundle that a clinic-side researcher can screen with.

``python -m osteolib.bundle --study demo --backbone resnet18 --arm ensemble --out bundles/r18``

A bundle folder holds two files and nothing that needs pickle to load:

* ``model.safetensors``: the weights (a state dict in the safetensors format);
* ``card.json``: what is needed to use them and to judge them: backbone, arm, input size, hidden
  units, input normalisation, the covariate scaler, the ROI geometry (pixels of the study's
  images), the screening threshold, the study's cross-validated metrics of this backbone and arm
  (mean, SD over repeats), where the weights come from, versions, git commit, and the SHA-256 of
  the weights file, which :func:`load` checks before reading it.

The weights are those notebook 03 kept (repeat 0, fold 0: trained on about 70 % of the cohort, with
its own validation part for early stopping), or with ``--refit`` a model trained on every patient
of the cohort for the median number of epochs that early stopping chose across repeat 0's folds.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import atomic, cards, metrics, models, paths, repro
from .layout import StudyLayout

FORMAT = "osteolib-bundle/1"
WEIGHTS = "model.safetensors"
CARD = "card.json"


def cv_metrics(layout: StudyLayout, backbone: str, arm: str) -> dict:
    """Mean and SD over the finished repeats of each repeat-level metric (from their metrics.json)."""
    rows = [json.loads(layout.run_metrics(backbone, arm, r).read_text())["repeat_metrics"]
            for r in layout.repeats(backbone, arm)]
    if not rows:
        raise FileNotFoundError(f"no finished repeats of {backbone}/{arm} in {layout.root}: run notebooks/03_train.ipynb")
    df = pd.DataFrame(rows)
    return {"n_repeats": len(df), "threshold": metrics.THRESHOLD,
            **{m: {"mean": float(df[m].mean()), "sd": float(df[m].std(ddof=1)) if len(df) > 1 else None}
               for m in df.columns}}


def refit(layout: StudyLayout, card: dict, device: str = "cpu", progress: bool = True) -> tuple[dict, dict]:
    """Train the kept model's configuration on every patient; returns (state dict, facts for the card)."""
    from . import training
    s = training.Settings(**card["settings"])
    folds = json.loads(layout.run_metrics(card["backbone"], card["arm"], 0).read_text())["folds"]
    epochs = int(np.median([f["best_epoch"] + 1 for f in folds]))
    study = training.Study(layout, torch.device(device))
    fold, scaler = study.everyone(card["arm"])
    result = training.train_model(fold, s, card["arm"], study.input_size, study.device, training.REFIT_SEED_PATH,
                                  epochs=epochs, label=f"refit {s.backbone}/{card['arm']}", progress=progress)
    state = {k: v.detach().cpu() for k, v in result.net.state_dict().items()}
    return state, {"covariates": {"columns": list(scaler.COLUMNS), **scaler.as_dict()},
                   "source": {"model": f"refit on all {len(study.cohort)} patients for {epochs} epochs "
                                       "(the median best epoch of repeat 0's folds)",
                              "patients": len(study.cohort)}}


def write(study: str | Path, backbone: str, arm: str, out: str | Path, refit_all: bool = False,
          device: str = "cpu") -> Path:
    """Write the bundle of one backbone and arm of a study to ``out`` (whole, or not at all)."""
    from . import roi, training
    layout = StudyLayout.of(Path(study) if Path(study).is_dir() else str(study))
    folder = layout.kept_model(backbone, arm)
    if not layout.has_kept_model(backbone, arm):
        raise FileNotFoundError(f"{folder} holds no kept model: run notebooks/03_train.ipynb (repeat 0) first")
    net, card = training.load_checkpoint(folder)
    state = net.state_dict()
    source = {"model": "repeat 0, fold 0 of the cross-validation (its test part was never seen)",
              "checkpoint": paths.shown(folder), "checkpoint_sha256": card["weights"]["sha256"]}
    covariates = card["covariates"]
    if refit_all:
        state, facts = refit(layout, card, device)
        covariates, source = facts["covariates"], {**source, **facts["source"]}
    with atomic.atomic_dir(Path(out)) as tmp:
        cards.write(tmp, state, {
            **{k: card[k] for k in training.NETWORK_KEYS if k in card},
            "normalisation": card["normalisation"], "covariates": covariates,
            "roi": roi.read_geometry(layout).as_card(), "threshold": card["threshold"],
            "positive_class": "osteoporosis (DXA T-score <= -2.5)",
            "study": {"name": layout.name, "cv_metrics": cv_metrics(layout, backbone, arm)},
            "source": source, "settings": card["settings"],
            "versions": repro.versions(), "git": repro.git_state(),
        }, FORMAT, WEIGHTS, CARD)
    return Path(out)


class Bundle:
    """A loaded bundle: the network (eval mode, CPU) and its card."""

    def __init__(self, net: models.OsteoNet, card: dict, folder: Path):
        self.net, self.card, self.folder = net, card, folder

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    @property
    def geometry(self):
        from .roi import RoiGeometry
        return RoiGeometry.from_card(self.card["roi"])

    @property
    def scaler(self):
        from .datasets import CovariateScaler
        c = self.card["covariates"]
        return CovariateScaler(c["age_mean"], c["age_range"], c["bmi_mean"], c["bmi_range"])


def load(folder: str | Path) -> Bundle:
    """Read a bundle; the weights file must match the hash in its card. Never unpickles."""
    from . import training
    folder = Path(folder)
    for f in (folder / CARD, folder / WEIGHTS):
        if not f.is_file():
            raise FileNotFoundError(f"{f} not found: is {folder} a bundle written by `python -m osteolib.bundle`?")
    state, card = cards.read(folder, FORMAT, WEIGHTS, CARD)
    return Bundle(training.network(card, state), card, folder)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.bundle", description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", required=True, help="study name (outputs/<study>/) or its folder")
    ap.add_argument("--backbone", required=True, choices=list(models.REGISTRY))
    ap.add_argument("--arm", required=True, choices=list(models.ARMS))
    ap.add_argument("--out", required=True, help="bundle folder to write (replaced whole if it exists)")
    ap.add_argument("--refit", action="store_true", help="train on every patient instead of keeping fold 0's model")
    ap.add_argument("--device", default="cpu", help="device for --refit (cpu, cuda, ...)")
    args = ap.parse_args(argv)
    out = write(args.study, args.backbone, args.arm, args.out, args.refit, args.device)
    card = json.loads((out / CARD).read_text())
    auc = card["study"]["cv_metrics"]["auc"]
    print(f"{out}: {card['backbone']} / {card['arm']}, {card['source']['model']}; "
          f"cross-validated AUC {auc['mean']:.3f} over {card['study']['cv_metrics']['n_repeats']} repeat(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
