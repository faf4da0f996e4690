"""The pipeline of notebook 05: the method of :mod:`osteolib.cam.method` over a study's kept models.

For each backbone the examples are chosen on the first kept arm's predictions (repeat 0, fold 0's
test part, which the kept model never saw), up to ``n_examples`` per category (true class x
correctly / wrongly classified), and explained for every kept arm: panels, a summary figure and,
on the synthetic cohort, how much of the Grad-CAM mass lies on the cortical band of the lower
border against that band's share of the ROI: on the cortex notebook 02b measured (its lower border and the
width found there, so it works on real data), and on a synthetic cohort on the generator's cortex masks too.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image
from tqdm.auto import tqdm

from .. import atomic, backbones, checkpoints, contribution, indices, plots, roi, settings, stats, steps
from ..cohort import read_cohort
from ..datafolder import DataFolder
from ..datasets import load_rois
from ..layout import StudyLayout
from ..runs import read_predictions
from ..settings import NetworkConfig
from .method import Explainer, Explanation, band_share

__all__ = ["kept_models", "CATEGORIES", "select_examples", "StudyInputs", "cortex_bands", "measured_bands", "localisation",
           "summarise_localisation", "contributions", "summarise_contributions", "run"]


def kept_models(layout: StudyLayout, names: list[str] | None = None, arms: list[str] | None = None) -> pd.DataFrame:
    """The models notebook 03 kept (repeat 0, fold 0): backbone, arm, folder, weights (the file).

    Raises FileNotFoundError saying which notebook to run when there are none.
    """
    for b in names or []:
        backbones.spec(b)  # an unknown name lists the valid ones
    rows = [{"backbone": b, "arm": arm, "folder": layout.kept_model(b, arm),
             "weights": layout.file("kept_weights", backbone=b, arm=arm)}
            for b in names or backbones.names()
            for arm in arms or list(settings.ARMS) if layout.has_kept_model(b, arm)]
    if not rows:
        raise FileNotFoundError(f"no kept models under {layout.runs_dir} for backbones {names or 'any'}, arms "
                                f"{arms or 'any'}: run notebooks/{steps.producer('kept_card')}.ipynb (repeat 0) "
                                "for this study first")
    return pd.DataFrame(rows)


CATEGORIES = (("osteoporosis, correct", 1, True), ("osteoporosis, wrong", 1, False),
              ("non-osteoporosis, correct", 0, True), ("non-osteoporosis, wrong", 0, False))


def select_examples(predictions: pd.DataFrame, n: int, threshold: float = 0.5) -> pd.DataFrame:
    """Up to ``n`` patients per category (true class x correctly/wrongly classified), the most
    confident first: patient_id, y_true, p_osteoporosis, category. Deterministic.

    >>> pred = pd.DataFrame({"patient_id": list("abcd"), "y_true": [1, 1, 0, 0],
    ...                      "p_osteoporosis": [0.9, 0.2, 0.1, 0.7]})
    >>> select_examples(pred, 1)["category"].tolist()
    ['osteoporosis, correct', 'osteoporosis, wrong', 'non-osteoporosis, correct', 'non-osteoporosis, wrong']
    """
    out = []
    called = predictions["p_osteoporosis"] >= threshold
    for name, label, correct in CATEGORIES:
        group = predictions[(predictions["y_true"] == label) & ((called == bool(label)) == correct)]
        confidence = (group["p_osteoporosis"] - 0.5).abs()
        chosen = group.assign(_c=confidence).sort_values(["_c", "patient_id"], ascending=[False, True]).head(n)
        out.append(chosen.drop(columns="_c").assign(category=name))
    cols = ["patient_id", "y_true", "p_osteoporosis", "category"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


class StudyInputs:
    """A study's cohort and ROIs, read once; what a kept model needs is cut from them."""

    def __init__(self, layout: StudyLayout):
        self.layout = layout
        self.cohort = read_cohort(self.layout).set_index("patient_id")
        self.rois = load_rois(self.layout, self.cohort.index)
        self.row = pd.Series(np.arange(len(self.cohort)), index=self.cohort.index)

    def fold0_test(self, backbone: str, arm: str) -> pd.DataFrame:
        """Repeat 0, fold 0 test predictions of a kept model: patients it never saw in training."""
        pred = read_predictions(self.layout.predictions(backbone, arm, 0), self.cohort.reset_index(), 0)
        return pred[pred["fold"] == 0].reset_index(drop=True)

    def __call__(self, card: dict, patient_ids) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 ROIs and the covariate vectors (the kept model's own scaler) of ``patient_ids``."""
        ids = list(patient_ids)
        size = NetworkConfig.from_card(card).input_size
        if tuple(self.rois.shape[1:]) != size:
            raise ValueError(f"ROIs of {self.layout.root} are {tuple(self.rois.shape[1:])} px but the kept model was "
                             f"trained on {size}: rerun notebook 03 after notebook 02")
        scaler = checkpoints.scaler(card)
        rows = torch.from_numpy(np.array(self.row[ids]))  # a copy: pandas hands out read-only views
        return self.rois[rows], scaler.transform(self.cohort.loc[ids].reset_index())

    def explain(self, ex: Explainer, card: dict, patient_ids, batch: int = 32, guided: bool = True) -> Explanation:
        """:meth:`Explainer.explain` over ``patient_ids`` in batches of ``batch``, concatenated."""
        ids = list(patient_ids)
        parts = [ex.explain(*self(card, ids[i:i + batch]), guided=guided) for i in range(0, len(ids), batch)]
        return Explanation(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                             ("gradcam", "guided", "guided_gradcam", "probability", "target")))


