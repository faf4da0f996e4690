"""The embedded synthetic cohort (docs/protocol.md, "The synthetic cohort")."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tifffile

from osteolib import cohort
from osteolib.synthetic import generate, image_size
from osteolib.synthetic.clinical import Counts
from osteolib.synthetic.radiograph import ACQUISITION, DEVICES, MAG, _side_marker


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_jobs_do_not_matter(tmp_path):
    a = generate(tmp_path / "a", n_screened=30, scale=0.06, seed=7, jobs=1, progress=False)
    b = generate(tmp_path / "b", n_screened=30, scale=0.06, seed=7, jobs=2, progress=False)
    c = generate(tmp_path / "c", n_screened=30, scale=0.06, seed=8, jobs=1, progress=False)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert len([k for k in _digest(a) if k.startswith("images/")]) == 30


def test_default_cohort_reproduces_the_paper(paper_tables):
    clinical = cohort.read_clinical(paper_tables, check_images=False)
    included, flow = cohort.apply_exclusions(clinical)
    assert len(clinical) == 902
    assert flow.set_index("step")["n_excluded"].to_dict() == {
        "screened": 0, "dxa_interval": 0, "antiresorptive": 119, "foreign_body": 3,
        "mandibular_fracture": 1, "poor_quality": 1}
    assert len(included) == 778
    counts = included.groupby(["label", "sex"]).size().to_dict()
    assert counts == {(1, "F"): 223, (1, "M"): 14, (0, "F"): 346, (0, "M"): 195}
    # Sukegawa et al. 2022, Table 3: age 76.9 (7.2) / 68.5 (13.7), BMI 21.2 (3.4) / 22.5 (3.7)
    for label, age, bmi in ((1, (76.9, 7.2), (21.2, 3.4)), (0, (68.5, 13.7), (22.5, 3.7))):
        g = included[included["label"] == label]
        assert abs(g["age"].mean() - age[0]) < 0.5 and abs(g["age"].std() - age[1]) < 1.0
        assert abs(g["bmi"].mean() - bmi[0]) < 0.5 and abs(g["bmi"].std() - bmi[1]) < 1.0


def test_tscores_follow_the_model(paper_tables):
    clinical = cohort.read_clinical(paper_tables, check_images=False)
    truth = pd.read_csv(paper_tables / "truth.csv")
    assert (clinical["tscore"].to_numpy() == truth["tscore"].to_numpy()).all()
    assert (clinical["label"].to_numpy() == truth["label"].to_numpy()).all()
    # some patients have one site only, never none; the lower site is the latent T
    assert clinical["tscore_hip"].isna().sum() > 30 and clinical["tscore_spine"].isna().sum() > 30
    both = clinical.dropna(subset=["tscore_hip", "tscore_spine"])
    assert (both[["tscore_hip", "tscore_spine"]].min(axis=1) == both["tscore"]).all()
    # cortical width rises with the jaw-bone status (the generator's model: 0.45 mm per unit), and
    # the cortical index worsens as it falls
    slope = np.polyfit(truth["jaw_status"], truth["mcw_mm"], 1)[0]
    assert 0.35 < slope < 0.55
    ci_mean = truth.groupby("cortical_index")["jaw_status"].mean()
    assert ci_mean["C1"] > ci_mean["C2"] > ci_mean["C3"]
    bmi_check = clinical["weight_kg"] / (clinical["height_cm"] / 100) ** 2
    assert np.allclose(bmi_check, clinical["bmi"])


def test_jaw_status_shares_only_part_of_its_variance_with_t(paper_tables):
    """Generator v5: the jaw-bone status correlates with T at the documented constant; what it does not
    share with T's systemic part (T without the weight-bearing effect of BMI) is independent of age,
    sex and BMI; the constant is recorded in synthetic.json."""
    import json
    from osteolib.synthetic.clinical import JAW_T_CORR, T_BMI
    clinical = cohort.read_clinical(paper_tables, check_images=False)
    truth = pd.read_csv(paper_tables / "truth.csv")
    jaw, t = truth["jaw_status"].to_numpy(), truth["tscore"].to_numpy()
    assert abs(np.corrcoef(jaw, t)[0, 1] - JAW_T_CORR) < 0.03
    assert json.loads((paper_tables / "synthetic.json").read_text())["jaw_status_corr_with_tscore"] == JAW_T_CORR
    systemic = t - T_BMI * (clinical["bmi"].to_numpy() - 22)
    own = jaw - np.polyval(np.polyfit(systemic, jaw, 1), systemic)
    for covariate in (clinical["age"], clinical["bmi"], clinical["sex"] == "M"):
        assert abs(np.corrcoef(own, covariate.to_numpy(float))[0, 1]) < 0.08
    # the image's cortical width alone tracks T only moderately
    assert 0.6 < np.corrcoef(truth["mcw_mm"], t)[0, 1] < 0.8


def test_landmarks_carry_a_clinicians_error_and_truth_the_exact_centre(paper_tables):
    """A clinician clicks the foramen to within about a millimetre (0.7 mm per axis); truth.csv keeps
    the exact centre the radiograph is drawn with."""
    from osteolib.synthetic.clinical import LANDMARK_SD_MM
    truth = pd.read_csv(paper_tables / "truth.csv").set_index("patient_id")
    lm = pd.read_csv(paper_tables / "landmarks.csv").set_index(["patient_id", "side"])
    for side in ("left", "right"):
        clicked = lm.xs(side, level="side").loc[truth.index]
        dx = (clicked["x"] - truth[f"foramen_{side}_x"]) * 0.1  # mm: 0.1 mm per pixel at scale 1
        dy = (clicked["y"] - truth[f"foramen_{side}_y"]) * 0.1
        for d in (dx, dy):
            assert abs(d.mean()) < 0.08 and abs(d.std() - LANDMARK_SD_MM) < 0.06
        rms = np.sqrt((dx ** 2 + dy ** 2).mean())
        assert 0.85 < rms < 1.15, rms


def test_scaled_counts_keep_every_group():
    counts = Counts.for_size(120)
    assert sum(counts.exclusions.values()) + sum(counts.groups.values()) == 120
    assert min(counts.exclusions.values()) >= 1 and min(counts.groups.values()) >= 2


def test_images_carry_the_cortex(tiny_data):
    truth = pd.read_csv(tiny_data / "truth.csv")
    w, h = image_size(truth["scale"].iloc[0])
    for _, t in truth.head(10).iterrows():
        img = tifffile.imread(tiny_data / "images" / f"{t['patient_id']}.tif")
        assert img.shape == (h, w) and img.dtype == np.uint8
        x = int(t["foramen_left_x"])
        col = img[:, x - 3:x + 4].mean(axis=1)
        border, margin = int(t["border_y"]), int(t["margin_y"])
        cortex = col[int(margin) + 1:border].mean()
        below = col[border + 4:border + 12].mean()
        assert cortex > below + 20, "the cortex must be brighter than the soft tissue below it"
        # the generator's anatomy: the lower border lies border_depth_mm (12-16 mm) below the foramen,
        # magnified 1.25 times on the detector (+- the border's waviness and a pixel)
        depth_mm = (t["border_y"] - t["foramen_left_y"]) * 0.1 / t["scale"] / MAG
        assert abs(depth_mm - t["border_depth_mm"]) < 1.0 and 11.5 <= depth_mm <= 16.5


def test_cortex_mask_marks_the_cortical_band(tiny_data):
    """cortex/<id>.png agrees with truth.csv's border and margin rows at the landmark column,
    and the pixels it marks are brighter than the soft tissue just below them."""
    from PIL import Image
    from osteolib.datafolder import DataFolder
    truth = pd.read_csv(tiny_data / "truth.csv")
    w, h = image_size(truth["scale"].iloc[0])
    for _, t in truth.head(10).iterrows():
        mask = np.asarray(Image.open(DataFolder(tiny_data).cortex_mask(t["patient_id"])))
        assert mask.shape == (h, w) and mask.dtype == bool
        rows = np.flatnonzero(mask[:, int(round(t["foramen_left_x"]))])
        assert rows.size and abs(rows.min() - t["margin_y"]) <= 1
        assert abs(rows.max() + 1 - t["border_y"]) <= 1
        img = tifffile.imread(tiny_data / "images" / f"{t['patient_id']}.tif").astype(float)
        below = np.roll(mask, 6, axis=0) & ~mask      # the same columns, 6 px further down
        assert img[mask].mean() > img[below].mean() + 20


def test_existing_folder_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate(tmp_path / "x", n_screened=30, scale=0.05, images=False, progress=False)
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_command_line(tmp_path):
    out = tmp_path / "cli"
    subprocess.run([sys.executable, "-m", "osteolib.synthetic", "--out", str(out), "--n-screened", "25",
                    "--scale", "0.05", "--seed", "2", "--no-images"], check=True, capture_output=True)
    assert {p.name for p in out.iterdir()} == {"clinical.csv", "landmarks.csv", "truth.csv", "synthetic.json"}
    assert len(pd.read_csv(out / "clinical.csv")) == 25


def test_side_marker_tells_a_radiograph_from_its_mirror(tiny_data):
    """The study's unit burns in an "L" at the bottom right (the patient's left on the image's right)."""
    truth = pd.read_csv(tiny_data / "truth.csv")
    for pid in truth["patient_id"].head(5):
        img = tifffile.imread(tiny_data / "images" / f"{pid}.tif")
        h, w = img.shape
        corners = {"bottom-right": img[-(h // 5):, -(w // 8):], "bottom-left": img[-(h // 5):, : w // 8],
                   "top-left": img[: h // 5, : w // 8], "top-right": img[: h // 5, -(w // 8):]}
        assert (corners.pop("bottom-right") == 235).sum() >= 10
        assert all((c == 235).sum() < 3 for c in corners.values())


@pytest.fixture(scope="module")
def devices_data(tmp_path_factory):
    """40 patients on all five units at 0.25 x scale."""
    return generate(tmp_path_factory.mktemp("devices") / "data", n_screened=40, scale=0.25, seed=11,
                    jobs=2, progress=False, devices=sorted(DEVICES))


def test_panoramic_proportions(devices_data):
    """On the study's unit, the proportions measured on real panoramic radiographs (about 2943 x 1435 px):
    the left foramen at about 0.64 of the width, the lower border below it at 0.91 of the height
    (quartiles 0.89-0.93), the foramen 150-200 px above it (full-size pixels); the cortex is the
    patient's cortical width magnified 1.25 times; and no root reaches the ROI, whose top edge is the
    foramen's centre: every lower root in the ROI's columns ends above it."""
    truth = pd.read_csv(devices_data / "truth.csv")
    p1 = truth[truth["device"] == "P1"]
    assert len(p1) >= 5
    w, h = image_size(0.25)
    assert set(zip(p1["width"], p1["height"])) == {(w, h)}
    x = p1["foramen_left_x"] / w
    assert 0.62 < x.median() < 0.66
    for t in (truth, p1):   # all units keep the anatomy; on P1 also the proportions of its canvas
        above = (t["border_y"] - t["foramen_left_y"]) / 0.25          # full-size pixels (0.1 mm)
        assert 150 <= above.median() <= 200 and above.between(140, 215).all(), above.describe()
        cortex = (t["border_y"] - t["margin_y"]) / 0.25
        ratio = cortex / (t["mcw_mm"] * MAG / 0.1)
        assert 0.85 < ratio.median() < 1.15, ratio.describe()
        ok = t["apex_clearance_mm"].dropna()
        assert len(ok) > 0.5 * len(t) and (ok > 0).all(), ok.describe()
    y = p1["border_y"] / h
    assert 0.89 <= y.median() <= 0.93 and y.between(0.86, 0.96).all(), y.describe()


def test_acquisition_is_recorded_and_drawn(devices_data):
    """Every unit and its acquisition are in truth.csv; the image has the unit's canvas; the side marker
    sits in the unit's corner (none on P4), and no other letter anywhere else."""
    truth = pd.read_csv(devices_data / "truth.csv")
    assert set(ACQUISITION) <= set(truth.columns)
    assert set(truth["device"]) == set(DEVICES)
    assert truth["tilt_deg"].std() > 0.5 and truth["smile"].std() > 0.1 and truth["exposure"].std() > 0.05
    for _, t in truth.iterrows():
        img = tifffile.imread(devices_data / "images" / f"{t['patient_id']}.tif")
        assert img.shape == (t["height"], t["width"])
        spec = DEVICES[t["device"]]
        assert (t["width"], t["height"]) == tuple(round(v * 0.25) for v in spec["canvas"])
        # the letter's own pixels (drawn on a blank canvas) are all 235 in the image, and no other letter's are
        glyph = {}
        for letter in ("L", "R"):
            for corner in ("top-left", "top-right", "bottom-left", "bottom-right"):
                blank = np.zeros_like(img)
                _side_marker(blank, 0.25 / 0.1, letter, corner)   # pixels per mm at 0.25 x scale
                glyph[letter, corner] = blank == 235
        found = [k for k, g in glyph.items() if (img[g] == 235).all()]
        assert found == ([] if spec["marker"] is None else [spec["marker"]]), (t["device"], found)
        assert (t["marker"], t["marker_corner"]) == (spec["marker"] or ("none", "none"))


def test_tilt_turns_the_anatomy_with_the_landmarks(devices_data):
    """The foramina in truth.csv are where the tilted image has them: the line between them slants by
    the head's tilt (plus the jaw's own small slant)."""
    truth = pd.read_csv(devices_data / "truth.csv")
    slant = np.degrees(np.arctan2(truth["foramen_left_y"] - truth["foramen_right_y"],
                                  truth["foramen_left_x"] - truth["foramen_right_x"]))
    assert np.corrcoef(slant, truth["tilt_deg"])[0, 1] > 0.6
