"""Rendering of one panoramic radiograph (generator v6).

The picture is a radiodensity map (brighter = more attenuating) built in the *anatomical frame*
(the head as the unit positions it), turned by the patient's head tilt, then passed through the
device:

1. the skull and soft tissues, smooth and out of the focal trough, at a quarter of the resolution:
   the head's soft tissue and the neck below the mandible, nose, lips and ear lobes; the hard palate
   (and its fainter ghost), the nasal cavity with septum and inferior turbinates, the maxillary sinuses
   with their floors, the orbits' lower rims, the zygomatic arches and buttresses, the articular
   eminences and mastoids, the styloid processes, the cervical spine at both edges and its ghost over
   the chin, the hyoid (body and greater horns) on both sides below the mandible, the pharyngeal
   airway across each ramus, the soft palate, the tongue and the palatoglossal air space above it;
2. the mandible at full resolution: the body between its lower border ``yb(x)`` and the alveolar crest
   (resorbed where teeth are missing, the ridge of an edentulous patient), and each ramus as a plate
   from the gonial angle to the condyle and the coronoid process with the sigmoid notch between them;
   the lower-border cortex (width, endosteal margin and porosity set by the bone state), trabecular
   bone (band-pass noise, coarser and sparser as the status falls), the mandibular canal from the
   mandibular foramen in the ramus to each mental foramen, and the mental foramina;
3. the maxillary alveolar process, and the teeth of both arches, crowns meeting at the occlusal plane
   (a "smile", stronger or weaker with the head's positioning), each with its roots (one, two or three),
   pulp and enamel; the roots of the lower teeth end above the canal and the foramen, as in real jaws;
   restorations (amalgam and composite fillings, crowns, root-canal fillings, bridges) and implants;
4. the device: exposure, gamma, contrast, edge enhancement, blur, noise, vignetting, collimation edges
   and a burned-in side marker ("L", "R" or none, where the device puts it).

Lengths of anatomy are anatomical millimetres, drawn at the panoramic magnification :data:`MAG` (1.25)
on the detector's pixel spacing (0.1 mm at scale 1), so a scaled image shows the same anatomy. At
scale 1 on the default device the lower border lies at about 0.91 of the height below the foramina
(which lie at 0.36 and 0.64 of the width), the foramina 150-200 px above it, as on real panoramic
radiographs of about 2943 x 1435 px.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = ["FULL_WIDTH", "FULL_HEIGHT", "FULL_PX_MM", "MAG", "LOWER_WIDTH", "LOWER_CROWN", "LOWER_ROOT",
           "UPPER_WIDTH", "UPPER_CROWN", "UPPER_ROOT", "DEVICES", "ACQUISITION", "Anatomy", "render", "FORAMEN_AXES_MM", "FORAMEN_MARGIN_MM",
           "marker_box", "glyph"]

FULL_WIDTH, FULL_HEIGHT, FULL_PX_MM = 2964, 1464, 0.1
#: Panoramic magnification of the anatomy on the detector (about 1.2-1.3 on real units).
MAG = 1.25
#: The mental foramen's half-axes (anatomical mm, horizontal and vertical) and where its inferior margin lies:
#: its density dip is exp(-r^4), steepest at r = (3/4)^(1/4) = 0.93 of the half-axis.
FORAMEN_AXES_MM = (1.4, 1.15)
FORAMEN_MARGIN_MM = 0.75 ** 0.25 * FORAMEN_AXES_MM[1]

#: Tooth widths as the panoramic shows them (detector mm), from the midline outwards: incisors,
#: canine, premolars, molars; crown and root lengths are anatomical (mm).
LOWER_WIDTH = (7.5, 7.5, 8.5, 9.5, 9.5, 12.5, 12.5, 11.5)
LOWER_CROWN = (9.0, 9.5, 10.0, 8.5, 8.0, 7.5, 7.0, 7.0)
LOWER_ROOT = (12.5, 14.0, 14.0, 14.0, 14.5, 14.0, 13.0, 11.0)
UPPER_WIDTH = (8.5, 7.0, 8.5, 9.0, 9.0, 12.0, 11.0, 10.0)
UPPER_CROWN = (10.5, 9.0, 10.0, 8.5, 7.5, 7.5, 7.0, 6.5)
UPPER_ROOT = (13.0, 13.0, 15.5, 14.0, 14.0, 12.5, 11.5, 11.0)

#: The panoramic units of the synthetic world. Canvas in pixels at scale 1 (0.1 mm), the side marker
#: (letter, corner; None: no marker) and the look of the image processing (multipliers of the
#: per-patient draws in ``clinical._acquisition``). "P1" is the study's unit (the paper's hospital used
#: one); the others give the ROI detector the variety of other clinics.
DEVICES = {
    "P1": dict(canvas=(2964, 1464), marker=("L", "bottom-right"), gamma=0.92, contrast=1.00, sharpen=0.0,
               blur=1.0, noise=1.0, vignette=0.10, collimation=None),
    "P2": dict(canvas=(2880, 1504), marker=("R", "top-left"), gamma=0.85, contrast=1.15, sharpen=0.6,
               blur=0.8, noise=1.3, vignette=0.25, collimation=None),
    "P3": dict(canvas=(2740, 1380), marker=("L", "top-right"), gamma=1.20, contrast=0.85, sharpen=0.0,
               blur=1.6, noise=0.8, vignette=-0.15, collimation="sides"),
    "P4": dict(canvas=(3060, 1540), marker=None, gamma=0.95, contrast=1.05, sharpen=0.3,
               blur=1.2, noise=0.7, vignette=0.0, collimation="top-bottom"),
    "P5": dict(canvas=(2800, 1440), marker=("R", "bottom-left"), gamma=0.90, contrast=1.25, sharpen=1.0,
               blur=0.9, noise=1.1, vignette=0.20, collimation=None),
}
#: The columns of ``truth.csv`` that record a radiograph's acquisition (drawn with the tables).
ACQUISITION = ("device", "width", "height", "marker", "marker_corner", "exposure", "gamma", "contrast",
               "sharpen", "blur_mm", "noise", "vignette", "collimation_mm", "tilt_deg", "shift_x_mm",
               "shift_y_mm", "smile", "tongue_gap_mm")


@dataclass(frozen=True)
class Anatomy:
    """Per-patient parameters of one radiograph (pixel values are in the scaled image; the foramina
    are where they lie in the finished image, after the head's tilt)."""

    width: int
    height: int
    px_mm: float
    left_foramen: tuple[float, float]
    right_foramen: tuple[float, float]
    border_depth_mm: float
    mcw_mm: float
    cortical_index: str
    texture_t: float        # the T-score the trabecular texture shows (T plus biological noise)
    p_missing_tooth: float
    edentulous: bool
    device: str = "P1"
    exposure: float = 1.0
    gamma: float = 1.0
    contrast: float = 1.0
    sharpen: float = 0.0
    blur_mm: float = 0.12
    noise: float = 1.0
    vignette: float = 0.1
    collimation_mm: float = 0.0
    tilt_deg: float = 0.0
    smile: float = 1.0
    tongue_gap_mm: float = 3.0


def _sig(z):
    """Logistic function (soft edges)."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


@lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(height, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)[None, :])


def _smooth_curve(rng, n: int, amplitude: float, knots: int = 12) -> np.ndarray:
    """A slowly varying random curve of length n (cubic interpolation of random knots)."""
    k = rng.normal(0, amplitude, knots + 4)
    return ndimage.zoom(k, n / len(k), order=3, mode="nearest")[:n].astype(np.float32)


class _Frame:
    """The anatomical frame of one radiograph: where the head's landmarks lie before the tilt, and the
    units (``s``: pixels per detector mm; ``m``: pixels per anatomical mm)."""

    def __init__(self, a: Anatomy):
        self.a = a
        self.W, self.H = a.width, a.height
        self.s = 1.0 / a.px_mm
        self.m = MAG / a.px_mm
        self.cx, self.cy = (self.W - 1) / 2, (self.H - 1) / 2
        (lx, ly), (rx, ry) = (self.untilt(*a.left_foramen), self.untilt(*a.right_foramen))
        self.left, self.right = (lx, ly), (rx, ry)
        self.mid, self.yF = 0.5 * (lx + rx), 0.5 * (ly + ry)
        self.S = 0.5 * (lx - rx) / 0.28           # the foramina sit at t = +-0.28
        self.slope = (ly - ry) / (lx - rx)        # the jaw's own left-right slant
        self.yO = self.yF - 35 * self.s           # occlusal plane at the foramina's columns

    def untilt(self, x: float, y: float) -> tuple[float, float]:
        """Finished-image pixel -> anatomical frame (the inverse of the head's tilt about the centre)."""
        r = np.radians(self.a.tilt_deg)
        dx, dy = x - self.cx, y - self.cy
        return (self.cx + np.cos(r) * dx + np.sin(r) * dy, self.cy - np.sin(r) * dx + np.cos(r) * dy)

    def t(self, x):
        return (x - self.mid) / self.S

    def occlusal(self, x):
        """Row of the occlusal plane: lowest at the incisors, rising towards the molars (the smile)."""
        t = self.t(x)
        return self.yO + self.slope * (x - self.mid) - self.a.smile * 2.5 * self.s * ((t / 0.28) ** 2 - 1)

    def border(self, x):
        """Lower border of the mandibular body (before the angle): 4 mm lower at the chin than below
        the foramina, rising by about 23 mm to the gonial angle."""
        t = self.t(x)
        depth = self.a.border_depth_mm * self.m
        return self.yF + depth + self.slope * (x - self.mid) + 62 * self.s * (0.28 ** 2 - t ** 2)


def _soft_layer(rng, f: _Frame) -> np.ndarray:
    """Skull and soft tissue (out of the focal trough: smooth) at quarter resolution, upsampled."""
    a = f.a
    q = 4
    h, w = max(8, a.height // q), max(8, a.width // q)
    Y = (np.arange(h, dtype=np.float32)[:, None] + 0.5) * a.height / h
    X = (np.arange(w, dtype=np.float32)[None, :] + 0.5) * a.width / w
    s, mid, W = f.s, f.mid, f.W
    jit = lambda sd: float(rng.normal(0, sd))
    U = np.abs(X - mid) / f.S                                           # |t|: 0 midline, 0.28 foramina

    def ellipse(cx, cy, rx, ry, edge=0.25):
        r = np.sqrt(((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2)
        return _sig((1 - r) / edge)

    def both(fn, t, *args, **kw):                                       # a structure on both sides
        return fn(mid - t * f.S, *args, **kw) + fn(mid + t * f.S, *args, **kw)

    yO, yP = f.yO, f.yO - 27 * s                                        # occlusal plane, hard palate
    yb0 = f.border(mid) + 2 * s
    d = np.full((h, w), 0.20, dtype=np.float32)                         # the head's soft tissue
    d += 0.10 * _sig((yP - 40 * s - Y) / (25 * s))                      # skull base above the maxilla
    # below the mandible: the neck, thinner towards the lower corners
    neck = _sig((Y - (f.border(X) + 8 * s)) / (6 * s)) * _sig((U - 0.45) / 0.06)
    d -= 0.08 * neck
    d -= 0.06 * _sig((Y - yb0 - 12 * s) / (8 * s)) * _sig((np.abs(X - mid) - 0.08 * W) / (20 * s))
    d += 0.05 * ellipse(mid, yP - 55 * s, 0.06 * W, 40 * s, 0.5)          # nose
    d += 0.04 * ellipse(mid, yO + 2 * s, 0.09 * W, 16 * s, 0.6)           # lips
    d += both(lambda cx: 0.05 * ellipse(cx, yO - 40 * s, 16 * s, 30 * s, 0.5), 0.95 + jit(0.01))  # ear lobes
    # cervical spine at both edges (vertebral bodies and discs), and its ghost over the chin
    for side in (-1, 1):
        cx = mid + side * (0.5 * W - 0.03 * W + jit(8 * s))
        col = np.exp(-(((X - cx) / (0.045 * W)) ** 2))
        seg = 0.88 + 0.12 * np.cos(2 * np.pi * (Y - jit(5 * s)) / (17 * s))
        d += 0.16 * col * seg * _sig((Y - (yP - 20 * s)) / (10 * s))
    d += 0.07 * np.exp(-(((X - mid) / (0.05 * W)) ** 2)) * _sig((Y - (yO + 20 * s)) / (15 * s))
    # hard palate: a bright plate above the upper apices; its ghost fainter and higher
    pal = lambda y0, th, amp: amp * np.exp(-(((Y - y0 - 4 * s * (U / 0.5) ** 2) / th) ** 2)) * _sig((0.55 - U) / 0.03)
    d += pal(yP, 2.2 * s, 0.22) + pal(yP - 14 * s + jit(2 * s), 4 * s, 0.06)
    # nasal cavity, septum and inferior turbinates
    d -= 0.10 * ellipse(mid, yP - 22 * s, 0.05 * W, 24 * s, 0.4)
    d += 0.07 * np.exp(-(((X - mid - jit(s)) / (1.2 * s)) ** 2)) * ellipse(mid, yP - 22 * s, 0.05 * W, 26 * s, 0.3)
    d += both(lambda cx: 0.05 * ellipse(cx, yP - 8 * s, 0.022 * W, 6 * s, 0.5), 0.055)
    # maxillary sinuses above the premolars and molars, with their cortical floors
    for side in (-1, 1):
        cx, cy = mid + side * (0.36 + jit(0.01)) * f.S, yP - 18 * s + jit(2 * s)
        rx, ry = (0.17 + jit(0.01)) * f.S, 24 * s
        d -= 0.08 * ellipse(cx, cy, rx, ry, 0.4)
        rim = np.exp(-(((np.sqrt(((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2) - 1) / 0.07) ** 2)) * (Y > cy + 0.3 * ry)
        d += 0.035 * rim
    # orbits' lower rims, zygomatic arches and buttresses, articular eminences, mastoids, styloids
    for side in (-1, 1):
        ox = mid + side * 0.34 * f.S
        r = np.sqrt(((X - ox) / (0.08 * W)) ** 2 + ((Y - (yP - 55 * s)) / (22 * s)) ** 2)
        d += 0.03 * np.exp(-(((r - 1) / 0.15) ** 2)) * (Y > yP - 55 * s)
        lat = np.abs(X - mid) / f.S
        d += 0.10 * np.exp(-(((Y - (yP - 12 * s) + 0.05 * (lat - 0.45) * f.S) / (4 * s)) ** 2)) \
            * _sig((lat - 0.42) / 0.02) * _sig((0.88 - lat) / 0.03) * (np.sign(X - mid) == side)
        bx = mid + side * 0.46 * f.S
        d += 0.07 * np.exp(-(((X - bx) / (5 * s)) ** 2)) * _sig((Y - (yP - 30 * s)) / (3 * s)) * _sig((yP + 2 * s - Y) / (3 * s))
        ex = mid + side * 0.755 * f.S                                   # glenoid fossa over the condyle
        d += 0.08 * np.exp(-(((Y - (yO - 44 * s) - 6 * s * ((X - ex) / (15 * s)) ** 2) / (3 * s)) ** 2)) \
            * _sig((22 * s - np.abs(X - ex)) / (4 * s))
        d += 0.10 * ellipse(mid + side * 0.86 * f.S, yO - 48 * s, 12 * s, 20 * s, 0.4)
        sx0 = mid + side * 0.80 * f.S
        along = np.clip((Y - (yO - 40 * s)) / (40 * s), 0, 1)
        d += 0.06 * np.exp(-(((X - sx0 + side * 14 * s * along) / (1.2 * s)) ** 2)) * (along > 0) * (along < 1)
    # hyoid below the mandible on both sides: the body, and the greater horn rising backwards
    hy = f.border(mid - 0.56 * f.S) + (14 + jit(3)) * s
    for side in (-1, 1):
        hx = mid + side * 0.52 * f.S
        body = np.exp(-(((Y - hy + 0.25 * side * (X - hx)) / (3.2 * s)) ** 2)) * _sig((0.09 * f.S - np.abs(X - hx)) / (3 * s))
        d += 0.12 * body
    # pharyngeal airway across each ramus, the soft palate, tongue and the air above it
    for side in (-1, 1):
        ax = mid + side * (0.62 + jit(0.015)) * f.S
        d -= 0.08 * np.exp(-(((X - ax) / (9 * s)) ** 2)) * _sig((Y - (yP + 5 * s)) / (6 * s)) \
            * _sig((f.border(ax) + 10 * s - Y) / (6 * s))
        sp = np.clip(np.abs(X - mid) / f.S - 0.45, 0, 0.2) / 0.2
        d += 0.04 * np.exp(-(((Y - yP - 4 * s - 22 * s * sp) / (5 * s)) ** 2)) * (sp > 0) * (sp < 1) * (np.sign(X - mid) == side)
    tongue = ellipse(mid, yO + 8 * s, 0.55 * f.S, 34 * s, 0.3)
    d += 0.10 * tongue
    gap = max(0.0, a.tongue_gap_mm) * s
    if gap > 0:
        air = _sig((Y - yP - 2 * s) / s) * _sig((yP + 2 * s + gap - Y) / s) * _sig((0.5 - U) / 0.03)
        d -= 0.10 * air
    img = Image.fromarray(d.astype(np.float32), mode="F").resize((a.width, a.height), Image.BILINEAR)
    return np.array(img, dtype=np.float32)


def _tooth_layout(f: _Frame, widths) -> list[tuple[float, float, int]]:
    """(x centre, width, type index) of the 16 tooth positions of one arch, in pixels."""
    out = []
    for side in (-1, 1):
        x = f.mid
        for k, w in enumerate(widths):
            w = w * f.s
            out.append((x + side * w / 2, w, k))
            x += side * w
    return out


def _gaps(f: _Frame, layout, present) -> np.ndarray:
    """1 where a tooth of the arch is missing (smoothed), per column."""
    missing = np.ones(f.W, dtype=np.float32)
    for (xc, w, _), p in zip(layout, present):
        if p:
            missing[int(max(0, xc - w / 2)):int(min(f.W, xc + w / 2))] = 0.0
    return ndimage.gaussian_filter1d(missing, 3 * f.s)


def _mandible_masks(rng, f: _Frame, lower_present, lower_layout, rows: slice):
    """Soft masks (rows x W) of the mandible (body and rami), the ramus's cortical rim, the lower
    border yb(x) and the crest ya(x) of the body."""
    a, s, m, W = f.a, f.s, f.m, f.W
    x = np.arange(W, dtype=np.float32)
    t = f.t(x)
    at = np.abs(t)
    yb = f.border(x)
    tG = 0.67 + float(rng.normal(0, 0.01))
    yb = yb - 1.8 * s * np.exp(-(((at - 0.58) / 0.05) ** 2))               # antegonial notch
    yb = yb - 14 * s * np.clip((at - (tG - 0.06)) / 0.06, 0, 1) ** 2         # the rounded gonial angle
    yb = yb + _smooth_curve(rng, W, 0.3 * s)
    # alveolar crest: 1.5 mm below the enamel-cement junction; resorbed where teeth are missing
    crown = LOWER_CROWN[4] * m
    crest = f.occlusal(x) + crown + 1.5 * m
    ridge = (rng.uniform(4, 9) if not a.edentulous else rng.uniform(10, 17)) * m
    crest = crest + _gaps(f, lower_layout, lower_present) * ridge
    crest = np.minimum(crest, f.yF - 3 * m) if a.edentulous else crest
    Y = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None]
    e = 0.25 * s
    body = _sig((yb - Y) / e) * _sig((Y - crest) / (0.6 * s)) * _sig((tG - at) / 0.004)[None, :]
    # each ramus: a plate from the gonial angle G up to the condyle (leaning outwards), posterior border
    # r = 0, anterior border r = width; its top: condyle, sigmoid notch, coronoid process
    ramus = np.zeros_like(body)
    rim = np.zeros_like(body)
    Xg = x[None, :]
    for side in (-1, 1):
        gx = f.mid + side * tG * f.S
        gy = float(f.border(np.float32(gx))) - 8.0 * s
        cxx, cyy = f.mid + side * (0.755 + rng.normal(0, 0.01)) * f.S, f.yO - (39 + rng.normal(0, 2)) * s
        L = float(np.hypot(cxx - gx, cyy - gy))
        ux, uy = (cxx - gx) / L, (cyy - gy) / L                        # along the ramus, upwards
        nx, ny = (uy, -ux) if uy * side < 0 else (-uy, ux)              # across, towards the midline
        sa = (Xg - gx) * ux + (Y - gy) * uy
        r = (Xg - gx) * nx + (Y - gy) * ny
        wr = 0.235 * f.S
        qq = np.clip(r / wr, 0, 1)
        head = np.clip(1 - ((qq - 0.15) / 0.17) ** 4, 0, 1)              # the condyle's head
        cor = np.clip(1 - np.abs(qq - 0.88) / 0.16, 0, 1) ** 1.5          # the coronoid process
        top = L * (0.60 + 0.40 * head + 0.30 * cor)                      # the sigmoid notch between
        # the condyle's neck is narrower than its head
        neck = 0.10 * wr * np.exp(-(((sa - 0.86 * L) / (0.05 * L)) ** 2))
        # below, the plate ends at the body's lower border (the angle) and merges with the body
        plate = _sig((r - neck) / e) * _sig((wr - r) / e) * _sig((top - sa) / (0.5 * s)) * _sig((yb[None, :] - Y) / e)
        ramus = np.maximum(ramus, plate)
        inner = np.minimum(np.minimum(r - neck, wr - r), top - sa)
        rim = np.maximum(rim, plate * _sig((2.2 * m - inner) / (0.4 * s)))
    return body, ramus, rim, yb.astype(np.float32), crest.astype(np.float32)


def _trabecular(rng, a: Anatomy, rows: slice) -> np.ndarray:
    """Trabecular pattern on rows ``rows`` (full width): bright struts around dark marrow spaces,
    with wider spacing and thinner, sparser struts as the T-score falls."""
    mm = MAG / a.px_mm
    h, w = rows.stop - rows.start, a.width
    f = 2 if a.px_mm < 0.25 else 1
    noise = rng.standard_normal((max(4, h // f), max(4, w // f))).astype(np.float32)
    spacing = np.clip(0.6 - 0.15 * a.texture_t, 0.45, 1.6) * mm / f     # marrow space, px
    band = ndimage.gaussian_filter(noise, 0.35 * spacing) - ndimage.gaussian_filter(noise, 0.9 * spacing)
    band /= band.std() + 1e-6
    # bright struts where the band-pass noise is high; fewer of them as the T-score falls
    strut = _sig(3.0 * (band - np.clip(-0.1 - 0.12 * a.texture_t, -0.3, 0.6)))
    img = Image.fromarray(strut.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR)
    return np.array(img, dtype=np.float32)


def _cortex_margin(rng, a: Anatomy, yb: np.ndarray) -> np.ndarray:
    """Endosteal (inner) margin of the lower-border cortex, per column.

    C1: even margin. C2: semilunar (lacunar) defects that thin the cortex from the inside.
    C3: heavily eroded, the margin very irregular (porous residues are added by the caller).
    """
    mm = MAG / a.px_mm
    W = len(yb)
    width = a.mcw_mm * mm * (1 + _smooth_curve(rng, W, 0.06))
    margin = yb - width
    if a.cortical_index in ("C2", "C3"):
        n = rng.integers(8, 16) if a.cortical_index == "C2" else rng.integers(16, 30)
        x = np.arange(W, dtype=np.float32)
        for xc, r in zip(rng.uniform(0, W, n), rng.uniform(0.8, 2.2, n) * mm):
            depth = np.sqrt(np.clip(r ** 2 - (x - xc) ** 2, 0, None)) * 0.6
            margin = np.maximum(margin, np.minimum(margin + depth, yb - 0.35 * width))
    if a.cortical_index == "C3":
        margin = margin + np.abs(_smooth_curve(rng, W, 0.5 * mm, knots=80))
    return np.minimum(margin, yb - 0.5 * mm).astype(np.float32)


def _canal(f: _Frame, X, Y) -> tuple[np.ndarray, np.ndarray]:
    """The mandibular canal (lumen, walls) from the mandibular foramen in the ramus, down below the
    molars' apices and up to each mental foramen."""
    s = f.s
    t = np.abs(f.t(X))
    # the canal's row along |t|: 0.28 at the mental foramen, lowest near 0.40, up into the ramus
    k = np.clip((t - 0.28) / (0.62 - 0.28), 0, 1)
    yc = f.yF + f.slope * (X - f.mid) + 5 * s * np.sin(np.pi * np.clip(k * 1.6, 0, 1)) - (33 * s) * np.clip(k - 0.55, 0, 1) ** 1.4 / 0.45 ** 1.4
    on = _sig((t - 0.28) / 0.006) * _sig((0.63 - t) / 0.01)
    dist = np.abs(Y - yc)
    lumen = np.exp(-((dist / (1.6 * s)) ** 2)) * on
    walls = np.exp(-(((dist - 2.0 * s) / (0.35 * s)) ** 2)) * on
    return lumen, walls


def _draw_tooth(d: np.ndarray, rng, xc: float, w: float, kind: int, y_edge: float, upper: bool, f: _Frame,
                restore: dict) -> tuple[float, float]:
    """Add one tooth to density map ``d`` in place; ``y_edge``: incisal/occlusal edge row. Returns the
    rows of its edge and apex."""
    m, s = f.m, f.s
    crown = (UPPER_CROWN if upper else LOWER_CROWN)[kind] * m
    root = (UPPER_ROOT if upper else LOWER_ROOT)[kind] * m
    length = crown + root
    y0, y1 = (y_edge - length, y_edge) if upper else (y_edge, y_edge + length)
    r0, r1 = int(max(0, y0 - 2)), int(min(d.shape[0], y1 + 2))
    c0, c1 = int(max(0, xc - w)), int(min(d.shape[1], xc + w))
    if r1 <= r0 or c1 <= c0:
        return (y1, y0) if upper else (y0, y1)
    yy = np.arange(r0, r1, dtype=np.float32)[:, None]
    xx = np.arange(c0, c1, dtype=np.float32)[None, :]
    v = (y1 - yy) / length if upper else (yy - y0) / length        # 0 at the edge, 1 at the apex
    v = np.clip(v, -0.05, 1.05)
    vc = crown / length
    tilt = rng.normal(0, 0.04) * length
    u = np.abs(xx - xc - tilt * v)
    cusp = 1.0 + (0.04 * np.cos(4 * np.pi * (xx - xc) / w) if kind >= 3 else 0.0)
    cap = np.clip(v * cusp / 0.07, 0, 1) ** 0.45
    r = np.clip((v - vc) / (1 - vc), 0, 1)
    # the crown widest at its contact points (a third from the edge), narrowing to the neck where the
    # root begins (continuous), the root tapering to a rounded apex
    q = np.clip(v / vc, 0, 1)
    crown_w = np.where(q > 0.35, 0.97 - 0.25 * ((q - 0.35) / 0.65) ** 2, 0.97 - 0.12 * ((0.35 - q) / 0.35) ** 2)
    hw = np.where(v < vc, 0.5 * w * crown_w * cap,
                  0.5 * w * (0.72 - 0.42 * r ** 1.5) * np.clip((1 - v) / 0.05, 0, 1) ** 0.5)
    edge = 0.35 * s
    body = np.clip((hw - u) / edge, 0, 1) * (v >= 0) * (v <= 1)
    roots = 1 if kind < 5 else (3 if upper else 2)
    if roots > 1:                                                  # molars: two (three) roots
        gap = 0.5 * w * 0.55 * np.clip((v - vc - 0.1) / (1 - vc), 0, 1) ** 0.6
        split = np.clip((u - gap) / edge, 0, 1)
        if roots == 3:                                             # the palatal root, fainter, between
            split = np.maximum(split, 0.5 * np.clip((0.16 * w - u) / edge, 0, 1) * (v < 0.9))
        body *= np.where(v > vc + 0.1, split, 1.0)
    enamel = body * (v < vc) * ((hw - u < 1.3 * s) | (v < 0.09)) * 0.9
    canal_x = np.abs(xx - xc - tilt * v)
    pulp = body * (canal_x < 0.22 * hw) * (v > 0.15) * (v < 0.97)
    d[r0:r1, c0:c1] += 0.34 * body + 0.22 * enamel - 0.16 * pulp
    kind_r = restore.get("kind")
    if kind_r == "filling":                                        # amalgam (bright) or composite
        fy = y1 - 0.3 * crown if upper else y0 + 0.3 * crown
        fx = xc + restore["offset"] * w
        shape = ((yy - fy) / (0.25 * crown)) ** 2 + ((xx - fx) / (0.28 * w)) ** 2
        d[r0:r1, c0:c1] += restore["density"] * _sig((1 - shape) / 0.15) * body
    elif kind_r == "crown":                                        # a metal-ceramic crown
        d[r0:r1, c0:c1] += 0.75 * body * (v < vc * 1.05)
    if restore.get("root_canal"):
        d[r0:r1, c0:c1] += 0.9 * body * (canal_x < 0.13 * hw) * (v > 0.1) * (v < 0.95)
    return (y1, y0) if upper else (y0, y1)


def _implant(d: np.ndarray, xc: float, top: float, length: float, f: _Frame, upper: bool) -> None:
    """A threaded titanium implant (very bright) from ``top`` into the bone, with its abutment and crown."""
    s = f.s
    width = 4.0 * f.m
    y0, y1 = (top - length, top) if upper else (top, top + length)
    r0, r1 = int(max(0, y0 - 10 * s)), int(min(d.shape[0], y1 + 10 * s))
    c0, c1 = int(max(0, xc - width)), int(min(d.shape[1], xc + width))
    if r1 <= r0 or c1 <= c0:
        return
    yy = np.arange(r0, r1, dtype=np.float32)[:, None]
    xx = np.arange(c0, c1, dtype=np.float32)[None, :]
    v = (y1 - yy) / length if upper else (yy - y0) / length
    thread = 0.5 * width * (0.82 + 0.18 * np.abs(np.sin(np.pi * (yy - y0) / (0.8 * f.m)))) * np.clip((1.02 - v) / 0.12, 0, 1) ** 0.4
    screw = _sig((thread - np.abs(xx - xc)) / (0.3 * s)) * (v >= 0) * (v <= 1)
    abut = _sig((0.3 * width - np.abs(xx - xc)) / (0.3 * s)) * (v < 0) * (v > -0.35)
    d[r0:r1, c0:c1] += 1.1 * screw + 0.8 * abut


def _restorations(rng, n: int) -> list[dict]:
    """Per tooth position: a filling, a crown or nothing, and a root-canal filling (independent of the
    bone: restorations say nothing of osteoporosis here)."""
    out = []
    for _ in range(n):
        u = rng.random()
        r = {}
        if u < 0.16:
            r = {"kind": "filling", "density": float(rng.choice([0.9, 0.35])), "offset": float(rng.uniform(-0.2, 0.2))}
        elif u < 0.21:
            r = {"kind": "crown"}
        r["root_canal"] = bool(rng.random() < (0.5 if r.get("kind") == "crown" else 0.04))
        out.append(r)
    return out


def render(a: Anatomy, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """Render one radiograph.

    Returns
    -------
    image : (height, width) uint8.
    truth : rendering facts (border row and cortex margin row below the left foramen, teeth kept,
        implants, lowest root apex above the left foramen's ROI).
    cortex : (height, width) bool, the cortical band of the lower border: pixels whose centre lies
        between the endosteal margin and the lower border of their column.
    """
    f = _Frame(a)
    s, m, H, W = f.s, f.m, a.height, a.width
    present = rng.random(32) >= (1.0 if a.edentulous else a.p_missing_tooth)
    upper_layout, lower_layout = _tooth_layout(f, UPPER_WIDTH), _tooth_layout(f, LOWER_WIDTH)
    d = _soft_layer(rng, f)
    top = int(np.clip(f.yO - 60 * s, 0, H - 2))
    rows = slice(top, H)
    body, ramus, rim, yb, crest = _mandible_masks(rng, f, present[16:], lower_layout, rows)
    margin = _cortex_margin(rng, a, yb)
    Y, X = _grid(H, W)
    Y = Y[rows]
    cortex = body * _sig((Y - margin) / (0.3 * s))
    if a.cortical_index == "C3":                                   # porous residues in the cortex
        cortex *= 0.55 + 0.45 * _trabecular(rng, a, rows)
    trab = _trabecular(rng, a, rows)
    bone = np.maximum(body, 0.8 * ramus)                          # the ramus: a thinner plate
    rim = rim * (1 - body)                       # its anterior border shows above the body only (oblique ridge)
    marrow = bone * (1 - np.maximum(cortex, rim))
    dens = 0.20 * bone + 0.30 * cortex + 0.16 * rim + 0.10 * marrow * trab
    lumen, walls = _canal(f, X, Y)
    dens += (0.05 * walls - 0.08 * lumen) * marrow
    for fx, fy in (f.left, f.right):                                # mental foramina, about 3 mm
        r2 = ((X - fx) / (FORAMEN_AXES_MM[0] * m)) ** 2 + ((Y - fy) / (FORAMEN_AXES_MM[1] * m)) ** 2
        dens -= 0.13 * np.exp(-(r2 ** 2)) * bone
    d[rows] += dens
    # maxillary alveolar process, between the palate and the upper crest
    yP = f.yO - 27 * s
    xs = np.arange(W, dtype=np.float32)
    ucrest = f.occlusal(xs) - UPPER_CROWN[4] * m - 1.5 * m
    ucrest = ucrest - _gaps(f, upper_layout, present[:16]) * (rng.uniform(3, 7) if not a.edentulous else rng.uniform(6, 10)) * m
    r0 = int(np.clip(yP - 4 * s, 0, H - 1))
    Yu = np.arange(r0, H, dtype=np.float32)[:, None]
    lateral = _sig((0.54 - np.abs(f.t(xs))) / 0.05)[None, :]
    maxilla = _sig((ucrest[None, :] - Yu) / (0.6 * s)) * _sig((Yu - yP) / (2 * s)) * lateral
    tex = trab[max(0, r0 - top):] if r0 >= top else np.pad(trab, ((top - r0, 0), (0, 0)))
    d[r0:] += maxilla * (0.15 + 0.10 * tex[: H - r0])
    # teeth, restorations, bridges and implants
    restores = _restorations(rng, 32)
    lowest_apex, implants = -np.inf, 0
    for i, ((xc, w, kind), p) in enumerate(zip(upper_layout + lower_layout, present)):
        upper = i < 16
        if not 0 <= xc < W:
            continue
        y_edge = float(f.occlusal(np.float32(xc))) - (0.6 * s if upper else -0.6 * s)
        if p:
            _, apex = _draw_tooth(d, rng, xc, w, kind, y_edge, upper, f, restores[i])
            if not upper and abs(xc - f.left[0]) < 20 * s + 0.5 * w:   # in the columns of the ROI
                lowest_apex = max(lowest_apex, apex)
            continue
        base, block, k = 16 * (not upper), (i % 16) // 8, i % 8
        mesial = base + block * 8 + k - 1 if k else base + (1 - block) * 8
        distal = base + block * 8 + k + 1
        if k < 6 and present[mesial] and present[distal] and rng.random() < 0.25:
            # a bridge: a pontic (metal-ceramic crown) hangs between two crowned teeth
            crown = (UPPER_CROWN if upper else LOWER_CROWN)[kind] * m
            yy0, yy1 = (y_edge - crown, y_edge) if upper else (y_edge, y_edge + crown)
            rr = slice(int(max(0, yy0)), int(min(H, yy1)))
            cc = slice(int(max(0, xc - 0.45 * w)), int(min(W, xc + 0.45 * w)))
            d[rr, cc] += 0.95
        elif kind < 7 and rng.random() < (0.10 if not a.edentulous else 0.0):
            ridge = float(crest[int(xc)]) if not upper else float(ucrest[int(xc)])
            limit = (f.yF - 3 * m - ridge) if not upper else (ridge - (yP + 2 * s))
            length = min(11.0 * m, limit)
            if length > 6 * m:
                _implant(d, xc, ridge, length, f, upper)
                implants += 1
    if a.edentulous and rng.random() < 0.3:                         # implants between the foramina
        for tt in (-0.12, 0.12) if rng.random() < 0.6 else (-0.16, -0.05, 0.05, 0.16):
            xc = f.mid + tt * f.S
            ridge = float(crest[int(np.clip(xc, 0, W - 1))])
            length = min(11 * m, f.yF - 2 * m - ridge)
            if length > 6 * m:
                _implant(d, xc, ridge, length, f, False)
                implants += 1
    band = ((np.arange(H, dtype=np.float32)[:, None] >= margin[None, :]) & (np.arange(H, dtype=np.float32)[:, None] < yb[None, :])
            & (np.abs(f.t(xs)) < 0.6)[None, :])
    if a.tilt_deg:
        d, band = _tilt(d, band, f)
    img = _device(rng, d, a, f)
    facts = _facts(band, a) | _cortex_truth(f, yb, margin)
    # how far above the left foramen the lowest root apex in the ROI's columns ends (detector mm)
    clearance = (f.left[1] - lowest_apex) / s if np.isfinite(lowest_apex) else np.nan
    facts.update(teeth_present=int(present.sum()), implants=implants, apex_clearance_mm=round(float(clearance), 2))
    return img, facts, band


def _tilt(d: np.ndarray, band: np.ndarray, f: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """Turn the anatomical frame by the head's tilt about the image centre (finished image -> frame)."""
    r = np.radians(f.a.tilt_deg)
    rot = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])   # (row, col) of output -> input
    c = np.array([f.cy, f.cx])
    offset = c - rot @ c
    d = ndimage.affine_transform(d, rot, offset=offset, order=1, mode="nearest")
    band = ndimage.affine_transform(band.astype(np.uint8), rot, offset=offset, order=0, mode="constant") > 0
    return d, band


def _cortex_truth(f: _Frame, yb: np.ndarray, margin: np.ndarray) -> dict[str, float]:
    """What a radiomorphometric measurement at the left foramen should find (anatomical mm, exact, in the
    anatomical frame, so the head's tilt does not enter): the cortex's width perpendicular to the lower
    border (the margins are parallel there: the vertical width times the cosine of the border's slope),
    and the distance from the foramen's inferior margin to the border along that perpendicular."""
    x = np.arange(len(yb), dtype=np.float32)
    fx, fy = f.left
    cos = 1.0 / np.hypot(1.0, float(np.interp(fx, x, np.gradient(yb))))
    width = float(np.interp(fx, x, yb - margin)) * cos / f.m
    below = (float(np.interp(fx, x, yb)) - fy) * cos / f.m - FORAMEN_MARGIN_MM
    return {"cortex_width_mm": round(width, 4), "foramen_border_mm": round(below, 4)}


def _facts(band: np.ndarray, a: Anatomy) -> dict[str, float]:
    """The lower border and the cortex's endosteal margin at the left foramen's column, from the band."""
    col = int(np.clip(round(a.left_foramen[0]), 0, a.width - 1))
    rows = np.flatnonzero(band[:, col])
    if not rows.size:
        return {"border_y": np.nan, "margin_y": np.nan}
    return {"border_y": float(rows.max() + 1), "margin_y": float(rows.min())}


def _device(rng, d: np.ndarray, a: Anatomy, f: _Frame) -> np.ndarray:
    """The unit's image chain: exposure, windowing, gamma, contrast, edge enhancement, blur, noise,
    vignetting, collimation, 8-bit quantisation, and the side marker burned in."""
    s = f.s
    H, W = d.shape
    img = 1.0 - np.exp(-2.7 * a.exposure * np.clip(d, 0, None))
    lo, hi = np.percentile(img[:: 7, :: 7], [0.5, 99.8])
    img = np.clip((img - lo) / (hi - lo + 1e-6), 0, 1) ** a.gamma
    img = 0.5 + (img - 0.5) * a.contrast
    img = ndimage.gaussian_filter(img, max(0.3, a.blur_mm * s), truncate=3.0)
    if a.sharpen > 0:                                              # unsharp mask, as units process
        img = img + a.sharpen * (img - ndimage.gaussian_filter(img, 2.0 * s, truncate=2.5))
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    img = img + noise * (0.012 + 0.025 * np.sqrt(np.clip(img, 0, None))) * a.noise
    if a.vignette:
        Y, X = _grid(H, W)
        img = img + a.vignette * (((X - f.cx) / (0.5 * W)) ** 2 * 0.7 + ((Y - f.cy) / (0.5 * H)) ** 2 * 0.3) - 0.3 * a.vignette
    kind = DEVICES[a.device]["collimation"]
    if kind and a.collimation_mm > 0:                              # unexposed edges: white
        Y, X = _grid(H, W)
        c = a.collimation_mm * s
        dist = np.minimum(X, W - 1 - X) if kind == "sides" else np.minimum(Y, H - 1 - Y)
        white = _sig((c - dist) / (0.5 * s))
        img = img * (1 - white) + 0.97 * white
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    marker = DEVICES[a.device]["marker"]
    if marker:
        _side_marker(out, s, *marker)
    return out


def marker_box(width: int, height: int, s: float, corner: str) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the side marker's letter box in a ``width`` x ``height`` image of ``s`` pixels
    per mm, in ``corner``."""
    h, w = 9 * s, 6 * s
    x0 = 0.05 * width if corner.endswith("left") else 0.95 * width - w
    y0 = 0.07 * height if corner.startswith("top") else 0.93 * height - h
    return x0, y0, x0 + w, y0 + h


def _side_marker(img: np.ndarray, s: float, letter: str = "L", corner: str = "bottom-right") -> None:
    """Burn in a side marker, as panoramic units print one: ``letter`` (the side of the patient it
    names lies on that half of the image) in ``corner``. The only cue that tells a radiograph from its
    mirror image. Drawn after the detector and without random draws, so no other pixel changes."""
    H, W = img.shape
    Y, X = _grid(H, W)
    x0, y0, x1, y1 = marker_box(W, H, s, corner)
    h, w, t = y1 - y0, x1 - x0, 1.3 * s                                 # letter box and stroke width
    u, v = (X - x0) / w, (Y - y0) / h                                  # letter coordinates in [0, 1]
    img[glyph(letter, u, v, t / w, t / h)] = 235


def glyph(letter: str, u: np.ndarray, v: np.ndarray, tu: float, tv: float) -> np.ndarray:
    """The pixels of a side-marker letter ("L" or "R") at letter coordinates ``u``, ``v`` (0-1 across
    its box), strokes ``tu`` wide and ``tv`` high (shares of the box)."""
    inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    stem = u <= tu
    if letter == "R":
        bowl = (v <= 0.55) & ((v <= tv) | ((v >= 0.55 - tv)) | (u >= 1 - tu))
        leg = (v >= 0.55) & (np.abs(u - (0.2 + 0.8 * (v - 0.55) / 0.45)) <= tu)
        return inside & (stem | bowl | leg)
    return inside & (stem | (v >= 1 - tv))
