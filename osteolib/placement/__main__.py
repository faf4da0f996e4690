"""``python -m osteolib.placement train|evaluate``: train a detector on data folders with
landmarks, or measure one on a data folder."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .. import atomic, plots, repro
from ..cohort import read_clinical
from . import Augment, DetectorSettings, error_summary, evaluate, load, load_set, marker, mirror_check, save, train


def _train(args) -> int:
    """Hold out a share of each folder's patients (listed in the card), train on the rest."""
    xs, kps, crops, where, used, held = [], [], [], [], [], {}
    for d in args.data:
        ids = read_clinical(d, check_images=False)["patient_id"].tolist()
        order = list(np.random.default_rng(repro.child_seed(args.seed, 8)).permutation(ids))
        n_hold = int(round(args.holdout * len(ids)))
        held[str(Path(d).resolve())] = sorted(order[:n_hold])
        x, kp, _ = load_set(d, order[n_hold:], progress=True)
        c, w = marker.load_corners(d, order[n_hold:], progress=True)
        xs.append(x), kps.append(kp), crops.append(c), where.append(w), used.append(len(order) - n_hold)
    t0 = time.perf_counter()
    s = DetectorSettings(epochs=args.epochs, seed=args.seed)
    net = train(torch.cat(xs), torch.cat(kps), s)
    where = torch.cat(where)
    rs = marker.ReaderSettings(seed=args.seed)
    if (where >= 0).any():       # the side markers' places are known (a synthetic truth): train the reader
        net.reader = marker.train_reader(torch.cat(crops), where, rs)
        net.reads_markers = True
    else:
        print("no folder says where its side markers are: the marker reader is not trained, mirrored "
              "radiographs will not be flagged", file=sys.stderr)
    seconds = time.perf_counter() - t0
    save(net, args.out, {"trained_on": dict(zip(map(str, args.data), used)), "held_out": held,
                         "settings": asdict(s), "augment": asdict(Augment()), "train_seconds": seconds,
                         "reader_settings": asdict(rs) if net.reads_markers else None,
                         "reader_trained_on": {"marked": int((where >= 0).sum()), "unmarked": int((where < 0).sum())}})
    print(f"{args.out}: trained on {sum(used)} radiographs in {seconds:.0f} s")
    return 0


def _evaluate(args) -> int:
    """Place every patient (or the held-out ones), write the table, print the summary."""
    net, card = load(args.detector)
    ids = None
    if args.holdout_only:
        ids = card["held_out"].get(str(Path(args.data).resolve()))
        if ids is None:
            sys.exit(f"{args.data} was not a training folder of {args.detector}: drop --holdout-only")
    look = {k: getattr(args, k) for k in ("gain", "offset", "noise", "blur") if getattr(args, k) is not None}
    t0 = time.perf_counter()
    table = evaluate(net, args.data, ids, args.min_confidence, **look)
    seconds = time.perf_counter() - t0
    atomic.write_csv(table, args.out, float_format="%.3f")
    mirror = {}
    if args.mirror_check:
        m = mirror_check(net, args.data, ids)
        atomic.write_csv(m, Path(args.out).with_name(Path(args.out).stem + "_mirror.csv"), float_format="%.3f")
        marked = m[m["marker"] != "none"] if "marker" in m else m
        mirror = {"looks_mirrored_as_is": float((m["p_mirrored"] >= 0.5).mean()),
                  "looks_mirrored_flipped_marked": float((marked["p_mirrored_if_flipped"] >= 0.5).mean())}
    if args.figure:
        left = table.rename(columns={"left_x": "x", "left_y": "y", "left_true_x": "true_x", "left_true_y": "true_y",
                                     "left_error_full_px": "error_full_px"})
        plots.worst_placements(args.data, left, out=args.figure)
    print(json.dumps({**error_summary(table), **mirror, "seconds_per_radiograph": seconds / len(table), "look": look}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.placement", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a detector on the landmarks of data folders")
    tr.add_argument("--data", action="append", required=True, help="data folder (input layout); repeatable")
    tr.add_argument("--out", required=True, help="folder for detector.safetensors + detector.json")
    tr.add_argument("--holdout", type=float, default=0.2, help="share of each folder's patients kept out")
    tr.add_argument("--epochs", type=int, default=DetectorSettings.epochs)
    tr.add_argument("--seed", type=int, default=0)
    ev = sub.add_parser("evaluate", help="place every patient of a data folder and measure the errors")
    ev.add_argument("--detector", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--out", required=True, help="CSV with one row per patient")
    ev.add_argument("--figure", help="PNG of the worst placements")
    ev.add_argument("--holdout-only", action="store_true", help="only the patients the detector was not trained on")
    ev.add_argument("--min-confidence", type=float, default=0.5)
    ev.add_argument("--mirror-check", action="store_true",
                    help="also P(mirrored) of every radiograph as it is and flipped (<out>_mirror.csv)")
    for name in ("gain", "offset", "noise", "blur"):
        ev.add_argument(f"--{name}", type=float, default=None, help="change the image's look (see perturb)")
    args = ap.parse_args(argv)
    return _train(args) if args.command == "train" else _evaluate(args)


if __name__ == "__main__":
    raise SystemExit(main())
