"""A study's results as documents: the results page of the docs, the README's few lines, and one
self-contained HTML report with a reporting checklist.

``python -m osteolib.report results --study demo --out docs/results/demo.md --readme README.md``
``python -m osteolib.report html --study demo``  (``make report``: ``outputs/<study>/report.html``)

Every number comes from the study's outputs (``outputs/<study>/``), with what produced them: the git
commit and whether the tree was clean, the synthetic generator's version, the machine (CPU model and
threads: on the CPU the numbers depend on both, through the order of floating-point sums) and the
date, all read from the manifests the notebooks wrote. Nothing here computes a statistic.

The checklist (:func:`checklist`) walks the TRIPOD+AI items (Collins et al., BMJ 2024;385:e078378;
27 items, paraphrased here, not quoted: use the published checklist when submitting) and the topics
of the dental-AI checklist of Schwendicke et al. (J Dent 2021;107:103610), and says for each where
the study's outputs answer it, or that the authors must write it.
"""
from __future__ import annotations

import argparse
import base64
import html as html_lib
import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

from . import atomic, paths, steps, tradeoff
from .datafolder import CLINICAL, DataFolder
from .layout import StudyLayout

__all__ = ["provenance", "results_page", "readme_block", "update_readme", "checklist", "html", "main"]

README_BEGIN, README_END = "<!-- results:begin (python -m osteolib.report results) -->", "<!-- results:end -->"
#: The figures the results page shows, copied beside it: (figure file under the study, caption).
FIGURES = (("figures/auc_differences.png", "AUC differences with their paired bootstrap intervals"),
           ("figures/decision_curves.png", "Decision curves: net benefit of referring for DXA"),
           ("figures/roc_all_models.png", "ROC curves of every model"),
           ("figures/reliability.png", "Reliability diagrams"),
           ("cam/summary.png", "Grad-CAM and guided Grad-CAM of the kept models"),
           ("figures/roi_contact_sheet.png", "ROIs, osteoporotic first"),
           ("figures/indices_profiles.png", "What a dentist measures: the cortex at the mental foramen, its margins found"),
           ("figures/indices_agreement.png", "The automatic MCW and PMI against the truth (Bland-Altman)"),
           ("figures/readers_roc.png", "A reader study: every reader on the model's ROC curve, unaided and aided"),
           ("figures/external_forest.png", "Each site held out: AUC and calibration slope, pooled with the prediction interval"),
           ("figures/external_learning_curve.png", "Updating a model at a new site: how many local patients"))


def _manifest(layout: StudyLayout, step: str) -> dict | None:
    """A step's manifest (for 03: the first of its jobs' manifests), or None when the step has not run."""
    if step == "03_train":
        files = [f for f in layout.manifests() if f.parent.parent == layout.runs_dir]
        return json.loads(files[0].read_text()) if files else None
    file = layout.manifest(step)
    return json.loads(file.read_text()) if file.is_file() else None


def _csv(layout: StudyLayout, key: str, **wildcards) -> pd.DataFrame | None:
    file = layout.file(key, **wildcards)
    return pd.read_csv(file) if file.is_file() else None


def provenance(layout: StudyLayout) -> dict:
    """What produced a study's results, from its manifests: commit, clean tree, generator version,
    machine, threads, date, and the main settings."""
    manifests = {s: _manifest(layout, s) for s in steps.ORDER}
    done = {s: m for s, m in manifests.items() if m}
    if not done:
        raise FileNotFoundError(f"{layout.root} holds no manifest: run the study first (make study)")
    last = done[max(done)]
    commits = {m["environment"]["git"]["commit"] for m in done.values()}
    train = done.get("03_train") or last
    device = train["environment"]["device"]
    data = None
    if "01_cohort" in done:
        clinical = done["01_cohort"]["inputs"].get(f"data_dir/{CLINICAL}")
        data = paths.resolve(clinical["path"]).parent if clinical else None
    synthetic = None
    if data is not None and DataFolder(data).synthetic_json.is_file():
        synthetic = json.loads(DataFolder(data).synthetic_json.read_text())
    params = {k: v for m in done.values() for k, v in m["parameters"].items()}
    return {"study": layout.name, "commit": ", ".join(sorted(c or "unknown" for c in commits)),
            "clean": not any(m["environment"]["git"]["dirty"] for m in done.values()),
            "date": last["environment"]["time_utc"], "cpu": device.get("cpu_model", "not recorded"),
            "cpu_count": device.get("cpu_count", "not recorded"), "threads": device.get("torch_threads"),
            "gpus": ", ".join(device.get("gpus", [])) or "none",
            "generator": f"synthetic cohort, generator v{synthetic['generator_version']}" if synthetic else "real data",
            "torch": last["environment"]["versions"].get("torch"), "steps": sorted(done),
            "parameters": params}


def _f(v, digits: int = 3) -> str:
    return "n/a" if pd.isna(v) else f"{v:.{digits}f}"


def _md(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False) if df is not None and len(df) else "(not run)"


def _auc_table(layout: StudyLayout) -> pd.DataFrame | None:
    auc = _csv(layout, "stats_table", name="bootstrap_auc")
    if auc is None:
        return None
    rows = [{"model": f"{r.backbone}, {r.arm}" if r.backbone != "baseline" else f"{r.arm} (baseline)",
             "AUC (95% CI)": f"{_f(r.auc)} ({_f(r.ci_low)}-{_f(r.ci_high)})", "repeats": int(r.n_repeats)}
            for r in auc.itertuples()]
    return pd.DataFrame(rows)


