"""What a dentist measures on a panoramic radiograph: the mandibular cortical width (MCW, the mental index),
the panoramic mandibular index (PMI) and Klemetti's mandibular cortical index (MCI), at each mental foramen.

=========  ==================================================================================
cortex     the measurement on one radiograph: the lower border, the perpendicular through the
           foramen, the two margins of the cortex by a blurred two-edge model, MCW and PMI, the
           morphology Klemetti grades (no file I/O)
klemetti   the MCI grader: a small model trained on graded examples; weighted kappa
agreement  Bland-Altman limits, ICC(A,1) (pingouin), the rows of ``indices/agreement.csv``
study      notebook 02b's pipeline: a data folder measured, graded and compared with the truth
           and the clinicians; ``indices/`` written whole
=========  ==================================================================================
"""
from .agreement import bland_altman, icc
from ..settings import MeasureSettings
from .cortex import REASONS, Measurement, measure, morphology
from .klemetti import FEATURES, GRADES, cross_grade, kappa
from .study import COLUMNS, agreement_table, grade, measure_folder, per_patient, read, read_patients, run, summary

__all__ = ["bland_altman", "icc", "REASONS", "MeasureSettings", "Measurement", "measure", "morphology", "FEATURES",
           "GRADES", "cross_grade", "kappa", "COLUMNS", "agreement_table", "grade", "measure_folder", "per_patient", "read",
           "read_patients", "run", "summary"]
