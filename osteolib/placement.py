"""Automatic ROI placement: a keypoint detector for the mental foramina, trained by the project.

The paper placed its ROIs from a clinician's landmark; this finds the landmark without one.
A small fully convolutional network looks at the whole radiograph resized to 128 x 256 px (about
12x below full size; the aspect ratio of a panoramic), with two coordinate channels so it knows
where in the image it looks (CoordConv), and predicts one heatmap per keypoint (the left and the
right mental foramen) at a quarter of that resolution. The position is the heatmap's soft-argmax
(sub-cell precision); the confidence is the share of the heatmap's probability within two cells of
its peak. A second head says whether the radiograph is mirrored (trained on randomly mirrored
copies; panoramic units burn in a side marker, and so does the synthetic generator). A blank or
mirrored radiograph, or one unlike anything seen in training, is flagged rather than cropped.

Training uses strong augmentation so that it does not learn the look of one generator or one
machine: exposure (gain, offset), contrast, gamma, blur, noise, scale, shift and small rotations,
applied to the batch on the device from a seeded generator, with the keypoints moved along.

Written by hand (no library does heatmap keypoints for this task); the network is deliberately
small so that it trains on a laptop CPU in minutes.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from . import atomic, images, repro

INPUT = (128, 256)            # detector input (height, width)
STRIDE = 4                    # heatmap cell in input pixels
KEYPOINTS = ("left", "right")  # mental foramina, as in landmarks.csv
BORDER = "left_border"          # the lower border below the left foramen (trained where the truth has it)


def names(k: int) -> tuple[str, ...]:
    """Keypoint names of a detector with ``k`` heatmaps."""
    return KEYPOINTS + ((BORDER,) if k > len(KEYPOINTS) else ())
FORMAT = "osteolib-roi-detector/1"


def prepare(gray: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """A radiograph as detector input (uint8, 128 x 256) and the factors (sx, sy) back to its pixels."""
    h, w = gray.shape
    small = np.array(Image.fromarray(gray).resize((INPUT[1], INPUT[0]), Image.BILINEAR))
    return small, (w / INPUT[1], h / INPUT[0])


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Detector(nn.Module):
    """Image (batch, 1, 128, 256), standardised -> keypoint heatmap logits (batch, K, 32, 64) and
    the logit of "this radiograph is mirrored" (batch,)."""

    def __init__(self, k: int = len(KEYPOINTS), width: int = 16):
        super().__init__()
        w = width
        self.stem = nn.Sequential(_block(3, w), _block(w, w, 2))                          # 64 x 128
        self.mid = nn.Sequential(_block(w, 2 * w, 2), _block(2 * w, 2 * w))               # 32 x 64
        self.deep = nn.Sequential(_block(2 * w, 4 * w, 2), _block(4 * w, 4 * w, dilation=2),
                                  _block(4 * w, 4 * w, dilation=4), _block(4 * w, 4 * w, dilation=8))  # 16 x 32
        self.fuse = nn.Sequential(_block(6 * w, 2 * w), nn.Conv2d(2 * w, k, 1))
        # "mirrored?" from the strongest response of each mid-level feature in the image's left half
        # and in its right half (a side marker is small, local and on one side), and the deep mean
        self.mirror = nn.Linear(4 * w + 4 * w, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device).view(1, 1, 1, w).expand(b, 1, h, w)
        mid = self.mid(self.stem(torch.cat([x, xs, ys], 1)))
        deep = self.deep(mid)
        up = nn.functional.interpolate(deep, size=mid.shape[-2:], mode="bilinear", align_corners=False)
        half = mid.shape[-1] // 2
        pooled = torch.cat([mid[..., :half].amax((2, 3)), mid[..., half:].amax((2, 3)), deep.mean((2, 3))], 1)
        return self.fuse(torch.cat([mid, up], 1)), self.mirror(pooled).squeeze(1)


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Per-image zero mean, unit SD (so exposure and contrast of one machine do not matter)."""
    m = x.mean((1, 2, 3), keepdim=True)
    s = x.std((1, 2, 3), keepdim=True).clamp_min(1e-3)
    return (x - m) / s


