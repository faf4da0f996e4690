"""Every figure of the study. Each function returns the matplotlib Figure and, given ``out``,
saves it atomically (PNG at 150 dpi, plus any other suffixes listed in ``formats``).

Figures are reproducible to the byte: no date in the SVG metadata, a fixed salt for the SVG's
element ids, and any random jitter drawn from a fixed seed."""
from __future__ import annotations

from pathlib import Path

import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from PIL import Image
from sklearn.metrics import roc_curve

from . import atomic, images, repro
from .calibration import reliability as reliability_curve
from .cohort import read_clinical
from .datafolder import SPACING_COLUMNS, DataFolder
from .layout import StudyLayout
from .metrics import NAMES
from .roi import crop, cut, read_all_landmarks, read_geometry
from .settings import NetworkConfig, RoiGeometry
from .synthetic import read_truth
from .tables import TESTS

__all__ = ["save", "synthetic_examples", "devices", "contact_sheet", "mean_roc", "roc_backbone", "roc_all",
           "metric_distributions", "forest", "auc_differences", "reliability", "decision_curves", "subgroups",
           "stats_figures", "cam_panel", "cam_summary", "screening_figure", "worst_placements", "mask_outside",
           "external_forest", "external_calibration", "external_decision", "external_learning_curve",
           "indices_profiles", "bland_altman", "readers_roc"]


def save(fig: plt.Figure, out: str | Path, formats: tuple[str, ...] = (".png",)) -> Path:
    """Save ``fig`` as ``out`` (and its other formats) atomically."""
    out = Path(out)
    for suffix in formats:
        target = out.with_suffix(suffix)
        fmt = suffix.lstrip(".")
        with atomic.atomic_path(target) as tmp, plt.rc_context({"svg.hashsalt": "osteolib"}):
            fig.savefig(tmp, dpi=150, bbox_inches="tight", format=fmt,
                        metadata={"Date": None} if fmt in ("svg", "pdf") else None)
    return out


