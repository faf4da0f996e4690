"""Internal-external cross-validation over sites, and a model carried to a new site (notebook 06).

A study whose splits hold one site out per fold (``split: leave_site_out`` in notebook 01,
:func:`osteolib.splits.leave_site_out`; Royston, Parmar & Sylvester, Stat Med 23:907, 2004; Steyerberg &
Harrell, J Clin Epidemiol 69:245, 2016) has, in every training run's ``predictions.csv``, each site's
patients predicted by the model that never saw that site. From them:

* :func:`iecv`: per held-out site and model (each backbone's arms, and the covariates-only model and
  OSTA fitted on the same training parts, :mod:`osteolib.baselines`): ``n``, ``prevalence``, ``auc`` (with
  DeLong's variance), ``calibration_intercept`` and ``calibration_slope`` (with their GLM standard
  errors), ``brier`` (:func:`osteolib.sites.per_site`); :func:`net_benefit` the decision curve per site;
* :func:`pooled`: the random-effects summary over sites per model and metric (:func:`osteolib.sites.pooled`,
  :func:`osteolib.meta.pool`: Paule-Mandel tau squared, the Hartung-Knapp-Sidik-Jonkman interval, the
  95 % prediction interval for a new site on t(k - 2); Riley et al., BMJ 342:d549, 2011);
* :func:`transport`: each site as the new site a model is carried to: its patients split (stratified,
  seeded) into a *local sample* that updates the model and an *evaluation part* that judges it, the
  updates of :mod:`osteolib.updating` (none, recalibration in the large, logistic recalibration) and
  ``head``: the network's output layer (and, for the ensemble arm, its covariate path) refitted on the
  local sample's hidden features (:func:`head_features`: L2 logistic regression, the penalty chosen by
  5-fold cross-validation on the local sample: scikit-learn's ``GridSearchCV``); and
  :func:`learning_curves`: how many local patients each update needs.

The updates are judged on the same evaluation part, so what each gains is their difference there.
"""
from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import (atomic, baselines, checkpoints, cohort, images, plots, repro, roi, sites, splits, stats, synthetic, updating, utility,
               validation)
from . import bundle as bundles
from .datafolder import SPACING_COLUMNS, DataFolder
from .datasets import load_rois, to_input
from .layout import StudyLayout

__all__ = ["MODEL", "IECV_COLUMNS", "TRANSPORT_COLUMNS", "UPDATES", "with_baselines", "iecv", "pooled",
           "net_benefit", "split_local", "transport", "head_features", "refit_head", "head_refitter", "learning_curves",
           "ORACLE_OF", "planted_shifts", "DEVICE_COLUMNS", "device_check", "features", "CARRY_TABLES", "carry", "main"]

#: The columns naming a model in every table of this module (baselines: backbone ``baseline``).
MODEL = ("backbone", "arm", "repeat")
#: Columns of :func:`iecv` (the issue's ``iecv.csv``: site, backbone, arm, n, prevalence, auc, calibration
#: intercept and slope, brier; with the standard errors the pooling uses).
IECV_COLUMNS = (*MODEL, *sites.PER_SITE)
#: The updates of :func:`transport`, from none to the most local.
UPDATES = (*updating.METHODS, "head")
#: Columns of :func:`transport`.
TRANSPORT_COLUMNS = ("site", *MODEL, "update", "n_local", "n_eval", "prevalence", "auc", "calibration_intercept",
                     "calibration_slope", "brier", "net_benefit_20", "reason")


