"""Grad-CAM, guided backpropagation and guided Grad-CAM for both arms of every backbone.

Grad-CAM comes from pytorch-grad-cam, on the layer each backbone registers
(:func:`osteolib.models.cam_layer`). That library wants a one-input model, so the network is
wrapped (:class:`OneInput`) as ``f(gray ROI)``: the wrapper does the gray-to-RGB ImageNet
normalisation of training and, for the ensemble arm, holds the patients' covariate vectors.
Gradients therefore come back in the pixels of the ROI itself.

Guided backpropagation is written here because no library does it for SiLU/Swish: pytorch-grad-cam
handles ReLU only, which leaves EfficientNet's guided maps meaningless. Each rectifier's backward
pass is replaced by its own local derivative with the negative parts of both that derivative and
the incoming gradient set to zero::

    grad_in = max(grad_out, 0) * max(f'(x), 0)

For ReLU (f' = 1[x > 0]) this is exactly Springenberg et al.'s guided rule; for SiLU
(f' = s(x) (1 + x (1 - s(x))), s the logistic function) it passes only positive gradients where the
unit responds positively. Guided Grad-CAM = guided backpropagation x the upsampled Grad-CAM
(Selvaraju et al.).

Use :class:`Explainer` as a context manager: its hooks are released on exit, the caller's network
(a private copy is made for guided backpropagation) and tensors are never modified.

Examples
--------
>>> import torch
>>> from osteolib import models
>>> net = models.build("resnet18", "ensemble", input_size=(40, 64), seed=0)
>>> rois = torch.randint(0, 256, (2, 40, 64), dtype=torch.uint8)
>>> with Explainer(net) as ex:
...     cams = ex.gradcam(rois, covariates=torch.zeros(2, 4))
>>> cams.shape, float(cams.min()) >= 0, float(cams.max()) <= 1
((2, 40, 64), True, True)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import models

#: ``target`` values: explain the predicted class, or always one class.
TARGETS = ("predicted", "osteoporosis", "non_osteoporosis")


class OneInput(nn.Module):
    """``f(gray)``: a study network as the one-input model the CAM library expects.

    ``gray`` is a (batch, 1, height, width) float tensor in [0, 1] (the ROI / 255); the wrapper
    repeats it to 3 channels with the ImageNet normalisation used in training and, for the
    ensemble arm, appends ``self.covariates`` (set per batch by :class:`Explainer`).
    """

    def __init__(self, net: models.OsteoNet):
        super().__init__()
        self.net = net
        self.covariates: torch.Tensor | None = None

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.net.spec.mean, device=gray.device, dtype=gray.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.net.spec.std, device=gray.device, dtype=gray.dtype).view(1, 3, 1, 1)
        x = (gray.expand(-1, 3, -1, -1) - mean) / std
        return self.net(x, self.covariates)


class _Guided(torch.autograd.Function):
    """A rectifier whose backward pass is the guided rule of the module docstring."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kind: str) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.kind = kind
        return torch.relu(x) if kind == "relu" else nn.functional.silu(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        if ctx.kind == "relu":
            local = (x > 0).to(grad.dtype)
        else:
            s = torch.sigmoid(x)
            local = (s * (1 + x * (1 - s))).clamp(min=0)
        return grad.clamp(min=0) * local, None


class GuidedActivation(nn.Module):
    """Drop-in replacement of ReLU or SiLU/Swish for guided backpropagation."""

    def __init__(self, kind: str):
        super().__init__()
        if kind not in ("relu", "silu"):
            raise ValueError(f"unknown activation kind {kind!r}")
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _Guided.apply(x, self.kind)


def _activation_kinds() -> dict[type, str]:
    kinds: dict[type, str] = {nn.ReLU: "relu", nn.SiLU: "silu"}
    try:  # efficientnet-pytorch's two Swish modules (the memory-efficient one has its own autograd)
        from efficientnet_pytorch.utils import MemoryEfficientSwish, Swish
        kinds.update({Swish: "silu", MemoryEfficientSwish: "silu"})
    except ImportError:  # pragma: no cover - a dependency of the project
        pass
    return kinds


def guided_copy(net: nn.Module) -> nn.Module:
    """A copy of ``net`` with every ReLU and SiLU/Swish module replaced by :class:`GuidedActivation`.

    Raises ValueError for activation modules the guided rule is not defined for here (GELU, ...),
    rather than silently treating them as linear.
    """
    kinds = _activation_kinds()
    out = copy.deepcopy(net)
    unsupported = (nn.GELU, nn.ELU, nn.LeakyReLU, nn.Hardswish, nn.Mish, nn.ReLU6)
    for parent in out.modules():
        for name, child in parent.named_children():
            if type(child) in kinds:
                setattr(parent, name, GuidedActivation(kinds[type(child)]))
            elif isinstance(child, unsupported):
                raise ValueError(f"guided backpropagation does not handle {type(child).__name__} ({name})")
    return out


@dataclass(frozen=True)
class Explanation:
    """The maps of a batch, each (batch, height, width) float32, and the predictions."""

    gradcam: np.ndarray           # in [0, 1] per image (pytorch-grad-cam's scaling)
    guided: np.ndarray            # guided backpropagation, the gradient at each ROI pixel
    guided_gradcam: np.ndarray    # guided x Grad-CAM
    probability: np.ndarray       # P(osteoporosis)
    target: np.ndarray            # the class explained (1 = osteoporosis)


class Explainer:
    """Grad-CAM and guided Grad-CAM of one trained network; a context manager.

    Parameters
    ----------
    net : an :class:`osteolib.models.OsteoNet` (image or ensemble arm); used in eval mode on its device.
    target : ``"predicted"`` (the class the network chose, as in the paper's figures),
        ``"osteoporosis"`` or ``"non_osteoporosis"``.
    """

    def __init__(self, net: models.OsteoNet, target: str = "predicted"):
        from pytorch_grad_cam import GradCAM
        if target not in TARGETS:
            raise ValueError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")
        self.target = target
        self._was_training = net.training
        self.net = net.eval()
        self.device = next(net.parameters()).device
        self._guided = OneInput(guided_copy(net)).eval()   # copied before any hook is registered
        for p in self._guided.parameters():   # only the input's gradient is wanted from the copy
            p.requires_grad_(False)
        self._model = OneInput(net)
        self._cam = GradCAM(model=self._model, target_layers=[models.cam_layer(net)])

    def __enter__(self) -> "Explainer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the CAM library's hooks from the network and restore its train/eval mode."""
        self._cam.activations_and_grads.release()
        self.net.train(self._was_training)

    def _inputs(self, rois: torch.Tensor, covariates: torch.Tensor | None):
        if rois.dim() == 2:
            rois = rois.unsqueeze(0)
        gray = (rois.to(self.device, torch.float32) / 255.0).unsqueeze(1)
        cov = None
        if self.net.arm == "ensemble":
            if covariates is None:
                raise ValueError("the ensemble arm needs the patients' covariate vectors")
            cov = covariates.to(self.device, torch.float32).reshape(len(gray), -1).clone()
        return gray, cov

    def _targets(self, logits: torch.Tensor) -> torch.Tensor:
        if self.target == "predicted":
            return logits.argmax(1)
        return torch.full((len(logits),), 1 if self.target == "osteoporosis" else 0, device=logits.device)

    def gradcam(self, rois: torch.Tensor, covariates: torch.Tensor | None = None) -> np.ndarray:
        """Grad-CAM of uint8 ROIs (batch, height, width): (batch, height, width) in [0, 1]."""
        return self.explain(rois, covariates, guided=False).gradcam

    def explain(self, rois: torch.Tensor, covariates: torch.Tensor | None = None,
                guided: bool = True) -> Explanation:
        """Grad-CAM, guided backpropagation and guided Grad-CAM of uint8 ROIs (batch, height, width)."""
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
        gray, cov = self._inputs(rois, covariates)
        with torch.no_grad():
            self._model.covariates = cov
            logits = self._model(gray)
        target = self._targets(logits)
        cams = self._cam(input_tensor=gray.clone(), targets=[ClassifierOutputTarget(int(t)) for t in target])
        self.net.zero_grad(set_to_none=True)  # the CAM library's backward pass leaves parameter gradients
        cams = np.nan_to_num(cams.astype(np.float32), nan=0.0)
        g = np.zeros_like(cams)
        if guided:
            x = gray.clone().requires_grad_(True)
            self._guided.covariates = cov
            out = self._guided(x)
            out.gather(1, target.view(-1, 1)).sum().backward()
            g = x.grad[:, 0].detach().cpu().numpy().astype(np.float32)
        p = torch.softmax(logits.float(), 1)[:, 1].cpu().numpy()
        return Explanation(cams, g, g * cams, p, target.cpu().numpy())


def band_share(cam: np.ndarray, band: np.ndarray) -> tuple[float, float]:
    """(share of the CAM's mass inside ``band``, share of the image that ``band`` covers).

    A CAM that ignores the band puts about the band's area share of its mass there; one that
    looks at the band puts more. A CAM with no mass at all gives nan.

    >>> cam = np.zeros((4, 4)); cam[1, :] = 1
    >>> band = np.zeros((4, 4), bool); band[:2] = True
    >>> band_share(cam, band)
    (1.0, 0.5)
    """
    total = float(cam.sum())
    inside = float(cam[band].sum()) / total if total > 0 else float("nan")
    return inside, float(band.mean())


# --- a study's kept models ------------------------------------------------------------------------

def kept_models(study_dir: str | Path, backbones: list[str] | None = None,
                arms: list[str] | None = None) -> pd.DataFrame:
    """The checkpoints notebook 03 kept (repeat 0, fold 0): backbone, arm, folder.

    Raises FileNotFoundError saying which notebook to run when there are none.
    """
    rows = []
    for b in backbones or list(models.REGISTRY):
        models.spec(b)  # an unknown name lists the valid ones
        for arm in arms or list(models.ARMS):
            folder = Path(study_dir) / "runs" / b / arm / "r00"
            if (folder / "model_f0.json").is_file():
                rows.append({"backbone": b, "arm": arm, "folder": folder})
    if not rows:
        raise FileNotFoundError(f"no kept models under {Path(study_dir) / 'runs'} for backbones "
                                f"{backbones or 'any'}, arms {arms or 'any'}: run notebooks/03_train.ipynb "
                                "(repeat 0) for this study first")
    return pd.DataFrame(rows)


def fold0_predictions(study_dir: str | Path, backbone: str, arm: str) -> pd.DataFrame:
    """Repeat 0, fold 0 test predictions of a kept model: patients it never saw in training."""
    from . import cohort as cohort_mod, runs
    patients = cohort_mod.read_cohort(study_dir)
    file = Path(study_dir) / "runs" / backbone / arm / "r00" / "predictions.csv"
    pred = runs.read_predictions(file, patients, 0)
    return pred[pred["fold"] == 0].reset_index(drop=True)


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


def patient_inputs(study_dir: str | Path, card: dict, patient_ids) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ROIs and the covariate vectors (the kept model's own scaler) of ``patient_ids``."""
    from . import cohort as cohort_mod
    from .datasets import CovariateScaler, load_rois
    patients = cohort_mod.read_cohort(study_dir).set_index("patient_id").loc[list(patient_ids)].reset_index()
    scaler_fields = {k: card["covariates"][k] for k in ("age_mean", "age_range", "bmi_mean", "bmi_range")}
    rois = load_rois(study_dir, patients["patient_id"])
    if tuple(rois.shape[1:]) != tuple(card["input_size"]):
        raise ValueError(f"ROIs of {study_dir} are {tuple(rois.shape[1:])} px but the kept model was trained "
                         f"on {tuple(card['input_size'])}: rerun notebook 03 after notebook 02")
    return rois, CovariateScaler(**scaler_fields).transform(patients)


def explain_patients(ex: Explainer, study_dir: str | Path, card: dict, patient_ids,
                     batch: int = 32, guided: bool = True) -> Explanation:
    """:meth:`Explainer.explain` over ``patient_ids`` in batches, concatenated."""
    ids = list(patient_ids)
    parts = []
    for i in range(0, len(ids), batch):
        rois, cov = patient_inputs(study_dir, card, ids[i:i + batch])
        parts.append(ex.explain(rois, cov, guided=guided))
    return Explanation(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                         ("gradcam", "guided", "guided_gradcam", "probability", "target")))


def cortex_bands(data_dir: str | Path, study_dir: str | Path, patient_ids) -> np.ndarray:
    """The synthetic truth's cortex mask cut with each patient's ROI box: (n, height, width) bool."""
    from PIL import Image
    from . import roi, synthetic
    if not synthetic.is_synthetic(data_dir):
        raise ValueError(f"{data_dir} is not a synthetic cohort: real data carry no cortex truth")
    boxes = roi.read_rois(study_dir).set_index("patient_id")
    out = []
    for pid in patient_ids:
        file = synthetic.cortex_mask(data_dir, pid)
        if not file.is_file():
            raise FileNotFoundError(f"{file} not found: the synthetic cohort predates cortex masks "
                                    "(generator v3); delete the data folder and rerun notebook 01")
        b = boxes.loc[pid]
        out.append(roi.crop(np.asarray(Image.open(file)), (b.x0, b.y0, b.x1, b.y1), pid))
    return np.stack(out)


def localisation(cams: np.ndarray, bands: np.ndarray, patient_ids) -> pd.DataFrame:
    """Per patient: share of the CAM's mass inside the cortical band, the band's area share,
    and their ratio (enrichment: 1 = the CAM ignores the band)."""
    rows = [(pid, *band_share(c, b)) for pid, c, b in zip(patient_ids, cams, bands)]
    out = pd.DataFrame(rows, columns=["patient_id", "cam_in_band", "band_area"])
    return out.assign(enrichment=out["cam_in_band"] / out["band_area"])


def summarise_localisation(per_patient: pd.DataFrame) -> pd.DataFrame:
    """Per backbone and arm: mean CAM share in the band, the band's area share and the enrichment,
    each with its 95% t interval over patients, and a paired t-test of CAM share vs area share."""
    from . import stats
    rows = []
    for (b, arm), g in per_patient.groupby(["backbone", "arm"], sort=False):
        n_all = len(g)
        g = g.dropna(subset=["cam_in_band"])
        # a Grad-CAM that is zero everywhere (no positive evidence for the explained class) has no mass to place
        row = {"backbone": b, "arm": arm, "n_patients": len(g), "n_empty_cam": n_all - len(g)}
        for col in ("cam_in_band", "band_area", "enrichment"):
            d = stats.describe(g[col])
            row.update({col: d["mean"], f"{col}_ci_low": d["ci_low"], f"{col}_ci_high": d["ci_high"]})
        t = stats.paired(g["cam_in_band"], g["band_area"]).iloc[0]
        row.update({"t": t["t"], "p_value": t["p_value"],
                    "interval": "95% t interval of the mean over the patients of repeat 0, fold 0 (test part)",
                    "test": "paired t-test: CAM share in the band vs the band's area share"})
        rows.append(row)
    return pd.DataFrame(rows)


def run_study(study_dir: str | Path, data_dir: str | Path | None, backbones: list[str] | None = None,
              arms: list[str] | None = None, n_examples: int = 1, target: str = "predicted",
              device: str = "cpu", localise: bool = True, progress: bool = True) -> dict:
    """Notebook 05: panels, the summary figure and the localisation table of a study's kept models.

    Writes ``cam/`` as a whole (built under a temporary name): ``<backbone>_<arm>_<patient_id>.png``
    per example, ``summary.png``, ``examples.csv``, and with ``localise`` on a synthetic cohort
    ``localisation.csv`` (per backbone and arm) and ``localisation_patients.csv``. The examples
    and the localisation patients come from repeat 0, fold 0's test part, which the kept model
    never saw. Returns the tables and the written files.
    """
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm
    from . import atomic, plots, synthetic, training
    study_dir = Path(study_dir)
    kept = kept_models(study_dir, backbones, arms)
    synthetic_truth = localise and data_dir is not None and synthetic.is_synthetic(data_dir)
    examples, per_patient, summary_rows = [], [], {}
    with atomic.atomic_dir(study_dir / "cam") as tmp:
        for backbone, group in kept.groupby("backbone", sort=False):
            # the same patients for both arms: chosen on the image arm's predictions when it was kept
            first = group.iloc[0]
            chosen = select_examples(fold0_predictions(study_dir, backbone, first["arm"]), n_examples)
            examples.append(chosen.assign(backbone=backbone, chosen_on=first["arm"]))
            for _, k in tqdm(list(group.iterrows()), desc=f"Grad-CAM {backbone}", disable=not progress):
                net, card = training.load_checkpoint(k["folder"])
                net = net.to(device)
                test = fold0_predictions(study_dir, backbone, k["arm"])
                with Explainer(net, target) as ex:
                    e = explain_patients(ex, study_dir, card, chosen["patient_id"])
                    rois, _ = patient_inputs(study_dir, card, chosen["patient_id"])
                    for i, c in chosen.reset_index(drop=True).iterrows():
                        pid = c["patient_id"]
                        title = (f"{backbone} / {k['arm']} arm · {pid} · {c['category']} · "
                                 f"P(osteoporosis) = {e.probability[i]:.2f}")
                        fig = plots.cam_panel(rois[i].numpy(), e.gradcam[i], e.guided_gradcam[i], title,
                                              tmp / f"{backbone}_{k['arm']}_{pid}.png")
                        plt.close(fig)
                        row = summary_rows.setdefault((backbone, pid), {
                            "label": f"{backbone}\n{pid}\n{c['category']}", "roi": rois[i].numpy(), "arms": {}})
                        row["arms"][k["arm"]] = (e.gradcam[i], e.guided_gradcam[i], float(e.probability[i]))
                    if synthetic_truth:
                        cams = explain_patients(ex, study_dir, card, test["patient_id"], guided=False).gradcam
                        bands = cortex_bands(data_dir, study_dir, test["patient_id"])
                        per_patient.append(localisation(cams, bands, test["patient_id"])
                                           .assign(backbone=backbone, arm=k["arm"]))
        fig = plots.cam_summary(list(summary_rows.values()), tmp / "summary.png")
        plt.close(fig)
        examples = pd.concat(examples, ignore_index=True)
        examples.to_csv(tmp / "examples.csv", index=False, float_format="%.6f")
        out = {"kept": kept, "examples": examples}
        if per_patient:
            pp = pd.concat(per_patient, ignore_index=True)[["backbone", "arm", "patient_id", "cam_in_band",
                                                             "band_area", "enrichment"]]
            out["localisation"] = summarise_localisation(pp)
            out["localisation_patients"] = pp
            out["localisation"].to_csv(tmp / "localisation.csv", index=False, float_format="%.6g")
            pp.to_csv(tmp / "localisation_patients.csv", index=False, float_format="%.6g")
        names = sorted(p.name for p in tmp.iterdir())
    out["files"] = [study_dir / "cam" / n for n in names]
    return out
