"""One repeat of the paper profile for one backbone, both arms, outside the notebooks.

Used where papermill is not installed (e.g. a bare GPU machine): synthetic cohort at full size
(2964 x 1464 px), cohort and splits as notebook 01, 250 x 400 px ROIs as notebook 02, then
repeat 0 of 03 with the paper's training settings (100 epochs, patience 20, SGD, batch 32).

    python benchmarks/paper_repeat.py --work /tmp/paper --backbone resnet18 [--no-pretrained]

``--prepare-only`` stops after the ROIs: the study folder (cohort, splits, ROIs, about 40 MB) can then
travel to a GPU machine without the 2 GB of radiographs, and a run there finds it prepared and
trains at once (generating 902 full-size radiographs takes minutes of CPU).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from osteolib import cohort, repro, roi, splits, synthetic, training
from osteolib.config import TrainParams, load_profile
from osteolib.layout import StudyLayout
from osteolib.settings import RoiGeometry, TrainingSettings


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--backbone", default="resnet18")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--report", default=None, help="write the JSON report here (default: stdout)")
    p.add_argument("--no-pretrained", action="store_true", help="untrained weights (no ImageNet file here)")
    p.add_argument("--folds-at-once", type=int, default=None, help="default: the paper profile's")
    p.add_argument("--prepare-only", action="store_true", help="stop after cohort, splits and ROIs")
    a = p.parse_args()
    work = Path(a.work)
    prof = load_profile("paper")
    t0 = time.perf_counter()
    data, study = work / "data", StudyLayout(work / "study")
    t_data = t_prep = 0.0
    if study.rois_csv.exists() and study.splits_csv.exists():
        print(f"{study.root}: cohort, splits and ROIs already prepared, training at once", flush=True)
    else:
        if not data.exists():
            synthetic.generate(data, prof["n_screened"], a.scale, prof["seed"])
        t_data = time.perf_counter() - t0
        patients = cohort.build(data, study)["cohort"]
        splits.save(splits.make(patients, prof["n_repeats"], prof["n_folds"], prof["seed"]), study)
        geometry = RoiGeometry(prof["roi_height"], prof["roi_width"])
        roi.crop_study(data, patients, geometry.scaled(a.scale) if a.scale != 1 else geometry, study)
        t_prep = time.perf_counter() - t0 - t_data
    if a.prepare_only:
        print(json.dumps({"generate_s": t_data, "cohort_splits_rois_s": t_prep}))
        return 0
    params = TrainParams.from_namespace({**prof, "backbone": a.backbone, "repeats": "0",
                                         "pretrained": not a.no_pretrained and prof["pretrained"],
                                         **({"max_epochs": a.max_epochs} if a.max_epochs else {})})
    s = TrainingSettings.from_params(params)
    t1 = time.perf_counter()
    data_t = training.TrainingData(study, repro.resolve_device("auto"))
    folds_at_once = a.folds_at_once or params.folds_at_once
    summary = training.run(data_t, s, params.arm_list, [0], folds_at_once=folds_at_once)
    t_train = time.perf_counter() - t1
    report = {"settings": s.__dict__, "folds_at_once": folds_at_once,
              "seconds": {"generate": t_data, "cohort_splits_rois": t_prep, "train": t_train},
              "summary": summary.to_dict("records")}
    for arm in params.arm_list:
        m = json.loads(study.run_metrics(a.backbone, arm, 0).read_text())
        report[arm] = {"folds": m["folds"], "device": m["device"]}
    text = json.dumps(report, indent=1, default=str)
    Path(a.report).write_text(text) if a.report else print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
