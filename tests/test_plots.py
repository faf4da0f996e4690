"""Figures are reproducible to the byte (a rerun of notebook 04 gives the same files)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from osteolib import plots


def _per_repeat(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [{"backbone": b, "arm": a, "repeat": r, **{m: rng.uniform(0.5, 0.9) for m in
                                                      ("accuracy", "auc", "precision", "recall", "specificity", "f1")}}
            for b in ("resnet18", "efficientnet-b0") for a in ("image", "ensemble") for r in range(4)]
    return pd.DataFrame(rows)


def test_the_same_figure_twice_gives_the_same_bytes(tmp_path):
    """seaborn's strip-plot jitter draws from numpy's global generator (seeded for the call, then
    restored), and SVGs carry neither a date nor random element ids."""
    for i in range(2):
        np.random.seed(i)  # whatever the caller's global state, the figure is the same
        before = np.random.get_state()[1].copy()
        plots.metric_distributions(_per_repeat(), out=tmp_path / f"m{i}.png")
        assert (np.random.get_state()[1] == before).all(), "the caller's global state is restored"
    for suffix in (".png", ".svg"):
        assert (tmp_path / f"m0{suffix}").read_bytes() == (tmp_path / f"m1{suffix}").read_bytes(), suffix


def test_a_transformers_panels_say_the_guided_map_is_not_defined(tmp_path):
    """NaN guided maps (a transformer's: osteolib.cam.method) give a blank panel that says so, not a crash
    or an image of garbage; a CNN's panel is unchanged."""
    import matplotlib.pyplot as plt
    roi = np.full((32, 64), 128, np.uint8)
    cam = np.linspace(0, 1, 32 * 64, dtype=np.float32).reshape(32, 64)
    fig = plots.cam_panel(roi, cam, np.full((32, 64), np.nan, np.float32), "deit", out=tmp_path / "t.png")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("not defined" in t for t in texts) and (tmp_path / "t.png").is_file()
    plt.close(fig)
    fig = plots.cam_panel(roi, cam, cam * 0.01, "resnet")
    assert not any(t.get_text() for ax in fig.axes for t in ax.texts)
    plt.close(fig)
    rows = [{"label": "deit", "roi": roi, "arms": {"image": (cam, np.full((32, 64), np.nan), 0.4)}}]
    fig = plots.cam_summary(rows)
    assert any("not defined" in t.get_text() for ax in fig.axes for t in ax.texts)
    plt.close(fig)