def synthetic_examples(data_dir: str | Path, geometry: RoiGeometry, out: str | Path | None = None,
                       seed: int = 0) -> plt.Figure:
    """Four radiographs with the left landmark and the ROI box, and two ROIs per cortical index.

    Reads ``truth.csv`` (synthetic data only) to pick patients of each cortical-index class.
    """
    data_dir = Path(data_dir)
    truth = read_truth(data_dir)
    clinical = read_clinical(data_dir, check_images=False)
    lm = read_all_landmarks(data_dir)
    lm = lm[lm["side"] == geometry.side].set_index("patient_id")
    rng = np.random.default_rng(seed)
    truth = truth.merge(clinical[["patient_id", "image"]], on="patient_id")
    picks = truth.iloc[rng.choice(len(truth), 4, replace=False)]
    fig = plt.figure(figsize=(14, 9.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1])
    axes = top.subplots(2, 2)
    for ax, (_, p) in zip(axes.flat, picks.iterrows()):
        img = images.read_gray(DataFolder(data_dir).image(p["image"]))
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
            roi = crop(images.read_gray(DataFolder(data_dir).image(p["image"])), geometry.box(x, y), p["patient_id"])
            ax.imshow(roi, cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{ci}: T {p['tscore']:.1f}, MCW {p['mcw_mm']:.1f} mm", fontsize=8)
    bottom.suptitle("ROIs by cortical index (C1 even margin, C2 semilunar defects, C3 porous)", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig


def devices(data_dir: str | Path, geometry: RoiGeometry, out: str | Path | None = None) -> plt.Figure:
    """One radiograph per pixel spacing of a data folder, drawn in millimetres (the same physical
    scale), with its left or right landmark and the ROI box cut from it; below, the ROIs themselves.

    With the geometry in mm the ROIs cover the same anatomy and have the same pixels whatever the
    device; in pixels they do not. Needs the spacing columns of ``clinical.csv`` and ``landmarks.csv``.
    """
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False)
    if not set(SPACING_COLUMNS) <= set(clinical.columns) or clinical[list(SPACING_COLUMNS)].isna().all(axis=None):
        raise ValueError(f"{DataFolder(data_dir).clinical_csv}: no pixel spacing recorded ({', '.join(SPACING_COLUMNS)})")
    lm = read_all_landmarks(data_dir)
    lm = lm[lm["side"] == geometry.side].set_index("patient_id")
    known = clinical[clinical["patient_id"].isin(lm.index)].dropna(subset=list(SPACING_COLUMNS))
    burned = images.burned_in(data_dir, known)
    # a radiograph with burned-in text is never shown whole: another of its spacing is, or only its ROI's surroundings
    picks = [g.assign(_burned=g["patient_id"].isin(burned)).sort_values("_burned", kind="stable").iloc[0]
             for _, g in known.groupby(list(SPACING_COLUMNS))]
    fig, axes = plt.subplots(2, len(picks), figsize=(5.5 * len(picks), 5.2), height_ratios=[2.2, 1],
                             layout="constrained", squeeze=False)
    for k, p in enumerate(picks):
        img = images.read_gray(DataFolder(data_dir).image(p["image"]))
        (h, w), (sr, sc) = img.shape, tuple(p[c] for c in SPACING_COLUMNS)
        x, y = lm.loc[p["patient_id"], ["x", "y"]]
        roi, (x0, y0, x1, y1) = cut(img, geometry, x, y, p["patient_id"], (sr, sc))
        ax = axes[0, k]
        if p["_burned"]:
            img = mask_outside(img, (x0, y0, x1, y1))
        ax.imshow(img, cmap="gray", vmin=0, vmax=255, extent=(0, w * sc, h * sr, 0))
        ax.add_patch(mpatches.Rectangle((x0 * sc, y0 * sr), (x1 - x0) * sc, (y1 - y0) * sr, fill=False,
                                        ec="#ffb000", lw=1.2))
        ax.plot([x * sc], [y * sr], "+", color="#ff3030", ms=9, mew=1.5)
        ax.set_title(f"{p['patient_id']}: {w} x {h} px at {sc:g} x {sr:g} mm/px"
                     + ("\n(burned-in text: shown around the ROI only)" if p["_burned"] else ""), fontsize=9)
        ax.set_xlabel("mm")
        axes[1, k].imshow(roi, cmap="gray", vmin=0, vmax=255)
        axes[1, k].set_title(f"ROI {roi.shape[1]} x {roi.shape[0]} px = {(x1 - x0) * sc:.1f} x "
                             f"{(y1 - y0) * sr:.1f} mm", fontsize=9)
        axes[1, k].set_axis_off()
    top = max(ax.get_xlim()[1] for ax in axes[0])
    for ax in axes[0]:
        ax.set_xlim(0, top)
    unit = f"in mm ({geometry.pixel_mm:g} mm per ROI pixel)" if geometry.in_mm else "in image pixels"
    fig.suptitle(f"One radiograph per device, at the same physical scale: the ROI {unit}", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig


def contact_sheet(layout: StudyLayout, cohort: pd.DataFrame, n: int = 40, out: str | Path | None = None,
                  seed: int = 0) -> plt.Figure:
    """A grid of ROIs (half osteoporotic, half not) for a visual check of the crops."""
    rng = np.random.default_rng(seed)
    parts = [g.iloc[rng.choice(len(g), min(n // 2, len(g)), replace=False)]
             for _, g in cohort.groupby("label")]
    pick = pd.concat(parts).sort_values(["label", "patient_id"], ascending=[False, True])
    cols = 8
    rows = int(np.ceil(len(pick) / cols))
    first = np.asarray(Image.open(layout.roi_png(pick.iloc[0]["patient_id"])))
    aspect = first.shape[0] / first.shape[1]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.9, rows * 1.9 * aspect + 0.8),
                             layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (_, p) in zip(axes.flat, pick.iterrows()):
        ax.imshow(np.asarray(Image.open(layout.roi_png(p["patient_id"]))), cmap="gray", vmin=0, vmax=255)
        row_mm = SPACING_COLUMNS[0]
        spacing = f" · {p[row_mm]:.3g} mm/px" if row_mm in p and pd.notna(p[row_mm]) else ""
        ax.set_title(f"{p['patient_id']} {'OP' if p['label'] else 'non-OP'}{spacing}", fontsize=7,
                     color="#b00000" if p["label"] else "black")
    size = f"{first.shape[0]} x {first.shape[1]} px"
    if layout.roi_geometry.is_file():
        g = read_geometry(layout)
        if g.in_mm:  # devices of different spacing, the same piece of bone
            size += f" = {g.height * g.pixel_mm:g} x {g.width * g.pixel_mm:g} mm on every device"
    fig.suptitle(f"ROIs ({size}): osteoporosis (OP) first", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig


# --- statistics figures (notebook 04) ------------------------------------------------------------
FPR_GRID = np.linspace(0, 1, 101)
ARM_COLOURS = {"image": "#1f77b4", "ensemble": "#d62728", "covariates": "#7f7f7f", "osta": "#bcbd22",
               "mcw_rule": "#8c564b", "mcw_pmi": "#9467bd", "mcw_pmi_covariates": "#e377c2", "mci": "#17becf"}


def mean_roc(predictions: pd.DataFrame) -> pd.DataFrame:
    """Mean ROC over repeats: TPR interpolated on a fixed FPR grid per repeat (columns fpr, mean, sd)."""
    curves = []
    for _, g in predictions.groupby("repeat"):
        fpr, tpr, _ = roc_curve(g["y_true"], g["p_osteoporosis"])
        curves.append(np.interp(FPR_GRID, fpr, tpr))
    c = np.array(curves)
    return pd.DataFrame({"fpr": FPR_GRID, "mean": c.mean(0), "sd": c.std(0, ddof=1) if len(c) > 1 else 0 * c[0]})


def _roc_axes(ax, title: str) -> None:
    ax.plot([0, 1], [0, 1], ls=":", c="0.6", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 - specificity", ylabel="sensitivity", title=title, aspect="equal")
    ax.legend(loc="lower right", fontsize=8)


def roc_backbone(predictions: pd.DataFrame, baseline: pd.DataFrame, backbone: str,
                 auc: pd.DataFrame, out=None) -> plt.Figure:
    """Both arms and the covariate baseline of one backbone (and, where the study measured them, the MCW
    rule and what a dentist measures plus the covariates): mean ROC over repeats with a +-1 SD band.

    ``auc``: the summary table of :func:`osteolib.stats.summary` (its mean AUCs label the curves)."""
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    parts = [(a, predictions[(predictions.backbone == backbone) & (predictions.arm == a)]) for a in ("image", "ensemble")]
    parts += [(a, baseline[baseline.arm == a]) for a in ("covariates", "mcw_rule", "mcw_pmi_covariates")]
    for arm, g in parts:
        if g.empty:
            continue
        m = mean_roc(g)
        a = auc[(auc.metric == "auc") & auc.backbone.isin([backbone, "baseline"]) & (auc.arm == arm)
                & auc.pooling.str.startswith("pooled")]["mean"]
        ax.plot(m["fpr"], m["mean"], c=ARM_COLOURS[arm], label=f"{arm} (AUC {a.iloc[0]:.3f})")
        ax.fill_between(m["fpr"], (m["mean"] - m["sd"]).clip(0), (m["mean"] + m["sd"]).clip(0, 1),
                        color=ARM_COLOURS[arm], alpha=0.15, lw=0)
    _roc_axes(ax, f"{backbone}: mean ROC over repeats (band: +-1 SD)")
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def roc_all(predictions: pd.DataFrame, out=None) -> plt.Figure:
    """The paper's supplementary figure: mean ROC of every model, one panel per arm."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
    for ax, arm in zip(axes, ("image", "ensemble")):
        for b, g in predictions[predictions.arm == arm].groupby("backbone"):
            m = mean_roc(g)
            ax.plot(m["fpr"], m["mean"], label=b)
        _roc_axes(ax, f"{arm} models")
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def metric_distributions(per_repeat: pd.DataFrame, out=None) -> plt.Figure:
    """Per-repeat values of every metric, per backbone and arm (box plots with the repeats as dots)."""
    long = per_repeat.melt(id_vars=["backbone", "arm", "repeat"], value_vars=list(NAMES), var_name="metric")
    g = sns.catplot(data=long, x="backbone", y="value", hue="arm", col="metric", col_wrap=3, kind="box",
                    palette=ARM_COLOURS, height=3.2, aspect=1.3, sharey=False, fliersize=0)
    with repro.seeded_numpy_global(0):  # seaborn jitters the dots with numpy's global generator
        g.map_dataframe(sns.stripplot, x="backbone", y="value", hue="arm", dodge=True, palette=ARM_COLOURS,
                        size=3, alpha=0.6, legend=False)
    for ax in g.axes.flat:
        ax.tick_params(axis="x", rotation=30)
    g.figure.suptitle("Per-repeat metrics (each dot one CV repeat)", y=1.02)
    if out is not None:
        save(g.figure, out, (".png", ".svg"))
    return g.figure


def _forest(est, low, high, labels, xlabel: str, title: str, out=None, empty: str = "") -> plt.Figure:
    """Estimates with their intervals, one row each, and a dotted line at 0."""
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * max(len(est), 4) + 1.2), layout="constrained")
    y = np.arange(len(est))[::-1]
    ax.errorbar(est, y, xerr=[np.asarray(est) - low, np.asarray(high) - est], fmt="o", c="k", ms=4, capsize=2)
    ax.axvline(0, c="0.5", ls=":")
    ax.set_yticks(y, list(labels), fontsize=8)
    ax.set(xlabel=xlabel, title=title)
    if not len(est) and empty:
        ax.text(0.5, 0.5, empty, ha="center", transform=ax.transAxes)
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def forest(comparisons: pd.DataFrame, out=None) -> plt.Figure:
    """Hedges' g (ensemble - image) with its 95 % CI, per backbone and metric (the paper's effect size)."""
    c = comparisons[(comparisons.test == TESTS["paper"]) & (comparisons.comparison == "ensemble vs image")]
    c = c.dropna(subset=["hedges_g"])
    return _forest(c["hedges_g"], c["g_ci_low"], c["g_ci_high"], [f"{b} · {m}" for b, m in zip(c.backbone, c.metric)],
                   "Hedges' g, ensemble - image (95% CI)", "Effect sizes over CV repeats (the paper's)", out,
                   empty="needs at least 2 repeats per arm")


def auc_differences(comparisons: pd.DataFrame, out=None) -> plt.Figure:
    """The AUC differences that matter, per backbone: ensemble vs image, and each arm vs the
    covariates-only model, with their paired patient-level bootstrap 95 % intervals."""
    c = comparisons[comparisons.test == TESTS["bootstrap"]]
    return _forest(c["difference"], c["diff_ci_low"], c["diff_ci_high"],
                   [f"{b} · {k}" for b, k in zip(c.backbone, c.comparison)],
                   "AUC difference (paired patient-level bootstrap 95% interval)",
                   "Does the image add to the covariates? Do the covariates add to the image?", out)


def _per_backbone(predictions: pd.DataFrame, baseline: pd.DataFrame):
    """(backbone, [(arm name, its predictions)]) with the covariates baseline beside both arms."""
    cov = baseline[baseline.arm == "covariates"]
    for b in sorted(predictions["backbone"].unique()):
        g = predictions[predictions.backbone == b]
        yield b, [(a, g[g.arm == a]) for a in ("image", "ensemble") if (g.arm == a).any()] + [("covariates", cov)]


def reliability(predictions: pd.DataFrame, baseline: pd.DataFrame, calibration_table: pd.DataFrame,
                out=None) -> plt.Figure:
    """Reliability diagrams: observed frequency against mean prediction (deciles), one panel per backbone."""
    panels = list(_per_backbone(predictions, baseline))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), layout="constrained", squeeze=False)
    for ax, (b, parts) in zip(axes[0], panels):
        for arm, g in parts:
            r = reliability_curve(g["y_true"], g["p_osteoporosis"])
            c = calibration_table[calibration_table.backbone.isin([b, "baseline"]) & (calibration_table.arm == arm)]
            label = f"{arm} (slope {c['slope'].iloc[0]:.2f}, Brier {c['brier'].iloc[0]:.3f})" if len(c) else arm
            ax.plot(r["mean_predicted"], r["observed"], "o-", ms=3, c=ARM_COLOURS[arm], label=label)
        ax.plot([0, 1], [0, 1], ls=":", c="0.6", lw=1)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean predicted P(osteoporosis)", ylabel="observed frequency",
               title=f"{b}: calibration (deciles of prediction)", aspect="equal")
        ax.legend(loc="upper left", fontsize=7)
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def decision_curves(curves: pd.DataFrame, out=None) -> plt.Figure:
    """Net benefit against threshold probability: each backbone's arms and the covariates model,
    beside treat all, treat none and OSTA's rule."""
    backbones = sorted(set(curves.backbone) - {"baseline", "reference"})
    fig, axes = plt.subplots(1, len(backbones), figsize=(5 * len(backbones), 4), layout="constrained", squeeze=False)
    styles = {"treat all": ("0.4", "--"), "treat none": ("0.2", ":"), "OSTA <= -1": (ARM_COLOURS["osta"], "-.")}
    for ax, b in zip(axes[0], backbones):
        for (bb, arm), g in curves.groupby(["backbone", "arm"], sort=False):
            if bb not in (b, "baseline", "reference"):
                continue
            colour, ls = styles.get(arm, (ARM_COLOURS.get(arm, "k"), "-"))
            ax.plot(g["threshold"], g["net_benefit"], c=colour, ls=ls, label=arm)
        top = curves[curves.backbone.isin([b, "baseline", "reference"])]["net_benefit"].max()
        ax.set(ylim=(-0.05, top + 0.02), xlabel="threshold probability (refer for DXA at or above)",
               ylabel="net benefit", title=f"{b}: decision curves")
        ax.legend(fontsize=7)
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def subgroups(table: pd.DataFrame, out=None) -> plt.Figure:
    """AUC by subgroup (sex, age band) with bootstrap 95 % intervals, per model (a forest plot)."""
    t = table[table.backbone != "baseline"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.28 * max(len(t), 4) + 1.2), layout="constrained")
    y = np.arange(len(t))[::-1]
    for arm, g in t.groupby("arm", sort=False):
        ax.errorbar(g["auc"], y[g.index], xerr=[g["auc"] - g["auc_ci_low"], g["auc_ci_high"] - g["auc"]], fmt="o",
                    ms=4, capsize=2, c=ARM_COLOURS.get(arm, "k"), label=arm)
    ax.legend(fontsize=7)
    ax.axvline(0.5, c="0.6", ls=":")
    ax.set_yticks(y, [f"{b} · {a} · {g} (n {n}, OP {k})" for b, a, g, n, k in
                      zip(t.backbone, t.arm, t.subgroup, t.n, t.n_osteoporosis)], fontsize=7)
    ax.set(xlabel="AUC (patient-level bootstrap 95% interval)", title="Performance by sex and age band")
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def stats_figures(predictions: pd.DataFrame, baseline: pd.DataFrame, tables: dict, layout: StudyLayout) -> list[Path]:
    """Every figure of notebook 04 into the study's ``figures/`` (PNG and SVG); returns the PNG paths."""
    out = []
    for b in sorted(predictions["backbone"].unique()):
        out.append(layout.figure(f"roc_{b}"))
        roc_backbone(predictions, baseline, b, tables["summary"], out=out[-1])
    figures = {"roc_all_models": lambda o: roc_all(predictions, out=o),
               "metrics_per_repeat": lambda o: metric_distributions(tables["metrics_per_repeat"], out=o),
               "forest_hedges_g": lambda o: forest(tables["comparisons"], out=o),
               "auc_differences": lambda o: auc_differences(tables["comparisons"], out=o),
               "reliability": lambda o: reliability(predictions, baseline, tables["calibration"], out=o),
               "decision_curves": lambda o: decision_curves(tables["decision_curves"], out=o),
               "subgroups": lambda o: subgroups(tables["subgroups"], out=o)}
    for name, draw in figures.items():
        draw(layout.figure(name))
        out.append(layout.figure(name))
    plt.close("all")
    return out


def _cam_images(roi: np.ndarray, gradcam: np.ndarray, guided_gradcam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Grad-CAM overlaid on the ROI, guided Grad-CAM for display), both uint8 RGB / gray,
    drawn with pytorch-grad-cam's own helpers."""
    # lazy: pytorch-grad-cam loads torch and OpenCV, which only the CAM figures need
    from pytorch_grad_cam.utils.image import deprocess_image, show_cam_on_image
    rgb = np.repeat((roi.astype(np.float32) / 255.0)[..., None], 3, axis=2)
    overlay = show_cam_on_image(rgb, gradcam.astype(np.float32), use_rgb=True, image_weight=0.55)
    if np.isnan(guided_gradcam).all():  # a transformer: not defined (osteolib.cam.method); a blank panel that says so
        return overlay, None
    return overlay, deprocess_image(guided_gradcam[..., None])[..., 0]


def _show_guided(ax, guided: np.ndarray | None, shape: tuple[int, int]) -> None:
    if guided is None:
        ax.imshow(np.full(shape, 217, np.uint8), cmap="gray", vmin=0, vmax=255)
        ax.text(0.5, 0.5, "not defined\nfor a transformer", transform=ax.transAxes, ha="center", va="center", fontsize=6)
    else:
        ax.imshow(guided, cmap="gray", vmin=0, vmax=255)


def cam_panel(roi: np.ndarray, gradcam: np.ndarray, guided_gradcam: np.ndarray, title: str,
              out: str | Path | None = None) -> plt.Figure:
    """ROI | Grad-CAM overlay | guided Grad-CAM, as in the paper's Figure 1."""
    overlay, guided = _cam_images(roi, gradcam, guided_gradcam)
    h, w = roi.shape
    fig, axes = plt.subplots(1, 3, figsize=(3 * 2.6 * w / max(h, w) + 0.4, 2.6 * h / max(h, w) + 0.6),
                             layout="constrained")
    for ax, img, name in zip(axes, (roi, overlay, guided), ("ROI", "Grad-CAM", "guided Grad-CAM")):
        if img is None or img is guided:
            _show_guided(ax, img, roi.shape)
        else:
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_title(name, fontsize=8)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=8)
    if out is not None:
        save(fig, out)
    return fig


def cam_summary(rows: list[dict], out: str | Path | None = None) -> plt.Figure:
    """One row per (backbone, patient): ROI, then Grad-CAM and guided Grad-CAM of each arm.

    ``rows``: dicts with ``label`` (row title), ``roi`` and ``arms``: {arm: (gradcam, guided_gradcam, p)}.
    """
    arms = [a for a in ("image", "ensemble") if any(a in r["arms"] for r in rows)]
    ncol = 1 + 2 * len(arms)
    h, w = rows[0]["roi"].shape
    fig, axes = plt.subplots(len(rows), ncol, figsize=(ncol * 2.0, len(rows) * 2.0 * h / w + 0.8),
                             layout="constrained", squeeze=False)
    for i, r in enumerate(rows):
        axes[i, 0].imshow(r["roi"], cmap="gray", vmin=0, vmax=255)
        axes[i, 0].set_ylabel(r["label"], fontsize=6, rotation=0, ha="right", va="center")
        for j, arm in enumerate(arms):
            if arm in r["arms"]:
                cam, gg, p = r["arms"][arm]
                overlay, guided = _cam_images(r["roi"], cam, gg)
                axes[i, 1 + 2 * j].imshow(overlay)
                _show_guided(axes[i, 2 + 2 * j], guided, r["roi"].shape)
                axes[i, 1 + 2 * j].text(1, 1, f"p={p:.2f}", color="white", fontsize=6, va="top")
        for ax in axes[i]:
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
    titles = ["ROI"] + [f"{arm}: {kind}" for arm in arms for kind in ("Grad-CAM", "guided Grad-CAM")]
    for ax, t in zip(axes[0], titles):
        ax.set_title(t, fontsize=7)
    fig.suptitle("Where the networks look: Grad-CAM and guided Grad-CAM, image and ensemble arm "
                 "(repeat 0, fold 0 model; its test patients)", fontsize=8)
    if out is not None:
        save(fig, out)
    return fig


def screening_figure(gray: np.ndarray, box: tuple[int, int, int, int], crop: np.ndarray, gradcam: np.ndarray,
                     row: dict, network: NetworkConfig) -> plt.Figure:
    """One screened patient: the radiograph with the ROI box, and the ROI with its Grad-CAM overlay."""
    overlay, _ = _cam_images(crop, gradcam, np.zeros_like(gradcam))
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained", width_ratios=[2.2, 1])
    a.imshow(gray, cmap="gray", vmin=0, vmax=255)
    x0, y0, x1, y1 = box
    a.add_patch(mpatches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="#ffb000", lw=1.5))
    a.set_title("radiograph and ROI", fontsize=9)
    b.imshow(overlay)
    b.set_title(f"ROI with Grad-CAM of '{row['result']}'", fontsize=9)
    for ax in (a, b):
        ax.set_axis_off()
    fig.suptitle(f"{row['patient_id']}: P(osteoporosis) = {row['p_osteoporosis']:.3f} -> {row['result']} "
                 f"(threshold {row['threshold']:g}, {network.backbone} / {network.arm} arm)   |   "
                 f"OSTA {row['osta']:.1f}: {row['osta_result']}", fontsize=9)
    if row.get("explained"):  # what the image and the covariates each contribute (osteolib.contribution)
        fig.text(0.5, -0.02, row["explained"], ha="center", va="top", fontsize=8, wrap=True)
    return fig


def mask_outside(img: np.ndarray, box: tuple, margin: float = 1.0) -> np.ndarray:
    """``img`` with everything farther than ``margin`` box sizes from ``box`` (x0, y0, x1, y1) set to mid
    gray: how a radiograph with burned-in text is shown (the text, often a name, lies at its edges)."""
    x0, y0, x1, y1 = box
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    out = np.full_like(img, 128)
    r0, r1 = max(0, int(y0 - my)), min(img.shape[0], int(np.ceil(y1 + my)))
    c0, c1 = max(0, int(x0 - mx)), min(img.shape[1], int(np.ceil(x1 + mx)))
    out[r0:r1, c0:c1] = img[r0:r1, c0:c1]
    return out


def worst_placements(data_dir: str | Path, table: pd.DataFrame, n: int = 6, out=None) -> plt.Figure:
    """The ``n`` largest placement errors: the radiograph around the foramen with the clinician's
    landmark (+, green) and the detector's (x, orange). ``table``: patient_id, x, y, true_x, true_y,
    error_full_px (image pixels; the error in pixels of the full-size radiograph)."""
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    worst = table.dropna(subset=["error_full_px"]).nlargest(n, "error_full_px")
    fig, axes = plt.subplots(1, max(1, len(worst)), figsize=(3.0 * max(1, len(worst)), 3.0), layout="constrained",
                             squeeze=False)
    for ax, (_, r) in zip(axes[0], worst.iterrows()):
        img = images.read_gray(DataFolder(data_dir).image(clinical.loc[r["patient_id"], "image"]))
        half = max(20, int(0.08 * img.shape[1]))
        cx, cy = int(r["true_x"]), int(r["true_y"])
        x0, y0 = max(0, cx - half), max(0, cy - half)
        ax.imshow(img[y0:cy + half, x0:cx + half], cmap="gray", vmin=0, vmax=255)
        ax.plot([r["true_x"] - x0], [r["true_y"] - y0], "+", color="#30d030", ms=12, mew=2)
        ax.plot([r["x"] - x0], [r["y"] - y0], "x", color="#ff8c00", ms=10, mew=2)
        ax.set_title(f"{r['patient_id']}: {r['error_full_px']:.0f} px (full size)", fontsize=8)
        ax.set_axis_off()
    fig.suptitle("Worst automatic placements: clinician's landmark (+) and detector (x)", fontsize=9)
    if out is not None:
        save(fig, out)
    return fig


# --- notebook 06: across sites ----------------------------------------------------------------------

def _model_label(backbone: str, arm: str) -> str:
    return arm if backbone == "baseline" else f"{backbone} {arm}"


def external_forest(iecv: pd.DataFrame, pooled: pd.DataFrame, out=None) -> plt.Figure:
    """Per model: the AUC and the calibration slope of each held-out site with its 95 % interval (Wald, from
    DeLong's and the GLM's standard errors), the random-effects estimate (diamond) and its 95 % prediction
    interval for a new site (bar); repeat 0."""
    iecv, pooled = iecv[iecv["repeat"] == 0], pooled[pooled["repeat"] == 0]
    models = list(dict.fromkeys(zip(iecv["backbone"], iecv["arm"])))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.3 * len(models) * (iecv["site"].nunique() + 2) + 1.5),
                             layout="constrained", sharey=True)
    for ax, (metric, se, ref, xlabel) in zip(axes, (("auc", "auc_var", 0.5, "AUC (held-out site)"),
                                                    ("calibration_slope", "calibration_slope_se", 1.0,
                                                     "calibration slope (held-out site)"))):
        labels, y = [], 0
        for b, arm in models:
            g = iecv[(iecv.backbone == b) & (iecv.arm == arm)].sort_values("site")
            s = np.sqrt(g[se]) if se.endswith("var") else g[se]
            for (_, r), e in zip(g.iterrows(), s):
                ax.errorbar(r[metric], -y, xerr=1.96 * e, fmt="o", c=ARM_COLOURS.get(arm, "k"), ms=4, capsize=2)
                labels.append((-y, f"{_model_label(b, arm)} | {r['site']}"))
                y += 1
            pr = pooled[(pooled.backbone == b) & (pooled.arm == arm) & (pooled.metric == metric)]
            if len(pr) and np.isfinite(pr["estimate"].iloc[0]):
                pr = pr.iloc[0]
                ax.plot([pr["ci_low"], pr["estimate"], pr["ci_high"], pr["estimate"], pr["ci_low"]],
                        [-y, -y + 0.3, -y, -y - 0.3, -y], c="k")
                if np.isfinite(pr["pi_low"]):
                    ax.plot([pr["pi_low"], pr["pi_high"]], [-y, -y], c="0.5", lw=4, alpha=0.5, zorder=0)
                labels.append((-y, f"{_model_label(b, arm)} | pooled (PI)"))
            y += 2
        ax.axvline(ref, c="0.5", ls=":")
        ax.set(xlabel=xlabel)
        ax.set_yticks([t for t, _ in labels], [lab for _, lab in labels], fontsize=7)
    fig.suptitle("Internal-external cross-validation: each site held out, pooled by random effects")
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def external_calibration(pred: pd.DataFrame, out=None, n_bins: int = 5) -> plt.Figure:
    """Calibration curves per held-out site (one panel each): observed frequency against mean prediction per
    quantile bin, every model; repeat 0."""
    pred = pred[pred["repeat"] == 0]
    site_names = sorted(pred["site"].unique())
    fig, axes = plt.subplots(1, len(site_names), figsize=(3.6 * len(site_names), 3.8), layout="constrained",
                             squeeze=False)
    for ax, site in zip(axes[0], site_names):
        for (b, arm), g in pred[pred.site == site].groupby(["backbone", "arm"], sort=False):
            r = reliability_curve(g["y_true"], g["p_osteoporosis"], n_bins)
            ls = "--" if b == "baseline" else "-"
            ax.plot(r["mean_predicted"], r["observed"], marker="o", ms=3, ls=ls, c=ARM_COLOURS.get(arm, "k"),
                    alpha=0.8 if b == "baseline" else 1.0, label=_model_label(b, arm))
        ax.plot([0, 1], [0, 1], c="0.5", ls=":")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted", ylabel="observed", title=f"held out: {site}")
    axes[0][0].legend(fontsize=6)
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def external_decision(curves: pd.DataFrame, out=None) -> plt.Figure:
    """Decision curves per held-out site: every model's net benefit, treat all and treat none; repeat 0."""
    curves = curves[curves["repeat"] == 0]
    site_names = sorted(curves["site"].unique())
    fig, axes = plt.subplots(1, len(site_names), figsize=(3.6 * len(site_names), 3.8), layout="constrained",
                             squeeze=False)
    for ax, site in zip(axes[0], site_names):
        g = curves[curves.site == site]
        for (b, arm), m in g.groupby(["backbone", "arm"], sort=False):
            colour, ls = ("0.4", "--") if b == "reference" else (ARM_COLOURS.get(arm, "k"), "-." if b == "baseline" else "-")
            ax.plot(m["threshold"], m["net_benefit"], c=colour, ls=ls, label=arm if b in ("baseline", "reference")
                    else _model_label(b, arm))
        ax.axhline(0, c="0.2", ls=":", lw=0.8)
        ax.set(ylim=(-0.05, g["net_benefit"].max() + 0.02), xlabel="threshold probability", ylabel="net benefit",
               title=f"held out: {site}")
    axes[0][0].legend(fontsize=6)
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