def cortex_bands(data_dir: str | Path, layout: StudyLayout, patient_ids) -> np.ndarray:
    """The synthetic truth's cortex mask cut with each patient's ROI box: (n, height, width) bool."""
    folder = DataFolder(data_dir)
    if not folder.is_synthetic:
        raise ValueError(f"{data_dir} is not a synthetic cohort: real data carry no cortex truth")
    boxes = roi.read_rois(layout).set_index("patient_id")
    out = []
    for pid in patient_ids:
        file = folder.cortex_mask(pid)
        if not file.is_file():
            raise FileNotFoundError(f"{file} not found: the synthetic cohort predates cortex masks "
                                    "(generator v3); delete the data folder and rerun notebook 01")
        b = boxes.loc[pid]
        out.append(roi.crop(np.asarray(Image.open(file)), (b.x0, b.y0, b.x1, b.y1), pid))
    return np.stack(out)


def measured_bands(layout: StudyLayout, measured: pd.DataFrame, patient_ids) -> np.ndarray:
    """The cortex notebook 02b found, in each patient's ROI: the pixels between the lower border it traced
    (the quadratic ``border_c2..c0``) and a parallel at the width it measured, perpendicular to the border
    (n, height, width) bool; all False for a side it could not measure (its localisation is then NaN)."""
    geometry = roi.read_geometry(layout)
    boxes = roi.read_rois(layout).set_index("patient_id")
    side = measured[measured["side"] == geometry.side].set_index("patient_id")
    h, w = geometry.height, geometry.width
    out = []
    for pid in patient_ids:
        b, r = boxes.loc[pid], side.loc[pid] if pid in side.index else None
        coeffs = None if r is None else r[["border_c2", "border_c1", "border_c0"]].to_numpy(float)
        width = np.nan if r is None else float(np.hypot(r["periosteal_x"] - r["endosteal_x"], r["periosteal_y"] - r["endosteal_y"]))
        if coeffs is None or not np.isfinite(coeffs).all() or not np.isfinite(width):
            out.append(np.zeros((h, w), bool))
            continue
        # the ROI's pixel centres in the radiograph (its box may have been resampled to the ROI's size)
        x = b.x0 + (np.arange(w) + 0.5) * (b.x1 - b.x0) / w - 0.5
        y = b.y0 + (np.arange(h) + 0.5) * (b.y1 - b.y0) / h - 0.5
        curve = np.poly1d(coeffs)
        depth = (curve(x)[None, :] - y[:, None]) / np.hypot(1.0, curve.deriv()(x))[None, :]
        out.append((depth >= 0) & (depth <= width))
    return np.stack(out)


def localisation(cams: np.ndarray, bands: np.ndarray, patient_ids) -> pd.DataFrame:
    """Per patient: share of the CAM's mass inside the cortical band, the band's area share,
    and their ratio (enrichment: 1 = the CAM ignores the band)."""
    rows = [(pid, *band_share(c, b)) for pid, c, b in zip(patient_ids, cams, bands)]
    out = pd.DataFrame(rows, columns=["patient_id", "cam_in_band", "band_area"])
    return out.assign(enrichment=out["cam_in_band"] / out["band_area"])