def decode(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmap logits -> (positions (batch, K, 2) as x, y in input pixels, confidence (batch, K))."""
    b, k, h, w = logits.shape
    p = torch.softmax(logits.flatten(2), -1).view(b, k, h, w)
    cx = (torch.arange(w, device=p.device, dtype=p.dtype) + 0.5) * STRIDE
    cy = (torch.arange(h, device=p.device, dtype=p.dtype) + 0.5) * STRIDE
    xy = torch.stack([(p.sum(2) * cx).sum(-1), (p.sum(3) * cy).sum(-1)], -1)
    # confidence: probability within 2 cells of the peak (a 5 x 5 window)
    near = nn.functional.avg_pool2d(p.view(b * k, 1, h, w), 5, stride=1, padding=2, count_include_pad=True) * 25
    conf = near.view(b, k, -1).max(-1).values
    return xy, conf


@dataclass(frozen=True)
class Augment:
    """Ranges of the training augmentation (each drawn per image)."""

    scale: float = 0.10       # zoom in [1 - scale, 1 + scale]
    shift: float = 0.06       # translation, share of the image
    degrees: float = 5.0      # rotation
    gain: float = 0.35        # contrast factor in [1 - gain, 1 + gain]
    offset: float = 0.15      # exposure offset, share of the range
    gamma: float = 0.35       # gamma in [1 - gamma, 1 + gamma]
    blur: float = 1.5         # Gaussian blur SD up to this (input pixels)
    noise: float = 0.06       # additive noise SD up to this
    mirror: float = 0.3       # share of images mirrored (target: "mirrored", no keypoints)

    def __call__(self, x: torch.Tensor, kp: torch.Tensor, gen: torch.Generator):
        """x (batch, 1, H, W) in [0, 1], kp (batch, K, 2) input pixels -> augmented x, kp, mirrored flags."""
        b, _, h, w = x.shape
        dev = x.device
        u = lambda *shape: torch.rand(*shape, generator=gen, device=dev)
        s = 1 + (u(b) * 2 - 1) * self.scale
        a = (u(b) * 2 - 1) * math.radians(self.degrees)
        t = (u(b, 2) * 2 - 1) * self.shift * 2              # normalised coordinates span 2
        # output -> input sampling in normalised coordinates: p_in = R(a) p_out / s + t (aspect-corrected)
        cos, sin = torch.cos(a) / s, torch.sin(a) / s
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = cos, -sin * h / w, t[:, 0]
        theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2] = sin * w / h, cos, t[:, 1]
        grid = nn.functional.affine_grid(theta, [b, 1, h, w], align_corners=False)
        x = nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        # keypoints: input -> output is the inverse affine
        norm = torch.stack([(kp[..., 0] / w) * 2 - 1, (kp[..., 1] / h) * 2 - 1], -1)
        m = theta[:, :, :2]
        out = torch.linalg.solve(m.unsqueeze(1).expand(-1, kp.shape[1], -1, -1),
                                 (norm - theta[:, None, :, 2]).unsqueeze(-1)).squeeze(-1)
        kp = torch.stack([(out[..., 0] + 1) / 2 * w, (out[..., 1] + 1) / 2 * h], -1)
        # intensity: gamma, contrast, exposure offset, blur, noise
        x = x.clamp(0, 1) ** (1 + (u(b, 1, 1, 1) * 2 - 1) * self.gamma)
        mean = x.mean((2, 3), keepdim=True)
        x = (x - mean) * (1 + (u(b, 1, 1, 1) * 2 - 1) * self.gain) + mean + (u(b, 1, 1, 1) * 2 - 1) * self.offset
        sigma = float(u(1)) * self.blur
        if sigma > 0.3:
            r = int(math.ceil(3 * sigma))
            g = torch.exp(-(torch.arange(-r, r + 1, device=dev, dtype=x.dtype) ** 2) / (2 * sigma ** 2))
            g = g / g.sum()
            x = nn.functional.conv2d(nn.functional.pad(x, (r, r, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
            x = nn.functional.conv2d(nn.functional.pad(x, (0, 0, r, r), mode="replicate"), g.view(1, 1, -1, 1))
        x = x + torch.randn(x.shape, generator=gen, device=dev) * u(b, 1, 1, 1) * self.noise
        mirrored = u(b) < self.mirror
        x = torch.where(mirrored.view(b, 1, 1, 1), x.flip(-1), x)
        return x, kp, mirrored


def _targets(kp: torch.Tensor, h: int, w: int, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian heatmap targets (batch, K, h, w), each summing to 1, around keypoints in input pixels."""
    cx = (torch.arange(w, device=kp.device) + 0.5) * STRIDE
    cy = (torch.arange(h, device=kp.device) + 0.5) * STRIDE
    dx = (cx.view(1, 1, 1, w) - kp[..., 0, None, None]) / STRIDE
    dy = (cy.view(1, 1, h, 1) - kp[..., 1, None, None]) / STRIDE
    g = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2))
    return g / g.sum((2, 3), keepdim=True).clamp_min(1e-12)


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 40
    batch_size: int = 16
    lr: float = 2e-3
    width: int = 16
    seed: int = 0


