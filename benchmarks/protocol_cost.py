"""The published protocol's cost on one GPU model, from measured epochs.

    python benchmarks/protocol_cost.py benchmarks/results/2026-11-27-h200 [--gpus 1 4 8]

Reads, from one device run's folder: the epoch benchmark (``bench_*.csv`` from ``python -m osteolib.bench``)
and one paper-profile repeat's histories (``paper_history_<arm>.csv``, the epochs early stopping
actually ran per fold). For each backbone:

* fold-epochs = 30 repeats x 5 folds x the mean epochs per fold of each arm (the paper repeat's;
  measured for resnet18 only, assumed alike for the others: say so wherever it is quoted);
* cost = fold-epochs x the project's time per fold-epoch (training part + a validation pass scaled
  to the paper fold's 70 validation images), one fold at a time;
* bound = fold-epochs x the bare training step's time per epoch (no data work, batch 128).

Then the wall time of the workflow (``make paper GPUS=N``): its training jobs are one backbone x arm x
10 repeats each (``repeats_per_job``), one GPU per job; scheduled longest first onto N GPUs (a
lower bound is max(total / N, longest job)). Everything else (cohort, ROIs, statistics, Grad-CAM)
is minutes and left out. Prints markdown tables; asserts nothing (a calculator, not a test).
"""
from __future__ import annotations

import argparse
import heapq
from pathlib import Path

import pandas as pd

N_REPEATS, N_FOLDS, REPEATS_PER_JOB, VAL_PAPER, VAL_BENCH = 30, 5, 10, 70, 225


def epochs_per_fold(folder: Path) -> dict[str, float]:
    """Mean epochs per fold of each arm in the paper repeat's histories."""
    out = {}
    for f in sorted(folder.glob("paper_history_*.csv")):
        h = pd.read_csv(f)
        out[f.stem.removeprefix("paper_history_")] = float(h.groupby("fold").size().mean())
    return out


def costs(folder: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    bench = pd.concat([pd.read_csv(f) for f in sorted(folder.glob("bench_*.csv"))], ignore_index=True)
    epochs = epochs_per_fold(folder)
    rows = []
    for _, b in bench.iterrows():
        per_epoch = b.project_train_s + b.project_eval_s * VAL_PAPER / VAL_BENCH
        for arm, e in epochs.items():
            fold_epochs = N_REPEATS * N_FOLDS * e
            rows.append({"backbone": b.backbone, "arm": arm, "epochs_per_fold": e, "fold_epochs": fold_epochs,
                         "project_s_per_fold_epoch": per_epoch, "bare_s_per_fold_epoch": b.bare_train_s,
                         "gpu_hours": fold_epochs * per_epoch / 3600, "bound_hours": fold_epochs * b.bare_train_s / 3600})
    return pd.DataFrame(rows), epochs


def makespan(jobs_h: list[float], gpus: int) -> float:
    """Longest-processing-time-first schedule of ``jobs_h`` (hours) onto ``gpus`` (hand-written: a
    heap of GPU finish times; no scheduling library is needed for this)."""
    finish = [0.0] * gpus
    for j in sorted(jobs_h, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + j)
    return max(finish)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--gpus", nargs="+", type=int, default=[1, 4, 8])
    a = p.parse_args(argv)
    table, epochs = costs(a.folder)
    per_backbone = table.groupby("backbone", sort=False)[["gpu_hours", "bound_hours"]].sum()
    per_backbone["ratio"] = per_backbone.gpu_hours / per_backbone.bound_hours
    total = per_backbone.sum()
    print(f"epochs per fold (paper repeat): {epochs}\n")
    print(table.round(3).to_markdown(index=False), "\n")
    print(per_backbone.round(2).to_markdown(), "\n")
    print(f"protocol: {total.gpu_hours:.1f} GPU-hours one fold at a time; bound {total.bound_hours:.1f}; "
          f"ratio {total.gpu_hours / total.bound_hours:.2f}\n")
    jobs = (table.gpu_hours * REPEATS_PER_JOB / N_REPEATS).repeat(N_REPEATS // REPEATS_PER_JOB).tolist()
    print("| GPUs | training wall time, h (longest job first) | lower bound, h |\n| --- | --- | --- |")
    for g in a.gpus:
        print(f"| {g} | {makespan(jobs, g):.1f} | {max(sum(jobs) / g, max(jobs)):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
