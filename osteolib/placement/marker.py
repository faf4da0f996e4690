"""The side-marker reader: is this radiograph mirrored?

Panoramic units burn in a side marker (a letter, "L" or "R", in a corner; where, and whether at all,
depends on the unit). A mirrored radiograph shows the letter mirrored. The reader looks at the four
corners of the radiograph separately, each cut at a resolution where the letter's strokes are a few
pixels wide (:data:`CROP`), and says of each: no letter, a letter, a mirrored letter. The radiograph
looks mirrored when some corner shows a mirrored letter. Because every corner is read on its own, with
shared weights and without knowing which corner it is, the *place* of a marker cannot be a cue: a unit
that prints its letter in another corner is not taken for a mirror (an earlier design, one head on the
whole downsized radiograph, learned "a letter at the bottom left means mirrored" from a unit that
prints its "L" at the bottom right). A radiograph without a marker gives nothing to read and is not
flagged: a mirrored one of those cannot be told.

Trained from data folders whose synthetic truth says where each marker is (``truth.csv``'s
``marker_corner``), on the radiographs as they are and mirrored, with intensity and position
augmentation. Written by hand (no library reads side markers).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn
from tqdm.auto import tqdm

from .. import images
from ..cohort import read_clinical
from ..datafolder import DataFolder
from ..synthetic import is_synthetic, read_truth
from ..synthetic.radiograph import glyph
from .loop import seeded_loop

__all__ = ["CORNERS", "REGION", "CROP", "CLASSES", "MIRROR_OF", "corners", "Reader", "p_mirrored", "load_corners",
           "ReaderSettings", "train_reader", "table"]

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
#: Each corner region: this share of the radiograph's width and height.
REGION = (0.18, 0.24)
#: The crop the reader sees of each corner (height, width): the letter about 16 x 11 px.
CROP = (72, 96)
CLASSES = ("none", "letter", "mirrored")
#: The corner a corner becomes when the radiograph is mirrored left-right.
MIRROR_OF = {0: 1, 1: 0, 2: 3, 3: 2}


def corners(gray: np.ndarray) -> np.ndarray:
    """The four corner regions of a radiograph, each resized to :data:`CROP` (4, 72, 96) uint8, in the
    order of :data:`CORNERS`."""
    h, w = gray.shape
    ch, cw = max(4, round(REGION[1] * h)), max(4, round(REGION[0] * w))
    boxes = [(0, 0), (0, w - cw), (h - ch, 0), (h - ch, w - cw)]
    return np.stack([np.array(Image.fromarray(np.ascontiguousarray(gray[y:y + ch, x:x + cw]))
                              .resize((CROP[1], CROP[0]), Image.BILINEAR)) for y, x in boxes])


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Reader(nn.Module):
    """Corner crops (batch, 4, 72, 96) uint8-scaled floats -> logits (batch, 4, 3) of
    none / letter / mirrored letter, each corner read on its own (shared weights)."""

    def __init__(self, width: int = 16):
        super().__init__()
        w = width
        self.body = nn.Sequential(_block(1, w), _block(w, w, 2), _block(w, 2 * w), _block(2 * w, 2 * w, 2),
                                  _block(2 * w, 4 * w), _block(4 * w, 4 * w, 2))
        self.head = nn.Linear(4 * w, len(CLASSES))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        b, k, h, w = crops.shape
        x = crops.reshape(b * k, 1, h, w)
        x = (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True).clamp_min(1e-3)
        return self.head(self.body(x).amax((2, 3))).view(b, k, len(CLASSES))


@torch.no_grad()
def p_mirrored(reader: Reader, crops: torch.Tensor) -> np.ndarray:
    """P(mirrored) per radiograph: the most confident "mirrored letter" of its four corners."""
    reader.eval()
    p = torch.softmax(reader(crops.float() / 255), -1)
    return p[..., 2].amax(1).numpy()


def load_corners(data_dir: str | Path, patient_ids, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Corner crops (n, 4, 72, 96) uint8 of a synthetic data folder's radiographs and the index of the
    corner holding each one's marker (-1: none, or not known)."""
    data_dir = Path(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    where = {}
    if is_synthetic(data_dir):
        t = read_truth(data_dir)
        if "marker_corner" in t:
            where = dict(zip(t["patient_id"], t["marker_corner"]))
    crops, idx = [], []
    for pid in tqdm(list(patient_ids), desc="corners", disable=not progress):
        crops.append(corners(images.read_gray(DataFolder(data_dir).image(clinical.loc[pid, "image"]))))
        idx.append(CORNERS.index(where[pid]) if where.get(pid) in CORNERS else -1)
    return torch.from_numpy(np.stack(crops)), torch.tensor(idx)


@dataclass(frozen=True)
class ReaderSettings:
    """How the reader is trained (recorded in the detector's card)."""

    epochs: int = 12
    batch_size: int = 32
    lr: float = 2e-3
    width: int = 16
    shift: int = 8            # random shift of each crop, pixels
    seed: int = 0


def _augment(x: torch.Tensor, gen: torch.Generator, shift: int) -> torch.Tensor:
    """Per crop: exposure, contrast, gamma, noise, blur and a shift (x: (n, 72, 96) in [0, 1])."""
    n = x.shape[0]
    u = lambda *s: torch.rand(*s, generator=gen)
    x = x.clamp(0, 1) ** (0.7 + 0.6 * u(n, 1, 1))
    x = (x - 0.5) * (0.7 + 0.6 * u(n, 1, 1)) + 0.5 + (u(n, 1, 1) - 0.5) * 0.3
    if float(u(1)) < 0.5:
        k = torch.tensor([0.25, 0.5, 0.25])
        x = nn.functional.conv2d(x[:, None], (k[:, None] * k[None, :])[None, None], padding=1)[:, 0]
    x = x + torch.randn(x.shape, generator=gen) * 0.05 * u(n, 1, 1)
    dy, dx = (torch.randint(-shift, shift + 1, (2,), generator=gen)).tolist()
    return torch.roll(x, (dy, dx), (1, 2))


def _paint_letters(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, share: float = 0.5) -> None:
    """Paint a random letter ("L" or "R", as printed or mirrored, of random size, stroke, brightness and
    place) into one unlabelled corner of a share of the radiographs, in place, and label it: letters on
    every background of every corner, so the reader learns the letters' shapes and nothing else.
    x: (b, 4, 72, 96) in [0, 1]; y: (b, 4) labels."""
    b = x.shape[0]
    u = torch.rand(b, 8, generator=gen).numpy()
    rows, cols = np.arange(CROP[0])[:, None], np.arange(CROP[1])[None, :]
    for i in range(b):
        free = [k for k in range(4) if int(y[i, k]) == 0]
        if u[i, 0] >= share or not free:
            continue
        k = free[int(u[i, 1] * len(free)) % len(free)]
        h = 13 + 9 * u[i, 2]
        w = h * (0.6 + 0.15 * u[i, 3])
        y0, x0 = 4 + (CROP[0] - h - 8) * u[i, 4], 4 + (CROP[1] - w - 8) * u[i, 5]
        mirrored = u[i, 6] < 0.5
        uu = (cols - x0) / w
        mask = glyph("R" if u[i, 7] < 0.5 else "L", 1 - uu if mirrored else uu, (rows - y0) / h,
                     0.2 + 0.05 * u[i, 3], 0.14 + 0.04 * u[i, 2])
        level = 0.85 + 0.15 * u[i, 3]
        x[i, k][torch.from_numpy(mask)] = float(level)
        y[i, k] = 2 if mirrored else 1


def train_reader(crops: torch.Tensor, where: torch.Tensor, s: ReaderSettings = ReaderSettings(),
                 progress: bool = True) -> Reader:
    """Train on corner crops (n, 4, 72, 96) and each radiograph's marker corner (n,; -1 none): every
    radiograph as it is (its marker corner "letter") and mirrored (the mirrored corner "mirrored"),
    the other corners "none", and letters painted into half of the radiographs' free corners
    (:func:`_paint_letters`); classes weighted to balance. Seeded, CPU-deterministic."""
    # both orientations: a mirrored radiograph's corner k is the original's MIRROR_OF[k], flipped
    swap = [MIRROR_OF[k] for k in range(4)]
    flipped = crops[:, swap].flip(-1)
    x = torch.cat([crops, flipped])
    y = torch.zeros(len(x), 4, dtype=torch.long)
    for i, c in enumerate(where.tolist()):
        if c >= 0:
            y[i, c] = 1
            y[len(crops) + i, MIRROR_OF[c]] = 2
    counts = torch.bincount(y.flatten(), minlength=3).float().clamp_min(1)
    weight = counts.sum() / (3 * counts)
    def batch_loss(net, idx, gen):
        xb, yb = x[idx].float() / 255, y[idx].clone()
        b = xb.shape[0]
        _paint_letters(xb, yb, gen)
        xb = _augment(xb.reshape(b * 4, *CROP), gen, s.shift).reshape(b, 4, *CROP)
        return nn.functional.cross_entropy(net(xb).reshape(-1, 3), yb.reshape(-1), weight=weight)

    return seeded_loop(lambda: Reader(s.width), len(x), s, 9, "marker reader", batch_loss, progress)


def table(reader: Reader, crops: torch.Tensor) -> pd.DataFrame:
    """Per radiograph: P(mirrored) as it is and mirrored left-right."""
    swap = [MIRROR_OF[k] for k in range(4)]
    return pd.DataFrame({"p_mirrored": p_mirrored(reader, crops),
                         "p_mirrored_if_flipped": p_mirrored(reader, crops[:, swap].flip(-1))})
