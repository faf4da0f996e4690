"""A clinician's reading session (osteolib.annotate.Reading, notebook 08) on a reader study's design (notebook 07):
the design's order, the aided view from the kept model, typed scores saved after every case and resumed, the
washout between sessions, and the clinicians' readings analysed instead of simulated ones."""
from __future__ import annotations

import io

import pandas as pd
import pytest
import torch
from PIL import Image

from conftest import copy_study
from osteolib import annotate, cohort, readers, training
from osteolib.layout import StudyLayout
from osteolib.settings import TrainingSettings


@pytest.fixture(scope="module")
def designed(tiny_study, tiny_data, tmp_path_factory):
    """The tiny study with resnet18's ensemble arm trained (1 epoch, repeat 0) and a reader study designed for two
    clinicians on 10 cases, a 7-day washout."""
    study = copy_study(tiny_study, tmp_path_factory.mktemp("reading") / "study")
    layout = StudyLayout(study)
    s = TrainingSettings(backbone="resnet18", lr=0.01, batch_size=16, max_epochs=1, patience=1, hidden=16, fusion="concat+skip")
    training.run(training.TrainingData(layout, torch.device("cpu")), s, ["ensemble"], [0])
    out = readers.study.run(layout, tiny_data, cohort.read_cohort(layout), "resnet18", "ensemble", n_cases=10,
                            washout_days=7, reader_ids=["dr_a", "dr_b"])
    assert out["ratings"].empty and out["source"] == ""        # clinicians named: nothing simulated for them
    return layout


def test_a_reading_saves_every_case_resumes_and_keeps_the_washout(designed, data_copy):
    layout = designed
    r = annotate.Reading(data_copy, layout, "dr_b", today="2026-12-01")
    assert r.session == 1 and r.modality == "aided" and r.n_total == 10     # dr_b reads aided first (counterbalanced)
    order = list(layout and pd.read_csv(layout.readers_table("design"), dtype={"patient_id": str})
                 .query("reader_id == 'dr_b' and session == 1").sort_values("position")["patient_id"])
    assert r.current == order[0]
    assert "model: P(osteoporosis)" in r.status() and "the image adds" in r.status() and "age " in r.status()
    w, h = Image.open(layout.roi_png(r.current)).size
    shown = round(h * r.width / w)                                           # the ROI's height as displayed
    assert Image.open(io.BytesIO(r.picture())).size[1] > 2 * shown          # the ROI and its Grad-CAM below it
    for key in "150":
        r.on_event({"type": "keydown", "key": key})
    assert r.score() is None and not r.accept()                              # 150 is not on the 0-100 scale
    for _ in range(3):
        r.on_event({"type": "keydown", "key": "Backspace"})
    r.key("7"), r.key("3")
    r.on_event({"type": "keydown", "key": "Enter"})
    saved = pd.read_csv(data_copy / "readings" / "dr_b.csv", dtype={"patient_id": str})
    assert saved[["patient_id", "score", "session", "modality"]].values.tolist() == [[order[0], 73, 1, "aided"]]
    assert saved["shown"].iloc[0] == "roi+age,sex,bmi+model probability,grad-cam,contributions" and saved["seconds"].iloc[0] >= 0
    # closed and opened again: the next case of the same session
    r = annotate.Reading(data_copy, layout, "dr_b", today="2026-12-01")
    assert r.current == order[1] and r.n_done == 1
    for i in range(9):
        r.key(str(i * 10 // 10)), r.key("enter")
    assert r.current is None and "session 2 opens on" in r.status()
    opens = r.opens
    r = annotate.Reading(data_copy, layout, "dr_b", today=str(opens.date() - pd.Timedelta(days=1)))
    assert r.session == 0 and r.current is None
    r = annotate.Reading(data_copy, layout, "dr_b", today=str(opens.date()))
    assert r.session == 2 and r.modality == "unaided" and "model" not in r.status()
    assert Image.open(io.BytesIO(r.picture())).size[1] == shown                # unaided: the ROI alone
    with pytest.raises(ValueError, match="not in"):
        annotate.Reading(data_copy, layout, "dr_z")


def test_the_clinicians_readings_are_analysed(designed, data_copy):
    """Both clinicians read both sessions (scores made up here); notebook 07 then analyses their ratings."""
    layout = designed
    design = pd.read_csv(layout.readers_table("design"), dtype={"patient_id": str})
    (data_copy / "readings").mkdir()
    for reader, g in design.groupby("reader_id"):
        g = g.assign(score=(g["truth"] * 60 + g["position"] * (3 + len(reader)) + (g["modality"] == "aided") * g["truth"]
                            * (10 if reader == "dr_a" else 25)) % 101, seconds=10.0)
        g[["reader_id", "modality", "patient_id", "truth", "score", "session", "seconds"]].to_csv(
            data_copy / "readings" / f"{reader}.csv", index=False)
    out = readers.study.run(layout, data_copy, cohort.read_cohort(layout), "resnet18", "ensemble", n_cases=10,
                            washout_days=7, reader_ids=["dr_a", "dr_b"])
    assert out["source"].startswith("clinicians") and set(out["reader_auc"]["reader_id"]) == {"dr_a", "dr_b", "model"}
    assert "aided - unaided" in set(out["mrmc"]["comparison"]) and not out["mrmc"]["readings"].str.contains("SIMULATED").any()
