"""What the detector is trained and tested against: the training augmentation (geometry with the
keypoints moved along, exposure, contrast, gamma, blur, noise, mirroring), drawn on the device
from a seeded generator, and :func:`perturb`, another machine's look for an evaluation."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

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
    move_marker: float = 0.6  # share of known side markers moved to a random corner before that

    def relocate(self, x: torch.Tensor, boxes: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Move the side marker of a share of images (``boxes`` (batch, 4): its letter box x0, y0, x1, y1 in
        input pixels; NaN: none or unknown) to a random place in a random corner. Where it was is covered
        with the image next to it (towards the centre), and only the letter's bright strokes are carried
        (blended by their brightness over the background), so neither a hole nor a square tells where it
        came from. The letter is not mirrored: the target stays."""
        x = x.clone()
        b, _, h, w = x.shape
        u = torch.rand(b, 5, generator=gen)
        for i in range(b):
            if torch.isnan(boxes[i]).any() or u[i, 0] >= self.move_marker:
                continue
            x0, y0 = max(0, int(math.floor(boxes[i, 0])) - 1), max(0, int(math.floor(boxes[i, 1])) - 1)
            x1, y1 = min(w, int(math.ceil(boxes[i, 2])) + 1), min(h, int(math.ceil(boxes[i, 3])) + 1)
            patch = x[i, :, y0:y1, x0:x1].clone()
            ph, pw = patch.shape[-2:]
            src = x0 + pw if x0 < w / 2 else x0 - pw                  # the neighbour towards the centre
            if not 0 <= src <= w - pw:
                continue
            x[i, :, y0:y1, x0:x1] = x[i, :, y0:y1, src:src + pw]
            bg = x[i, :, y0:y1, x0:x1]
            alpha = ((patch - bg) / (patch.amax() - bg).clamp_min(1e-3)).clamp(0, 1)
            left, top = bool(u[i, 1] < 0.5), bool(u[i, 2] < 0.5)
            tx = (0.02 + 0.08 * float(u[i, 3])) * w if left else (0.98 - 0.08 * float(u[i, 3])) * w - pw
            ty = (0.03 + 0.08 * float(u[i, 4])) * h if top else (0.97 - 0.08 * float(u[i, 4])) * h - ph
            tx, ty = int(min(max(0, tx), w - pw)), int(min(max(0, ty), h - ph))
            target = x[i, :, ty:ty + ph, tx:tx + pw]
            x[i, :, ty:ty + ph, tx:tx + pw] = target * (1 - alpha) + patch * alpha
        return x

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