def load_set(data_dir: str | Path, patient_ids, progress: bool = False, border: bool | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, pd.DataFrame]:
    """Radiographs of ``patient_ids`` as detector inputs (n, 128, 256) uint8, their keypoints
    (n, K, 2) in detector pixels, and a table of the original sizes.

    Keypoints: the left and right foramen from ``landmarks.csv`` and, with ``border`` (default:
    when the folder has the synthetic truth), the lower border below the left foramen
    (``truth.csv``'s ``border_y`` at the left landmark's column)."""
    from tqdm.auto import tqdm
    from .cohort import read_clinical
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    lm = pd.read_csv(data_dir / "landmarks.csv", dtype={"patient_id": str}).set_index(["patient_id", "side"])
    truth_file = data_dir / "truth.csv"
    if border is None:
        border = truth_file.is_file() and "border_y" in pd.read_csv(truth_file, nrows=1).columns
    truth = pd.read_csv(truth_file, dtype={"patient_id": str}).set_index("patient_id") if border else None
    xs, kps, sizes = [], [], []
    for pid in tqdm(list(patient_ids), desc="radiographs", disable=not progress):
        gray = images.read_gray(data_dir / clinical.loc[pid, "image"])
        small, (sx, sy) = prepare(gray)
        xs.append(small)
        points = [[lm.loc[(pid, k), "x"] / sx, lm.loc[(pid, k), "y"] / sy] for k in KEYPOINTS]
        if border:
            points.append([lm.loc[(pid, "left"), "x"] / sx, truth.loc[pid, "border_y"] / sy])
        kps.append(points)
        sizes.append({"patient_id": pid, "height": gray.shape[0], "width": gray.shape[1], "sx": sx, "sy": sy})
    return (torch.from_numpy(np.stack(xs)), torch.tensor(kps, dtype=torch.float32), pd.DataFrame(sizes))


def train(x: torch.Tensor, kp: torch.Tensor, s: TrainSettings = TrainSettings(), augment: Augment = Augment(),
          progress: bool = True) -> Detector:
    """Train a detector on uint8 inputs (n, 128, 256) and keypoints (n, K, 2); seeded, CPU-deterministic."""
    from tqdm.auto import tqdm
    from .training import seeded_global_rng
    with seeded_global_rng(repro.child_seed(s.seed, 7), torch.device("cpu")):
        net = Detector(kp.shape[1], s.width)
        gen = torch.Generator().manual_seed(repro.child_seed(s.seed, 7, 1))
        opt = torch.optim.AdamW(net.parameters(), lr=s.lr, weight_decay=1e-4)
        steps = s.epochs * math.ceil(len(x) / s.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=steps, pct_start=0.15)
        bar = tqdm(range(s.epochs), desc="ROI detector", disable=not progress)
        net.train()
        for _ in bar:
            order = torch.randperm(len(x), generator=gen)
            total = 0.0
            for i in range(0, len(x), s.batch_size):
                idx = order[i:i + s.batch_size]
                if len(idx) < 2:
                    continue
                xb, kb, mirrored = augment(x[idx].unsqueeze(1).float() / 255, kp[idx], gen)
                heat, mirror_logit = net(standardise(xb))
                b, k, h, w = heat.shape
                logp = torch.log_softmax(heat.flatten(2), -1).view(b, k, h, w)
                keep = ~mirrored
                ce = -(_targets(kb, h, w) * logp).sum((2, 3))[keep].mean() if keep.any() else heat.sum() * 0
                xy, _ = decode(heat)
                l1 = (xy - kb).abs().sum(-1)[keep].mean() / STRIDE if keep.any() else heat.sum() * 0
                loss = ce + 0.5 * l1 + 2.0 * nn.functional.binary_cross_entropy_with_logits(mirror_logit, mirrored.float())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            bar.set_postfix(loss=f"{total / len(x):.3f}")
    return net.eval()


@torch.no_grad()
def predict(net: Detector, x: torch.Tensor, batch: int = 64) -> dict[str, np.ndarray]:
    """Keypoints (n, K, 2, detector pixels), their confidence (n, K) and P(mirrored) (n,)."""
    net.eval()
    out_xy, out_c, out_m = [], [], []
    for i in range(0, len(x), batch):
        heat, m = net(standardise(x[i:i + batch].unsqueeze(1).float() / 255))
        xy, c = decode(heat)
        out_xy.append(xy), out_c.append(c), out_m.append(torch.sigmoid(m))
    return {"xy": torch.cat(out_xy).numpy(), "confidence": torch.cat(out_c).numpy(),
            "p_mirrored": torch.cat(out_m).numpy()}


def place(net: Detector, gray: np.ndarray, min_confidence: float = 0.5) -> dict:
    """The left and right foramen (and the lower border below the left one, when the detector was
    trained for it) of one radiograph in its own pixels, with the verdict.

    ``ok`` is False (flag for a manual landmark) when a keypoint's confidence is below
    ``min_confidence`` or the radiograph looks mirrored.
    """
    small, (sx, sy) = prepare(gray)
    r = predict(net, torch.from_numpy(small)[None])
    xy, conf, mirrored = r["xy"][0], r["confidence"][0], float(r["p_mirrored"][0])
    out = {"p_mirrored": mirrored, "confidence": float(conf.min())}
    for i, k in enumerate(names(len(conf))):
        out[f"{k}_x"], out[f"{k}_y"], out[f"{k}_confidence"] = float(xy[i, 0] * sx), float(xy[i, 1] * sy), float(conf[i])
    reasons = [f"{k} confidence {conf[i]:.2f} < {min_confidence}" for i, k in enumerate(names(len(conf)))
               if conf[i] < min_confidence]
    if mirrored >= 0.5:
        reasons.append(f"looks mirrored left-right (P = {mirrored:.2f})")
    out["ok"], out["reason"] = not reasons, "; ".join(reasons)
    return out


def save(net: Detector, folder: str | Path, facts: dict) -> Path:
    """``detector.safetensors`` + ``detector.json`` (architecture, keypoints, training facts, hash)."""
    from safetensors.torch import save_file
    folder = Path(folder)
    with atomic.atomic_dir(folder) as tmp:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp / "detector.safetensors"))
        atomic.write_json({"format": FORMAT, "input": list(INPUT), "stride": STRIDE, "keypoints": list(names(net.fuse[-1].out_channels)),
                           "width": net.stem[0][0].out_channels, **facts, "versions": repro.versions(),
                           "sha256": repro.sha256(tmp / "detector.safetensors")}, tmp / "detector.json")
    return folder


def load(folder: str | Path) -> tuple[Detector, dict]:
    """A saved detector (hash checked, no unpickling)."""
    from safetensors.torch import load_file
    folder = Path(folder)
    card = json.loads((folder / "detector.json").read_text())
    if card.get("format") != FORMAT:
        raise ValueError(f"{folder}/detector.json: not an ROI detector ({card.get('format')!r})")
    if repro.sha256(folder / "detector.safetensors") != card["sha256"]:
        raise ValueError(f"{folder}/detector.safetensors does not match the hash in detector.json")
    net = Detector(len(card["keypoints"]), card["width"])
    net.load_state_dict(load_file(str(folder / "detector.safetensors")))
    return net.eval(), card


def errors_full_px(pred_xy: np.ndarray, true_xy: np.ndarray, sizes: pd.DataFrame, full_width: int = 2964) -> np.ndarray:
    """Placement errors (n, K) in pixels of the full-size radiograph (0.1 mm), from detector pixels."""
    sx, sy = sizes["sx"].to_numpy()[:, None], sizes["sy"].to_numpy()[:, None]
    to_full = full_width / sizes["width"].to_numpy()[:, None]
    d = np.hypot((pred_xy[..., 0] - true_xy[..., 0]) * sx, (pred_xy[..., 1] - true_xy[..., 1]) * sy)
    return d * to_full


def summary(err: np.ndarray, within: float = 40.0) -> dict:
    """Median, 90th percentile and share within ``within`` px of the left-foramen errors."""
    e = err[:, 0]
    return {"n": int(len(e)), "median_px": float(np.median(e)), "p90_px": float(np.percentile(e, 90)),
            f"share_within_{int(within)}px": float(np.mean(e <= within))}


def perturb(gray: np.ndarray, gain: float = 1.0, offset: float = 0.0, noise: float = 0.0, blur: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """Another machine's look: contrast ``gain`` about the mean, exposure ``offset`` (share of 255),
    Gaussian blur SD ``blur`` (pixels) and noise SD ``noise`` (share of 255)."""
    from scipy import ndimage
    a = gray.astype(np.float64)
    a = (a - a.mean()) * gain + a.mean() + offset * 255
    if blur > 0:
        a = ndimage.gaussian_filter(a, blur)
    if noise > 0:
        a = a + np.random.default_rng(seed).normal(0, noise * 255, a.shape)
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def evaluate(net: Detector, data_dir: str | Path, patient_ids=None, min_confidence: float = 0.5,
             progress: bool = True, **look) -> pd.DataFrame:
    """Place every patient of a data folder (optionally with :func:`perturb` settings ``look``) and
    compare with its landmarks: one row per patient with the predicted and true positions (image
    pixels), the errors in pixels of the full-size radiograph, the confidences and the verdict."""
    from tqdm.auto import tqdm
    from .cohort import read_clinical
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    lm = pd.read_csv(data_dir / "landmarks.csv", dtype={"patient_id": str}).set_index(["patient_id", "side"])
    truth = (pd.read_csv(data_dir / "truth.csv", dtype={"patient_id": str}).set_index("patient_id")
             if (data_dir / "truth.csv").is_file() else None)
    if truth is not None and "border_y" not in truth.columns:
        truth = None
    rows = []
    for i, pid in enumerate(tqdm(list(patient_ids if patient_ids is not None else clinical.index),
                                 desc="placing", disable=not progress)):
        gray = images.read_gray(data_dir / clinical.loc[pid, "image"])
        if look:
            gray = perturb(gray, seed=i, **look)
        r = place(net, gray, min_confidence)
        to_full = 2964 / gray.shape[1]
        for k in KEYPOINTS:
            tx, ty = lm.loc[(pid, k), ["x", "y"]]
            r[f"{k}_true_x"], r[f"{k}_true_y"] = float(tx), float(ty)
            r[f"{k}_error_full_px"] = float(np.hypot(r[f"{k}_x"] - tx, r[f"{k}_y"] - ty) * to_full)
        if f"{BORDER}_y" in r and truth is not None:  # vertical error of the border below the left foramen
            r[f"{BORDER}_error_full_px"] = float(abs(r[f"{BORDER}_y"] - truth.loc[pid, "border_y"]) * to_full)
        rows.append({"patient_id": pid, **r})
    return pd.DataFrame(rows)


def error_summary(table: pd.DataFrame, within: float = 40.0) -> dict:
    """Median, 90th percentile and share within ``within`` px (full size) of the left-foramen error,
    over the patients the detector did not flag, and the share flagged."""
    ok = table[table["ok"]]
    e = ok["left_error_full_px"]
    return {"n": int(len(table)), "flagged": int((~table["ok"]).sum()), "median_px": float(e.median()),
            "p90_px": float(e.quantile(0.9)), f"share_within_{int(within)}px": float((e <= within).mean()),
            "right_median_px": float(ok["right_error_full_px"].median()),
            **({"border_median_px": float(ok[f"{BORDER}_error_full_px"].median())}
               if f"{BORDER}_error_full_px" in ok else {})}


def auto_landmarks(net: Detector, data_dir: str | Path, cohort: pd.DataFrame, side: str,
                   min_confidence: float, study_dir: str | Path, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Landmarks of ``side`` placed by the detector for every cohort patient, in the layout
    :func:`osteolib.roi.crop_study` takes, and the placement table (with errors against the data's
    own landmarks where it has them).

    Patients the detector flags are never cropped: they are written to
    ``<study_dir>/rois_needs_landmarks.csv`` and an :class:`InputError` lists them.
    """
    from tqdm.auto import tqdm
    from .errors import InputError
    data_dir, study_dir = Path(data_dir), Path(study_dir)
    manual = None
    if (data_dir / "landmarks.csv").is_file():
        manual = pd.read_csv(data_dir / "landmarks.csv", dtype={"patient_id": str}).set_index(["patient_id", "side"])
    rows = []
    for rec in tqdm(cohort[["patient_id", "image"]].to_dict("records"), desc="placing ROIs", disable=not progress):
        gray = images.read_gray(data_dir / rec["image"])
        r = place(net, gray, min_confidence)
        row = {"patient_id": rec["patient_id"], "x": r[f"{side}_x"], "y": r[f"{side}_y"],
               "confidence": r[f"{side}_confidence"], "p_mirrored": r["p_mirrored"], "ok": r["ok"], "reason": r["reason"]}
        if side == "left" and f"{BORDER}_y" in r:
            row["border_y"] = r[f"{BORDER}_y"]  # the lower border the ROI should hold
        if manual is not None and (rec["patient_id"], side) in manual.index:
            tx, ty = manual.loc[(rec["patient_id"], side), ["x", "y"]]
            row.update(true_x=float(tx), true_y=float(ty),
                       error_full_px=float(np.hypot(row["x"] - tx, row["y"] - ty) * 2964 / gray.shape[1]))
        rows.append(row)
    table = pd.DataFrame(rows)
    flagged = table[~table["ok"]]
    target = study_dir / "rois_needs_landmarks.csv"
    if len(flagged):
        atomic.write_csv(flagged[["patient_id", "confidence", "p_mirrored", "reason"]], target, float_format="%.3f")
        raise InputError(data_dir, f"the ROI detector flagged {len(flagged)} patient(s) (e.g. {flagged['patient_id'].iloc[0]}: "
                                   f"{flagged['reason'].iloc[0]}); they are listed in {target}: give them manual "
                                   "landmarks (landmarks.csv) and use roi_source='landmarks'")
    target.unlink(missing_ok=True)
    return table[["patient_id", "x", "y"]].assign(row=np.nan), table


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    import time
    ap = argparse.ArgumentParser(prog="python -m osteolib.placement", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train a detector on the landmarks of data folders")
    tr.add_argument("--data", action="append", required=True, help="data folder (input layout); repeatable")
    tr.add_argument("--out", required=True, help="folder for detector.safetensors + detector.json")
    tr.add_argument("--holdout", type=float, default=0.2, help="share of each folder's patients kept out")
    tr.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    tr.add_argument("--seed", type=int, default=0)
    ev = sub.add_parser("evaluate", help="place every patient of a data folder and measure the errors")
    ev.add_argument("--detector", required=True)
    ev.add_argument("--data", required=True)
    ev.add_argument("--out", required=True, help="CSV with one row per patient")
    ev.add_argument("--figure", help="PNG of the worst placements")
    ev.add_argument("--holdout-only", action="store_true", help="only the patients the detector was not trained on")
    ev.add_argument("--min-confidence", type=float, default=0.5)
    for name in ("gain", "offset", "noise", "blur"):
        ev.add_argument(f"--{name}", type=float, default=None, help="change the image's look (see perturb)")
    args = ap.parse_args(argv)
    from .cohort import read_clinical
    if args.command == "train":
        xs, kps, used, held = [], [], [], {}
        for d in args.data:
            ids = read_clinical(d, check_images=False)["patient_id"].tolist()
            rng = np.random.default_rng(repro.child_seed(args.seed, 8))
            order = list(rng.permutation(ids))
            n_hold = int(round(args.holdout * len(ids)))
            held[str(Path(d).resolve())] = sorted(order[:n_hold])
            x, kp, _ = load_set(d, order[n_hold:], progress=True)
            xs.append(x), kps.append(kp), used.append(len(order) - n_hold)
        t0 = time.perf_counter()
        s = TrainSettings(epochs=args.epochs, seed=args.seed)
        net = train(torch.cat(xs), torch.cat(kps), s)
        seconds = time.perf_counter() - t0
        save(net, args.out, {"trained_on": dict(zip(map(str, args.data), used)), "held_out": held,
                             "settings": asdict(s), "augment": asdict(Augment()), "train_seconds": seconds})
        print(f"{args.out}: trained on {sum(used)} radiographs in {seconds:.0f} s")
        return 0
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
    if args.figure:
        from . import plots
        side = table.rename(columns={"left_x": "x", "left_y": "y", "left_true_x": "true_x", "left_true_y": "true_y",
                                     "left_error_full_px": "error_full_px"})
        plots.worst_placements(args.data, side, out=args.figure)
    print(json.dumps({**error_summary(table), "seconds_per_radiograph": seconds / len(table), "look": look}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
