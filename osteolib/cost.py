"""What a network costs: parameters, multiply-adds at the ROI's size, inference latency per ROI on this
machine, and (from a study's own training runs) seconds per training epoch.

* **parameters**: of the whole network of an arm (backbone and head), and of the backbone alone;
* **multiply-adds** of one ROI's forward pass, by PyTorch's own flop counter
  (``torch.utils.flop_counter.FlopCounterMode``, which counts the matrix products: convolutions,
  linear layers, attention; elementwise work is not counted, as in fvcore and the papers' "FLOPs");
  multiply-adds = its FLOPs / 2. A transformer's attention is counted as explicit products (timm's
  fused kernel is switched off for the count: the counter does not see it on the CPU). Checked against
  torchvision's published operation counts (resnet18 1.814 G, RegNetY-400MF 0.402 G at 224 x 224) and
  DeiT-tiny's by hand (``tests/test_cost.py``);
* **latency**: one ROI at a time (batch 1, eval mode, no gradients), the median of ``repeats`` timed
  passes after ``warmup`` untimed ones, on ``threads`` CPU threads; every backbone in the same
  process, each pass interleaved with one of ``reference`` (resnet18), so that each latency also comes
  as a ratio to the reference measured in turn with it (the machine's load drifts; the ratio less);
* **training seconds per epoch**: the median epoch of a study's runs (``runs/<b>/<arm>/r*/history.csv``,
  written by the training loop: one epoch and its validation pass, as that study ran them).

``python -m osteolib.cost --study networks`` writes ``outputs/<study>/cost/cost.csv`` (atomically) for
the study's ROI size and every backbone it trained (or ``--backbones``); after notebook 04 also
``cost/accuracy_cost.csv`` and ``figures/accuracy_cost.png`` (:mod:`osteolib.tradeoff`). Nothing here is
a test: the numbers are measurements of this machine.

>>> row = count("resnet18", (32, 64))
>>> row["params"] > 11e6, round(row["macs"] / 1e6)
(True, 74)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from . import atomic, backbones, models, plots, repro, tradeoff
from .layout import StudyLayout
from .settings import NetworkConfig

__all__ = ["count", "latency", "training_seconds", "table", "main"]

REFERENCE = "resnet18"


def _net(backbone: str, input_size, arm: str = "image") -> models.OsteoNet:
    return models.build(NetworkConfig(backbone, arm, tuple(input_size)), seed=0).eval()


def _inputs(arm: str, size) -> tuple:
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(0))
    return (x, torch.zeros(1, 4)) if arm == "ensemble" else (x,)


def count(backbone: str, input_size, arm: str = "image") -> dict:
    """Parameters (whole network, backbone) and multiply-adds of one ROI of ``input_size`` (height, width)."""
    net = _net(backbone, input_size, arm)
    for m in net.modules():  # timm's fused attention (scaled_dot_product_attention) is not counted on the CPU:
        if hasattr(m, "fused_attn"):  # the same attention as explicit matrix products, which are
            m.fused_attn = False
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(*_inputs(arm, input_size))
    return {"backbone": backbone, "arm": arm, "params": sum(p.numel() for p in net.parameters()),
            "backbone_params": sum(p.numel() for p in net.backbone.parameters()),
            "macs": counter.get_total_flops() / 2}


def _time_pair(net, ref, inputs, warmup: int, repeats: int) -> tuple[float, float]:
    """Median seconds of one pass of ``net`` and of ``ref``, their passes interleaved (ref, net, ref, net, ...)
    so that the machine's drift falls on both alike."""
    def once(model, inputs) -> float:
        t = time.perf_counter()
        model(*inputs)
        return time.perf_counter() - t
    with torch.no_grad():
        for _ in range(warmup):
            ref(*inputs), net(*inputs)
        pairs = [(once(net, inputs), once(ref, inputs)) for _ in range(repeats)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def latency(names: list[str], input_size, arm: str = "image", threads: int = 1, warmup: int = 5,
            repeats: int = 30, reference: str = REFERENCE) -> pd.DataFrame:
    """Median seconds per ROI (batch 1) of each backbone, and its ratio to ``reference`` timed in turn with it."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ref = _net(reference, input_size, arm)
        rows = []
        for b in tqdm(names, desc="latency", leave=False):
            net = _net(b, input_size, arm)
            s, r = _time_pair(net, ref, _inputs(arm, input_size), warmup, repeats)
            rows.append({"backbone": b, "latency_ms": 1e3 * s, "latency_ratio": s / r, "reference_ms": 1e3 * r})
    finally:
        torch.set_num_threads(before)
    out = pd.DataFrame(rows)
    out["threads"] = threads
    return out


def training_seconds(layout: StudyLayout) -> pd.DataFrame:
    """Median seconds per training epoch (with its validation pass) of every run of the study, per backbone and arm."""
    rows = []
    for b in backbones.names():
        for arm in ("image", "ensemble"):
            files = [layout.file("history", backbone=b, arm=arm, repeat=r) for r in layout.repeats(b, arm)]
            files = [f for f in files if f.is_file()]
            if files:
                h = pd.concat([pd.read_csv(f) for f in files])
                rows.append({"backbone": b, "arm": arm, "epoch_seconds": float(h["seconds"].median()), "epochs": len(h)})
    return pd.DataFrame(rows, columns=["backbone", "arm", "epoch_seconds", "epochs"])


def table(layout: StudyLayout, names: list[str] | None = None, threads: int = 1) -> pd.DataFrame:
    """The cost of each backbone (image arm) at the study's ROI size: counts, latency, and its training epochs."""
    epochs = training_seconds(layout)
    cards = [layout.file("kept_card", backbone=r.backbone, arm=r.arm) for r in epochs.itertuples()]
    card = next((c for c in cards if c.is_file()), None)
    if card is None:
        raise FileNotFoundError(f"{layout.root}: no trained model; run the study's training first")
    size = tuple(json.loads(card.read_text())["network"]["input_size"])
    names = names or [b for b in backbones.names() if b in set(epochs.backbone)]
    counts = pd.DataFrame([count(b, size) for b in tqdm(names, desc="multiply-adds", leave=False)])
    out = counts.merge(latency(names, size, threads=threads), on="backbone")
    per_arm = epochs.pivot(index="backbone", columns="arm", values="epoch_seconds").add_prefix("epoch_seconds_")
    out = out.merge(per_arm, left_on="backbone", right_index=True, how="left")
    out.insert(1, "family", [backbones.spec(b).family for b in out.backbone])
    out.insert(2, "paper", [backbones.spec(b).paper for b in out.backbone])
    out["input_size"] = f"{size[0]}x{size[1]}"
    out["device"] = f"{repro.cpu_model()}, {threads} thread(s)"
    git = repro.git_state()
    out["commit"] = f"{git['commit']}{' (uncommitted changes)' if git['dirty'] else ''}"
    return out.drop(columns="arm")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", default="networks", help="study name (outputs/<study>/)")
    ap.add_argument("--backbones", nargs="*", help="default: every backbone the study trained")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for the latency (default 1: one core)")
    a = ap.parse_args(argv)
    layout = StudyLayout.named(a.study)
    out = layout.file("cost_table", name="cost")
    out.parent.mkdir(parents=True, exist_ok=True)
    costs = table(layout, a.backbones, a.threads)
    atomic.write_csv(costs, out)
    print(out)
    auc, comparisons = layout.file("stats_table", name="bootstrap_auc"), layout.file("stats_table", name="comparisons")
    if auc.is_file() and comparisons.is_file():  # notebook 04 has run: accuracy beside the cost, and the figure
        both = tradeoff.accuracy_cost(costs, pd.read_csv(auc), pd.read_csv(comparisons))
        print(atomic.write_csv(both, layout.file("cost_table", name="accuracy_cost")))
        figure = layout.file("figure", name="accuracy_cost")
        figure.parent.mkdir(parents=True, exist_ok=True)
        print(plots.save(plots.accuracy_cost(both), figure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