def _comparison_table(layout: StudyLayout) -> pd.DataFrame | None:
    c = _csv(layout, "stats_table", name="comparisons")
    if c is None:
        return None
    c = c[c["metric"] == "auc"]
    rows = []
    for (b, comp), g in c.groupby(["backbone", "comparison"], sort=True):
        by = {t.split(" ")[0]: r for t, r in zip(g["test"], g.itertuples())}
        boot, cor, bay = by.get("paired"), by.get("corrected"), by.get("Bayesian")
        rows.append({"backbone": b, "comparison": comp, "AUC difference (paired bootstrap 95% CI)":
                     f"{_f(boot.difference)} ({_f(boot.diff_ci_low)} to {_f(boot.diff_ci_high)})" if boot else "n/a",
                     "p, corrected t-test": _f(cor.p_value) if cor else "n/a",
                     "P(better), Bayesian": _f(bay.p_b_better, 2) if bay else "n/a"})
    return pd.DataFrame(rows)


def _oracle_table(layout: StudyLayout) -> pd.DataFrame | None:
    o = _csv(layout, "oracle")
    return None if o is None else o[["features", "auc_mean", "n_repeats", "what"]].round(3)


def _utility_table(layout: StudyLayout) -> pd.DataFrame | None:
    d = _csv(layout, "stats_table", name="decision_curves")
    if d is None:
        return None
    d = d[d["threshold"].isin([0.1, 0.2, 0.3, 0.4])].assign(
        model=lambda t: t["backbone"] + ", " + t["arm"])
    nb = d.pivot_table(index="model", columns="threshold", values="net_benefit", sort=False).round(3)
    nia = d.pivot_table(index="model", columns="threshold", values="net_intervention_avoided", sort=False)
    nb.columns = [f"net benefit at {c:.0%}" for c in nb.columns]
    out = nb.join((100 * nia[[0.2]]).round(1).rename(columns={0.2: "interventions avoided per 100 at 20%"}))
    return out.reset_index()


def _paper_table(layout: StudyLayout, name: str) -> list[str]:
    """One of the paper's tables as notebook 04 wrote it, its note below it."""
    file = layout.stats_table(name)
    if not file.is_file():
        return [f"`stats/{name}.csv`: (not run)", ""]
    t = pd.read_csv(file, keep_default_na=False)
    note = t[t["backbone"] == "note"]["model"]
    body = t[t["backbone"] != "note"]
    return [f"`stats/{name}.csv`:", "", body.to_markdown(index=False) if len(body) else "(no backbone of this family)",
            "", *(f"*{n}*" for n in note), ""]


def _calibration_table(layout: StudyLayout) -> pd.DataFrame | None:
    c = _csv(layout, "stats_table", name="calibration")
    return None if c is None else c[["backbone", "arm", "intercept", "slope", "brier"]].round(3)


def _test_calibration_table(layout: StudyLayout) -> pd.DataFrame | None:
    t = _csv(layout, "stats_table", name="test_calibration")
    if t is None or t.empty:
        return None
    t = t.assign(**{"type-I error (95% CI)": [f"{_f(r.type_I_error)} ({_f(r.type_I_ci_low)}-{_f(r.type_I_ci_high)})"
                                             for r in t.itertuples()], "power": t["power"].round(3)})
    return t[["design", "test", "decision_rule", "type-I error (95% CI)", "power"]]


def _indices_lines(layout: StudyLayout) -> list[str]:
    """Notebook 02b's agreement table and its sides measured; none when the step has not run."""
    agree, ind = _csv(layout, "indices_table", name="agreement"), _csv(layout, "indices_table", name="indices")
    if agree is None or ind is None:
        return []
    rows = [{"measure": r.measure, "reference": r.reference, "n": int(r.n),
             "bias (95% limits of agreement)": f"{_f(r.bias)} ({_f(r.loa_low)} to {_f(r.loa_high)})" if r.unit != "grade" else "",
             "ICC(A,1) or weighted kappa": _f(r.icc) if r.unit != "grade" else _f(r.kappa), "unit": r.unit}
            for r in agree.itertuples()]
    flagged = ind[ind["flag"]].groupby("reason").size()
    return ["## What a dentist measures", "",
            f"Notebook 02b measured {int(ind['mcw_mm'].notna().sum())} of {len(ind)} sides (both mental foramina of "
            f"every included patient; pixel size {_f(ind['pixel_mm'].median())} mm). Flagged: "
            + ("; ".join(f"{n} {r}" for r, n in flagged.items()) or "none") + ". Agreement (`indices/agreement.csv`; "
            "MCW in anatomical mm against the truth, radiographic against clinicians):", "",
            _md(pd.DataFrame(rows)), "",
            "The radiomorphometric baselines (`mcw_rule`, `mcw_pmi`, `mcw_pmi_covariates`, `mci`) are in the AUC and "
            "comparison tables, on the same splits as every network.", ""]


def indices_page(layouts: list[StudyLayout]) -> str:
    """The page of what a dentist measures at several image scales (markdown): per study, what produced it,
    notebook 02b's agreement table, and the AUCs of the radiomorphometric baselines beside the networks' and
    the covariates' (``stats/bootstrap_auc.csv``) with the comparisons' p-values."""
    out = ["# What a dentist measures, at each image scale", "",
           "Generated by `python -m osteolib.report indices` from the studies' outputs: do not edit. Each study below "
           "ran notebook 02b on its cohort's radiographs at their own resolution; the pixel size is the radiographs'.", ""]
    for layout in layouts:
        p = provenance(layout)
        ind = _csv(layout, "indices_table", name="indices")
        px = _f(ind["pixel_mm"].median()) if ind is not None else "n/a"
        trained = (_manifest(layout, "03_train") or {}).get("parameters", {}).get("study", layout.name)
        borrowed = ([f"The networks' predictions (`runs/`) are study `{trained}`'s, copied: the same patients and splits "
                     "(its training manifests say so), its radiographs at its own scale.", ""] if trained != layout.name else [])
        out += [f"## `{layout.name}`: {px} mm per pixel", "", *_provenance_lines(p), "", *borrowed, *_indices_lines(layout)[2:]]
        auc, comp = _auc_table(layout), _comparison_table(layout)
        if auc is not None:
            out += ["AUC with its patient-level bootstrap 95% interval (`stats/bootstrap_auc.csv`):", "", _md(auc), ""]
        if comp is not None:
            measured = comp[comp["comparison"].str.contains("mcw|mci")]
            out += ["The networks against what a dentist measures, and it against the covariates "
                    "(`stats/comparisons.csv`):", "", _md(measured), ""]
    return "\n".join(out)


