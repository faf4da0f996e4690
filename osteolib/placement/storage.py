"""A trained detector on disk: ``detector.safetensors`` + ``detector.json``, the project's one
format for saved networks (:mod:`osteolib.cards`): hash checked on load, never unpickled."""
from __future__ import annotations

from pathlib import Path

from .. import atomic, cards, repro
from .marker import CROP, REGION
from .network import INPUT, STRIDE, Detector, names

__all__ = ["FORMAT", "WEIGHTS", "CARD", "save", "load"]

FORMAT = "osteolib-roi-detector/3"   # 3: the side-marker reader replaced the mirrored head
WEIGHTS, CARD = "detector.safetensors", "detector.json"


def save(net: Detector, folder: str | Path, facts: dict) -> Path:
    """Write the detector to ``folder`` (whole, or not at all): the weights and a card with the
    architecture, the keypoints, ``facts`` (what it was trained on, how) and the versions."""
    card = {"input": list(INPUT), "stride": STRIDE, "keypoints": list(names(net.fuse[-1].out_channels)),
            "width": net.stem[0][0].out_channels, "reads_markers": bool(net.reads_markers),
            "marker_reader": {"corner_region": list(REGION), "crop": list(CROP)}, **facts, "versions": repro.versions()}
    with atomic.atomic_dir(Path(folder)) as tmp:
        cards.write(tmp, net.state_dict(), card, FORMAT, WEIGHTS, CARD)
    return Path(folder)


def load(folder: str | Path) -> tuple[Detector, dict]:
    """A saved detector and its card (hash checked, no unpickling)."""
    state, card = cards.read(folder, FORMAT, WEIGHTS, CARD)
    net = Detector(len(card["keypoints"]), card["width"])
    net.load_state_dict(state)
    net.reads_markers = bool(card["reads_markers"])
    return net.eval(), card
