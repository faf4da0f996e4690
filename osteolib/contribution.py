"""What the image and what age, sex and BMI contribute to an ensemble prediction (no file I/O).

An ensemble network's log-odds of osteoporosis f(image, covariates) is split into two additive parts by the
exact Shapley values of its two inputs against a reference input (Shapley 1953; for two players the four
evaluations give them exactly, so no sampling library is needed):

    φ_image = ½ [f(x, c) - f(r, c) + f(x, c_r) - f(r, c_r)]
    φ_covariates = ½ [f(x, c) - f(x, c_r) + f(r, c) - f(r, c_r)]
    f(x, c) = f(r, c_r) + φ_image + φ_covariates

The reference (:func:`reference`) is an image that shows nothing (a uniform mid-gray ROI) and a patient of the
training part's mean age and BMI with sex balanced (the scaled vector 0, 0, ½, ½). With the ``concat+skip`` head
much of the log-odds can come from the covariates' own path, which no image map can show: a Grad-CAM that is zero
everywhere means there is no positive image evidence for the class explained, and :func:`in_words` then says how
much of the prediction the covariates carry. An image-arm network has φ_covariates = 0.

Examples
--------
>>> import torch
>>> from osteolib import models, settings
>>> net = models.build(settings.NetworkConfig("resnet18", "ensemble", (32, 64)), seed=0).eval()
>>> rois, cov = torch.full((2, 32, 64), 90, dtype=torch.uint8), torch.tensor([[0.2, -0.1, 1.0, 0.0]] * 2)
>>> t = decompose(net, rois, cov)
>>> bool(((t["reference_logit"] + t["image"] + t["covariates"] - t["logit"]).abs() < 1e-5).all())
True
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .datasets import to_input

__all__ = ["COLUMNS", "reference", "decompose", "in_words"]

#: Columns of :func:`decompose`: log-odds, the reference's log-odds, the two contributions (log-odds), the
#: probability, and the covariates' share of the absolute contributions.
COLUMNS = ("logit", "reference_logit", "image", "covariates", "p_osteoporosis", "covariate_share")


def reference(height: int, width: int, n: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 ROIs of mid-gray, scaled covariates of a mean patient of balanced sex), ``n`` of each."""
    return (torch.full((n, height, width), 128, dtype=torch.uint8),
            torch.tensor([[0.0, 0.0, 0.5, 0.5]], dtype=torch.float32).repeat(n, 1))


def _log_odds(net, rois: torch.Tensor, covariates: torch.Tensor | None) -> np.ndarray:
    device = next(net.parameters()).device
    x = to_input(rois, net.spec).to(device)
    with torch.no_grad():
        logits = net(x, covariates.to(device) if covariates is not None else None).float()
    return (logits[:, 1] - logits[:, 0]).cpu().numpy().astype(np.float64)


def decompose(net, rois: torch.Tensor, covariates: torch.Tensor | None = None) -> pd.DataFrame:
    """:data:`COLUMNS` for each of ``rois`` (uint8, batch x height x width) with its ``covariates`` (the
    network's scaled vector; None for the image arm)."""
    n, h, w = rois.shape
    ref_img, ref_cov = reference(h, w, n)
    was = net.training
    net.eval()
    try:
        if net.arm == "ensemble":
            f_xc, f_rc = _log_odds(net, rois, covariates), _log_odds(net, ref_img, covariates)
            f_xr, f_rr = _log_odds(net, rois, ref_cov), _log_odds(net, ref_img, ref_cov)
            image = 0.5 * (f_xc - f_rc + f_xr - f_rr)
            cov = 0.5 * (f_xc - f_xr + f_rc - f_rr)
        else:
            f_xc, f_rr = _log_odds(net, rois, None), _log_odds(net, ref_img, None)
            image, cov = f_xc - f_rr, np.zeros(n)
    finally:
        net.train(was)
    total = np.abs(image) + np.abs(cov)
    share = np.divide(np.abs(cov), total, out=np.full(n, np.nan), where=total > 0)
    return pd.DataFrame({"logit": f_xc, "reference_logit": f_rr, "image": image, "covariates": cov,
                         "p_osteoporosis": 1 / (1 + np.exp(-f_xc)), "covariate_share": share})


def in_words(row, cam_empty: bool, target: str = "osteoporosis") -> str:
    """One patient's decomposition as a sentence; said first when the Grad-CAM is empty."""
    head = (f"Grad-CAM is empty: the last convolutional layer holds no positive evidence for '{target}'. "
            if cam_empty else "")
    return (f"{head}Log-odds {row['logit']:+.2f} against {row['reference_logit']:+.2f} for a blank image and a mean "
            f"patient: the image adds {row['image']:+.2f}, age, sex and BMI {row['covariates']:+.2f} "
            f"({100 * row['covariate_share']:.0f} % of the two).")
