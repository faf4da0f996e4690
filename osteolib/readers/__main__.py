"""``python -m osteolib.readers analyse RATINGS.csv [MORE.csv ...] --out DIR``: a reader study's MRMC analysis."""
from __future__ import annotations

import argparse
import sys

from .analysis import analyse, write
from .ratings import combine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.readers", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyse", help="each reader's AUC and the Obuchowski-Rockette-Hillis analysis (RRRC, FRRC, RRFC)")
    a.add_argument("ratings", nargs="+", help="ratings CSV(s): reader_id, modality, patient_id, truth, score")
    a.add_argument("--out", required=True, help="folder for reader_auc.csv and mrmc.csv")
    a.add_argument("--covariance", choices=("jackknife", "delong"), default="jackknife",
                   help="how the AUCs' covariance over cases is estimated (default: jackknife, as OR-DBM MRMC)")
    args = ap.parse_args(argv)
    table = combine(args.ratings)
    result = analyse(table, args.covariance, file=", ".join(args.ratings))
    for f in write(result, args.out):
        print(f)
    print(result["mrmc"][["analysis", "comparison", "difference", "ci_low", "ci_high", "statistic", "df2", "p_value"]]
          .round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
