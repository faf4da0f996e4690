"""Training the detector's keypoints: Gaussian heatmap targets, the training set of a data folder (the
clinician's foramina and, where the synthetic truth has it, the lower border below the left one)
and the seeded training loop (AdamW, one-cycle schedule, strong augmentation)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import images, repro
from .augment import Augment
from .network import KEYPOINTS, STRIDE, Detector, decode, prepare, standardise


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
    from tqdm.auto import tqdm
    from ..cohort import read_clinical
    from ..roi import read_all_landmarks
    from ..synthetic import border_truth
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    lm = read_all_landmarks(data_dir).set_index(["patient_id", "side"])
    truth = border_truth(data_dir) if border is not False else None
    if border and truth is None:
        raise ValueError(f"{data_dir} has no lower-border truth (truth.csv with border_y): use border=None or False")
    border = truth is not None
    xs, kps, sizes = [], [], []
    for pid in tqdm(list(patient_ids), desc="radiographs", disable=not progress):
        gray = images.read_gray(data_dir / clinical.loc[pid, "image"])
        small, (sx, sy) = prepare(gray)
        xs.append(small)
        points = [[lm.loc[(pid, k), "x"] / sx, lm.loc[(pid, k), "y"] / sy] for k in KEYPOINTS]
        if border:
            points.append([lm.loc[(pid, "left"), "x"] / sx, truth.loc[pid] / sy])
        kps.append(points)
        sizes.append({"patient_id": pid, "height": gray.shape[0], "width": gray.shape[1], "sx": sx, "sy": sy})
    return (torch.from_numpy(np.stack(xs)), torch.tensor(kps, dtype=torch.float32), pd.DataFrame(sizes))


def train(x: torch.Tensor, kp: torch.Tensor, s: TrainSettings = TrainSettings(), augment: Augment = Augment(),
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


def seeded_loop(make_net, n: int, s, key: int, desc: str, batch_loss, progress: bool = True):
    """The training loop of the detector's parts (keypoints, marker reader): the network made under the
    global RNG seeded with child seed (``s.seed``, ``key``), AdamW with a one-cycle schedule, seeded
    shuffles of ``n`` items in batches of ``s.batch_size`` (a last batch of one is skipped);
    ``batch_loss(net, idx, gen)`` gives one batch's loss. CPU-deterministic; returns the net in eval mode."""
    from tqdm.auto import tqdm
    with repro.seeded_global_rng(repro.child_seed(s.seed, key)):
        net = make_net()
        gen = torch.Generator().manual_seed(repro.child_seed(s.seed, key, 1))
        opt = torch.optim.AdamW(net.parameters(), lr=s.lr, weight_decay=1e-4)
        steps = s.epochs * math.ceil(n / s.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=steps, pct_start=0.15)
        bar = tqdm(range(s.epochs), desc=desc, disable=not progress)
        net.train()
        for _ in bar:
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, s.batch_size):
                idx = order[i:i + s.batch_size]
                if len(idx) < 2:
                    continue
                loss = batch_loss(net, idx, gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            bar.set_postfix(loss=f"{total / n:.3f}")
    return net.eval()