def summarise_localisation(per_patient: pd.DataFrame) -> pd.DataFrame:
    """Per backbone, arm and cortex (``truth``: the generator's masks; ``measured``: notebook 02b's): mean
    CAM share in the band, the band's area share and the enrichment, each with its 95% t interval over
    patients, and a paired t-test of CAM share vs area share."""
    rows = []
    per_patient = per_patient if "cortex" in per_patient else per_patient.assign(cortex="truth")
    for (b, arm, cortex), g in per_patient.groupby(["backbone", "arm", "cortex"], sort=False):
        n_all = len(g)
        unmeasured = int((g["band_area"] == 0).sum())
        g = g[g["band_area"] > 0].dropna(subset=["cam_in_band"])
        # a Grad-CAM that is zero everywhere (no positive evidence for the explained class) has no mass to place
        row = {"backbone": b, "arm": arm, "cortex": cortex, "n_patients": len(g),
               "n_empty_cam": n_all - unmeasured - len(g), "n_cortex_not_measured": unmeasured}
        for col in ("cam_in_band", "band_area", "enrichment"):
            # the plain t interval of the mean over ~150 patients: per-patient shares are skewed, and the
            # logit-scale interval (right for a few per-repeat AUCs) would be one of the mean logit, which
            # can exclude the arithmetic mean reported beside it
            d = stats.describe(g[col], bounded=False)
            row.update({col: d["mean"], f"{col}_ci_low": d["ci_low"], f"{col}_ci_high": d["ci_high"]})
        t = stats.paired(g["cam_in_band"], g["band_area"])
        row.update({"t": t["t"], "p_value": t["p_value"],
                    "interval": "95% t interval of the mean over the patients of repeat 0, fold 0 (test part)",
                    "test": "paired t-test: CAM share in the band vs the band's area share"})
        rows.append(row)
    return pd.DataFrame(rows)


def contributions(net, inputs: StudyInputs, card: dict, patient_ids, explanation: Explanation) -> pd.DataFrame:
    """Per patient: what the image and the covariates contribute to the log-odds (:mod:`osteolib.contribution`),
    whether the Grad-CAM is empty (no positive evidence for the class explained), and it in words."""
    rois, cov = inputs(card, patient_ids)
    t = contribution.decompose(net, rois, cov if net.arm == "ensemble" else None)
    empty = ~(explanation.gradcam > 0).reshape(len(t), -1).any(axis=1)
    target = [settings.CLASSES[int(k)] for k in explanation.target]
    return t.assign(patient_id=list(patient_ids), cam_empty=empty, explained_class=target,
                    explained=[contribution.in_words(r, e, k) for (_, r), e, k in zip(t.iterrows(), empty, target)])


def summarise_contributions(table: pd.DataFrame) -> pd.DataFrame:
    """Per backbone and arm: patients, those with an empty Grad-CAM, and the covariates' mean share of the
    contributions among them and among the others."""
    rows = []
    for (b, arm), g in table.groupby(["backbone", "arm"], sort=False):
        rows.append({"backbone": b, "arm": arm, "n_patients": len(g), "n_empty_cam": int(g["cam_empty"].sum()),
                     "covariate_share_empty_cam": g.loc[g["cam_empty"], "covariate_share"].mean(),
                     "covariate_share_other": g.loc[~g["cam_empty"], "covariate_share"].mean()})
    return pd.DataFrame(rows)


def _panels(ex: Explainer, inputs: StudyInputs, card: dict, model: pd.Series, chosen: pd.DataFrame,
            summary_rows: dict, folder: Path) -> None:
    """One panel per chosen patient (ROI | Grad-CAM | guided Grad-CAM, and what the image and the covariates
    contribute) and its cells of the summary."""
    e = inputs.explain(ex, card, chosen["patient_id"])
    rois, _ = inputs(card, chosen["patient_id"])
    said = contributions(ex.net, inputs, card, chosen["patient_id"], e)["explained"]
    backbone, arm = model["backbone"], model["arm"]
    for i, c in chosen.reset_index(drop=True).iterrows():
        pid = c["patient_id"]
        title = (f"{backbone} / {arm} arm · {pid} · {c['category']} · "
                 f"P(osteoporosis) = {e.probability[i]:.2f}\n{said.iloc[i]}")
        plt.close(plots.cam_panel(rois[i].numpy(), e.gradcam[i], e.guided_gradcam[i], title,
                                  folder / f"{backbone}_{arm}_{pid}.png"))
        row = summary_rows.setdefault((backbone, pid), {
            "label": f"{backbone}\n{pid}\n{c['category']}", "roi": rois[i].numpy(), "arms": {}})
        row["arms"][arm] = (e.gradcam[i], e.guided_gradcam[i], float(e.probability[i]))


