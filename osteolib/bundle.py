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

from . import atomic, metrics, models, paths, repro

FORMAT = "osteolib-bundle/1"
WEIGHTS = "model.safetensors"
CARD = "card.json"


def cv_metrics(study_dir: Path, backbone: str, arm: str) -> dict:
    """Mean and SD over the finished repeats of each repeat-level metric (from their metrics.json)."""
    rows = [json.loads(f.read_text())["repeat_metrics"]
            for f in sorted((study_dir / "runs" / backbone / arm).glob("r[0-9][0-9]/metrics.json"))]
    if not rows:
        raise FileNotFoundError(f"no finished repeats of {backbone}/{arm} in {study_dir}: run notebooks/03_train.ipynb")
    df = pd.DataFrame(rows)
    return {"n_repeats": len(df), "threshold": metrics.THRESHOLD,
            **{m: {"mean": float(df[m].mean()), "sd": float(df[m].std(ddof=1)) if len(df) > 1 else None}
               for m in df.columns}}


def _roi_geometry(study_dir: Path) -> dict:
    manifest = study_dir / "rois" / "manifest_02_roi.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found: run notebooks/02_roi.ipynb for this study")
    p = json.loads(manifest.read_text())["parameters"]
    return {"height": p["roi_height"], "width": p["roi_width"], "dx": p["roi_dx"], "dy": p["roi_dy"],
            "side": p["roi_side"], "units": "pixels of the study's radiographs",
            "anchor": "box centred on the mental foramen's x (+ dx), top edge at its y (+ dy)"}


def refit(study_dir: Path, card: dict, device: str = "cpu", progress: bool = True) -> tuple[dict, dict]:
    """Train the kept model's configuration on every patient; returns (state dict, facts for the card)."""
    from tqdm.auto import tqdm
    from . import training
    from .datasets import Augmentation, CovariateScaler
    s = training.Settings(**card["settings"])
    folds = json.loads((study_dir / "runs" / card["backbone"] / card["arm"] / "r00" / "metrics.json")
                       .read_text())["folds"]
    epochs = int(np.median([f["best_epoch"] + 1 for f in folds]))
    study = training.Study(study_dir, torch.device(device))
    scaler = CovariateScaler.fit(study.cohort)
    everyone = torch.arange(len(study.cohort), device=study.device)
    empty = everyone[:0]
    cov = scaler.transform(study.cohort).to(study.device) if card["arm"] == "ensemble" else None
    fold = training.Fold(study.images, study.labels, cov, everyone, empty, empty)
    net = models.build(s.backbone, card["arm"], study.input_size, seed=repro.child_seed(s.seed, 10**6),
                       hidden=s.hidden, pretrained=s.pretrained, weights_dir=s.weights_dir or None)
    run = training._Runner(net, study.device)
    opt = torch.optim.SGD(run.net.parameters(), lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    gen = torch.Generator(device=study.device).manual_seed(repro.child_seed(s.seed, 10**6, 1))
    # seed path 10**6: apart from every (repeat, fold) path of the cross-validation
    with training.seeded_global_rng(repro.child_seed(s.seed, 10**6, 2), study.device):
        for _ in tqdm(range(epochs), desc=f"refit {s.backbone}/{card['arm']}", disable=not progress):
            training.train_epoch(run, fold, opt, s.batch_size, Augmentation(**s.augmentation), gen)
    state = {k: v.detach().cpu() for k, v in run.net.state_dict().items()}
    return state, {"covariates": {"columns": list(CovariateScaler.COLUMNS), **scaler.as_dict()},
                   "source": {"model": f"refit on all {len(study.cohort)} patients for {epochs} epochs "
                                       "(the median best epoch of repeat 0's folds)",
                              "patients": len(study.cohort)}}


def write(study: str | Path, backbone: str, arm: str, out: str | Path, refit_all: bool = False,
          device: str = "cpu") -> Path:
    """Write the bundle of one backbone and arm of a study to ``out`` (whole, or not at all)."""
    from safetensors.torch import save_file
    from . import training
    study_dir = Path(study) if Path(study).is_dir() else paths.study_dir(str(study))
    folder = study_dir / "runs" / backbone / arm / "r00"
    if not (folder / "model_f0.json").is_file():
        raise FileNotFoundError(f"{folder} holds no kept model: run notebooks/03_train.ipynb (repeat 0) first")
    net, card = training.load_checkpoint(folder)
    state = net.state_dict()
    source = {"model": "repeat 0, fold 0 of the cross-validation (its test part was never seen)",
              "checkpoint": str(folder.relative_to(paths.ROOT) if folder.is_relative_to(paths.ROOT) else folder),
              "checkpoint_sha256": card["sha256"]}
    covariates = card["covariates"]
    if refit_all:
        state, facts = refit(study_dir, card, device)
        covariates, source = facts["covariates"], {**source, **facts["source"]}
    out = Path(out)
    with atomic.atomic_dir(out) as tmp:
        # safetensors stores packed tensors: the standard layout, whatever layout training used (channels_last)
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / WEIGHTS),
                  metadata={"format": FORMAT, "backbone": backbone, "arm": arm})
        atomic.write_json({
            "format": FORMAT, "backbone": backbone, "arm": arm, "input_size": card["input_size"],
            "hidden": card["hidden"], "normalisation": card["normalisation"], "covariates": covariates,
            "roi": _roi_geometry(study_dir), "threshold": card["threshold"],
            "positive_class": "osteoporosis (DXA T-score <= -2.5)",
            "study": {"name": study_dir.name, "cv_metrics": cv_metrics(study_dir, backbone, arm)},
            "source": source, "settings": card["settings"],
            "versions": repro.versions(), "git": repro.git_state(),
            "weights": {"file": WEIGHTS, "sha256": repro.sha256(tmp / WEIGHTS)},
        }, tmp / CARD)
    return out


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
        r = self.card["roi"]
        return RoiGeometry(int(r["height"]), int(r["width"]), int(r["dx"]), int(r["dy"]), r["side"])

    @property
    def scaler(self):
        from .datasets import CovariateScaler
        c = self.card["covariates"]
        return CovariateScaler(c["age_mean"], c["age_range"], c["bmi_mean"], c["bmi_range"])


def load(folder: str | Path) -> Bundle:
    """Read a bundle; the weights file must match the hash in its card. Never unpickles."""
    from safetensors.torch import load_file
    folder = Path(folder)
    card_file, weights = folder / CARD, folder / WEIGHTS
    for f in (card_file, weights):
        if not f.is_file():
            raise FileNotFoundError(f"{f} not found: is {folder} a bundle written by `python -m osteolib.bundle`?")
    card = json.loads(card_file.read_text())
    if card.get("format") != FORMAT:
        raise ValueError(f"{card_file}: format {card.get('format')!r}, expected {FORMAT!r}")
    digest = repro.sha256(weights)
    if digest != card["weights"]["sha256"]:
        raise ValueError(f"{weights}: SHA-256 {digest[:12]}... does not match its card "
                         f"({card['weights']['sha256'][:12]}...): the weights were changed; refusing to load them")
    net = models.build(card["backbone"], card["arm"], tuple(card["input_size"]), seed=0, hidden=card["hidden"])
    net.load_state_dict(load_file(str(weights), device="cpu"))
    return Bundle(net.eval(), card, folder)


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
