"""Rendering of one panoramic-like radiograph.

The picture is built as a radiodensity map (brighter = more attenuating) in three layers, then
passed through a detector model:

1. a smooth skull and soft-tissue layer rendered at a quarter of the resolution (palate, maxilla,
   sinuses, nasal cavity, airway, tongue, the ghost of the cervical spine);
2. the mandible at full resolution, described column by column by its lower border ``yb(x)`` and
   its upper outline ``ya(x)`` (alveolar crest, coronoid, sigmoid notch, condyle), with the
   cortex of the lower border (width, endosteal margin and porosity set by the bone state),
   trabecular bone (band-pass noise, coarser and sparser as the T-score falls), the mandibular
   canal and both mental foramina;
3. the teeth, each drawn in its own small box (enamel, dentin, pulp, one or two roots, fillings),
   or an edentulous ridge where teeth are missing;
4. after the detector, a burned-in side marker "R" on the patient's right (the image's left).

The detector adds exposure, gamma, blur and noise. All lengths are in millimetres and converted
with the pixel spacing (0.1 mm at scale 1), so a scaled image shows the same anatomy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

FULL_WIDTH, FULL_HEIGHT, FULL_PX_MM = 2964, 1464, 0.1

#: Tooth widths (mm, as magnified on a panoramic) from the midline outwards: incisors, canine,
#: premolars, molars; and crown/root lengths (mm).
TOOTH_WIDTH = (7.5, 7.5, 8.5, 9.5, 9.5, 12.5, 12.5, 11.5)
TOOTH_CROWN = (10.0, 9.5, 10.5, 8.5, 8.0, 7.5, 7.5, 7.0)
TOOTH_ROOT = (13.0, 13.5, 17.0, 14.5, 14.0, 13.0, 12.5, 11.5)


@dataclass(frozen=True)
class Anatomy:
    """Per-patient parameters of one radiograph (pixel values are in the scaled image)."""

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


def _sig(z):
    """Logistic function, float32 in, float32 out (soft edges)."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


@lru_cache(maxsize=4)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(height, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)[None, :])


def _smooth_curve(rng, n: int, amplitude: float, knots: int = 12) -> np.ndarray:
    """A slowly varying random curve of length n (cubic interpolation of random knots)."""
    k = rng.normal(0, amplitude, knots + 4)
    return ndimage.zoom(k, n / len(k), order=3, mode="nearest")[:n].astype(np.float32)