def external_learning_curve(curves: pd.DataFrame, out=None) -> plt.Figure:
    """Per site a model was carried to: the calibration intercept and slope on the evaluation part after each
    update, against the local sample's size (median and interquartile range over the draws); the first
    network model of repeat 0."""
    curves = curves[curves["repeat"] == 0]
    nets = curves[curves["backbone"] != "baseline"]
    if len(nets):
        curves = nets[(nets["backbone"] == nets["backbone"].iloc[0]) & (nets["arm"] == nets["arm"].iloc[0])]
    site_names = sorted(curves["site"].unique())
    fig, axes = plt.subplots(2, max(1, len(site_names)), figsize=(3.4 * max(1, len(site_names)), 5.6),
                             layout="constrained", squeeze=False, sharex=True)
    colours = {"none": "0.4", "intercept": "#2ca02c", "logistic": "#9467bd"}
    for j, site in enumerate(site_names):
        for i, (metric, ref) in enumerate((("intercept", 0.0), ("slope", 1.0))):
            ax = axes[i][j]
            for update, g in curves[curves.site == site].groupby("update", sort=False):
                q = g.groupby("n_local")[metric].quantile([0.25, 0.5, 0.75]).unstack()
                ax.plot(q.index, q[0.5], marker="o", ms=3, c=colours.get(update, "k"), label=update)
                ax.fill_between(q.index, q[0.25], q[0.75], color=colours.get(update, "k"), alpha=0.15)
            ax.axhline(ref, c="0.5", ls=":")
            ax.set(ylabel=f"calibration {metric}", title=f"{site}" if i == 0 else "")
            if i == 1:
                ax.set(xlabel="local patients")
    if site_names:
        axes[0][0].legend(fontsize=7)
        b, arm = curves["backbone"].iloc[0], curves["arm"].iloc[0]
        fig.suptitle(f"Updating {_model_label(b, arm)} at a new site: how many local patients")
    if out is not None:
        save(fig, out, (".png", ".svg"))
    return fig


