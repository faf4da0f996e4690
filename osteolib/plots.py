"""Every figure of the study. Each function returns the matplotlib Figure and, given ``out``,
saves it atomically (PNG at 150 dpi, plus any other suffixes listed in ``formats``)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from . import atomic, images
from .roi import RoiGeometry, crop


def save(fig: plt.Figure, out: str | Path, formats: tuple[str, ...] = (".png",)) -> Path:
    """Save ``fig`` as ``out`` (and its other formats) atomically."""
    out = Path(out)
    for suffix in formats:
        target = out.with_suffix(suffix)
        with atomic.atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight", format=suffix.lstrip("."))
    return out


def synthetic_examples(data_dir: str | Path, geometry: RoiGeometry, out: str | Path | None = None,
                       seed: int = 0) -> plt.Figure:
    """Four radiographs with the left landmark and the ROI box, and two ROIs per cortical index.

    Reads ``truth.csv`` (synthetic data only) to pick patients of each cortical-index class.
    """
    data_dir = Path(data_dir)
    truth = pd.read_csv(data_dir / "truth.csv", dtype={"patient_id": str})
    clinical = pd.read_csv(data_dir / "clinical.csv", dtype={"patient_id": str})
    lm = pd.read_csv(data_dir / "landmarks.csv", dtype={"patient_id": str})
    lm = lm[lm["side"] == geometry.side].set_index("patient_id")
    rng = np.random.default_rng(seed)
    truth = truth.merge(clinical[["patient_id", "image"]], on="patient_id")
    picks = truth.iloc[rng.choice(len(truth), 4, replace=False)]
    fig = plt.figure(figsize=(14, 9.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1])
    axes = top.subplots(2, 2)
    for ax, (_, p) in zip(axes.flat, picks.iterrows()):
        img = images.read_gray(data_dir / p["image"])
        x, y = lm.loc[p["patient_id"], ["x", "y"]]
        x0, y0, x1, y1 = geometry.box(x, y)
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        ax.add_patch(mpatches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="#ffb000", lw=1.2))
        ax.plot([x], [y], "+", color="#ff3030", ms=9, mew=1.5)
        ax.set_title(f"{p['patient_id']}  T = {p['tscore']:.1f}, MCW {p['mcw_mm']:.1f} mm, "
                     f"{p['cortical_index']}", fontsize=9)
        ax.set_axis_off()
    top.suptitle("Synthetic panoramic radiographs: left mental foramen (+) and ROI (box)", fontsize=11)
    cells = bottom.subplots(1, 6)
    for k, ci in enumerate(("C1", "C2", "C3")):
        group = truth[truth["cortical_index"] == ci]
        chosen = group.iloc[rng.choice(len(group), min(2, len(group)), replace=False)] if len(group) else group
        for j in range(2):
            ax = cells[2 * k + j]
            ax.set_axis_off()
            if j >= len(chosen):
                continue
            p = chosen.iloc[j]
            x, y = lm.loc[p["patient_id"], ["x", "y"]]
            roi = crop(images.read_gray(data_dir / p["image"]), geometry.box(x, y), p["patient_id"])
            ax.imshow(roi, cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{ci}: T {p['tscore']:.1f}, MCW {p['mcw_mm']:.1f} mm", fontsize=8)
    bottom.suptitle("ROIs by cortical index (C1 even margin, C2 semilunar defects, C3 porous)", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig


def contact_sheet(study_dir: str | Path, cohort: pd.DataFrame, n: int = 40, out: str | Path | None = None,
                  seed: int = 0) -> plt.Figure:
    """A grid of ROIs (half osteoporotic, half not) for a visual check of the crops."""
    rois_dir = Path(study_dir) / "rois"
    rng = np.random.default_rng(seed)
    parts = [g.iloc[rng.choice(len(g), min(n // 2, len(g)), replace=False)]
             for _, g in cohort.groupby("label")]
    pick = pd.concat(parts).sort_values(["label", "patient_id"], ascending=[False, True])
    cols = 8
    rows = int(np.ceil(len(pick) / cols))
    first = np.asarray(Image.open(rois_dir / f"{pick.iloc[0]['patient_id']}.png"))
    aspect = first.shape[0] / first.shape[1]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 1.9 * aspect + 0.8),
                             layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (_, p) in zip(axes.flat, pick.iterrows()):
        ax.imshow(np.asarray(Image.open(rois_dir / f"{p['patient_id']}.png")), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{p['patient_id']} {'OP' if p['label'] else 'non-OP'}", fontsize=7,
                     color="#b00000" if p["label"] else "black")
    fig.suptitle(f"ROIs ({first.shape[0]} x {first.shape[1]} px): osteoporosis (OP) first", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig
