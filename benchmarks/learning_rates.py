"""The learning rate of each newer backbone, chosen on a cohort the study never sees.

The paper's six keep the paper's learning rates (0.01 or 0.001 per backbone). The newer networks have
none, and with the protocol's SGD some learn nothing at a rate that suits a ResNet (MobileNetV3 from
untrained weights stays at the prevalence's loss at 0.01 in 8 epochs). So each is tried at a few rates on
an **independent** synthetic cohort (its own seed: no patient of the study's cohort), the networks
profile's design (3-fold, 8 epochs, 32 x 64 px ROI), repeat 0's fold 0, the image arm; the rate kept is
the one with the lowest best validation loss: the protocol's own criterion (training restores the epoch
of the lowest validation loss), a proper score, and less noisy on a fold's 60-odd validation patients
than their AUC (ties: the smaller rate). Only the validation part is read: no test part, no study patient.

    .venv/bin/python benchmarks/learning_rates.py [--out benchmarks/results/learning-rates.csv]

It writes one row per backbone and rate; ``params/<backbone>.yaml`` then holds the rate kept (by hand,
with a comment naming this file). About 20 minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from osteolib import atomic, backbones, cohort, indices, paths, roi, splits, training  # noqa: E402
from osteolib.layout import StudyLayout  # noqa: E402
from osteolib.settings import RoiGeometry, TrainingSettings  # noqa: E402
from osteolib.synthetic import generate  # noqa: E402

SEED = 101          # the tuning cohort's; the study's is 0
RATES = (0.001, 0.01, 0.05)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(paths.ROOT / "benchmarks" / "results" / "learning-rates.csv"))
    ap.add_argument("--backbones", nargs="*", default=[n for n in backbones.names() if not backbones.spec(n).paper])
    ap.add_argument("--rates", nargs="*", type=float, default=list(RATES))
    ap.add_argument("--append", action="store_true", help="add these rows to --out (e.g. a rate beyond the grid's "
                    "edge for a backbone whose best was there) and choose again over all")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = generate(Path(tmp) / "data", n_screened=902, scale=0.16, seed=SEED, progress=False)
        layout = StudyLayout(Path(tmp) / "study")
        patients = cohort.build(data, layout)["cohort"]
        splits.save(splits.make(patients, n_repeats=1, n_folds=3, seed=SEED), layout)
        roi.crop_study(data, patients, RoiGeometry(32, 64), layout, progress=False)
        indices.run(data, patients, layout, jobs=1, progress=False)  # the study's inputs, whole
        study = training.TrainingData(layout, torch.device("cpu"))
        fold, _ = study.fold(0, 0, "image")
        rows = []
        for b in a.backbones:
            for lr in a.rates:
                s = TrainingSettings(backbone=b, lr=lr, batch_size=32, max_epochs=8, patience=8, hidden=256,
                                     fusion="concat+skip", seed=SEED)
                r = training.train_model(fold, s, "image", (32, 64), torch.device("cpu"), (0, 0), progress=False)
                best = r.history.iloc[r.best_epoch]
                rows.append({"backbone": b, "lr": lr, "best_epoch": r.best_epoch, "val_loss": r.best_loss,
                             "val_auc": float(best["val_auc"]), "final_train_loss": float(r.history["train_loss"].iloc[-1])})
                print(rows[-1], flush=True)
    out = pd.DataFrame(rows)
    out.insert(0, "cohort_seed", SEED)
    if a.append and Path(a.out).is_file():
        out = pd.concat([pd.read_csv(a.out).drop(columns="kept"), out], ignore_index=True)
    out["kept"] = False
    for b, g in out.groupby("backbone", sort=False):
        out.loc[g.sort_values(["val_loss", "lr"]).index[0], "kept"] = True
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    print(atomic.write_csv(out, a.out))
    print(out[out.kept][["backbone", "lr", "val_loss", "val_auc"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
