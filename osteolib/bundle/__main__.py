"""``python -m osteolib.bundle``: write a study's trained model as a screening bundle (see
:mod:`osteolib.bundle`); with ``--refit``, first train its configuration on every patient."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import backbones, settings, training
from ..layout import StudyLayout
from ..layout import KEPT_CARD
from . import CARD, __doc__ as BUNDLE_DOC, write


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.bundle", description=BUNDLE_DOC.split("\n\n")[0])
    ap.add_argument("--study", required=True, help="study name (outputs/<study>/) or its folder")
    ap.add_argument("--backbone", required=True, choices=backbones.names())
    ap.add_argument("--arm", required=True, choices=list(settings.ARMS))
    ap.add_argument("--out", required=True, help="bundle folder to write (replaced whole if it exists)")
    ap.add_argument("--refit", action="store_true", help="train on every patient instead of keeping fold 0's model")
    ap.add_argument("--device", default="cpu", help="device for --refit (cpu, cuda, ...)")
    args = ap.parse_args(argv)
    given = Path(args.study)
    layout = StudyLayout(given) if given.is_dir() else StudyLayout.named(args.study)
    refit = None
    if args.refit:
        card = json.loads((layout.kept_model(args.backbone, args.arm) / KEPT_CARD).read_text())
        refit = training.refit(layout, card, args.device)
    out = write(layout, args.backbone, args.arm, args.out, refit)
    card = json.loads((out / CARD).read_text())
    auc = card["study"]["cv_metrics"]["auc"]
    print(f"{out}: {card['network']['backbone']} / {card['network']['arm']}, {card['source']['model']}; "
          f"cross-validated AUC {auc['mean']:.3f} over {card['study']['cv_metrics']['n_repeats']} repeat(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
