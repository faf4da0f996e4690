"""Clinicians with and without the model: a multi-reader multi-case (MRMC) reader study and its analysis.

=========  ==================================================================================
mrmc       Obuchowski-Rockette with Hillis's degrees of freedom: RRRC, FRRC, RRFC; jackknife or
           DeLong covariances; a standalone model against the readers (no file I/O)
ratings    the ratings table: read, validated (file, row, column), combined, fully crossed
analysis   each reader's AUC and the MRMC tables of a ratings table; ``python -m osteolib.readers``
design     the case set and every reader's sessions (counterbalanced, a washout, seeded orders)
simulate   SIMULATED readers on the synthetic truth, for the demo and the tests
study      notebook 07: design, readings (clinicians', else simulated), analysis, figure
=========  ==================================================================================
"""
from .analysis import STANDALONE, analyse, reader_aucs, write
from .mrmc import ANALYSES, COLUMNS, Aucs, aucs, components, or_hillis, versus_standalone
from .ratings import combine, crossed, read
from . import study

__all__ = ["STANDALONE", "analyse", "reader_aucs", "write", "ANALYSES", "COLUMNS", "Aucs", "aucs", "components",
           "or_hillis", "versus_standalone", "combine", "crossed", "read", "study"]