def run(layout: StudyLayout, data_dir: str | Path | None, backbones: list[str] | None = None,
              arms: list[str] | None = None, n_examples: int = 1, target: str = "predicted",
              device: str = "cpu", localise: bool = True, progress: bool = True) -> dict:
    """Notebook 05: panels, the summary figure and the localisation table of a study's kept models.

    Writes ``cam/`` as a whole (built under a temporary name): ``<backbone>_<arm>_<patient_id>.png``
    per example, ``summary.png``, ``examples.csv``, and with ``localise`` on a synthetic cohort
    ``localisation.csv`` (per backbone, arm and cortex) and ``localisation_patients.csv``: on the cortex
    notebook 02b measured, and on a synthetic cohort on the truth's too. Returns the tables, the written
    files and the summary figure's path.
    """
    kept = kept_models(layout, backbones, arms)
    inputs = StudyInputs(layout)
    synthetic_truth = localise and data_dir is not None and DataFolder(data_dir).is_synthetic
    measured = indices.read(layout) if localise else None
    examples, per_patient, parts, summary_rows = [], [], [], {}
    with atomic.atomic_dir(layout.cam_dir) as tmp:
        for backbone, group in kept.groupby("backbone", sort=False):
            tests = {arm: inputs.fold0_test(backbone, arm) for arm in group["arm"]}
            # the same patients for both arms: chosen on the first kept arm's predictions (image, if kept)
            first = group["arm"].iloc[0]
            chosen = select_examples(tests[first], n_examples)
            examples.append(chosen.assign(backbone=backbone, chosen_on=first))
            for _, model in tqdm(list(group.iterrows()), desc=f"Grad-CAM {backbone}", disable=not progress):
                net, card = checkpoints.load_kept(model["folder"])
                with Explainer(net.to(device), target) as ex:
                    _panels(ex, inputs, card, model, chosen, summary_rows, tmp)
                    test = tests[model["arm"]]["patient_id"]
                    explained = inputs.explain(ex, card, test, guided=False)
                    cams = explained.gradcam
                    parts.append(contributions(net, inputs, card, test, explained).assign(backbone=backbone, arm=model["arm"]))
                    if localise:
                        per_patient.append(localisation(cams, measured_bands(layout, measured, test), test)
                                           .assign(backbone=backbone, arm=model["arm"], cortex="measured"))
                    if synthetic_truth:
                        per_patient.append(localisation(cams, cortex_bands(data_dir, layout, test), test)
                                           .assign(backbone=backbone, arm=model["arm"], cortex="truth"))
        plt.close(plots.cam_summary(list(summary_rows.values()), tmp / "summary.png"))
        out = {"kept": kept, "examples": pd.concat(examples, ignore_index=True)}
        out["examples"].to_csv(tmp / "examples.csv", index=False, float_format="%.6f")
        order = ["backbone", "arm", "patient_id", *contribution.COLUMNS, "cam_empty", "explained_class", "explained"]
        out["contributions"] = pd.concat(parts, ignore_index=True)[order]
        out["contributions"].to_csv(tmp / "contributions.csv", index=False, float_format="%.6g")
        if per_patient:
            pp = pd.concat(per_patient, ignore_index=True)[["backbone", "arm", "cortex", "patient_id", "cam_in_band",
                                                             "band_area", "enrichment"]]
            out["localisation"], out["localisation_patients"] = summarise_localisation(pp), pp
            out["localisation"].to_csv(tmp / "localisation.csv", index=False, float_format="%.6g")
            pp.to_csv(tmp / "localisation_patients.csv", index=False, float_format="%.6g")
        names = sorted(p.name for p in tmp.iterdir())
    out["files"] = [layout.cam_dir / n for n in names]
    out["summary"] = layout.cam_dir / "summary.png"
    return out