# --- radiomorphometric indices (notebook 02b) ------------------------------------------------------------

def indices_profiles(examples: list[dict], out=None) -> plt.Figure:
    """Each example (:func:`osteolib.indices.study.examples`) as two panels: the radiograph around the foramen
    with the perpendicular to the lower border and the two margins found, and the gray profile along the
    perpendicular with the fitted two-edge model (or, flagged, the reason)."""
    fig, axes = plt.subplots(len(examples), 2, figsize=(9, 2.6 * len(examples)), layout="constrained",
                             squeeze=False, gridspec_kw={"width_ratios": [1, 1.6]})
    for (left, right), ex in zip(axes, examples):
        m, gray, px = ex["measurement"], ex["gray"], ex["px_mm"]
        x0, y0 = ex["foramen"]
        r = 14.0 / px
        c0, r0 = int(max(0, x0 - r)), int(max(0, y0 - 0.3 * r))
        crop_ = gray[r0:int(min(gray.shape[0], y0 + 1.5 * r)), c0:int(min(gray.shape[1], x0 + r))]
        left.imshow(crop_, cmap="gray", vmin=0, vmax=255, extent=(c0 - 0.5, c0 + crop_.shape[1] - 0.5,
                                                                   r0 + crop_.shape[0] - 0.5, r0 - 0.5))
        left.plot([x0], [y0], "+", c="yellow", ms=9)
        if np.isfinite(m.border[0]):
            left.plot([x0, m.border[0]], [y0, m.border[1]], c="yellow", lw=0.8)
        for (x, y), colour in ((m.endosteal, "cyan"), (m.periosteal, "magenta")):
            if np.isfinite(x):
                left.plot([x], [y], "o", ms=4, mfc="none", c=colour)
        left.set_axis_off()
        left.set_title(ex["label"], fontsize=8)
        p = m.profile
        if p:
            t_mm = p["t"] * px
            right.plot(t_mm, p["values"], c="0.3", lw=0.8, label="profile")
            if p.get("params"):
                q = p["params"]
                right.plot(t_mm, p["model"], c="k", lw=1.2, label="fitted edges")
                right.axvline(q["a"] * px, c="cyan", lw=1, label="endosteal")
                right.axvline(q["b"] * px, c="magenta", lw=1, label="periosteal")
            if np.isfinite(p.get("foramen_margin", np.nan)):
                right.axvline(p["foramen_margin"] * px, c="yellow", lw=1, ls="--", label="foramen, inferior margin")
        what = (f"MCW {m.mcw_mm:.2f} mm (radiographic), PMI {m.pmi:.3f}" if np.isfinite(m.mcw_mm) else "")
        right.set_title(f"{what}{' · ' if what and m.flag else ''}{'FLAGGED: ' + m.reason if m.flag else ''}", fontsize=8)
        right.set(xlabel="mm along the perpendicular, from the foramen", ylabel="gray")
        right.legend(fontsize=6, loc="upper left")
    fig.suptitle("Mandibular cortical width at the mental foramen: the perpendicular to the lower border and the "
                 "margins found", fontsize=9)
    if out is not None:
        save(fig, out)
    return fig