def _readers_lines(layout: StudyLayout) -> list[str]:
    """Notebook 07's reader study: who read, each reader's AUC, and the OR-Hillis rows."""
    mrmc, aucs = _csv(layout, "readers_table", name="mrmc"), _csv(layout, "readers_table", name="reader_auc")
    lines = ["## Clinicians with and without the model", ""]
    if mrmc is None or aucs is None:
        return lines + ["(not run)", ""]
    wide = aucs.pivot(index="reader_id", columns="modality", values="auc").reset_index().round(3)
    rows = mrmc[mrmc["comparison"].str.contains(" - ")]
    shown = pd.DataFrame([{"analysis": r.analysis, "comparison": r.comparison,
                           "difference (95% CI)": f"{_f(r.difference)} ({_f(r.ci_low)} to {_f(r.ci_high)})",
                           "df": _f(r.df2, 1), "p": _f(r.p_value, 4)} for r in rows.itertuples()])
    return lines + [f"Readings: {mrmc['readings'].iloc[0]}; covariances: {mrmc['covariance'].iloc[0]} "
                    f"(`readers/reader_auc.csv`, `readers/mrmc.csv`). Each reader's AUC, unaided and aided, and the "
                    "model's on the same cases:", "", _md(wide), "",
                    "Obuchowski-Rockette with Hillis's degrees of freedom (RRRC: random readers and cases; FRRC: fixed "
                    "readers; RRFC: fixed cases), and the readers against the model alone:", "", _md(shown), ""]


def _localisation_table(layout: StudyLayout) -> pd.DataFrame | None:
    loc = _csv(layout, "localisation")
    if loc is None:
        return None
    return pd.DataFrame([{"backbone": r.backbone, "arm": r.arm, "cortex": getattr(r, "cortex", "truth"),
                          "patients (empty CAM)": f"{r.n_patients} ({r.n_empty_cam})",
                          "CAM mass in the cortex band": _f(r.cam_in_band), "band's area": _f(r.band_area),
                          "enrichment (95% CI)": f"{_f(r.enrichment, 2)} ({_f(r.enrichment_ci_low, 2)}-"
                                                 f"{_f(r.enrichment_ci_high, 2)})"} for r in loc.itertuples()])


def _provenance_lines(p: dict) -> list[str]:
    clean = "a clean checkout" if p["clean"] else "a checkout with uncommitted changes"
    return [f"- study `{p['study']}`, {p['generator']}; steps run: {', '.join(p['steps'])}",
            f"- commit `{p['commit']}` ({clean}); torch {p['torch']}",
            f"- machine: {p['cpu']}, {p['cpu_count']} cores, {p['threads']} torch thread(s) per training job; "
            f"GPUs: {p['gpus']}",
            f"- finished {p['date']}",
            "- On the CPU the numbers depend on the CPU model and the thread count (the order of floating-point "
            "sums): the same seed on another machine gives slightly different ones."]


def results_page(layout: StudyLayout, figures_to: Path | None = None, prefix: str | None = None) -> str:
    """The results page of a study (markdown); with ``figures_to`` its figures are copied there (as
    ``<prefix>_<name>.png``) and shown."""
    p = provenance(layout)
    prefix = prefix or layout.name
    head = p["parameters"]
    design = _design(layout, head) or f"{head.get('n_repeats', 'n/a')} x {head.get('n_folds', 'n/a')}-fold cross-validation"
    out = [f"# Results of the `{layout.name}` study", "",
           "Generated by `python -m osteolib.report results` from the study's outputs: do not edit; re-run the "
           "study and the command to update every number on this page.", "", "## What produced them", "",
           *_provenance_lines(p), "",
           f"Design: {design} in "
           f"`splits.csv`, of which the trained repeats are the tables' (`repeats` below); ROI "
           f"{head.get('roi_height', 'n/a')} x {head.get('roi_width', 'n/a')} px; at most {head.get('max_epochs', 'n/a')} "
           f"epochs, patience {head.get('patience', 'n/a')}, ensemble head `{head.get('fusion', 'n/a')}`, "
           f"pretrained: {head.get('pretrained', 'n/a')}.", "",
           "## Discrimination", "",
           "AUC of every model with its patient-level bootstrap 95% interval (`stats/bootstrap_auc.csv`):", "",
           _md(_auc_table(layout)), "",
           "What the synthetic truth allows (`cohort/oracle.csv`; real data have none):", "",
           _md(_oracle_table(layout)), "",
           "## Does the image add to age, sex and BMI, and they to the image?", "",
           "AUC differences (`stats/comparisons.csv`): the paired patient-level bootstrap interval, the corrected "
           "resampled t-test over the folds (the primary test) and the Bayesian probability that the second model "
           "is better by more than the ROPE:", "",
           _md(_comparison_table(layout)), "",
           "## The paper's tables", "", *_paper_table(layout, "table_resnet"), *_paper_table(layout, "table_efficientnet"),
           "## Calibration", "", "`stats/calibration.csv` (ideal intercept 0, slope 1):", "",
           _md(_calibration_table(layout)), "",
           "## Clinical utility", "",
           "Net benefit of referring for DXA at threshold probabilities of 10-40 % and the interventions avoided "
           "against referring everyone (`stats/decision_curves.csv`):", "",
           _md(_utility_table(layout)), "",
           "## Can the tests be trusted on these splits?", "",
           "Each test's type-I error and power, measured on simulated data sets on the study's own splits "
           "(`stats/test_calibration.csv`):", "",
           _md(_test_calibration_table(layout)), "",
           *_indices_lines(layout),
           *_readers_lines(layout),
           "## Where the networks look", "",
           "Share of the Grad-CAM mass on the cortical band of the lower border against the band's share of the ROI "
           "(`cam/localisation.csv`; cortex `measured`: the band notebook 02b found, `truth`: the synthetic "
           "generator's masks):", "",
           _md(_localisation_table(layout)), "",
           *_external_lines(layout),
           "## Figures", ""]
    for rel, caption in FIGURES:
        src = layout.root / rel
        if figures_to is None or not src.is_file():
            out += [f"{caption}: not in this study.", ""] if not src.is_file() else []
            continue
        name = f"{prefix}_{Path(rel).stem}.png"
        figures_to.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, figures_to / name)
        out += [f"![{caption}]({name})", ""]
    return "\n".join(out).rstrip() + "\n"


