"""Clinicians with and without the model: a multi-reader multi-case (MRMC) reader study and its analysis.

=========  ==================================================================================
mrmc       Obuchowski-Rockette with Hillis's degrees of freedom: RRRC, FRRC, RRFC; jackknife or
           DeLong covariances; a standalone model against the readers (no file I/O)
ratings    the ratings table: read, validated (file, row, column), combined, fully crossed
analysis   each reader's AUC and the MRMC tables of a ratings table; ``python -m osteolib.readers``
=========  ==================================================================================
"""
from .analysis import STANDALONE, analyse, reader_aucs, write
from .mrmc import ANALYSES, COLUMNS, Aucs, aucs, components, or_hillis, versus_standalone
from .ratings import combine, crossed, read

__all__ = ["STANDALONE", "analyse", "reader_aucs", "write", "ANALYSES", "COLUMNS", "Aucs", "aucs", "components",
           "or_hillis", "versus_standalone", "combine", "crossed", "read"]
