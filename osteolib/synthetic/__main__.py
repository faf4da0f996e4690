"""``python -m osteolib.synthetic --out DIR [--n-screened 902] [--scale 1.0] [--seed 0] [--no-images]``"""
from __future__ import annotations

import argparse
import sys
import time

from . import generate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m osteolib.synthetic", description=__doc__)
    p.add_argument("--out", required=True, help="folder to create (must not exist, or be empty)")
    p.add_argument("--n-screened", type=int, default=902, help="screened patients (902: the paper)")
    p.add_argument("--scale", type=float, default=1.0, help="image scale (1.0: 2964 x 1464 px)")
    p.add_argument("--seed", type=int, default=0, help="master seed")
    p.add_argument("--no-images", action="store_true", help="write the tables only")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    out = generate(a.out, a.n_screened, a.scale, a.seed, images=not a.no_images, jobs=a.jobs)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