def _design(layout: StudyLayout, par: dict) -> str | None:
    """A study whose splits hold sites out, in words; None for repeated stratified k-fold (said by the caller)."""
    if par.get("split") == "leave_site_out":
        folds = _csv(layout, "splits")
        k = folds["fold"].nunique() if folds is not None else "n/a"
        return (f"internal-external cross-validation, each of {k} sites held out in turn "
                f"({par.get('n_repeats', 'n/a')} repeat(s) of the training:validation split)")
    return None


def _external_lines(layout: StudyLayout) -> list[str]:
    """The section of a study whose splits hold sites out (notebook 06's tables, repeat 0); none otherwise."""
    iecv, pooled = _csv(layout, "external_table", name="iecv"), _csv(layout, "external_table", name="pooled")
    if iecv is None or pooled is None:
        return []
    moved, shifts = _csv(layout, "external_table", name="transport"), _csv(layout, "external_table", name="shifts")
    iecv, pooled = iecv[iecv["repeat"] == 0], pooled[pooled["repeat"] == 0]
    model = lambda df: df["arm"].where(df["backbone"] == "baseline", df["backbone"] + " " + df["arm"])
    per_site = iecv.assign(model=model(iecv))[["model", "site", "n", "prevalence", "auc", "calibration_intercept",
                                                "calibration_slope", "brier"]].round(3)
    summary = pooled.assign(model=model(pooled))[["model", "metric", "k", "estimate", "ci_low", "ci_high", "tau2",
                                                  "i2", "pi_low", "pi_high"]].round(3)
    out = ["## Across sites: internal-external cross-validation", "",
           "Each site held out in turn, predicted by models trained on the others (`external/iecv.csv`):", "",
           _md(per_site), "",
           "Pooled over the sites by random effects (Paule-Mandel, Hartung-Knapp-Sidik-Jonkman interval; `pi_low` and "
           "`pi_high`: the 95 % prediction interval for a new site; `external/pooled.csv`):", "", _md(summary), ""]
    if moved is not None:
        m = moved[moved["repeat"] == 0]
        m = m.assign(model=model(m))[["site", "model", "update", "n_local", "n_eval", "auc", "calibration_intercept",
                                      "calibration_slope", "brier", "net_benefit_20"]].round(3)
        out += ["Each model carried to each site it never saw, updated on a local sample of the site and judged on the "
                "rest (`external/transport.csv`; `net_benefit_20`: net benefit at a 20 % threshold):", "", _md(m), ""]
    if shifts is not None:
        out += ["What the generator planted in each site beside what was found (`external/shifts.csv`):", "",
                _md(shifts.round(3)), ""]
    return out


def readme_block(layout: StudyLayout, page: str) -> str:
    """The README's few lines about a study's results (between its markers), pointing to the page."""
    p = provenance(layout)
    return "\n".join([README_BEGIN,
                      f"The demo's AUC with its patient-level bootstrap 95% interval (one repeat of 5-fold CV, "
                      f"from `outputs/{p['study']}/stats/bootstrap_auc.csv`):", "",
                      _md(_auc_table(layout)), "",
                      f"Produced by commit `{p['commit'][:12]}` on {p['cpu']} ({p['threads']} thread(s) per "
                      f"training job), {p['date'][:10]}. On the CPU these numbers depend on the CPU model and the "
                      f"thread count; every other number is on the [results page]({page}).", README_END])


