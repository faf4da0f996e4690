"""The hospitals of a multi-centre synthetic cohort: each its own population, units and landmarking clinician.

A site is drawn exactly as the study's hospital is (:mod:`osteolib.synthetic.clinical`, label first): its
own counts (screened patients, osteoporosis prevalence, women among the osteoporotic and the others), its
own age and BMI per label (mean, SD), the units its radiographs are taken on
(:data:`~osteolib.synthetic.radiograph.DEVICES`) and the SD of its clinician's landmark. What links a
radiograph to the label, the bone and the T-score model, is the same everywhere: a site differs from
the study only by what is planted in it, recorded in ``synthetic.json`` (``sites``) with where its numbers
come from.

The presets (:data:`SITES`):

* ``study``: the paper's hospital (Sukegawa et al. 2022, Table 3; its one unit P1). Drawn from the master
  seed exactly as the single-site cohort is: the same patients, Table 3 exact at 902 screened.
* ``dxa_clinic``: a DXA clinic of older women like the paper's, the same unit and clinician's error, but
  half its patients osteoporotic: a pure prevalence shift (the label's share; what a radiograph or a
  covariate says given the label is unchanged).
* ``dental_clinic``: a general dental clinic: younger patients, more men, fewer with osteoporosis
  (12 %), another unit (P2) and a less careful landmarking (1.1 mm per axis): population, unit and
  clinician all shifted. Its numbers are illustrative, set in the direction population studies
  point (osteoporosis at the lumbar spine in 19 % of Japanese women and 3 % of men over 40 in the ROAD
  study, Yoshimura et al., J Bone Miner Metab 27:620, 2009; a dental clinic sees the general public,
  not patients sent for DXA); no publication gives a dental clinic's DXA cohort.
* ``other_unit``: a hospital of the paper's population and clinician's error whose radiographs come
  from another unit (P3: blurrier, side collimation, another gamma): a pure device shift.

Examples
--------
>>> [s.name for s in parse("study:902,dxa_clinic:120")]
['study', 'dxa_clinic']
>>> parse("dxa_clinic")[0].n_screened, parse("dxa_clinic")[0].prevalence
(240, 0.5)
"""
from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, replace

from .clinical import LANDMARK_SD_MM, PAPER_AGE, PAPER_BMI, PAPER_GROUPS, PAPER_SCREENED
from .radiograph import DEVICES

__all__ = ["Site", "SITES", "STUDY", "parse", "seed_key"]

_paper_n = {label: PAPER_GROUPS[(label, "F")] + PAPER_GROUPS[(label, "M")] for label in (0, 1)}
#: The paper's shares: osteoporosis among the included (237 / 778), women per label (223 / 237, 346 / 541).
PAPER_PREVALENCE = _paper_n[1] / (_paper_n[0] + _paper_n[1])
PAPER_FEMALE = {label: PAPER_GROUPS[(label, "F")] / _paper_n[label] for label in (0, 1)}


@dataclass(frozen=True)
class Site:
    """One hospital of a multi-centre synthetic cohort (see the module docstring)."""

    name: str
    code: str                      # the first letter of its patients' identifiers
    n_screened: int
    shift: str                     # what is planted, in words
    source: str                    # where its numbers come from
    prevalence: float = PAPER_PREVALENCE
    female: dict = field(default_factory=lambda: dict(PAPER_FEMALE))
    age: dict = field(default_factory=lambda: dict(PAPER_AGE))
    bmi: dict = field(default_factory=lambda: dict(PAPER_BMI))
    devices: tuple = ("P1",)
    landmark_sd_mm: float = LANDMARK_SD_MM

    def __post_init__(self):
        unknown = sorted(set(self.devices) - set(DEVICES))
        if unknown:
            raise ValueError(f"site {self.name}: unknown devices {unknown} (choose among {sorted(DEVICES)})")
        if not 0 < self.prevalence < 1:
            raise ValueError(f"site {self.name}: prevalence must be in (0, 1), got {self.prevalence}")
        if self.n_screened < 20:
            raise ValueError(f"site {self.name}: at least 20 screened patients, got {self.n_screened}")

    @property
    def is_paper(self) -> bool:
        """Whether the site is drawn as the paper's hospital (its counts scaled from Table 3)."""
        return self.name == "study"

    def as_json(self) -> dict:
        d = asdict(self)
        d["devices"] = list(self.devices)
        for k in ("female", "age", "bmi"):
            d[k] = {str(label): v if k == "female" else list(v) for label, v in d[k].items()}
        return d


#: The preset sites (the module docstring says what each plants and where its numbers come from).
SITES = {s.name: s for s in (
    Site("study", "P", PAPER_SCREENED, "none: the paper's hospital",
         "Sukegawa et al. 2022, Table 3 (counts, sex, age and BMI per label); its one unit P1"),
    Site("dxa_clinic", "D", 240, "prevalence (0.50 instead of 0.30); nothing else",
         "the paper's population per label, its unit and clinician's error; the prevalence planted",
         prevalence=0.5),
    Site("dental_clinic", "G", 240, "population (younger, more men, prevalence 0.12), unit P2, landmark SD 1.1 mm",
         "illustrative: set in the direction of the ROAD study (Yoshimura et al. 2009: osteoporosis in 19 % of "
         "women and 3 % of men over 40) for a clinic of the general public",
         prevalence=0.12, female={0: 0.50, 1: 0.85}, age={0: (56.0, 14.0), 1: (71.0, 8.0)},
         bmi={0: (23.2, 3.6), 1: (21.6, 3.3)}, devices=("P2",), landmark_sd_mm=1.1),
    Site("other_unit", "U", 240, "unit (P3 instead of P1); nothing else",
         "the paper's population per label and clinician's error; another unit of radiograph.DEVICES",
         devices=("P3",)),
)}
STUDY = SITES["study"]


def parse(text: str) -> list[Site]:
    """``"study:902,dxa_clinic:240"`` (a preset's name, optionally with its screened patients) -> sites."""
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        name, _, n = item.partition(":")
        if name not in SITES:
            raise ValueError(f"unknown site {name!r}: choose among {', '.join(SITES)}")
        site = SITES[name]
        out.append(replace(site, n_screened=int(n)) if n else site)
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"a site is named twice in {text!r}")
    if not out:
        raise ValueError("no site given")
    return out


def seed_key(site: Site) -> tuple[int, ...]:
    """The site's key into the master seed: () for the study (drawn as the single-site cohort), else a
    stable number from its name (so adding a site never changes another's patients)."""
    return () if site.is_paper else (zlib.crc32(site.name.encode()),)
