"""osteolib: osteoporosis screening from dental panoramic radiographs (Sukegawa et al. 2022).

Module map
----------
=============  ===========================================================================
paths          repository root from ``__file__``, study folders; nothing depends on the cwd
config         frozen dataclasses that validate each notebook's parameters
repro          seeding, environment report, git state, file hashes, the run manifest
atomic         outputs appear whole or not at all (temporary name, then rename)
errors         the input error that names the file, the row and the column
synthetic      the synthetic cohort generator (``python -m osteolib.synthetic``)
cohort         reading and validating the clinical table, labels, exclusions, flow, cohort table
splits         repeated stratified folds with inner validation split, saved once, checked
images         reading radiographs (TIFF, PNG, JPEG; 8/16 bit; colour) as 8-bit gray
roi            crop geometry (pure) and cropping a data folder
plots          every figure
models         the backbone registry and the two heads (image, ensemble)
datasets       ROIs as one uint8 tensor on the device, the covariate scaler, on-device augmentation
training       one fold with early stopping; the repeat loop that resumes; folds at once
metrics        accuracy, ROC AUC, precision, recall, specificity, F1 per fold and per repeat
runs           which models a study has, and their validated predictions
baselines      logistic regression on the covariates and the OSTA index, on the same splits
stats          the paper's comparison, CIs, corrected tests, DeLong, bootstrap, the paper's tables
bench          the epoch benchmark (``python -m osteolib.bench``)
=============  ===========================================================================
"""
__version__ = "0.1.0"