def update_readme(readme: Path, block: str) -> None:
    """Replace the README's results block (between its markers) with ``block``."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme}: no results block ({README_BEGIN} ... {README_END})")
    atomic.write_text(pattern.sub(lambda _: block, text), readme)


# --- the reporting checklist ----------------------------------------------------------------------------

AUTHORS = "to be written by the authors"
#: Tables longer than this are not inlined in the HTML report (the splits: 30 x 5 x 778 rows).
MAX_ROWS = 5000


def _answers(layout: StudyLayout) -> dict[str, str]:
    """What the study's own outputs answer, by checklist key."""
    p = provenance(layout)
    par = p["parameters"]
    design = _design(layout, par) or f"{par.get('n_repeats')} repeats of stratified {par.get('n_folds')}-fold cross-validation"
    has = lambda key, **w: layout.file(key, **w).is_file()
    flow = _csv(layout, "flow")
    cohort = _csv(layout, "cohort")
    n = f"{len(cohort)} patients, {int(cohort['label'].sum())} with osteoporosis" if cohort is not None else None
    label = (f"DXA T-score, the lower of hip and spine, {'<=' if par.get('osteoporosis_t_inclusive', True) else '<'} "
             f"{par.get('osteoporosis_t', -2.5)} (notebook 01's `osteoporosis_t`)")
    a = {
        "source": f"{p['generator']}; the data folder records its provenance (ingest's record, or the generator's "
                  "parameters)",
        "eligibility": "exclusions in `cohort/flow.csv` (antiresorptives, foreign bodies, fracture, image quality, "
                       "DXA and radiograph more than 365 days apart)" if flow is not None else None,
        "outcome": label,
        "predictors": f"the ROI below the {par.get('roi_side', 'left')} mental foramen "
                      f"({par.get('roi_height')} x {par.get('roi_width')} px, `rois/geometry.json`) and, in the ensemble "
                      "arm, age, sex and BMI (mean-normalised on each fold's training part)",
        "preparation": "every input validated (`validation.csv` lists every fault), ROIs cut by `rois/geometry.json` "
                       "and hashed in `rois/rois.csv`",
        "missing": "none allowed: the clinical table is validated whole (either T-score site may be empty, not both); "
                   "patients without a landmark stop notebook 02",
        "data_use": f"{design} "
                    "with an 8:1 training:validation split inside each fold (`splits.csv`, checked for leakage); the test "
                    "fold is predicted once, after early stopping on the validation part",
        "heterogeneity": "each site held out in turn; per-site AUC, calibration and Brier score (`external/iecv.csv`) "
                         "pooled by random effects with tau squared, I squared and the prediction interval for a new "
                         "site (`external/pooled.csv`)" if has("external_table", name="pooled") else None,
        "model": "the networks and their training settings in every repeat's `metrics.json` and the kept models' "
                 "cards (`runs/<backbone>/<arm>/r00/model_f0.json`); the backbones' registry in `osteolib.backbones`",
        "measures": "accuracy, AUC, precision, recall, specificity, F1 at 0.5 and at each fold's validation threshold; "
                    "calibration intercept, slope, Brier; net benefit; corrected and Bayesian tests "
                    "(`stats/`)" if has("stats_table", name="summary") else None,
        "imbalance": "no resampling or class weights; stratified splits; operating points chosen on each fold's "
                     "validation part (Youden's J)",
        "fairness": "performance by sex and age band with bootstrap intervals (`stats/subgroups.csv`)"
                    if has("stats_table", name="subgroups") else None,
        "output": "P(osteoporosis) per patient (`runs/.../predictions.csv`), the result at 0.5 or the fold's threshold",
        "flow": f"`cohort/flow.csv`: {n}" if n else None,
        "characteristics": "`cohort/table3.csv` (the paper's Table 3)" if has("table3") else None,
        "numbers": f"{n}; per fold in `splits.csv`" if n else None,
        "specification": "the kept models' weights and cards; a screening bundle (`python -m osteolib.bundle`)",
        "performance": "`stats/bootstrap_auc.csv`, `stats/summary.csv`, `stats/comparisons.csv`, the paper's tables "
                       "(`stats/table_*.csv`)" if has("stats_table", name="bootstrap_auc") else None,
        "code": f"the repository at commit `{p['commit']}` ({'clean' if p['clean'] else 'uncommitted changes'}); "
                "every executed notebook in `notebooks/`, every step's manifest with input and output hashes",
        "explainability": "Grad-CAM and guided Grad-CAM panels (`cam/`), their localisation on the cortex "
                          "(`cam/localisation.csv`)" if has("cam_summary") else None,
        "uncertainty": "patient-level bootstrap intervals, intervals over repeats, calibration",
        "baselines": "covariates-only logistic regression and OSTA on the same splits (`stats/baselines.csv`); the "
                     "oracle of the synthetic truth (`cohort/oracle.csv`)" if has("stats_table", name="baselines") else None,
    }
    return {k: v for k, v in a.items() if v}


