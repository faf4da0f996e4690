"""The reader study's analysis (osteolib.readers): Obuchowski-Rockette with Hillis's degrees of freedom against the
University of Iowa's OR-DBM MRMC 2.51 output of the Van Dyke et al. (1993) study, the covariance estimates against
brute force, the standalone model against the readers, the ratings table's faults, the command."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from osteolib.errors import InputError
from osteolib.readers import __main__ as cli
from osteolib.readers import analysis, mrmc, ratings

# OR-DBM MRMC 2.51 (Schartz, Hillis, Pesce, Berbaum; University of Iowa), "VanDyke trap area jackknife anova":
# Van Dyke C.W. et al., cine MRI vs spin-echo MRI for thoracic aortic dissection (Radiology 1993), 2 treatments,
# 5 readers, 114 cases (69 normal, 45 abnormal), trapezoidal AUC, jackknife covariances. The printed reader AUCs
# and OR error-covariance estimates (overall, and per treatment for the single-treatment analyses):
VANDYKE_AUC = np.array([[0.91964573, 0.85877617, 0.90386473, 0.97310789, 0.82979066],
                        [0.94782609, 0.90531401, 0.92173913, 0.99935588, 0.92995169]])
VAR_I, COV2_I, COV1, COV3 = (0.00101410, 0.00059047), (0.00048396, 0.00020419), 0.00034661, 0.00023903


def vandyke_aucs() -> mrmc.Aucs:
    """The printed AUCs with an error covariance whose averages are the printed estimates (the OR analysis
    depends on the covariances only through those averages)."""
    t, r = VANDYKE_AUC.shape
    mod, rdr = np.repeat(np.arange(t), r), np.tile(np.arange(r), t)
    cov = np.where(mod[:, None] == mod[None, :], np.array(COV2_I)[mod][:, None], np.where(rdr[:, None] == rdr[None, :], COV1, COV3))
    cov[np.diag_indices(t * r)] = np.array(VAR_I)[mod]
    return mrmc.Aucs(VANDYKE_AUC, cov, ("1", "2"), tuple(range(1, 6)), 114, "jackknife")


def test_or_hillis_reproduces_the_or_dbm_mrmc_output_to_its_printed_digits():
    out = mrmc.or_hillis(vandyke_aucs()).set_index(["analysis", "comparison"])
    c = mrmc.components(vandyke_aucs())
    assert c["var"] == pytest.approx(0.00080229, abs=1e-8) and c["cov2"] == pytest.approx(0.00034407, abs=1e-8)
    assert (c["ms_t"], c["ms_tr"]) == pytest.approx((0.00479617, 0.00055103), abs=5e-9)
    # Analysis 1, RRRC: F 4.46 on 1 and 15.26 df, p .0517; 1 - 2 = -0.04380, SE 0.02075, 95% CI (-0.08796, 0.00036)
    g = out.loc[("RRRC", "all modalities")]
    assert round(g["statistic"], 2) == 4.46 and round(g["df2"], 2) == 15.26 and round(g["p_value"], 4) == 0.0517
    d = out.loc[("RRRC", "2 - 1")]       # ours is 2 - 1: the printed interval with its sign turned
    assert round(d["difference"], 5) == 0.04380 and round(d["std_error"], 5) == 0.02075
    assert (round(-d["ci_high"], 5), round(-d["ci_low"], 5)) == (-0.08796, 0.00036) and round(d["p_value"], 4) == 0.0517
    for name, se, df, lo, hi in (("1", 0.03317360, 12.74, 0.82522360, 0.96885048),
                                 ("2", 0.02156637, 12.71, 0.89413783, 0.98753689)):
        s = out.loc[("RRRC", name)]
        # the inputs are the printed 8-decimal estimates, so 8-decimal outputs agree to about 1e-7
        assert s["std_error"] == pytest.approx(se, abs=1e-7) and round(s["df2"], 2) == df
        assert (round(s["ci_low"], 6), round(s["ci_high"], 6)) == pytest.approx((lo, hi), abs=1.5e-6)
    # Analysis 2, FRRC: X2 5.47595 on 1 df, p .0193; SE 0.01872, CI (-0.08049, -0.00711); single-treatment CIs
    g = out.loc[("FRRC", "all modalities")]
    assert g["statistic"] == pytest.approx(5.47595, abs=1e-4) and round(g["p_value"], 4) == 0.0193   # X2 from rounded inputs
    d = out.loc[("FRRC", "2 - 1")]
    assert round(d["std_error"], 5) == 0.01872 and (round(-d["ci_high"], 5), round(-d["ci_low"], 5)) == (-0.08049, -0.00711)
    for name, se, lo, hi in (("1", 0.02428971, 0.84943008, 0.94464399), ("2", 0.01677632, 0.90795637, 0.97371835)):
        s = out.loc[("FRRC", name)]
        assert s["std_error"] == pytest.approx(se, abs=1e-7)
        assert (s["ci_low"], s["ci_high"]) == pytest.approx((lo, hi), abs=1.5e-6)
    # Analysis 3, RRFC: F 8.70 on 1 and 4 df, p .0420; SE 0.01485, CI (-0.08502, -0.00258); single-treatment CIs
    g = out.loc[("RRFC", "all modalities")]
    assert round(g["statistic"], 2) == 8.70 and g["df2"] == 4 and round(g["p_value"], 4) == 0.0420
    d = out.loc[("RRFC", "2 - 1")]
    assert round(d["std_error"], 5) == 0.01485 and (round(-d["ci_high"], 5), round(-d["ci_low"], 5)) == (-0.08502, -0.00258)
    for name, lo, hi in (("1", 0.82809808, 0.96597599), ("2", 0.89598936, 0.98568536)):
        assert (out.loc[("RRFC", name), "ci_low"], out.loc[("RRFC", name), "ci_high"]) == pytest.approx((lo, hi), abs=1.5e-6)


@pytest.mark.skipif(not os.environ.get("OSTEOLIB_VANDYKE"), reason="the Van Dyke ratings are distributed under GPL-3 "
                    "(RJafroc's VanDyke.lrc) and not shipped: set OSTEOLIB_VANDYKE to a ratings CSV made from it")
def test_from_the_van_dyke_ratings_themselves():
    """From the ratings (reader_id, modality 1/2, patient_id, truth, score) every printed number, jackknifed here."""
    table = ratings.read(os.environ["OSTEOLIB_VANDYKE"])
    out = analysis.analyse(table)["mrmc"].set_index(["analysis", "comparison"])
    assert (round(out.loc[("RRRC", "all modalities"), "statistic"], 2), round(out.loc[("RRRC", "all modalities"), "df2"], 2),
            round(out.loc[("RRRC", "all modalities"), "p_value"], 4)) == (4.46, 15.26, 0.0517)
    assert (round(out.loc[("RRRC", "2 - 1"), "ci_low"], 5), round(out.loc[("RRRC", "2 - 1"), "ci_high"], 5)) == (-0.00036, 0.08796)
    assert round(out.loc[("FRRC", "all modalities"), "statistic"], 5) == 5.47595
    assert (round(out.loc[("RRRC", "1"), "std_error"], 8), round(out.loc[("FRRC", "2"), "std_error"], 8)) == (0.03317360, 0.01677632)
    assert round(out.loc[("RRFC", "all modalities"), "statistic"], 2) == 8.70


def _made(seed=0, t=2, r=4, c=60):
    rng = np.random.default_rng(seed)
    truth = np.r_[np.zeros(c // 2), np.ones(c - c // 2)].astype(int)
    case = rng.normal(0, 1, c)
    scores = (truth * 1.2 + case)[None, None, :] + rng.normal(0, 1, (t, r, c)) + np.arange(t)[:, None, None] * 0.3 * truth
    return np.round(scores, 1), truth   # rounded: ties, as ratings have


def test_jackknife_and_delong_covariances_against_brute_force():
    scores, truth = _made()
    t, r, c = scores.shape
    a = mrmc.aucs(scores, truth)
    flat = scores.reshape(t * r, c)
    assert np.allclose(a.theta.ravel(), [roc_auc_score(truth, s) for s in flat])
    # leave one case out, every AUC recomputed by scikit-learn
    jk = np.array([[roc_auc_score(np.delete(truth, k), np.delete(s, k)) for k in range(c)] for s in flat])
    dev = jk - jk.mean(axis=1, keepdims=True)
    assert np.allclose(a.cov, (c - 1) / c * dev @ dev.T, atol=1e-12)
    # DeLong: the structural components by a double loop (DeLong, DeLong & Clarke-Pearson 1988)
    pos, neg = flat[:, truth == 1], flat[:, truth == 0]
    psi = lambda x, y: 1.0 if x > y else 0.5 if x == y else 0.0
    v10 = np.array([[np.mean([psi(x, y) for y in ng]) for x in ps] for ps, ng in zip(pos, neg)])
    v01 = np.array([[np.mean([psi(x, y) for x in ps]) for y in ng] for ps, ng in zip(pos, neg)])
    expected = np.cov(v10) / pos.shape[1] + np.cov(v01) / neg.shape[1]
    assert np.allclose(mrmc.aucs(scores, truth, method="delong").cov, expected, atol=1e-12)


def test_a_standalone_model_of_no_skill_leaves_the_single_modality_analysis_shifted():
    """Against a model with constant scores (AUC 0.5, no variance), the readers minus the model is the
    single-modality analysis of the readers, moved by 0.5: the same standard errors and degrees of freedom."""
    scores, truth = _made(t=1, r=5)
    alone = mrmc.or_hillis(mrmc.aucs(scores, truth, ["unaided"])).set_index(["analysis", "comparison"])
    both = np.concatenate([scores, np.zeros((1, 1, scores.shape[2]))], axis=1)
    vs = mrmc.versus_standalone(mrmc.aucs(both, truth, ["unaided"])).set_index("analysis")
    for name in mrmc.ANALYSES:
        one = alone.loc[(name, "unaided")]
        assert vs.loc[name, "difference"] == pytest.approx(one["difference"] - 0.5)
        assert vs.loc[name, "std_error"] == pytest.approx(one["std_error"]) and vs.loc[name, "df2"] == pytest.approx(one["df2"])


def _ratings_file(tmp_path, scores, truth, modalities=("unaided", "aided"), model=None):
    rows = [(f"R{j + 1}", m, f"P{k:03d}", int(truth[k]), float(scores[i, j, k]))
            for i, m in enumerate(modalities) for j in range(scores.shape[1]) for k in range(scores.shape[2])]
    if model is not None:
        rows += [("model", m, f"P{k:03d}", int(truth[k]), float(model[k])) for m in modalities for k in range(len(truth))]
    file = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=list(ratings.COLUMNS)).to_csv(file, index=False)
    return file


def test_the_command_writes_both_tables(tmp_path):
    scores, truth = _made(r=5)
    model = truth * 1.5 + np.random.default_rng(1).normal(0, 1, len(truth))
    file = _ratings_file(tmp_path, scores, truth, model=1 / (1 + np.exp(-model)))
    assert cli.main(["analyse", str(file), "--out", str(tmp_path / "out")]) == 0
    aucs = pd.read_csv(tmp_path / "out" / "reader_auc.csv")
    assert list(aucs.columns[:4]) == ["reader_id", "modality", "auc", "n_cases"] and len(aucs) == 12
    table = pd.read_csv(tmp_path / "out" / "mrmc.csv")
    assert set(mrmc.COLUMNS) <= set(table.columns) and set(table["analysis"]) == set(mrmc.ANALYSES)
    assert {"aided - unaided", "unaided readers - model", "aided readers - model"} <= set(table["comparison"])
    rrrc = table[(table["analysis"] == "RRRC") & (table["comparison"] == "aided - unaided")].iloc[0]
    assert rrrc["ci_low"] < rrrc["difference"] < rrrc["ci_high"] and 0 <= rrrc["p_value"] <= 1


def test_ratings_faults_are_named_by_file_row_and_column(tmp_path):
    scores, truth = _made(r=3)
    file = _ratings_file(tmp_path, scores, truth)
    good = pd.read_csv(file, dtype=str)
    cases = {"score": ("high", "score", "is not a number"), "truth": ("2", "truth", "is not 0 or 1")}
    for column, (value, col, words) in cases.items():
        bad = good.copy()
        bad.loc[4, column] = value
        bad.to_csv(file, index=False)
        with pytest.raises(InputError, match=f"row 6, column '{col}': .*{words}"):
            ratings.read(file)
    bad = good.copy()
    bad.loc[0, "truth"] = str(1 - int(bad.loc[0, "truth"]))
    bad.to_csv(file, index=False)
    with pytest.raises(InputError, match="truth 0 in some rows and 1 in others"):
        ratings.read(file)
    good.drop(index=[7]).to_csv(file, index=False)
    with pytest.raises(InputError, match="not fully crossed"):
        analysis.analyse(ratings.read(file), file=str(file))


# --- the design and the simulated readers -------------------------------------------------------------------------

def _cases(n=60, seed=0):
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.3).astype(int)
    jaw = np.where(truth == 1, rng.normal(-3.2, 0.8, n), rng.normal(-0.8, 1.2, n))
    return pd.DataFrame({"patient_id": [f"P{i:03d}" for i in range(n)], "truth": truth,
                         "p_model": 1 / (1 + np.exp(-(-1.5 * jaw - 3.5 + rng.normal(0, 0.8, n)))), "jaw_status": jaw,
                         "age": rng.normal(70, 10, n), "weight_kg": rng.normal(55, 8, n)})


def test_the_design_is_fully_crossed_counterbalanced_and_seeded():
    from osteolib.readers import design
    pool = _cases(200).rename(columns={"truth": "y_true", "p_model": "p_osteoporosis"})
    cases = design.case_set(pool, 50, seed=1)
    assert len(cases) == 50 and abs(cases["truth"].mean() - pool["y_true"].mean()) < 0.03      # stratified
    assert cases.equals(design.case_set(pool, 50, seed=1)) and not cases.equals(design.case_set(pool, 50, seed=2))
    p = design.plan(cases, ["A", "B", "C", "D"], seed=0, washout_days=21)
    assert len(p) == 4 * 2 * 50 and p.groupby(["reader_id", "modality"])["patient_id"].nunique().eq(50).all()
    first = p[p["session"] == 1].groupby("reader_id")["modality"].first()
    assert (first == "unaided").sum() == 2 and (first == "aided").sum() == 2                  # counterbalanced
    assert (p.loc[p["session"] == 2, "not_before_day"] == 21).all()
    orders = p.groupby(["reader_id", "session"])["patient_id"].apply(tuple)
    assert orders.nunique() == len(orders)                                                   # each its own order


def test_simulated_readers_are_helped_by_the_model_and_labelled():
    from osteolib.readers import design, simulate
    cases = _cases(120)
    readers = simulate.draw(6, seed=0)
    p = design.plan(cases, [r.reader_id for r in readers], seed=0)
    for scale, top in (("0-100", 100), ("5-point", 5)):
        rt = simulate.simulate(p, cases, readers, scale, seed=0)
        assert rt["simulated"].all() and rt["score"].between(0, top).all() and (rt["seconds"] > 0).all()
        aucs = analysis.reader_aucs(rt).pivot(index="reader_id", columns="modality", values="auc")
        assert (aucs["aided"] > aucs["unaided"]).mean() >= 0.8            # relying on a better model helps
    with pytest.raises(ValueError, match="scale"):
        simulate.simulate(p, cases, readers, "10-point")
