"""Placing the keypoints of radiographs with a trained detector, and the verdict: a keypoint it is
not sure of, or a radiograph that looks mirrored, is flagged for a manual landmark, never cropped."""
from __future__ import annotations

import numpy as np
import torch

from .marker import corners, p_mirrored
from .network import Detector, decode, names, prepare, standardise

__all__ = ["predict", "place"]


@torch.no_grad()
def predict(net: Detector, x: torch.Tensor, corners: torch.Tensor | None = None, batch: int = 64) -> dict[str, np.ndarray]:
    """Keypoints (n, K, 2, detector pixels), their confidence (n, K) and P(mirrored) (n,) from the
    side-marker reader on ``corners`` ((n, 4, 72, 96), :func:`marker.corners`; NaN without them, or
    when the detector's reader was never trained)."""
    net.eval()
    out_xy, out_c = [], []
    for i in range(0, len(x), batch):
        xy, c = decode(net(standardise(x[i:i + batch].unsqueeze(1).float() / 255)))
        out_xy.append(xy), out_c.append(c)
    mirrored = np.full(len(x), np.nan)
    if corners is not None and net.reads_markers:
        mirrored = p_mirrored(net.reader, corners)
    return {"xy": torch.cat(out_xy).numpy(), "confidence": torch.cat(out_c).numpy(), "p_mirrored": mirrored}


def place(net: Detector, gray: np.ndarray, min_confidence: float = 0.5) -> dict:
    """The left and right foramen (and the lower border below the left one, when the detector was
    trained for it) of one radiograph in its own pixels, with the verdict.

    ``ok`` is False (flag for a manual landmark) when a keypoint's confidence is below
    ``min_confidence`` or the radiograph looks mirrored.
    """
    small, (sx, sy) = prepare(gray)
    r = predict(net, torch.from_numpy(small)[None], torch.from_numpy(corners(gray))[None])
    xy, conf, mirrored = r["xy"][0], r["confidence"][0], float(r["p_mirrored"][0])
    out = {"p_mirrored": mirrored, "confidence": float(conf.min())}
    for i, k in enumerate(names(len(conf))):
        out[f"{k}_x"], out[f"{k}_y"], out[f"{k}_confidence"] = float(xy[i, 0] * sx), float(xy[i, 1] * sy), float(conf[i])
    reasons = [f"{k} confidence {conf[i]:.2f} < {min_confidence}" for i, k in enumerate(names(len(conf)))
               if conf[i] < min_confidence]
    if mirrored >= 0.5:                                  # NaN (no reader, or no marker to read): not flagged
        reasons.append(f"looks mirrored left-right (P = {mirrored:.2f})")
    out["ok"], out["reason"] = not reasons, "; ".join(reasons)
    return out
