"""A saved network: its weights in safetensors beside a JSON card that carries their SHA-256.

One format for every network the project saves: the model notebook 03 keeps
(``model_f0.safetensors`` + ``model_f0.json``), the ROI detector (``detector.safetensors`` +
``detector.json``) and a screening bundle (``model.safetensors`` + ``card.json``). The card says
what the weights are (``format``), everything needed to use them, and ``weights``: the file name
and its SHA-256, which :func:`read` checks before it reads a byte of them. safetensors holds
plain tensors, so loading never unpickles anything.

Examples
--------
>>> import tempfile, torch
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> _ = write(d, {"w": torch.ones(2)}, {"note": "x"}, "example/1", "w.safetensors", "w.json")
>>> state, card = read(d, "example/1", "w.safetensors", "w.json")
>>> state["w"].tolist(), card["note"], len(card["weights"]["sha256"])
([1.0, 1.0], 'x', 64)
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import atomic, repro

__all__ = ["write", "read_card", "read"]


def write(folder: str | Path, state: dict[str, torch.Tensor], card: dict, fmt: str,
          weights: str = "model.safetensors", card_file: str = "card.json") -> Path:
    """Write ``state`` and its card into ``folder`` (each file atomically); returns the card's path.

    The tensors are saved on the CPU in the standard (contiguous) layout, whatever layout training
    used (channels_last): safetensors stores packed tensors.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    packed = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    with atomic.atomic_path(folder / weights) as tmp:
        save_file(packed, str(tmp), metadata={"format": fmt})
    digest = repro.sha256(folder / weights)
    return atomic.write_json({"format": fmt, **card, "weights": {"file": weights, "sha256": digest}},
                             folder / card_file)


def read_card(folder: str | Path, fmt: str | tuple[str, ...], card_file: str = "card.json") -> dict:
    """The card alone (no weights read); ValueError when it is not of format ``fmt`` (or of one of
    several formats)."""
    file = Path(folder) / card_file
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found")
    card = json.loads(file.read_text())
    formats = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    if card.get("format") not in formats:
        raise ValueError(f"{file}: format {card.get('format')!r}, expected {' or '.join(map(repr, formats))}")
    return card


def read(folder: str | Path, fmt: str | tuple[str, ...], weights: str = "model.safetensors",
         card_file: str = "card.json") -> tuple[dict[str, torch.Tensor], dict]:
    """The weights (on the CPU) and the card; the weights file must match the SHA-256 in the card."""
    folder = Path(folder)
    card = read_card(folder, fmt, card_file)
    file = folder / card["weights"]["file"]
    if card["weights"]["file"] != weights or not file.is_file():
        raise FileNotFoundError(f"{folder / weights} not found beside {card_file}")
    digest = repro.sha256(file)
    if digest != card["weights"]["sha256"]:
        raise ValueError(f"{file}: SHA-256 {digest[:12]}... does not match its card "
                         f"({card['weights']['sha256'][:12]}...): the weights were changed; refusing to load them")
    return load_file(str(file), device="cpu"), card
