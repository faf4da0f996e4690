"""The detector network: a radiograph resized to 128 x 256 px with two coordinate channels
(CoordConv) -> one heatmap per keypoint at a quarter of that resolution (and, apart, the side-marker
reader of its corners); decoding a heatmap into a position (soft-argmax) and a confidence."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from .marker import Reader

__all__ = ["INPUT", "STRIDE", "KEYPOINTS", "BORDER", "names", "prepare", "Detector", "standardise", "decode"]

INPUT = (128, 256)            # detector input (height, width)
STRIDE = 4                    # heatmap cell in input pixels
KEYPOINTS = ("left", "right")  # mental foramina, as in landmarks.csv
BORDER = "left_border"          # the lower border below the left foramen (trained where the truth has it)


def names(k: int) -> tuple[str, ...]:
    """Keypoint names of a detector with ``k`` heatmaps."""
    return KEYPOINTS + ((BORDER,) if k > len(KEYPOINTS) else ())


def prepare(gray: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """A radiograph as detector input (uint8, 128 x 256) and the factors (sx, sy) back to its pixels."""
    h, w = gray.shape
    small = np.array(Image.fromarray(gray).resize((INPUT[1], INPUT[0]), Image.BILINEAR))
    return small, (w / INPUT[1], h / INPUT[0])


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Detector(nn.Module):
    """Image (batch, 1, 128, 256), standardised -> keypoint heatmap logits (batch, K, 32, 64); with its
    side-marker reader (:mod:`osteolib.placement.marker`) for "is this radiograph mirrored?"."""

    def __init__(self, k: int = len(KEYPOINTS), width: int = 16):
        super().__init__()
        w = width
        self.stem = nn.Sequential(_block(3, w), _block(w, w, 2))                          # 64 x 128
        self.mid = nn.Sequential(_block(w, 2 * w, 2), _block(2 * w, 2 * w))               # 32 x 64
        self.deep = nn.Sequential(_block(2 * w, 4 * w, 2), _block(4 * w, 4 * w, dilation=2),
                                  _block(4 * w, 4 * w, dilation=4), _block(4 * w, 4 * w, dilation=8))  # 16 x 32
        self.fuse = nn.Sequential(_block(6 * w, 2 * w), nn.Conv2d(2 * w, k, 1))
        # "mirrored?": the side-marker reader, on the radiograph's corners at a finer scale (trained
        # apart; ``reads_markers`` False until it is)
        self.reader = Reader(w)
        self.reads_markers = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device).view(1, 1, 1, w).expand(b, 1, h, w)
        mid = self.mid(self.stem(torch.cat([x, xs, ys], 1)))
        deep = self.deep(mid)
        up = nn.functional.interpolate(deep, size=mid.shape[-2:], mode="bilinear", align_corners=False)
        return self.fuse(torch.cat([mid, up], 1))


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
