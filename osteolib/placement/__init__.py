"""Automatic ROI placement: a keypoint detector for the mental foramina, trained by the project.

The paper placed its ROIs from a clinician's landmark; this finds the landmark without one.
A small fully convolutional network looks at the whole radiograph resized to 128 x 256 px (about
12x below full size; the aspect ratio of a panoramic), with two coordinate channels so it knows
where in the image it looks (CoordConv), and predicts one heatmap per keypoint (the left and the
right mental foramen) at a quarter of that resolution. The position is the heatmap's soft-argmax
(sub-cell precision); the confidence is the share of the heatmap's probability within two cells of
its peak. A side-marker reader says whether the radiograph is mirrored: panoramic units burn in a
letter ("L", "R") in a corner, and the reader reads each corner on its own at a finer scale, so a unit
that prints its letter elsewhere is not taken for a mirror. A blank or mirrored radiograph, or one
unlike anything seen in training, is flagged rather than cropped.

Training uses strong augmentation so that it does not learn the look of one generator or one
machine: exposure (gain, offset), contrast, gamma, blur, noise, scale, shift and small rotations,
applied to the batch on the device from a seeded generator, with the keypoints moved along.

Written by hand (no library does heatmap keypoints for this task); the network is deliberately
small so that it trains on a laptop CPU in minutes.

==========  ===============================================================================
network     the detector, its input (:func:`prepare`) and the decoding of its heatmaps
marker      the side-marker reader: the corners of a radiograph, none / letter / mirrored letter
augment     the training augmentation, and another machine's look for evaluations
fit         heatmap targets, the training set of a data folder, the keypoints' training
loop        the seeded training loop the detector's parts share
infer       placing one radiograph (or a batch) and the verdict: flag, never guess
storage     a trained detector on disk (weights + card, :mod:`osteolib.cards`)
evaluate    errors against a data folder's landmarks, and their summary
landmarks   notebook 02's automatic landmarks: the flagged patients listed, not cropped
==========  ===============================================================================

``python -m osteolib.placement train|evaluate`` (:mod:`osteolib.placement.__main__`).
"""
from .augment import Augment, perturb
from . import marker
from .evaluate import error_summary, evaluate, mirror_check
from .fit import DetectorSettings, load_set, train
from .infer import place, predict
from .landmarks import auto_landmarks
from .network import BORDER, INPUT, KEYPOINTS, STRIDE, Detector, decode, names, prepare, standardise
from .storage import FORMAT, load, save

__all__ = ["marker", "Augment", "perturb", "error_summary", "evaluate", "mirror_check", "DetectorSettings", "load_set", "train", "place",
           "predict", "auto_landmarks", "BORDER", "INPUT", "KEYPOINTS", "STRIDE", "Detector", "decode", "names",
           "prepare", "standardise", "FORMAT", "load", "save"]
