"""The one owner of a data folder, the study's input: which file holds what, and their columns.

::

    <data_dir>/
      clinical.csv      one row per patient: CLINICAL_COLUMNS [+ SPACING_COLUMNS, each image's pixel spacing]
                        [+ SITE_COLUMN, the hospital of a multi-centre study]
      landmarks.csv     the mental foramina: LANDMARK_COLUMNS (x, y in pixels of the full image)
      images/           the radiographs (TIFF, PNG, JPEG or DICOM; clinical.csv's ``image`` is relative to the folder)
      images.csv        what ingest did to each radiograph (IMAGE_COLUMNS: decoder, display mapping, burned-in text, text in a corner)
      landmarking.csv   notebook 00's landmarking log: per point, proposal or click, and when
      measurements/<reader>.csv   a clinician's manual MCW and MCI (notebook 00's measuring widget): MEASUREMENT_COLUMNS
      readings/<reader>.csv       a clinician's ratings in a reader study (notebook 00's reading widget)
      ingest.json       what ``python -m osteolib.ingest`` made the folder from (provenance)
      synthetic.json    the synthetic generator's parameters (a synthetic cohort only)
      truth.csv         the synthetic cohort's ground truth (real data carry none)
      cortex/<patient_id>.png   the synthetic truth's mask of the lower-border cortex
      counterfactual.csv, counterfactual/<patient_id>.tif   a multi-centre synthetic cohort: a site's radiographs
                        rendered through the study's unit too (the device shift alone)
    <data_dir>-key.csv          beside it, never inside: ingest's pseudonym key
    <data_dir>-validation.csv   beside it: every fault of an export that could not be ingested

Every module and notebook that reads or writes one of these asks :class:`DataFolder` where it is;
the readers that validate them are :mod:`osteolib.cohort` (clinical table), :mod:`osteolib.roi`
(landmarks), :mod:`osteolib.images` (radiographs) and :mod:`osteolib.synthetic` (truth).

Examples
--------
>>> d = DataFolder("data/demo")
>>> d.landmarks_csv.as_posix(), d.image_name("P0001")
('data/demo/landmarks.csv', 'images/P0001.png')
>>> d.key_csv.name
'demo-key.csv'
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLINICAL_COLUMNS", "SPACING_COLUMNS", "SITE_COLUMN", "LANDMARK_COLUMNS", "MEASUREMENT_COLUMNS", "TRUTH_COLUMNS",
           "IMAGE_COLUMNS", "CLINICAL",
           "LANDMARKS", "TRUTH", "IMAGE_FACTS", "SYNTHETIC", "DataFolder"]

#: Columns of clinical.csv, in order.
CLINICAL_COLUMNS = ("patient_id", "image", "sex", "age", "height_cm", "weight_kg", "tscore_hip",
                    "tscore_spine", "antiresorptive", "foreign_body", "mandibular_fracture",
                    "poor_quality", "dxa_date", "radiograph_date")
#: Optional columns of clinical.csv: the pixel spacing of each image, in mm (rows, columns), as ingest records it.
SPACING_COLUMNS = ("spacing_row_mm", "spacing_col_mm")
#: Optional column of clinical.csv: the hospital (site) of each patient, in a multi-centre study.
SITE_COLUMN = "site"
#: Columns of landmarks.csv.
LANDMARK_COLUMNS = ("patient_id", "side", "x", "y")
#: Columns of a clinician's measurements/<reader>.csv: per patient and side, the two margins clicked on the cortex
#: below the foramen (pixels of the full image), the width between them (radiographic mm, through the image's
#: pixel spacing), the Klemetti grade (C1/C2/C3; empty: not graded) and when it was saved.
MEASUREMENT_COLUMNS = ("patient_id", "side", "periosteal_x", "periosteal_y", "endosteal_x", "endosteal_y", "mcw_mm",
                       "mci", "saved_at")
#: Columns every truth.csv has (the rendering adds ``border_y`` and others).
TRUTH_COLUMNS = ("patient_id", "tscore", "label", "mcw_mm", "cortical_index")

#: Columns of images.csv: per radiograph, how it was read and displayed (no identifier; see osteolib.images).
IMAGE_COLUMNS = ("patient_id", "format", "height", "width", "transfer_syntax", "decoder", "photometric",
                 "bits_stored", "mapping", "mapped_from", "inverted", "padding_pixels", "burned_in", "corner_text",
                 "gray_low", "gray_high")

#: The files' names (use the properties of :class:`DataFolder`; these are for messages and docs).
CLINICAL, LANDMARKS, IMAGES, TRUTH, IMAGE_FACTS = "clinical.csv", "landmarks.csv", "images", "truth.csv", "images.csv"
_LANDMARKING, _INGEST, _CORTEX, _MEASUREMENTS, _READINGS = ("landmarking.csv", "ingest.json", "cortex", "measurements",
                                                            "readings")
SYNTHETIC = "synthetic.json"
_SYNTHETIC = SYNTHETIC


@dataclass(frozen=True)
class DataFolder:
    """The files of one data folder below ``root``."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    clinical_csv = property(lambda self: self.root / CLINICAL, doc="``clinical.csv``: the clinical table")
    landmarks_csv = property(lambda self: self.root / LANDMARKS, doc="``landmarks.csv``: the mental foramina")
    images_dir = property(lambda self: self.root / IMAGES, doc="``images/``: the radiographs")
    images_csv = property(lambda self: self.root / IMAGE_FACTS, doc="``images.csv``: how each radiograph was read")
    landmarking_csv = property(lambda self: self.root / _LANDMARKING, doc="``landmarking.csv``: notebook 00's log")
    measurements_dir = property(lambda self: self.root / _MEASUREMENTS,
                                doc="``measurements/``: the clinicians' manual measurements, one file per reader")
    ingest_json = property(lambda self: self.root / _INGEST, doc="``ingest.json``: what the folder was ingested from")
    synthetic_json = property(lambda self: self.root / _SYNTHETIC, doc="``synthetic.json``: the generator's parameters")
    truth_csv = property(lambda self: self.root / TRUTH, doc="``truth.csv``: the synthetic cohort's ground truth")
    cortex_dir = property(lambda self: self.root / _CORTEX, doc="``cortex/``: the synthetic truth's cortex masks")
    counterfactual_dir = property(lambda self: self.root / "counterfactual",
                                  doc="``counterfactual/``: radiographs rendered through the study's unit")
    counterfactual_csv = property(lambda self: self.root / "counterfactual.csv",
                                  doc="``counterfactual.csv``: which patients' radiographs were rendered through the study's unit")
    key_csv = property(lambda self: self.root.with_name(f"{self.root.name}-key.csv"),
                       doc="``<data_dir>-key.csv`` beside the folder: ingest's pseudonym key (default place)")
    validation_csv = property(lambda self: self.root.with_name(f"{self.root.name}-validation.csv"),
                              doc="``<data_dir>-validation.csv`` beside the folder: an export's faults")

    def image(self, relative: str | Path) -> Path:
        """A radiograph by the path clinical.csv records (relative to the folder)."""
        return self.root / relative

    @staticmethod
    def image_name(patient_id: str, suffix: str = ".png") -> str:
        """The path clinical.csv records for a radiograph the project writes (ingest, the generator)."""
        return f"{IMAGES}/{patient_id}{suffix}"

    readings_dir = property(lambda self: self.root / _READINGS,
                            doc="``readings/``: the clinicians' ratings in a reader study, one file per reader")

    def reading(self, reader: str) -> Path:
        """One clinician's ratings in a reader study (``readings/<reader>.csv``)."""
        return self.readings_dir / f"{reader}.csv"

    def measurements(self, reader: str) -> Path:
        """One clinician's manual measurements (``measurements/<reader>.csv``)."""
        return self.measurements_dir / f"{reader}.csv"

    def counterfactual_image(self, patient_id: str) -> Path:
        """A synthetic patient's radiograph rendered through the study's unit."""
        return self.counterfactual_dir / f"{patient_id}.tif"

    def cortex_mask(self, patient_id: str) -> Path:
        """A synthetic patient's cortex mask (a bool PNG the size of the radiograph)."""
        return self.cortex_dir / f"{patient_id}.png"

    @property
    def is_synthetic(self) -> bool:
        """Whether the folder holds a synthetic cohort (with its ground truth)."""
        return self.synthetic_json.is_file() and self.truth_csv.is_file()
