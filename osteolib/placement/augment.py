"""What the detector is trained and tested against: the training augmentation (geometry with the
keypoints moved along, exposure, contrast, gamma, blur, noise), drawn on the device
from a seeded generator, and :func:`perturb`, another machine's look for an evaluation."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from torch import nn

__all__ = ["Augment", "perturb"]

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

    def __call__(self, x: torch.Tensor, kp: torch.Tensor, gen: torch.Generator):
        """x (batch, 1, H, W) in [0, 1], kp (batch, K, 2) input pixels -> augmented x, kp."""
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
        return x, kp


def perturb(gray: np.ndarray, gain: float = 1.0, offset: float = 0.0, noise: float = 0.0, blur: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """Another machine's look: contrast ``gain`` about the mean, exposure ``offset`` (share of 255),
    Gaussian blur SD ``blur`` (pixels) and noise SD ``noise`` (share of 255)."""
    a = gray.astype(np.float64)
    a = (a - a.mean()) * gain + a.mean() + offset * 255
    if blur > 0:
        a = ndimage.gaussian_filter(a, blur)
    if noise > 0:
        a = a + np.random.default_rng(seed).normal(0, noise * 255, a.shape)
    return np.clip(np.round(a), 0, 255).astype(np.uint8)