def _skull_layer(rng, a: Anatomy) -> np.ndarray:
    """Smooth layer (skull, soft tissue, airway) at quarter resolution, upsampled."""
    h, w = max(8, a.height // 4), max(8, a.width // 4)
    y = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / h
    x = (np.arange(w, dtype=np.float32)[None, :] + 0.5) / w
    g = lambda cx, cy, sx, sy: np.exp(-(((x - cx) / sx) ** 2) - (((y - cy) / sy) ** 2))
    jit = lambda s: float(rng.normal(0, s))
    d = 0.22 + 0.16 * g(0.5, 0.42, 0.55, 0.55)                            # head
    d -= 0.10 * (g(0.0, 1.0, 0.18, 0.35) + g(1.0, 1.0, 0.18, 0.35))        # air below the angles
    d += 0.10 * g(0.5, 0.75, 0.055 + jit(0.005), 0.6) * _sig((y - 0.3) / 0.03)  # cervical spine ghost
    palate_y = 0.43 + jit(0.01)
    band = lambda cy, sy, x0, x1: np.exp(-(((y - cy) / sy) ** 2)) * _sig((x - x0) / 0.02) * _sig((x1 - x) / 0.02)
    d += 0.20 * band(palate_y, 0.010, 0.27, 0.73)                          # hard palate
    d -= 0.11 * (g(0.33, 0.35, 0.075, 0.055) + g(0.67, 0.35, 0.075, 0.055))  # maxillary sinuses
    d -= 0.08 * g(0.5, 0.30, 0.06, 0.09)                                   # nasal cavity
    d += 0.10 * (band(0.36, 0.012, 0.08, 0.30) + band(0.36, 0.012, 0.70, 0.92))  # zygomatic arches
    d -= 0.09 * band(palate_y + 0.035 + jit(0.01), 0.012, 0.30, 0.70)      # air above the tongue
    d -= 0.07 * (g(0.255, 0.55, 0.02, 0.18) + g(0.745, 0.55, 0.02, 0.18))  # pharyngeal airway
    d += 0.05 * g(0.5, 0.62, 0.22, 0.12)                                   # tongue
    img = Image.fromarray(d.astype(np.float32), mode="F").resize((a.width, a.height), Image.BILINEAR)
    return np.array(img, dtype=np.float32)


def _tooth_layout(a: Anatomy) -> list[tuple[float, float, int]]:
    """(x centre, width, type index) of the 16 tooth positions per arch, in pixels."""
    mid = 0.5 * a.width + 0.5 * ((a.left_foramen[0] - 0.64 * a.width) + (a.right_foramen[0] - 0.36 * a.width))
    widths = [w / a.px_mm for w in TOOTH_WIDTH]
    out = []
    for side in (-1, 1):
        x = mid
        for k, w in enumerate(widths):
            out.append((x + side * w / 2, w, k))
            x += side * w
    return out


def _mandible_outline(rng, a: Anatomy, present: np.ndarray, layout) -> tuple[np.ndarray, np.ndarray]:
    """Lower border yb(x) and upper outline ya(x), in pixels, one value per column."""
    W, mm = a.width, 1.0 / a.px_mm
    x = np.arange(W, dtype=np.float32)
    (lx, ly), (rx, ry) = a.left_foramen, a.right_foramen
    mid = 0.5 * (lx + rx)
    half = 0.5 * (lx - rx) / 0.28                       # foramina sit at t = +-0.28
    t = (x - mid) / half
    depth = a.border_depth_mm * mm
    y_left, y_right = ly + depth, ry + depth
    tilt = (y_left - y_right) / (lx - rx)
    c = 0.15 * a.height / (0.7 ** 2 - 0.28 ** 2)
    yb = 0.5 * (y_left + y_right) + tilt * (x - mid) + c * (0.28 ** 2 - t ** 2)
    # gonial angle, then the posterior ramus border rising to the condyle; no bone behind it
    at = np.abs(t)
    rise = np.clip((at - 0.73) / (0.815 - 0.73), 0, 1)
    yb = yb - rise ** 1.6 * (yb - 0.30 * a.height)
    yb = np.where(at > 0.815, -1.0, yb)
    yb += _smooth_curve(rng, W, 0.4 * mm)
    # upper outline: alveolar crest (lowered where teeth are missing), then coronoid, notch, condyle
    crest0 = 0.5 * (ly + ry) - 16 * mm
    missing = np.ones(W, dtype=np.float32)
    for (xc, w, _), p in zip(layout, present[16:]):
        if p:
            lo, hi = int(max(0, xc - w / 2)), int(min(W, xc + w / 2))
            missing[lo:hi] = 0.0
    missing = ndimage.gaussian_filter1d(missing, 3 * mm)
    ya = crest0 + missing * (6.5 * mm) + 1.2 * mm * t ** 2
    # ramus: a plate from the anterior border (|t| ~ 0.62) to the posterior border, topped by the
    # coronoid process, the sigmoid notch and the condyle
    blend = _sig((at - 0.61) / 0.012)
    coronoid = 0.13 * a.height * np.exp(-(((at - 0.665) / 0.025) ** 2))
    condyle = 0.17 * a.height * np.exp(-(((at - 0.785) / 0.022) ** 2))
    ya_ramus = 0.47 * a.height - coronoid - condyle
    ya = (1 - blend) * ya + blend * ya_ramus
    ya = np.where(at > 0.80, float(a.height), ya)         # behind the condyle: no bone
    return yb.astype(np.float32), ya.astype(np.float32)


def _trabecular(rng, a: Anatomy, rows: slice) -> np.ndarray:
    """Trabecular pattern on rows ``rows`` (full width): bright struts around dark marrow spaces,
    with wider spacing and thinner, sparser struts as the T-score falls."""
    mm = 1.0 / a.px_mm
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
    mm = 1.0 / a.px_mm
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


def _draw_tooth(d: np.ndarray, rng, xc: float, w: float, kind: int, y_edge: float,
                upper: bool, mm: float) -> None:
    """Add one tooth to density map ``d`` in place. ``y_edge``: incisal/occlusal edge row."""
    crown, root = TOOTH_CROWN[kind] * mm, TOOTH_ROOT[kind] * mm
    length = crown + root
    y0, y1 = (y_edge - length, y_edge) if upper else (y_edge, y_edge + length)
    r0, r1 = int(max(0, y0 - 2)), int(min(d.shape[0], y1 + 2))
    c0, c1 = int(max(0, xc - w)), int(min(d.shape[1], xc + w))
    if r1 <= r0 or c1 <= c0:
        return
    yy = np.arange(r0, r1, dtype=np.float32)[:, None]
    xx = np.arange(c0, c1, dtype=np.float32)[None, :]
    v = (y1 - yy) / length if upper else (yy - y0) / length        # 0 at the edge, 1 at the apex
    v = np.clip(v, -0.05, 1.05)
    vc = crown / length
    tilt = rng.normal(0, 0.04) * length
    u = np.abs(xx - xc - tilt * v)
    # crown: widest at mid-crown, rounded occlusal corners (cusps on molars); root: tapering,
    # rounded apex
    cusp = 1.0 + (0.04 * np.cos(4 * np.pi * (xx - xc) / w) if kind >= 3 else 0.0)
    cap = np.clip(v * cusp / 0.07, 0, 1) ** 0.45
    r = np.clip((v - vc) / (1 - vc), 0, 1)
    hw = np.where(v < vc, 0.5 * w * (0.80 + 0.14 * np.sin(np.pi * np.clip(v / vc, 0, 1) * 0.8)) * cap,
                  0.5 * w * (0.74 - 0.42 * r ** 1.5) * np.clip((1 - v) / 0.05, 0, 1) ** 0.5)
    edge = 0.35 * mm
    body = np.clip((hw - u) / edge, 0, 1) * (v >= 0) * (v <= 1)
    if kind >= 5:                                                  # molars: two roots
        gap = 0.5 * w * 0.55 * np.clip((v - vc - 0.1) / (1 - vc), 0, 1) ** 0.6
        body *= np.clip((u - gap) / edge, 0, 1)
    enamel = body * (v < vc) * ((hw - u < 1.3 * mm) | (v < 0.09)) * 0.9
    pulp = body * (np.abs(xx - xc - tilt * v) < 0.22 * hw) * (v > 0.15) * (v < 0.97)
    d[r0:r1, c0:c1] += 0.34 * body + 0.22 * enamel - 0.16 * pulp
    if rng.random() < 0.18:                                        # a metal filling
        fy = y1 - 0.3 * crown if upper else y0 + 0.3 * crown
        fill = ((yy - fy) / (0.22 * crown)) ** 2 + ((xx - xc) / (0.3 * w)) ** 2 < 1
        d[r0:r1, c0:c1] += 0.9 * fill * body


def _maxilla(rng, a: Anatomy, present: np.ndarray, layout, trab: np.ndarray, top: int) -> np.ndarray:
    """Upper alveolar bone between the palate and the upper crest (raised where teeth are missing)."""
    mm = 1.0 / a.px_mm
    H, W = a.height, a.width
    x = np.arange(W, dtype=np.float32)
    ly, ry = a.left_foramen[1], a.right_foramen[1]
    crest = 0.5 * (ly + ry) - 17.5 * mm - 10.0 * mm - 1.5 * mm * ((x - W / 2) / (0.25 * W)) ** 2
    missing = np.ones(W, dtype=np.float32)
    for (xc, w, _), p in zip(layout, present[:16]):
        if p:
            missing[int(max(0, xc - w / 2)):int(min(W, xc + w / 2))] = 0.0
    crest -= ndimage.gaussian_filter1d(missing, 3 * mm) * 5 * mm
    palate = 0.43 * H
    r0 = int(max(0, palate - 10 * mm))
    Y = np.arange(r0, H, dtype=np.float32)[:, None]
    xs = np.abs(x - W / 2) / (0.5 * W)
    lateral = _sig((0.56 - xs) / 0.05)[None, :]
    bone = _sig((crest[None, :] - Y) / (0.6 * mm)) * _sig((Y - palate) / (2 * mm)) * lateral
    out = np.zeros((H, W), dtype=np.float32)
    tex = trab[max(0, r0 - top):] if r0 >= top else np.pad(trab, ((top - r0, 0), (0, 0)))
    out[r0:] = bone * (0.16 + 0.10 * tex[: H - r0])
    return out


def render(a: Anatomy, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float], np.ndarray]:
    """Render one radiograph.

    Returns
    -------
    image : (height, width) uint8.
    truth : rendering facts (border row and cortex margin row below the left foramen, teeth kept).
    cortex : (height, width) bool, the cortical band of the lower border: pixels whose centre lies
        between the endosteal margin and the lower border of their column.
    """
    mm = 1.0 / a.px_mm
    H, W = a.height, a.width
    present = rng.random(32) >= (1.0 if a.edentulous else a.p_missing_tooth)
    layout = _tooth_layout(a)
    d = _skull_layer(rng, a)
    yb, ya = _mandible_outline(rng, a, present, layout)
    margin = _cortex_margin(rng, a, yb)
    top = int(max(0, ya.min() - 2))
    rows = slice(top, H)
    Y, X = _grid(H, W)
    Y = Y[rows]
    e = 0.25 * mm
    bone = _sig((yb - Y) / e) * _sig((Y - ya) / (0.6 * mm))
    cortex = _sig((yb - Y) / e) * _sig((Y - margin) / (0.3 * mm))
    if a.cortical_index == "C3":                                   # porous residues in the cortex
        pores = _trabecular(rng, a, rows)
        cortex *= 0.55 + 0.45 * pores
    trab = _trabecular(rng, a, rows)
    marrow = bone * (1 - cortex)
    dens = 0.22 * bone + 0.30 * cortex + 0.10 * marrow * trab
    # mandibular canal: from the ramus to each foramen, about 9 mm above the border
    (lx, ly), (_, ry) = a.left_foramen, a.right_foramen
    yc = np.where(np.arange(W) > W / 2, ly, ry) + np.clip(np.abs(np.arange(W) - W / 2) - abs(lx - W / 2), 0, None) * 0.05
    in_canal = (np.abs(np.arange(W) - W / 2) > abs(lx - W / 2) - 2 * mm)[None, :]
    canal = np.exp(-(((Y - yc[None, :]) / (1.6 * mm)) ** 2)) * in_canal
    dens -= 0.08 * canal * marrow
    for fx, fy in (a.left_foramen, a.right_foramen):                # mental foramina, about 3 mm
        r2 = ((X - fx) / (1.7 * mm)) ** 2 + ((Y - fy) / (1.4 * mm)) ** 2
        dens -= 0.13 * np.exp(-(r2 ** 2)) * bone
    d[rows] += dens
    d += _maxilla(rng, a, present, layout, trab, top)
    occ_lower = 0.5 * (ly + ry) - 17.5 * mm
    for i, ((xc, w, kind), p) in enumerate(zip(layout + layout, present)):
        upper = i < 16
        if not p or not 0 <= xc < W:
            continue
        curve = 1.5 * mm * ((xc - W / 2) / (0.25 * W)) ** 2          # curve of Spee: a "smile"
        y_edge = occ_lower - curve - (0.6 * mm if upper else -0.6 * mm)
        _draw_tooth(d, rng, xc, w, kind, y_edge, upper, mm)
    img = _detector(rng, d, mm)
    _side_marker(img, mm)
    col = int(np.clip(round(lx), 0, W - 1))
    band = (np.arange(H)[:, None] >= margin[None, :]) & (np.arange(H)[:, None] < yb[None, :])
    return img, {"border_y": float(yb[col]), "margin_y": float(margin[col]),
                 "teeth_present": int(present.sum())}, band