#: TRIPOD+AI (Collins et al. 2024): item, section, what it asks (paraphrased), the answer's key (None: authors).
TRIPOD_AI = (
    ("1", "Title", "identify the study as developing or evaluating a prediction model, its population, outcome and approach", None),
    ("2", "Abstract", "a structured summary (TRIPOD+AI for Abstracts)", None),
    ("3a", "Introduction", "the healthcare context and rationale, existing models", None),
    ("3b", "Introduction", "the target population and the model's intended use and users", None),
    ("3c", "Introduction", "known health inequalities between groups", None),
    ("4", "Introduction", "the objectives: development, evaluation or both", None),
    ("5a", "Methods: data", "the data sources and their representativeness", "source"),
    ("5b", "Methods: data", "the dates of the data", None),
    ("6a", "Methods: participants", "the setting and the number and location of centres", None),
    ("6b", "Methods: participants", "eligibility criteria", "eligibility"),
    ("6c", "Methods: participants", "treatments received, where relevant", "eligibility"),
    ("7", "Methods: data preparation", "data pre-processing and quality checking", "preparation"),
    ("8a", "Methods: outcome", "the outcome, how and when it was assessed", "outcome"),
    ("8b", "Methods: outcome", "who assessed the outcome and their qualifications", None),
    ("8c", "Methods: outcome", "blinding of the outcome assessment", None),
    ("9a", "Methods: predictors", "the choice of initial predictors", "predictors"),
    ("9b", "Methods: predictors", "the predictors' definitions and measurement", "predictors"),
    ("9c", "Methods: predictors", "who assessed the predictors, their qualifications, blinding", None),
    ("10", "Methods: sample size", "how the sample size was arrived at", None),
    ("11", "Methods: missing data", "how missing data were handled", "missing"),
    ("12a", "Methods: analysis", "how the data were used (development, evaluation, splitting)", "data_use"),
    ("12b", "Methods: analysis", "how predictors were handled in the analysis", "predictors"),
    ("12c", "Methods: analysis", "the model type, building, hyperparameters and internal validation", "model"),
    ("12d", "Methods: analysis", "heterogeneity across centres or clusters", "heterogeneity"),
    ("12e", "Methods: analysis", "the performance measures, with their rationale", "measures"),
    ("12f", "Methods: analysis", "any model updating", None),
    ("12g", "Methods: analysis", "for an evaluation, how the predictions were calculated", "output"),
    ("13", "Methods: class imbalance", "methods for class imbalance, and their rationale", "imbalance"),
    ("14", "Methods: fairness", "approaches to assess the model's fairness", "fairness"),
    ("15", "Methods: model output", "the model's output and how it is used (thresholds)", "output"),
    ("16", "Methods: training versus evaluation", "differences between development and evaluation data", None),
    ("17", "Methods: ethics", "ethical approval and consent", None),
    ("18a", "Open science", "funding", None),
    ("18b", "Open science", "conflicts of interest", None),
    ("18c", "Open science", "the protocol", None),
    ("18d", "Open science", "registration", None),
    ("18e", "Open science", "data availability", None),
    ("18f", "Open science", "code availability", "code"),
    ("19", "Patient and public involvement", "patient and public involvement", None),
    ("20a", "Results: participants", "the flow of participants, with outcome events", "flow"),
    ("20b", "Results: participants", "the participants' characteristics", "characteristics"),
    ("20c", "Results: participants", "the development and evaluation data compared", None),
    ("21", "Results: model development", "the numbers of participants and events in each analysis", "numbers"),
    ("22", "Results: model specification", "the full model, or how to access it", "specification"),
    ("23a", "Results: performance", "performance estimates with confidence intervals, including subgroups", "performance"),
    ("23b", "Results: performance", "heterogeneity of performance across centres", None),
    ("24", "Results: model updating", "the results of any model updating", None),
    ("25", "Discussion", "interpretation of the main results, including fairness", None),
    ("26", "Discussion", "limitations (non-representative sample, overfitting, ...)", None),
    ("27a", "Discussion", "how poor-quality or missing input data are handled in use", "missing"),
    ("27b", "Discussion", "what users need to do, and their expertise", None),
    ("27c", "Discussion", "implications for research and practice", None),
)

#: The dental-AI checklist (Schwendicke et al. 2021): its topic groups as its abstract names them (not its
#: 31 items' wording or numbering), with the answer's key.
DENTAL_AI = (
    ("the study's wider goal, focus, design and specific aims", None),
    ("data sampling and reporting (sources, eligibility, characteristics)", "source"),
    ("sample size estimation", None),
    ("the reference test: how the ground truth was constructed, by whom", "outcome"),
    ("data partitions (training, validation, test) and leakage", "data_use"),
    ("model parameters: architecture, training, hyperparameters, software", "model"),
    ("training and evaluation", "measures"),
    ("performance metrics, against baselines and the reference", "baselines"),
    ("uncertainty", "uncertainty"),
    ("explainability", "explainability"),
    ("data and code availability", "code"),
)


def checklist(layout: StudyLayout) -> pd.DataFrame:
    """Every TRIPOD+AI item and every topic of the dental-AI checklist: where the study answers it, or
    that the authors must write it (columns checklist, item, section, asks, answer, by)."""
    a = _answers(layout)
    rows = [{"checklist": "TRIPOD+AI", "item": i, "section": s, "asks": q, "answer": a.get(k, AUTHORS) if k else AUTHORS,
             "by": "the study" if k and k in a else "the authors"} for i, s, q, k in TRIPOD_AI]
    rows += [{"checklist": "dental AI (Schwendicke et al.)", "item": str(j + 1), "section": "topic", "asks": q,
              "answer": a.get(k, AUTHORS) if k else AUTHORS, "by": "the study" if k and k in a else "the authors"}
             for j, (q, k) in enumerate(DENTAL_AI)]
    return pd.DataFrame(rows)


