"""osteolib: osteoporosis screening from dental panoramic radiographs (Sukegawa et al. 2022).

Module map
----------
=============  ===========================================================================
paths          repository root from ``__file__``; the outputs and data roots (env overrides)
layout         the one owner of a study's folder grammar (``StudyLayout``, ``FILES``)
datafolder     the one owner of a data folder, the study's input (``DataFolder``, the columns)
steps          the study's contract as data: what each step reads, writes and declares (``STEPS``)
backbones      the backbone registry (pure data: features, Grad-CAM layer, normalisation, weights; timm's too)
settings       the typed configurations, one default each (the paper's): ``NetworkConfig``,
               ``TrainingSettings``, ``RoiGeometry``
config         frozen dataclasses that validate each notebook's parameters; profiles
repro          seeding, environment report, git state, file hashes, the run manifest
atomic         outputs appear whole or not at all (temporary name, then rename)
errors         InputError (file, row, column) and ParameterError
synthetic      the synthetic cohort generator (``python -m osteolib.synthetic``), truth readers,
               ``synthetic.export``: the cohort as a messy hospital export (``--export messy``)
validation     every fault of a table at once (pandera, lazy) as file, row, column, value, severity, problem, what to do
cohort         reading and validating the clinical table, labels, exclusions, flow, cohort table
splits         repeated stratified folds with inner validation split, saved once, checked
images         reading radiographs (TIFF, PNG, JPEG, DICOM; 8/16 bit; colour) as 8-bit gray
pixels         the one display rule (window, else the detector depth; luma), gray span, text in a corner
dicom          DICOM decoding (every transfer syntax, the decoder plugins) and its display pipeline
roi            validated landmarks, cropping a data folder (its geometry: ``settings.RoiGeometry``)
indices        what a dentist measures: MCW, PMI (``indices.cortex``), the Klemetti grader, agreement; notebook 02b
plots          every figure
models         the networks: a registered backbone under the two heads (image, ensemble)
datasets       ROIs as one uint8 tensor on the device, the covariate scaler, on-device augmentation
training       the one training loop; one fold with early stopping; repeats that resume
cards          saved networks: safetensors weights beside a JSON card with their SHA-256
checkpoints    a trained network from its card and back, without the training loop
metrics        accuracy, ROC AUC, precision, recall, specificity, F1 per fold and per repeat
runs           which models a study has, and their validated predictions
baselines      the covariates, OSTA and what a dentist measures (MCW rule, MCW + PMI, MCI), on the same splits
oracle         the synthetic cohort's bound: logistic regression on the generator's truth
stats          tests and intervals: corrected and Bayesian t-tests, the paper's, DeLong, bootstrap
meta           random-effects meta-analysis of per-site results (statsmodels): pooled, tau2, I2, prediction interval
updating       a model updated for a new site (recalibration in the large, logistic) and its learning curve
sites          per-site AUC, calibration and Brier score, pooled over sites (meta) with a prediction interval
external       notebook 06: internal-external validation over sites, and a model carried to a new site and updated
calibration    calibration intercept and slope, Brier score, reliability diagram data
utility        net benefit (decision curves), sensitivity at a fixed specificity
subgroups      performance by sex and age band, with bootstrap intervals
simulate       each test's type-I error and power on a study's own splits
tables         notebook 04's tables: comparisons, the paper's tables, calibration, utility
cam            Grad-CAM and guided backpropagation (``cam.method``) and notebook 05 (``cam.pipeline``)
contribution   what the image and the covariates contribute to a prediction's log-odds (two-input Shapley values)
placement      the ROI detector (``python -m osteolib.placement``), one module per part
bundle         a trained model as a screening bundle (``python -m osteolib.bundle``)
screen         screening new patients with a bundle (``python -m osteolib.screen``)
annotate       landmarking and measuring the cortex in JupyterLab: clicks and keys, saved after every patient
ingest         a hospital export and a YAML mapping to the input layout (``python -m osteolib.ingest``)
readers        a reader study's MRMC analysis: OR-Hillis RRRC/FRRC/RRFC, the model vs readers (``python -m osteolib.readers``)
report         a study's results page, the README's lines about it, the HTML report and its checklist
workflow       the job plan of a profile, the notebook runner of the Snakemake jobs
bench          the epoch benchmark (``python -m osteolib.bench``)
cost           what a network costs: parameters, multiply-adds, CPU latency, epochs (``python -m osteolib.cost``)
tradeoff       accuracy against cost: the AUCs beside the cost, the Pareto fronts, the gain against size
=============  ===========================================================================
"""
__version__ = "0.1.0"