def _side_marker(img: np.ndarray, mm: float) -> None:
    """Burn in an "R" on the patient's right (the image's left, near the top), as panoramic units
    print a side marker: the only cue that tells a radiograph from its mirror image. Drawn after
    the detector and without random draws, so no other pixel changes."""
    H, W = img.shape
    Y, X = _grid(H, W)
    x0, y0, h, w, t = 0.05 * W, 0.07 * H, 9 * mm, 6 * mm, 1.3 * mm   # letter box and stroke width
    u, v = (X - x0) / w, (Y - y0) / h                                  # letter coordinates in [0, 1]
    inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
    tu, tv = t / w, t / h
    stem = u <= tu
    bowl = (v <= 0.55) & ((v <= tv) | ((v >= 0.55 - tv)) | (u >= 1 - tu))
    leg = (v >= 0.55) & (np.abs(u - (0.2 + 0.8 * (v - 0.55) / 0.45)) <= tu)
    img[inside & (stem | bowl | leg)] = 235


def _detector(rng, d: np.ndarray, mm: float) -> np.ndarray:
    """Exposure, gamma, blur and noise, then 8-bit quantisation."""
    gain = rng.uniform(2.2, 3.2)
    img = 1.0 - np.exp(-gain * np.clip(d, 0, None))
    lo, hi = np.percentile(img[:: 7, :: 7], [0.5, 99.8])
    img = np.clip((img - lo) / (hi - lo + 1e-6), 0, 1) ** rng.uniform(0.8, 1.25)
    img = ndimage.gaussian_filter(img, rng.uniform(0.08, 0.16) * mm, truncate=3.0)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    img += noise * (0.012 + 0.025 * np.sqrt(img)) * rng.uniform(0.7, 1.4)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