def bland_altman(pairs: list[tuple[str, np.ndarray, np.ndarray, dict]], out=None) -> plt.Figure:
    """One Bland-Altman panel per ``(title, measure, reference, row)``: differences against means, the bias and
    the 95 % limits of agreement of ``row`` (:func:`osteolib.indices.agreement.bland_altman`)."""
    fig, axes = plt.subplots(1, max(1, len(pairs)), figsize=(4.6 * max(1, len(pairs)), 3.8), layout="constrained",
                             squeeze=False)
    for ax, (title, a, b, row) in zip(axes[0], pairs):
        a, b = np.asarray(a, float), np.asarray(b, float)
        ok = np.isfinite(a) & np.isfinite(b)
        ax.scatter((a[ok] + b[ok]) / 2, a[ok] - b[ok], s=6, c="k", alpha=0.5, lw=0)
        for v, ls, name in ((row["bias"], "-", "bias"), (row["loa_low"], "--", "95% limits"), (row["loa_high"], "--", None)):
            ax.axhline(v, c="#d62728", ls=ls, lw=1, label=name and f"{name} {v:+.3f}" if name == "bias" else name)
        ax.axhline(0, c="0.6", ls=":", lw=1)
        ax.set(xlabel="mean of the two", ylabel="difference (measure - reference)",
               title=f"{title}\nn {row['n']}, limits {row['loa_low']:+.2f} to {row['loa_high']:+.2f}")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
    if out is not None:
        save(fig, out)
    return fig


