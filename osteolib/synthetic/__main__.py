"""``python -m osteolib.synthetic --out DIR [--n-screened 902] [--scale 1.0] [--seed 0] [--no-images] [--sites ...]``

``--sites study:902,dxa_clinic:240,dental_clinic,other_unit`` draws several hospitals into one folder
(``clinical.csv`` and ``truth.csv`` gain a ``site`` column): see :mod:`osteolib.synthetic.hospitals`.

``--export messy`` writes the same cohort as a hospital would export it instead (a spreadsheet with
its own column names and codes, DICOM files from four units with identifiers in their headers, one
lossy JPEG 2000, one in 16 stored bits with burned-in text, faults planted; ``--plain``: every unit
uncompressed), to try ``python -m osteolib.ingest`` on: see :mod:`osteolib.synthetic.export`.
"""
from __future__ import annotations

import argparse
import sys
import time

from . import generate
from .export import export_messy
from .radiograph import DEVICES


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m osteolib.synthetic", description=__doc__.split("\n\n")[0],
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder to create (must not exist, or be empty)")
    p.add_argument("--n-screened", type=int, default=902, help="screened patients (902: the paper)")
    p.add_argument("--scale", type=float, default=1.0, help="image scale (1.0: 2964 x 1464 px; not with --export, "
                                                            "whose units have their own)")
    p.add_argument("--seed", type=int, default=0, help="master seed")
    p.add_argument("--no-images", action="store_true", help="write the tables only")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--devices", default="P1", help="panoramic units, comma-separated (P1 ... P5, or 'all'); "
                                                   "P1, the study's one unit, by default")
    p.add_argument("--sites", default="", help="several hospitals instead, e.g. study:902,dxa_clinic:240,dental_clinic,"
                                               "other_unit (presets of osteolib.synthetic.hospitals, optionally with "
                                               "their screened patients; --n-screened and --devices are then each site's)")
    p.add_argument("--export", choices=["messy"], help="write the cohort as a hospital export, faults planted")
    p.add_argument("--plain", action="store_true", help="with --export: every unit uncompressed in 12 stored bits, "
                                                        "no burned-in text (to compare with)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    if a.export:
        out = export_messy(a.out, a.n_screened, a.seed, plain=a.plain)
        print(f"wrote {out} in {time.perf_counter() - t0:.1f} s: ingest it with\n"
              f"  python -m osteolib.ingest {out}/mapping.yaml --out data/messy", file=sys.stderr)
        return 0
    devices = sorted(DEVICES) if a.devices == "all" else [d.strip() for d in a.devices.split(",") if d.strip()]
    out = generate(a.out, a.n_screened, a.scale, a.seed, images=not a.no_images, jobs=a.jobs, devices=devices,
                   sites=a.sites or None)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