def with_baselines(predictions: pd.DataFrame, cohort: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """The networks' predictions and those of the covariates-only model and OSTA on the same splits
    ``folds`` (backbone ``baseline``), each with its held-out ``site`` (:func:`osteolib.splits.held_out`)."""
    base = baselines.predict(cohort, folds).assign(backbone="baseline")
    both = pd.concat([predictions, base[base["repeat"].isin(predictions["repeat"].unique())]], ignore_index=True)
    return splits.held_out(both, folds)


def _models(pred: pd.DataFrame):
    return pred.groupby(list(MODEL), sort=False)


def iecv(pred: pd.DataFrame) -> pd.DataFrame:
    """One row per model (:data:`MODEL`) and held-out site: :data:`IECV_COLUMNS`."""
    parts = [sites.per_site(g["y_true"], g["p_osteoporosis"], g["site"]).assign(**dict(zip(MODEL, key)))
             for key, g in _models(pred)]
    return pd.concat(parts, ignore_index=True)[list(IECV_COLUMNS)]


def pooled(table: pd.DataFrame, method: str = "pm", hksj: bool = True) -> pd.DataFrame:
    """Per model and metric (AUC, calibration slope, calibration intercept): the random-effects summary
    over its held-out sites (:data:`osteolib.sites.POOLED`)."""
    parts = [sites.pooled(g, method, hksj).assign(**dict(zip(MODEL, key)))
             for key, g in table.groupby(list(MODEL), sort=False)]
    out = pd.concat(parts, ignore_index=True)
    return out[list(MODEL) + [c for c in sites.POOLED]]


def net_benefit(pred: pd.DataFrame, thresholds=utility.THRESHOLDS) -> pd.DataFrame:
    """The decision curve of every model on every held-out site (and treat all there): ``site``,
    backbone, arm, repeat, ``threshold``, ``net_benefit``."""
    rows = []
    for key, g in _models(pred):
        for site, s in g.groupby("site"):
            nb = utility.model_net_benefit(s["y_true"], s["p_osteoporosis"], thresholds)
            rows.append(pd.DataFrame({"site": site, **dict(zip(MODEL, key)), "threshold": thresholds, "net_benefit": nb}))
    for (site, repeat), s in pred.drop_duplicates(["site", "repeat", "patient_id"]).groupby(["site", "repeat"]):
        rows.append(pd.DataFrame({"site": site, "backbone": "reference", "arm": "treat all", "repeat": repeat,
                                  "threshold": thresholds, "net_benefit": utility.treat_all(s["y_true"], thresholds)}))
    return pd.concat(rows, ignore_index=True)


def split_local(patient_ids, y, fraction: float, seed: int, site: str) -> tuple[np.ndarray, np.ndarray]:
    """A site's patients split into a local sample (``fraction``, stratified by outcome) and an evaluation
    part: positions into ``patient_ids``, the same for every model (seeded by ``seed`` and the site's
    name)."""
    split = StratifiedShuffleSplit(n_splits=1, train_size=fraction,
                                   random_state=repro.child_seed(seed, zlib.crc32(site.encode())) % 2**32)
    local, rest = next(split.split(np.zeros(len(y)), np.asarray(y).astype(int)))
    return np.sort(local), np.sort(rest)


def _measure(y, q) -> dict:
    m = updating.measure(y, q)
    return {"prevalence": float(np.mean(y)), "auc": m["auc"], "calibration_intercept": m["intercept"],
            "calibration_slope": m["slope"], "brier": m["brier"],
            "net_benefit_20": float(utility.model_net_benefit(y, q, np.array([0.2]))[0])}


def transport(pred: pd.DataFrame, fraction: float = 0.5, seed: int = 0, head=None) -> pd.DataFrame:
    """Every model carried to every site it never saw (:func:`iecv`'s predictions), updated on the site's
    local sample (:func:`split_local`) and judged on its evaluation part: one row per site, model and
    update of :data:`UPDATES` (:data:`TRANSPORT_COLUMNS`).

    ``head(backbone, arm, repeat, fold, site, local_ids, eval_ids)`` (optional) returns the evaluation
    part's probabilities after refitting the network's head on the local sample (:func:`refit_head`), or
    a text saying why it cannot; without it, and for the baselines, the row says so in ``reason``."""
    rows = []
    for key, g in _models(pred):
        model = dict(zip(MODEL, key))
        for site, s in g.groupby("site"):
            s = s.sort_values("patient_id")
            y, p, ids = s["y_true"].to_numpy(int), s["p_osteoporosis"].to_numpy(float), s["patient_id"].to_numpy()
            local, rest = split_local(ids, y, fraction, seed, site)
            for method in UPDATES:
                row = {"site": site, **model, "update": method, "n_local": len(local), "n_eval": len(rest), "reason": ""}
                q = None
                if method in updating.METHODS:
                    try:
                        q = updating.fit(method, y[local], p[local]).apply(p[rest])
                    except ValueError as e:
                        row["reason"] = str(e)
                elif head is None or model["backbone"] == "baseline":
                    row["reason"] = "no network head to refit" if model["backbone"] == "baseline" else "head refit not run"
                else:
                    fold = int(s["fold"].iloc[0])
                    out = head(model["backbone"], model["arm"], model["repeat"], fold, site, ids[local], ids[rest])
                    q, row["reason"] = (None, out) if isinstance(out, str) else (out, "")
                if q is not None:
                    row |= _measure(y[rest], q)
                rows.append(row)
    return pd.DataFrame(rows).reindex(columns=list(TRANSPORT_COLUMNS))


@torch.no_grad()
def features(net, scaler, images: torch.Tensor, rows: pd.DataFrame, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """What a network feeds its output layer for uint8 ROIs ``images`` of the patients ``rows`` (age, sex,
    bmi): the head's ReLU layer, and for the ensemble arm the covariates (scaled by ``scaler``, the card's)
    beside it, since the skip path adds them linearly to the same logits; and its P(osteoporosis)."""
    dev = repro.resolve_device(device)
    net = net.to(dev).eval()
    cov = scaler.transform(rows.reset_index(drop=True)).to(dev) if net.arm == "ensemble" else None
    hidden_out, p_out = [], []
    for i in range(0, len(images), 64):
        x = to_input(images[i:i + 64].to(dev), net.spec)
        c = cov[i:i + 64] if cov is not None else None
        hidden, logits = net.hidden_and_logits(x, c)
        hidden_out.append(torch.cat([hidden, c.to(hidden.dtype)], 1) if c is not None else hidden)
        p_out.append(torch.softmax(logits, 1)[:, 1])
    return torch.cat(hidden_out).float().cpu().numpy(), torch.cat(p_out).float().cpu().numpy()


def head_features(layout: StudyLayout, backbone: str, arm: str, fold: int, patient_ids, cohort: pd.DataFrame,
                  device: str = "cpu") -> np.ndarray:
    """:func:`features` of the kept model of ``fold`` (the one that never saw the fold's site) for
    ``patient_ids`` of the study's cohort, from the study's ROIs."""
    net, card = checkpoints.load_kept(layout.kept_model(backbone, arm), fold)
    rows = cohort.set_index("patient_id").loc[list(patient_ids)].reset_index()
    return features(net, checkpoints.scaler(card), load_rois(layout, list(patient_ids)), rows, device)[0]


def refit_head(x_local: np.ndarray, y_local, x_eval: np.ndarray, seed: int = 0) -> np.ndarray:
    """P(osteoporosis) of the evaluation part from a new output layer fitted on the local sample's hidden
    features: standardised, L2 logistic regression with its penalty chosen among 10 (C from 1e-4 to 1e4) by
    stratified 5-fold cross-validation of the log loss on the local sample (scikit-learn's ``GridSearchCV``,
    the scaler inside each fold)."""
    y = np.asarray(y_local).astype(int)
    folds = int(min(5, np.bincount(y, minlength=2).min()))
    if folds < 2:
        raise ValueError(f"the local sample of {len(y)} holds fewer than 2 patients of a class: no head can be refitted")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    search = GridSearchCV(model, {"logisticregression__C": np.logspace(-4, 4, 10)}, scoring="neg_log_loss",
                          cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return search.fit(x_local, y).predict_proba(x_eval)[:, 1]


def learning_curves(pred: pd.DataFrame, sizes, draws: int = 20, seed: int = 0) -> pd.DataFrame:
    """:func:`osteolib.updating.learning_curve` of every model on every site it was carried to, for the
    sizes of ``sizes`` the site can spare (a size that leaves fewer than 10 patients of a class to evaluate
    is left out for that site): site, backbone, arm, repeat, n_local, draw, update, n_eval, auc,
    intercept, slope, brier, reason (why a draw could not be updated)."""
    rows = []
    for key, g in _models(pred):
        for site, s in g.groupby("site"):
            y, p = s["y_true"].to_numpy(int), s["p_osteoporosis"].to_numpy(float)
            fits = [n for n in sizes if n < len(y) - 10 and min(np.bincount(y, minlength=2)) * (1 - n / len(y)) >= 10]
            if fits:
                rows.append(updating.learning_curve(y, p, fits, draws=draws, seed=seed)
                            .assign(site=site, **dict(zip(MODEL, key))))
    cols = ["site", *MODEL, "n_local", "draw", "update", "n_eval", "auc", "intercept", "slope", "brier", "reason"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def head_refitter(layout: StudyLayout, cohort: pd.DataFrame, device: str = "cpu", seed: int = 0):
    """The ``head`` of :func:`transport` for a study's kept models: the features of fold ``fold``'s model
    (:func:`head_features`), the output layer refitted on the local sample (:func:`refit_head`); a text
    saying why not when the fold's model was not kept (only repeat 0's are)."""
    labels = cohort.set_index("patient_id")["label"]

    def head(backbone, arm, repeat, fold, site, local_ids, eval_ids):
        if repeat != 0:
            return f"repeat {repeat}: only repeat 0's models are kept"
        try:
            x = head_features(layout, backbone, arm, fold, [*local_ids, *eval_ids], cohort, device)
        except FileNotFoundError as e:
            return f"no kept model of fold {fold} ({site} held out): {e}"
        try:
            return refit_head(x[:len(local_ids)], labels.loc[list(local_ids)].to_numpy(), x[len(local_ids):], seed)
        except ValueError as e:
            return str(e)
    return head


#: Columns of :func:`device_check`.
DEVICE_COLUMNS = ("site", "backbone", "arm", "unit", "counterfactual_unit", "n", "auc_own_unit", "auc_study_unit",
                  "device_cost", "ci_low", "ci_high", "z", "p_value")


def device_check(layout: StudyLayout, data_dir, cohort_table: pd.DataFrame, folds: pd.DataFrame, backbones, arms,
                 device: str = "cpu") -> pd.DataFrame | None:
    """The device shift alone, on a multi-centre synthetic cohort (None without counterfactual renderings):
    every patient of a site on another unit is predicted twice by the kept model that never saw the site, from
    the radiograph as its unit made it and as the study's unit renders the same patient (``counterfactual/``:
    the same anatomy, positioning and landmark). ``device_cost`` = AUC on the own unit - AUC through the study
    unit, with DeLong's paired 95 % interval and test (same patients: no case-mix noise). :data:`DEVICE_COLUMNS`."""
    cf = synthetic.read_counterfactual(data_dir)
    if cf is None:
        return None
    geometry = roi.read_geometry(layout)
    c = cohort_table.set_index("patient_id")
    cf = cf[cf["patient_id"].isin(c.index)]
    held = folds[(folds["repeat"] == 0) & (folds["role"] == "test")].set_index("patient_id")   # each site's own fold
    rows = []
    for site, g in cf.groupby("site", sort=True):
        ids = g["patient_id"].tolist()
        fold = int(held.loc[ids[0], "fold"])
        lm = roi.read_landmarks(data_dir, ids, geometry.side).set_index("patient_id")
        spacing = c.loc[ids, list(SPACING_COLUMNS)].to_numpy(float) if set(SPACING_COLUMNS) <= set(c.columns) else None
        crops = [roi.cut(images.read_gray(DataFolder(data_dir).root / img), geometry, lm.loc[pid, "x"], lm.loc[pid, "y"], pid,
                         tuple(spacing[i]) if spacing is not None else None)[0] for i, (pid, img) in enumerate(zip(ids, g["image"]))]
        through = torch.from_numpy(np.stack(crops))
        own = load_rois(layout, ids)
        y = c.loc[ids, "label"].to_numpy(int)
        for b in backbones:
            for arm in arms:
                try:
                    net, card = checkpoints.load_kept(layout.kept_model(b, arm), fold)
                except FileNotFoundError:
                    continue
                rows_ = c.loc[ids].reset_index()
                p_own = features(net, checkpoints.scaler(card), own, rows_, device)[1]
                p_cf = features(net, checkpoints.scaler(card), through, rows_, device)[1]
                d = stats.delong(y, p_own, p_cf)
                diff = d["auc_a"] - d["auc_b"]
                se = diff / d["z"] if np.isfinite(d["z"]) and d["z"] != 0 else np.nan
                rows.append({"site": site, "backbone": b, "arm": arm, "unit": g["unit"].iloc[0],
                             "counterfactual_unit": g["counterfactual_unit"].iloc[0], "n": len(ids),
                             "auc_own_unit": d["auc_a"], "auc_study_unit": d["auc_b"], "device_cost": diff,
                             "ci_low": diff - 1.96 * se, "ci_high": diff + 1.96 * se, "z": d["z"], "p_value": d["p_value"]})
    return pd.DataFrame(rows, columns=list(DEVICE_COLUMNS))


#: The oracle's feature set (``cohort/oracle.csv``) that bounds each arm: what that arm can see.
ORACLE_OF = {"image": "image truth", "ensemble": "both", "covariates": "covariates"}


def planted_shifts(iecv_table: pd.DataFrame, transport_table: pd.DataFrame, data_dir,
                   oracle_table: pd.DataFrame | None = None, device: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """A multi-centre synthetic cohort only (None otherwise): per site and model (repeat 0) what the
    generator planted there (``synthetic.json``) beside what the pipeline found: its AUC and the difference
    from the same model's AUC on the ``study`` site (``auc_minus_study``); with the per-site oracle
    (notebook 01's ``cohort/oracle.csv``, :data:`ORACLE_OF` for the arm) the same difference for the oracle,
    which only the case mix moves (``oracle_minus_study``), and the model's ``shortfall`` beyond it
    (``auc_minus_study - oracle_minus_study``: where a device shift costs discrimination, negative); the
    calibration intercept as carried and after recalibration in the large on the local sample
    (``intercept_after_update``, on the evaluation part: a prevalence shift is fixed by it), and the slope; with
    :func:`device_check`'s table, the device's own cost on the same patients (``device_cost``, its 95 % interval,
    ``device_p``)."""
    spec = synthetic.read_spec(data_dir)
    if spec is None or "sites" not in spec:
        return None
    planted = {s["name"]: s["shift"] for s in spec["sites"]}
    bound = ({} if oracle_table is None or "site" not in oracle_table else
             oracle_table.set_index(["features", "site"])["auc_mean"].to_dict())
    t = iecv_table[iecv_table["repeat"] == 0]
    moved = transport_table[(transport_table["repeat"] == 0) & (transport_table["update"] == "intercept")]
    rows = []
    for (b, arm), g in t.groupby(["backbone", "arm"], sort=False):
        home = g.loc[g["site"] == "study", "auc"]
        seen = ORACLE_OF.get(arm)
        for _, r in g.iterrows():
            m = moved[(moved.backbone == b) & (moved.arm == arm) & (moved.site == r["site"])]
            gap = r["auc"] - home.iloc[0] if len(home) else np.nan
            oracle_gap = bound.get((seen, r["site"]), np.nan) - bound.get((seen, "study"), np.nan)
            rows.append({"site": r["site"], "planted": planted.get(r["site"], "?"), "backbone": b, "arm": arm,
                         "prevalence": r["prevalence"], "auc": r["auc"], "auc_minus_study": gap,
                         "oracle_auc": bound.get((seen, r["site"]), np.nan), "oracle_minus_study": oracle_gap,
                         "shortfall": gap - oracle_gap,
                         "calibration_intercept": r["calibration_intercept"],
                         "intercept_after_update": m["calibration_intercept"].iloc[0] if len(m) else np.nan,
                         "calibration_slope": r["calibration_slope"]})
    out = pd.DataFrame(rows)
    if device is not None and len(device):
        d = device.rename(columns={"ci_low": "device_cost_ci_low", "ci_high": "device_cost_ci_high", "p_value": "device_p"})
        out = out.merge(d[["site", "backbone", "arm", "device_cost", "device_cost_ci_low", "device_cost_ci_high", "device_p"]],
                        on=["site", "backbone", "arm"], how="left")
    return out


#: The tables :func:`carry` writes (``external/<name>.csv`` of its output folder).
CARRY_TABLES = ("predictions", "site", "net_benefit", "transport", "learning_curve")


def carry(bundle_dir: str | Path, data_dir: str | Path, out: str | Path, fraction: float = 0.5, seed: int = 0,
          sizes=(25, 50, 100), draws: int = 20, device: str = "cpu", progress: bool = True) -> dict[str, pd.DataFrame]:
    """A screening bundle (:mod:`osteolib.bundle`) carried to another hospital's data folder: the folder
    read and validated as notebook 01 reads a study's (its cohort and labels, ``cohort/``), its ROIs cut
    with the bundle's own geometry (``rois/``), every patient predicted by the bundle, and in ``external/``:
    the ``predictions``, the ``site``'s discrimination and calibration (:func:`iecv`'s columns), its decision
    curve (``net_benefit``), the updates on a local sample judged on the rest (``transport``, the head
    refitted on the bundle's own hidden features) and the ``learning_curve``; the figures and a record
    (``carry.json``: the bundle's card and weights' hash, the data folder's clinical table's hash, the
    settings, the environment). ``out`` is written whole or not at all; faults of the data folder are
    listed beside it (``<out>-validation.csv``) as notebook 01 lists them."""
    b = bundles.load(bundle_dir)
    out, data_dir = Path(out), Path(data_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty: give a new folder")
    site = data_dir.name
    with atomic.atomic_dir(out) as tmp:
        layout = StudyLayout(tmp)
        try:
            patients = cohort.build(data_dir, layout)["cohort"]
        except validation.ValidationError as e:
            beside = DataFolder(out).validation_csv  # beside the folder, as an export's faults are
            atomic.write_csv(e.faults, beside)
            raise validation.ValidationError(e.faults["file"].iloc[0], e.faults, beside) from None
        roi.crop_study(data_dir, patients, b.geometry, layout, progress=progress)
        ids = patients["patient_id"].tolist()
        x, p = features(b.net, b.scaler, load_rois(layout, ids), patients, device)
        pred = pd.DataFrame({"backbone": b.net.config.backbone, "arm": b.net.arm, "repeat": 0, "fold": 0,
                             "patient_id": ids, "y_true": patients["label"].to_numpy(int), "p_osteoporosis": p,
                             "site": site})
        where = {pid: i for i, pid in enumerate(ids)}
        y = pred["y_true"].to_numpy()

        def head(backbone, arm, repeat, fold, site_, local_ids, eval_ids):
            loc, ev = [where[i] for i in local_ids], [where[i] for i in eval_ids]
            try:
                return refit_head(x[loc], y[loc], x[ev], seed)
            except ValueError as e:
                return str(e)

        tables = {"predictions": pred, "site": iecv(pred), "net_benefit": net_benefit(pred),
                  "transport": transport(pred, fraction, seed, head),
                  "learning_curve": learning_curves(pred, sizes, draws, seed)}
        for name, t in tables.items():
            atomic.write_csv(t, layout.external_table(name), float_format="%.6f")
        plots.external_calibration(pred, out=layout.figure("external_calibration"))
        plots.external_decision(tables["net_benefit"], out=layout.figure("external_decision"))
        plots.external_learning_curve(tables["learning_curve"], out=layout.figure("external_learning_curve"))
        atomic.write_json({"format": "osteolib-carry/1", "bundle": {"folder": str(Path(bundle_dir)),
                                                                    "weights_sha256": b.card["weights"]["sha256"],
                                                                    "network": b.card["network"]},
                           "data_dir": str(data_dir), "clinical_sha256": repro.sha256(DataFolder(data_dir).clinical_csv),
                           "site": site, "patients": len(ids), "local_fraction": fraction, "seed": seed,
                           "learning_sizes": list(sizes), "draws": draws, "environment": repro.environment_report()},
                          layout.external_dir / "carry.json")
    return tables


def main(argv: list[str] | None = None) -> int:
    """``python -m osteolib.external carry --bundle B --data D --out O``: :func:`carry` from the command line."""
    ap = argparse.ArgumentParser(prog="python -m osteolib.external", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("carry", help="a screening bundle carried to another hospital's data folder, and updated there")
    c.add_argument("--bundle", required=True, help="the bundle's folder (python -m osteolib.bundle)")
    c.add_argument("--data", required=True, help="the other hospital's data folder (the input layout, with landmarks)")
    c.add_argument("--out", required=True, help="the folder to write (new): cohort/, rois/, external/, figures/")
    c.add_argument("--local-fraction", type=float, default=0.5, help="share of the patients that updates the model")
    c.add_argument("--seed", type=int, default=0, help="seed of the local samples")
    c.add_argument("--sizes", default="25,50,100", help="local sample sizes of the learning curve")
    c.add_argument("--draws", type=int, default=20, help="local samples drawn per size")
    c.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    a = ap.parse_args(argv)
    sizes = [int(t) for t in a.sizes.split(",") if t.strip()]
    try:
        tables = carry(a.bundle, a.data, a.out, a.local_fraction, a.seed, sizes, a.draws, a.device)
    except validation.ValidationError as e:
        print(validation.summary(e.faults).to_string(index=False), file=sys.stderr)
        print(f"\n{e}", file=sys.stderr)
        return 1
    print(tables["transport"][["update", "n_local", "n_eval", "auc", "calibration_intercept", "calibration_slope",
                               "brier"]].round(3).to_string(index=False))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
