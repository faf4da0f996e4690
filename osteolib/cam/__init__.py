"""Grad-CAM, guided backpropagation and guided Grad-CAM for both arms of every backbone.

=========  ==================================================================================
method     the method on one network: a one-input wrapper for pytorch-grad-cam, guided
           backpropagation for ReLU and SiLU/Swish, guided Grad-CAM (no file or study I/O)
pipeline   notebook 05's pipeline over a study's kept models: examples, panels, summary,
           localisation on the cortex
=========  ==================================================================================
"""
from ..settings import TARGETS
from .method import Explainer, Explanation, GuidedActivation, OneInput, band_share, guided_copy
from .pipeline import (CATEGORIES, StudyInputs, contributions, cortex_bands, kept_models, localisation, measured_bands, run,
                       select_examples, summarise_contributions, summarise_localisation)

__all__ = ["TARGETS", "Explainer", "Explanation", "GuidedActivation", "OneInput", "band_share", "guided_copy",
           "CATEGORIES", "StudyInputs", "contributions", "cortex_bands", "kept_models", "localisation", "measured_bands",
           "run", "select_examples", "summarise_contributions", "summarise_localisation"]