# --- the HTML report ----------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
th{background:#f3f3f3;text-align:left}img{max-width:100%}details{margin:.4em 0}summary{cursor:pointer;font-weight:600}
code{background:#f4f4f4;padding:0 3px}.authors{color:#a33}.study{color:#262}"""


def _inline(text: str) -> str:
    """Plain text with ``code`` spans (a pair of backticks) as HTML."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html_lib.escape(text))


def _img(file: Path) -> str:
    data = base64.b64encode(file.read_bytes()).decode()
    return f'<figure><img alt="{html_lib.escape(file.name)}" src="data:image/png;base64,{data}"><figcaption>' \
           f"{html_lib.escape(file.name)}</figcaption></figure>"


def _notebook(file: Path) -> str:
    """An executed notebook as HTML (nbconvert's basic template: no scripts; its images inline)."""
    # lazy: nbconvert loads its templates and exporters; only the HTML report needs it
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="basic").from_filename(str(file))
    return re.sub(r"<script\b.*?</script>", "", body, flags=re.S)


def html(layout: StudyLayout, out: str | Path | None = None) -> Path:
    """One self-contained HTML file of a study (default ``outputs/<study>/report.html``): what produced it,
    the parameters and versions, the manifests' hashes, every table and figure, the executed notebooks
    and the reporting checklist."""
    out = Path(out) if out else layout.root / "report.html"
    p = provenance(layout)
    parts = [f"<h1>Study report: {html_lib.escape(layout.name)}</h1>", "<ul>"]
    parts += [f"<li>{_inline(line[2:])}</li>" for line in _provenance_lines(p)] + ["</ul>"]
    c = checklist(layout)
    parts.append(f"<h2>Reporting checklist</h2><p>{int((c['by'] == 'the study').sum())} of {len(c)} items answered "
                 "by the study's outputs; the rest are the authors' to write. TRIPOD+AI items are paraphrased: use the "
                 "published checklist (Collins et al., BMJ 2024;385:e078378) when submitting.</p>")
    table = c.assign(answer=[f'<span class="{"study" if b == "the study" else "authors"}">{_inline(a)}</span>'
                             for a, b in zip(c["answer"], c["by"])])
    parts.append(table.to_html(index=False, escape=False, classes="checklist"))
    parts.append("<h2>Parameters</h2>")
    parts.append(pd.DataFrame([{"parameter": k, "value": json.dumps(v)} for k, v in sorted(p["parameters"].items())])
                 .to_html(index=False))
    parts.append("<h2>Versions</h2>")
    versions = (_manifest(layout, p["steps"][-1]) or {})["environment"]["versions"]
    parts.append(pd.DataFrame([versions]).T.reset_index().set_axis(["package", "version"], axis=1).to_html(index=False))
    parts.append("<h2>Manifests: every input and output, hashed</h2>")
    for file in layout.manifests():
        m = json.loads(file.read_text())
        rows = [{"role": "input", "file": k, "sha256": v["sha256"]} for k, v in m["inputs"].items()]
        rows += [{"role": "output", "file": o["path"], "sha256": o["sha256"]} for o in m["outputs"]]
        parts.append(f"<details><summary>{html_lib.escape(m['step'])} ({len(rows)} files)</summary>"
                     f"{pd.DataFrame(rows).to_html(index=False)}</details>")
    parts.append("<h2>Tables</h2>")
    tables = [layout.file(u.key, **dict(u.fixed)) for s in steps.STEPS.values() for u in s.writes
              if u.folder == "study" and not u.free and u.key != "figure" and str(u.path(layout)).endswith(".csv")]
    for file in [t for t in tables if t.is_file()]:
        df = pd.read_csv(file, keep_default_na=False)
        name = html_lib.escape(file.relative_to(layout.root).as_posix())
        if len(df) > MAX_ROWS:  # the splits: data, not a result (its hash is in the manifests above)
            parts.append(f"<p><code>{name}</code>: {len(df)} rows, not shown</p>")
            continue
        parts.append(f"<details><summary>{name} ({len(df)} rows)</summary>"
                     f"{df.to_html(index=False, float_format=lambda v: f'{v:.4g}')}</details>")
    parts.append("<h2>Figures</h2>")
    figures = sorted(layout.figures_dir.glob("*.png")) if layout.figures_dir.is_dir() else []
    parts += [_img(f) for f in figures + [layout.file("cam_summary")] if f.is_file()]
    parts.append("<h2>Executed notebooks</h2>")
    for nb in sorted(layout.notebooks_dir.glob("*.ipynb")) if layout.notebooks_dir.is_dir() else []:
        parts.append(f"<details><summary>{html_lib.escape(nb.name)}</summary>{_notebook(nb)}</details>")
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Study report: "
            f"{html_lib.escape(layout.name)}</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
    return atomic.write_text(page, out)


def networks_page(layout: StudyLayout, figures_to: Path | None = None) -> str:
    """The page of accuracy against cost (markdown) from ``cost/accuracy_cost.csv`` (``python -m osteolib.cost``
    after the study): every backbone's cost and AUCs, the Pareto fronts, the ensemble's gain against size; with
    ``figures_to`` the figure is copied there as ``<study>_accuracy_cost.png``."""
    file = layout.file("cost_table", name="accuracy_cost")
    if not file.is_file():
        raise FileNotFoundError(f"{file}: run `python -m osteolib.cost --study {layout.name}` after the study")
    t = pd.read_csv(file)
    p = provenance(layout)
    head = p["parameters"]
    rows = [{"backbone": r.backbone + (" (paper)" if r.paper else ""), "family": r.family,
             "parameters (M)": f"{r.params / 1e6:.1f}", "multiply-adds (M)": f"{r.macs / 1e6:.0f}",
             "latency ms (x resnet18)": f"{r.latency_ms:.1f} ({r.latency_ratio:.2f})",
             "s / epoch (image)": f"{r.epoch_seconds_image:.1f}",
             "AUC image (95% CI)": f"{_f(r.image_auc)} ({_f(r.image_ci_low)}-{_f(r.image_ci_high)})",
             "AUC ensemble (95% CI)": f"{_f(r.ensemble_auc)} ({_f(r.ensemble_ci_low)}-{_f(r.ensemble_ci_high)})",
             "ensemble gain (95% CI)": f"{r.gain:+.3f} ({r.gain_ci_low:+.3f} to {r.gain_ci_high:+.3f})",
             "DeLong p (Holm)": f"{_f(r.gain_p)} ({_f(r.gain_p_holm)})"} for r in t.itertuples()]
    fronts = []
    for x, key, what in (("macs", "macs", "multiply-adds"), ("latency_ms", "latency", "CPU latency")):
        for arm in ("image", "ensemble"):
            front = t[t[f"front_{arm}_{key}"].astype(bool)].sort_values(x)
            fronts.append(f"- {arm} arm, by {what}: " + ", ".join(f"`{b}`" for b in front.backbone))
    learned = t[t.image_ci_low > 0.5]
    chance = t[t.image_ci_low <= 0.5]
    auc = _csv(layout, "stats_table", name="bootstrap_auc")
    cov = auc[(auc.backbone == "baseline") & (auc.arm == "covariates")] if auc is not None else pd.DataFrame()
    claims = []
    for subset, who in ((t, "every backbone"), (learned, "the backbones whose image arm learned (interval above 0.5)")):
        for by in ("macs", "params"):
            g = tradeoff.gain_against_size(subset, by) if len(subset) > 2 else {"rho": float("nan"), "p": float("nan"), "n": len(subset)}
            shows = g["rho"] < 0 and g["p"] < 0.05
            claims.append(f"- {who}, by {'multiply-adds' if by == 'macs' else 'parameters'}: Spearman rho "
                          f"{_f(g['rho'], 2)} over {g['n']} backbones, p = {_f(g['p'])}: " +
                          ("smaller networks gain more here." if shows else
                           "this study does not show that smaller networks gain more."))
    if len(chance):
        claims += ["", f"{len(chance)} of the {len(t)} image arms did not learn under this protocol (their AUC's interval "
                   "includes 0.5): " + ", ".join(f"`{b}`" for b in chance.backbone) + ". Their ensembles are about what "
                   "age, sex and BMI give alone" + (f" (the covariates' logistic regression: {_f(cov.auc.iloc[0])})"
                                                    if len(cov) else "") + ", so their large gains measure the covariates, "
                   "not a lighter network's need of them."]
    out = ["# Accuracy against cost: the paper's six networks and newer ones", "",
           "Generated by `python -m osteolib.report networks` from the study's outputs (`cost/accuracy_cost.csv`, written "
           "by `python -m osteolib.cost` after the study): do not edit.", "", "## What produced them", "",
           *_provenance_lines(p), "",
           f"Design: {_design(layout, head) or str(head.get('n_folds', 'n/a')) + '-fold cross-validation'}, trained "
           f"repeat(s) (their indices): {head.get('repeats', 'n/a')}; ROI {head.get('roi_height')} x {head.get('roi_width')} px, at most "
           f"{head.get('max_epochs')} epochs, ImageNet-pretrained: {head.get('pretrained')}; every backbone with the "
           "learning rate of its `params/<backbone>.yaml` (the paper's for its six; for the newer ones the rate chosen "
           "on an independent synthetic cohort by `benchmarks/learning_rates.py`). The AUC is the mean over the trained "
           "repeats of the out-of-fold AUC with its patient-level bootstrap interval (notebook 04).", "",
           "Cost: parameters of the whole image-arm network; multiply-adds of one ROI by PyTorch's flop counter "
           "(matrix products: convolutions, linear layers, attention); latency: the median of 30 single-ROI passes on "
           f"one CPU thread ({t['device'].iloc[0]}; measured at commit `{t['commit'].iloc[0]}`), each pass "
           "interleaved with one of resnet18 (the ratio); seconds per epoch: the median training epoch (with its validation pass) of the study's own runs, "
           "one thread per job. No GPU was lent to the run that made this page: no GPU figures.", "",
           _md(pd.DataFrame(rows)), "",
           "Pareto fronts (no other network is both cheaper and more accurate):", "", *fronts, "",
           "The paper's claim that the ensemble (the image with age, sex and BMI) gains more for smaller networks:", "",
           *claims, "",
           "On the synthetic radiographs these are the networks' ranking under this protocol (its image scale, epochs "
           "and weights), not a statement about real radiographs.", ""]
    src = layout.file("figure", name="accuracy_cost")
    if figures_to is not None and src.is_file():
        figures_to.mkdir(parents=True, exist_ok=True)
        name = f"{layout.name}_accuracy_cost.png"
        shutil.copyfile(src, figures_to / name)
        out += [f"![AUC against multiply-adds and CPU latency, and the ensemble's gain against size]({name})", ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.report", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("results", help="the results page (markdown) of a study, its figures beside it")
    r.add_argument("--study", default="demo", help="study name (outputs/<study>/)")
    r.add_argument("--out", required=True, help="the page to write, e.g. docs/results/demo.md")
    r.add_argument("--readme", help="also update this README's results block")
    i = sub.add_parser("indices", help="the page of what a dentist measures, one section per study (image scale)")
    i.add_argument("--study", action="append", required=True, help="a study name (repeat for several)")
    i.add_argument("--out", required=True, help="the page to write, e.g. docs/results/indices.md")
    n = sub.add_parser("networks", help="the page of accuracy against cost (after python -m osteolib.cost)")
    n.add_argument("--study", default="networks", help="study name (outputs/<study>/)")
    n.add_argument("--out", required=True, help="the page to write, e.g. docs/results/networks.md")
    h = sub.add_parser("html", help="one self-contained HTML report of a study, with the reporting checklist")
    h.add_argument("--study", default="demo", help="study name (outputs/<study>/)")
    h.add_argument("--out", help="the HTML file (default: outputs/<study>/report.html)")
    args = ap.parse_args(argv)
    if args.command == "indices":
        print(atomic.write_text(indices_page([StudyLayout.named(n) for n in args.study]) + "\n", Path(args.out)))
        return 0
    layout = StudyLayout.named(args.study)
    if args.command == "networks":
        out = Path(args.out)
        print(atomic.write_text(networks_page(layout, out.parent), out))
        return 0
    if args.command == "results":
        out = Path(args.out)
        atomic.write_text(results_page(layout, out.parent, out.stem), out)
        if args.readme:
            readme = Path(args.readme)
            link = out.resolve().relative_to(readme.resolve().parent).as_posix()
            update_readme(readme, readme_block(layout, link))
        print(out)
    else:
        print(html(layout, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
