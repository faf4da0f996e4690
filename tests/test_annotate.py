"""Landmarking in JupyterLab (osteolib.annotate, notebook 00): clicks, keys, save after every patient, resume."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from osteolib import annotate, roi
from osteolib.settings import RoiGeometry


@pytest.fixture
def unlabelled(data_copy):
    """The tiny cohort without its landmarks.csv (a folder to landmark), and the landmarks it had."""
    had = pd.read_csv(data_copy / "landmarks.csv", dtype={"patient_id": str})
    (data_copy / "landmarks.csv").unlink()
    return data_copy, had


def _event(session, x, y, shown=None):
    """What ipyevents sends for a click at image pixel (x, y) on an image shown ``shown`` px wide."""
    shown = shown or session.width
    f = session._scale * shown / session.width
    return {"type": "click", "relativeX": x * f, "relativeY": y * f, "boundingRectWidth": shown}


def test_clicks_and_keys_save_after_every_patient_and_resume(unlabelled):
    data, had = unlabelled
    s = annotate.Landmarking(data, geometry=RoiGeometry(40, 64))
    first, second = s.queue[:2]
    assert s.n_total == 120 and s.n_done == 0 and s.side == "left"
    s.on_event(_event(s, 300.5, 200.25, shown=500))        # left (the widget shown at another width)
    assert not s.accept() and not (data / "landmarks.csv").exists()   # the right one is missing
    s.on_event(_event(s, 100.0, 205.0))                    # right
    s.on_event({"type": "keydown", "key": "u"})             # undo the right click ...
    assert "right" not in s.points and s.side == "right"
    s.on_event({"type": "click", "dataX": 110.0 * s._scale, "dataY": 204.0 * s._scale})   # ... again, as ipyevents
    # sends it for an Image widget: pixels of the displayed picture
    png = Image.open(io.BytesIO(s.picture()))
    assert png.size[0] == s.width
    s.on_event({"type": "keydown", "key": "Enter"})
    saved = pd.read_csv(data / "landmarks.csv", dtype={"patient_id": str})
    assert saved[["patient_id", "side"]].values.tolist() == [[first, "left"], [first, "right"]]
    assert np.allclose(saved[["x", "y"]], [[300.5, 200.2], [110.0, 204.0]], atol=0.06)
    assert s.current == second and s.points == {}
    # the saved file is in the input layout: the study reads it
    assert len(roi.read_all_landmarks(data)) == 2
    # a second patient, then the session is "closed": a new one resumes after both
    s.click(301, 199), s.click(99, 201), s.key("a")
    resumed = annotate.Landmarking(data)
    assert resumed.n_done == 2 and resumed.current == s.current and first not in resumed.queue
    log = pd.read_csv(data / "landmarking.csv", dtype={"patient_id": str})
    assert set(log["source"]) == {"clicked"} and len(log) == 4
    assert not list(data.glob("*.tmp*")) and not list(data.glob(".*"))    # written atomically, nothing left


def test_proposals_reviewed_flagged_first_accepted_as_they_are(unlabelled):
    data, had = unlabelled
    wide = had.pivot(index="patient_id", columns="side", values=["x", "y"])
    proposals = pd.DataFrame({"patient_id": wide.index, "left_x": wide[("x", "left")].values,
                              "left_y": wide[("y", "left")].values, "right_x": wide[("x", "right")].values,
                              "right_y": wide[("y", "right")].values, "ok": True, "confidence": 0.9})
    proposals.loc[[7, 3], ["ok", "confidence"]] = [[False, 0.2], [False, 0.1]]
    proposals = proposals.drop(index=[11])                       # one patient without a proposal
    s = annotate.Landmarking(data, proposals)
    flagged = [proposals.loc[3, "patient_id"], proposals.loc[7, "patient_id"]]
    no_proposal = str(wide.index[11])
    assert s.queue[:3] == [no_proposal, *flagged]             # least sure first
    assert "no proposal" in s.status() and not s.accept()      # nothing to accept yet
    s.skip()
    assert s.queue[-1] == no_proposal and "FLAGGED" in s.status()
    s.click(50, 60, side="right")                              # correct one side, keep the proposed other
    assert s.accept()
    s.key("enter")                                             # the next: proposal accepted as it is
    log = pd.read_csv(data / "landmarking.csv", dtype={"patient_id": str}).set_index(["patient_id", "side"])
    assert log.loc[(flagged[0], "right"), "source"] == "clicked" and log.loc[(flagged[0], "left"), "source"] == "proposal"
    assert (log.loc[flagged[1], "source"] == "proposal").all()
    saved = pd.read_csv(data / "landmarks.csv", dtype={"patient_id": str}).set_index(["patient_id", "side"])
    truth = had.set_index(["patient_id", "side"])
    assert np.allclose(saved.loc[flagged[1], ["x", "y"]], truth.loc[flagged[1], ["x", "y"]], atol=0.06)
    assert tuple(saved.loc[(flagged[0], "right"), ["x", "y"]]) == (50.0, 60.0)


def test_the_widget_is_built_from_ipywidgets_and_ipyevents(unlabelled):
    import ipywidgets
    data, _ = unlabelled
    s = annotate.Landmarking(data, patient_ids=["P0001", "P0002"])
    box = s.widget()
    assert isinstance(box, ipywidgets.VBox) and s._events.watched_events == ["click", "keydown"]
    s.on_event(_event(s, 10, 10)), s.on_event(_event(s, 20, 20)), s.on_event({"type": "keydown", "key": "Enter"})
    assert s._label.value.startswith("P0002 · 2 of 2")
    s.click(1, 1), s.click(2, 2), s.accept()
    assert s.current is None and s.picture() == b"" and "all 2 patients landmarked" in s.status()


def test_bad_proposals_are_named(unlabelled, tmp_path):
    bad = tmp_path / "proposals.csv"
    pd.DataFrame({"patient_id": ["P0001"], "left_x": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"proposals.csv: no column\(s\) \['left_y', 'right_x', 'right_y'\]"):
        annotate.Landmarking(unlabelled[0], bad)