# --- a reader study (notebook 07) ----------------------------------------------------------------------------

def readers_roc(ratings: pd.DataFrame, cases: pd.DataFrame, reader_auc: pd.DataFrame, model_name: str, source: str,
                out=None) -> plt.Figure:
    """The model's ROC curve on the reader study's cases, and every reader as a point at their own call
    (sensitivity, 1 - specificity): unaided (open) and aided (filled), joined by an arrow."""
    fig, ax = plt.subplots(figsize=(5.6, 5.6), layout="constrained")
    fpr, tpr, _ = roc_curve(cases["truth"], cases["p_model"])
    auc_model = reader_auc.loc[reader_auc["reader_id"] == "model", "auc"]
    ax.plot(fpr, tpr, c="k", lw=1.5, label=f"model: {model_name} (AUC {auc_model.iloc[0]:.3f})" if len(auc_model) else "model")
    points = reader_auc[reader_auc["reader_id"] != "model"].set_index(["reader_id", "modality"])
    colours = plt.get_cmap("tab10")
    for k, reader in enumerate(dict.fromkeys(points.index.get_level_values(0))):
        xy = {m: (1 - points.loc[(reader, m), "specificity"], points.loc[(reader, m), "sensitivity"])
              for m in ("unaided", "aided") if (reader, m) in points.index}
        if len(xy) == 2:
            ax.annotate("", xy=xy["aided"], xytext=xy["unaided"], arrowprops=dict(arrowstyle="->", color=colours(k), lw=1))
        for m, (x, y) in xy.items():
            a = points.loc[(reader, m), "auc"]
            ax.plot([x], [y], "o", ms=7, c=colours(k), mfc=colours(k) if m == "aided" else "white",
                    label=f"{reader} {m} (AUC {a:.3f})")
    ax.plot([0, 1], [0, 1], ls=":", c="0.6", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 - specificity", ylabel="sensitivity", aspect="equal",
           title=f"Readers at their own call, unaided (open) and aided (filled)\n{source}")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=6, loc="lower right", ncol=2)
    if out is not None:
        save(fig, out)
    return fig


