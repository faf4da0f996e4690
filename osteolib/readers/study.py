"""Notebook 07: a reader study of the study's model, designed, read (by clinicians, or SIMULATED), analysed.

* :func:`prepare`: the case set (:func:`osteolib.readers.design.case_set`: from the test part of repeat 0, fold 0,
  whose model, the kept one, is shown to aided readers) and the plan (:func:`osteolib.readers.design.plan`);
* :func:`readings`: the clinicians' ratings from the data folder (``readings/<reader>.csv``, notebook 00's
  reading widget, :class:`osteolib.annotate.Reading`), combined; or, for a synthetic cohort without any, the
  simulated readers' (:mod:`osteolib.readers.simulate`), labelled ``simulated`` in the table and its name;
* :func:`run`: both, the analysis (:func:`osteolib.readers.analysis.analyse`: each reader's AUC, RRRC/FRRC/RRFC,
  the model against the readers) and the figure, written to ``readers/`` whole.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .. import atomic, plots, steps, synthetic
from ..datafolder import DataFolder
from ..layout import StudyLayout
from ..runs import read_predictions
from .analysis import STANDALONE, analyse
from .design import case_set, plan
from .ratings import combine
from .simulate import draw, simulate

__all__ = ["prepare", "readings", "run"]


def prepare(layout: StudyLayout, cohort: pd.DataFrame, backbone: str, arm: str, n_cases: int, n_readers: int,
            seed: int = 0, washout_days: int = 28, reader_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cases, plan): ``n_cases`` of fold 0's test patients of repeat 0 of ``backbone``/``arm`` with that
    model's probability, and every reader's sessions (``reader_ids``, default ``S1``..``Sn``)."""
    file = steps.require(layout.predictions(backbone, arm, 0), "predictions", f"repeat 0 of {backbone}/{arm}")
    pred = read_predictions(file, cohort, 0)
    cases = case_set(pred[pred["fold"] == 0], n_cases, seed)
    ids = list(reader_ids) if reader_ids is not None else [f"S{k + 1}" for k in range(n_readers)]
    return cases, plan(cases, ids, seed, washout_days)


def readings(data_dir: str | Path, cases: pd.DataFrame, schedule: pd.DataFrame, cohort: pd.DataFrame,
             scale: str, show_covariates: bool, seed: int = 0, simulated: bool = True) -> tuple[pd.DataFrame, str]:
    """(ratings, source): the clinicians' (``readings/*.csv`` of the data folder) restricted to the case set,
    or, with ``simulated`` (no clinicians named), the simulated readers' on a synthetic cohort; with neither, an
    empty table."""
    folder = DataFolder(data_dir)
    files = sorted(folder.readings_dir.glob("*.csv")) if folder.readings_dir.is_dir() else []
    if files:
        t = combine(files)
        return t[t["patient_id"].isin(set(cases["patient_id"]))], f"clinicians ({len(files)} files)"
    if not simulated or not synthetic.is_synthetic(data_dir):
        return pd.DataFrame(columns=["reader_id", "modality", "patient_id", "truth", "score"]), ""
    truth = synthetic.read_truth(data_dir)[["patient_id", "jaw_status"]]
    known = cases.merge(truth, on="patient_id").merge(cohort[["patient_id", "age", "weight_kg"]], on="patient_id")
    readers = draw(schedule["reader_id"].nunique(), seed)
    renamed = schedule.replace({"reader_id": dict(zip(schedule["reader_id"].unique(), [r.reader_id for r in readers]))})
    return simulate(renamed, known, readers, scale, show_covariates, seed), "SIMULATED readers (osteolib.readers.simulate)"


def run(layout: StudyLayout, data_dir, cohort: pd.DataFrame, backbone: str, arm: str, n_cases: int = 100,
        n_readers: int = 5, scale: str = "0-100", show_covariates: bool = True, washout_days: int = 28,
        covariance: str = "jackknife", seed: int = 0, reader_ids=None) -> dict:
    """Notebook 07 (module docstring); ``reader_ids``: the clinicians who will read (default ``S1``..``Sn``).
    Writes ``readers/design.csv`` (the plan, with each case's truth and the design's parameters), and with
    readings ``readers/ratings.csv``, ``readers/reader_auc.csv``, ``readers/mrmc.csv`` and the figure
    ``figures/readers_roc.png``. Returns the tables, the source of the readings and the written files."""
    cases, schedule = prepare(layout, cohort, backbone, arm, n_cases, n_readers, seed, washout_days, reader_ids)
    ratings, source = readings(data_dir, cases, schedule, cohort, scale, show_covariates, seed, reader_ids is None)
    design = schedule.merge(cases, on="patient_id").assign(scale=scale, show_covariates=show_covariates,
                                                           aid_model=f"{backbone}/{arm}")
    files = [atomic.write_csv(design, layout.readers_table("design"), float_format="%.6g")]
    out = {"cases": cases, "plan": schedule, "ratings": ratings, "source": source, "files": files}
    if ratings.empty:
        return out
    model = pd.concat([cases.assign(reader_id=STANDALONE, modality=m, score=cases["p_model"]) for m in ratings["modality"].unique()])
    result = analyse(pd.concat([ratings, model[["reader_id", "modality", "patient_id", "truth", "score"]]], ignore_index=True),
                     covariance)
    result["mrmc"] = result["mrmc"].assign(readings=source)
    files += [atomic.write_csv(ratings, layout.readers_table("ratings"), float_format="%.6g"),
              atomic.write_csv(result["reader_auc"], layout.readers_table("reader_auc"), float_format="%.6g"),
              atomic.write_csv(result["mrmc"], layout.readers_table("mrmc"), float_format="%.6g")]
    fig = plots.readers_roc(ratings, cases, result["reader_auc"], f"{backbone}, {arm} arm", source, layout.figure("readers_roc"))
    plt.close(fig)
    files.append(layout.figure("readers_roc"))
    return {**out, **result, "figure": fig}
