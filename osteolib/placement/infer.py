"""Placing the keypoints of radiographs with a trained detector, and the verdict: a keypoint it is
not sure of, or a radiograph that looks mirrored, is flagged for a manual landmark, never cropped."""
from __future__ import annotations

import numpy as np
import torch

from .network import Detector, decode, names, prepare, standardise


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