def accuracy_cost(table: pd.DataFrame, out: str | Path | None = None) -> plt.Figure:
    """AUC (with its bootstrap interval) against multiply-adds per ROI and against CPU latency per ROI, image
    arm (open) and ensemble arm (filled), the paper's six as squares and the newer networks as circles, each arm's
    Pareto front drawn (``front_<arm>_<cost>``, :func:`osteolib.tradeoff.accuracy_cost`); a third panel: the ensemble's gain over the image arm
    against multiply-adds (the paper's claim that smaller networks gain more)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    table = table.assign(mmacs=table["macs"] / 1e6)
    colour = dict(zip(table.backbone, sns.color_palette("tab20" if len(table) > 10 else "tab10", len(table))))
    for ax, x, key, label in ((axes[0], "mmacs", "macs", "multiply-adds per ROI (millions)"),
                              (axes[1], "latency_ms", "latency", "CPU latency per ROI (ms, 1 thread)")):
        for arm, fill in (("image", False), ("ensemble", True)):
            y, lo, hi = table[f"{arm}_auc"], table[f"{arm}_ci_low"], table[f"{arm}_ci_high"]
            for r, yy, l, h in zip(table.itertuples(), y, lo, hi):
                c = colour[r.backbone]
                ax.errorbar(getattr(r, x), yy, yerr=[[yy - l], [h - yy]], fmt="s" if r.paper else "o", ms=6, color=c,
                            mfc=c if fill else "white", mec=c, elinewidth=0.8, capsize=2, alpha=0.9)
            front = table[table[f"front_{arm}_{key}"].astype(bool)].sort_values(x)
            ax.step(front[x], front[f"{arm}_auc"], where="post", color="k", lw=1, ls="-" if fill else ":",
                    label=f"Pareto front, {arm} arm")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("AUC (95% bootstrap CI)")
        ax.grid(alpha=0.3)
    for r in table.itertuples():
        axes[2].errorbar(r.mmacs, r.gain, yerr=[[r.gain - r.gain_ci_low], [r.gain_ci_high - r.gain]],
                         fmt="s" if r.paper else "o", color=colour[r.backbone], capsize=2)
    axes[2].axhline(0, color="k", lw=0.8)
    axes[2].set_xscale("log")
    axes[2].set_xlabel("multiply-adds per ROI (millions)")
    axes[2].set_ylabel("ensemble AUC - image AUC (paired bootstrap CI)")
    axes[2].grid(alpha=0.3)
    handles = [plt.Line2D([], [], marker="s" if table.set_index("backbone").loc[b, "paper"] else "o", ls="",
                          color=colour[b], label=b) for b in table.backbone]
    handles += [plt.Line2D([], [], marker="o", ls="", mfc="white", mec="k", label="image arm (open)"),
                plt.Line2D([], [], marker="o", ls="", color="k", label="ensemble arm (filled)"),
                plt.Line2D([], [], color="k", ls=":", label="Pareto front, image"),
                plt.Line2D([], [], color="k", label="Pareto front, ensemble")]
    fig.legend(handles=handles, loc="outside right center", fontsize=7, title="squares: the paper's six", title_fontsize=7)
    fig.suptitle("Accuracy against cost: every backbone, both arms", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig
