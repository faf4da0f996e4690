"""Training the detector's keypoints: Gaussian heatmap targets, the training set of a data folder (the
clinician's foramina and, where the synthetic truth has it, the lower border below the left one)
and their training (the seeded loop of :mod:`osteolib.placement.loop`, strong augmentation)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .. import images
from ..cohort import read_clinical
from ..datafolder import TRUTH, DataFolder
from ..roi import read_all_landmarks
from ..synthetic import border_truth
from .augment import Augment
from .loop import seeded_loop
from .network import KEYPOINTS, STRIDE, Detector, decode, prepare, standardise

__all__ = ["DetectorSettings", "load_set", "train"]


def _targets(kp: torch.Tensor, h: int, w: int, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian heatmap targets (batch, K, h, w), each summing to 1, around keypoints in input pixels."""
    cx = (torch.arange(w, device=kp.device) + 0.5) * STRIDE
    cy = (torch.arange(h, device=kp.device) + 0.5) * STRIDE
    dx = (cx.view(1, 1, 1, w) - kp[..., 0, None, None]) / STRIDE
    dy = (cy.view(1, 1, h, 1) - kp[..., 1, None, None]) / STRIDE
    g = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2))
    return g / g.sum((2, 3), keepdim=True).clamp_min(1e-12)


@dataclass(frozen=True)
class DetectorSettings:
    """How the detector is trained (recorded in its card)."""

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
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    lm = read_all_landmarks(data_dir).set_index(["patient_id", "side"])
    truth = border_truth(data_dir) if border is not False else None
    if border and truth is None:
        raise ValueError(f"{data_dir} has no lower-border truth ({TRUTH} with border_y): use border=None or False")
    border = truth is not None
    xs, kps, sizes = [], [], []
    for pid in tqdm(list(patient_ids), desc="radiographs", disable=not progress):
        gray = images.read_gray(DataFolder(data_dir).image(clinical.loc[pid, "image"]))
        small, (sx, sy) = prepare(gray)
        xs.append(small)
        points = [[lm.loc[(pid, k), "x"] / sx, lm.loc[(pid, k), "y"] / sy] for k in KEYPOINTS]
        if border:
            points.append([lm.loc[(pid, "left"), "x"] / sx, truth.loc[pid] / sy])
        kps.append(points)
        sizes.append({"patient_id": pid, "height": gray.shape[0], "width": gray.shape[1], "sx": sx, "sy": sy})
    return (torch.from_numpy(np.stack(xs)), torch.tensor(kps, dtype=torch.float32), pd.DataFrame(sizes))


def train(x: torch.Tensor, kp: torch.Tensor, s: DetectorSettings = DetectorSettings(), augment: Augment = Augment(),
          progress: bool = True) -> Detector:
    """Train a detector's keypoints on uint8 inputs (n, 128, 256) and keypoints (n, K, 2); seeded,
    CPU-deterministic. Its side-marker reader is trained apart (:func:`osteolib.placement.marker.train_reader`)."""
    def batch_loss(net, idx, gen):
        xb, kb = augment(x[idx].unsqueeze(1).float() / 255, kp[idx], gen)
        heat = net(standardise(xb))
        b, k, h, w = heat.shape
        logp = torch.log_softmax(heat.flatten(2), -1).view(b, k, h, w)
        ce = -(_targets(kb, h, w) * logp).sum((2, 3)).mean()
        xy, _ = decode(heat)
        return ce + 0.5 * (xy - kb).abs().sum(-1).mean() / STRIDE

    return seeded_loop(lambda: Detector(kp.shape[1], s.width), len(x), s, 7, "ROI detector", batch_loss, progress)
