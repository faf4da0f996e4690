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
=============  ===========================================================================
"""
__version__ = "0.1.0"
