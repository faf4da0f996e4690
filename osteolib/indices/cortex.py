"""The mandibular cortex at a mental foramen, measured on one radiograph: MCW and PMI (no file I/O).

The method, as a dentist measures the mental index (Ledgerton et al. 1999; Taguchi et al. 1996) and the
panoramic mandibular index (Benson et al. 1991), made automatic:

1. **The lower border** below the foramen: in every column within ``border_half_mm`` of the foramen
   (every ``border_step_mm``), the strongest bright-to-dark edge going down (a Gaussian derivative)
   between ``search_mm`` below the foramen; a quadratic through those points, weighted by the edges'
   strength, with outliers beyond 3 robust SDs dropped.
2. **The perpendicular**: the line through the foramen perpendicular to that curve, i.e. through its
   nearest point of the curve (Newton's method on the quadratic).
3. **The profile** along it, outwards from the foramen, sampled every 0.2 px by bilinear interpolation
   (scipy's ``map_coordinates``) and averaged over parallel lines ``band_mm`` wide.
4. **The two margins**, sub-pixel: the profile near the border is fitted (scipy's ``least_squares``) by a
   blurred two-step model, marrow level -> cortex level at the endosteal margin ``a`` -> soft-tissue level
   at the periosteal margin ``b``, each step a Gaussian edge of the same width (the model-based edge
   location of cortical-thickness measurement on blurred images, Treece et al., Med Image Anal 14:276,
   2010, which unlike half-maximum or gradient peaks does not overestimate a cortex that the blur
   narrows to a few pixels). MCW = b - a.
5. **The foramen's inferior margin** on the same line: the steepest rise below the darkest point within
   ``foramen_mm`` of the landmark. PMI = MCW / (distance from that margin to the lower border).

Widths are **radiographic** (as the radiograph shows them, through its pixel spacing; the published
cut-offs, such as MCW below 3 mm, are radiographic); ``magnification`` (about 1.25 on panoramic units)
gives the anatomical width. PMI is a ratio of two lengths on the same line, so neither the spacing nor
the magnification enters it.

A measurement that cannot be made is flagged with its reason, never given a number silently
(:data:`REASONS`).

References
----------
Benson B.W., Prihoda T.J., Glass B.J. Variations in adult cortical bone mass as measured by a panoramic
mandibular index. Oral Surg Oral Med Oral Pathol 71:617-621 (1991).
Ledgerton D., Horner K., Devlin H., Worthington H. Radiomorphometric indices of the mandible in a British
female population. Dentomaxillofac Radiol 28:173-181 (1999).
Taguchi A. et al. Usefulness of panoramic radiography in the diagnosis of postmenopausal osteoporosis in
women. Dentomaxillofac Radiol 25:263-267 (1996).
Treece G.M., Gee A.H., Mayhew P.M., Poole K.E.S. High resolution cortical bone thickness measurement from
clinical CT data. Med Image Anal 14:276-290 (2010).

Examples
--------
>>> img, truth = drawn_profile_image(width_mm=3.0, px_mm=0.1)
>>> m = measure(img, truth["x"], truth["y"], px_mm=0.1)
>>> m.flag, round(m.mcw_mm, 1)
(False, 3.0)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage, optimize, special

from ..settings import MeasureSettings

__all__ = ["Measurement", "REASONS", "edge_model", "fit_margins", "trace_border", "perpendicular",
           "sample_profile", "measure", "drawn_profile_image"]

#: Why a measurement is not given (the ``reason`` of a flagged row).
REASONS = {
    "no_spacing": "no pixel spacing: MCW in mm unknown (PMI, a ratio, is given)",
    "outside": "the foramen lies too close to the image's edge to measure below it",
    "no_border": "no lower border below the foramen (no consistent bright-to-dark edge)",
    "no_cortex": "no visible cortex: the bone above the lower border is not brighter than the marrow",
    "no_margin": "the endosteal margin was not found within the widest plausible cortex",
    "fit": "the margins' model did not fit the profile",
    "no_foramen": "the foramen's inferior margin is not visible on the perpendicular (PMI not given)",
}


@dataclass
class Measurement:
    """One side of one radiograph. Lengths along the perpendicular in radiographic mm (``*_px``: in the
    image's pixels); NaN where flagged."""

    side: str = "left"
    mcw_mm: float = np.nan              # radiographic
    mcw_anatomical_mm: float = np.nan   # radiographic / magnification
    pmi: float = np.nan
    mcw_px: float = np.nan
    foramen_to_border_px: float = np.nan
    border: tuple = (np.nan, np.nan)     # (x, y): where the perpendicular meets the lower border
    endosteal: tuple = (np.nan, np.nan)
    periosteal: tuple = (np.nan, np.nan)
    direction: tuple = (np.nan, np.nan)  # the unit vector of the perpendicular, outwards
    contrast: float = np.nan             # cortex level - marrow level, gray levels
    edge_sd_px: float = np.nan           # the fitted blur of the margins
    residual: float = np.nan             # the fit's residual SD, gray levels
    flag: bool = False
    reason: str = ""
    profile: dict = field(default_factory=dict, repr=False)  # t (px), values, fitted model: for figures

    def as_row(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "profile"}
        for k in ("border", "endosteal", "periosteal", "direction"):
            x, y = d.pop(k)
            d[f"{k}_x"], d[f"{k}_y"] = x, y
        return d


def edge_model(t: np.ndarray, marrow: float, cortex: float, soft: float, a: float, b: float, sd: float) -> np.ndarray:
    """The blurred two-step profile: ``marrow`` -> ``cortex`` at ``a`` -> ``soft`` at ``b`` (Gaussian edges of
    SD ``sd``), along ``t``."""
    step = lambda c: 0.5 * (1 + special.erf((t - c) / (np.sqrt(2) * sd)))
    return marrow + (cortex - marrow) * step(a) + (soft - cortex) * step(b)


def _smooth_derivative(values: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter1d(values.astype(float), max(sigma, 0.5), order=1, mode="nearest")


def _peak(d: np.ndarray, i: int) -> float:
    """Sub-sample position of an extremum at ``i`` (a parabola through it and its neighbours)."""
    if 0 < i < len(d) - 1:
        den = d[i - 1] - 2 * d[i] + d[i + 1]
        if den != 0:
            return i + 0.5 * (d[i - 1] - d[i + 1]) / den
    return float(i)


def trace_border(gray: np.ndarray, x0: float, y0: float, px_mm: float, s: MeasureSettings = MeasureSettings()):
    """The lower border below (x0, y0): ``np.poly1d`` y(x), quadratic, or None when not found."""
    h, w = gray.shape
    step = max(1.0, s.border_step_mm / px_mm)
    half = s.border_half_mm / px_mm
    cols = np.arange(max(1.0, x0 - half), min(w - 2.0, x0 + half) + 1e-9, step)
    r0, r1 = int(max(0, y0 + s.search_mm[0] / px_mm)), int(min(h, y0 + s.search_mm[1] / px_mm))
    if len(cols) < 5 or r1 - r0 < 8:
        return None
    sigma = 0.3 / px_mm
    xs, ys, weights = [], [], []
    for c in cols:
        c0, c1 = int(max(0, round(c - step / 2))), int(min(w, round(c + step / 2) + 1))
        col = gray[r0:r1, c0:c1].astype(float).mean(axis=1)
        d = _smooth_derivative(col, sigma)
        i = int(np.argmin(d))
        if d[i] >= 0:
            continue
        xs.append(c)
        ys.append(r0 + _peak(d, i))
        weights.append(-d[i])
    if len(xs) < max(5, 0.6 * len(cols)):
        return None
    xs, ys, weights = map(np.asarray, (xs, ys, weights))
    keep = np.ones(len(xs), bool)
    for _ in range(3):  # a weighted quadratic, outliers (another edge in some columns) dropped
        fit = np.poly1d(np.polyfit(xs[keep], ys[keep], 2, w=np.sqrt(weights[keep])))
        res = ys - fit(xs)
        mad = 1.4826 * np.median(np.abs(res[keep] - np.median(res[keep])))
        new = np.abs(res) <= max(3 * mad, 1.0)
        if new.sum() < max(5, 0.6 * len(cols)):
            return None
        if (new == keep).all():
            break
        keep = new
    return fit


def perpendicular(curve: np.poly1d, x0: float, y0: float) -> tuple[float, float]:
    """The point of ``curve`` nearest to (x0, y0): where the line through it perpendicular to the curve
    meets the curve (Newton's method on the derivative of the squared distance)."""
    d1, d2 = curve.deriv(), curve.deriv(2)
    x = float(x0)
    for _ in range(20):
        g = (x - x0) + d1(x) * (curve(x) - y0)
        dg = 1 + d2(x) * (curve(x) - y0) + d1(x) ** 2
        dx = g / dg
        x -= dx
        if abs(dx) < 1e-6:
            break
    return x, float(curve(x))


def sample_profile(gray: np.ndarray, start: tuple[float, float], direction: tuple[float, float], length: float,
                   band: float, step: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Gray values along ``start + t * direction`` for t in [0, ``length``] px, every ``step`` px, averaged
    over parallel lines spread over ``band`` px (bilinear interpolation). Returns (t, values)."""
    t = np.arange(0.0, length + step / 2, step)
    nx, ny = direction
    ux, uy = -ny, nx                                    # along the border
    offsets = np.linspace(-band / 2, band / 2, max(1, int(round(band)) | 1))
    xs = start[0] + t[None, :] * nx + offsets[:, None] * ux
    ys = start[1] + t[None, :] * ny + offsets[:, None] * uy
    vals = ndimage.map_coordinates(gray.astype(np.float32), [ys.ravel(), xs.ravel()], order=1, mode="nearest")
    return t, vals.reshape(xs.shape).mean(axis=0)


def fit_margins(t: np.ndarray, values: np.ndarray, border: float, px_mm: float, s: MeasureSettings = MeasureSettings()):
    """Fit :func:`edge_model` to the profile around the border at ``border`` (px along ``t``).

    Returns (params dict: marrow, cortex, soft, a, b, sd; residual SD; reason or "")."""
    max_w, min_w = s.max_width_mm / px_mm, max(s.min_width_mm / px_mm, 1.0)   # below a pixel: not measurable
    lo, hi = border - max_w - 1.5 / px_mm, border + 2.0 / px_mm
    sel = (t >= lo) & (t <= hi)
    tt, vv = t[sel], values[sel].astype(float)
    if len(tt) < 10:
        return None, np.nan, "outside"
    step = tt[1] - tt[0]
    d = _smooth_derivative(vv, 0.15 / px_mm / step)
    # start: the periosteal margin at the steepest fall near the traced border, the endosteal one at the
    # steepest rise inside the widest cortex
    near = np.flatnonzero(np.abs(tt - border) <= 1.5 / px_mm)
    b0 = tt[near[np.argmin(d[near])]] if len(near) else border
    inside = np.flatnonzero((tt >= b0 - max_w) & (tt <= b0 - min_w))
    if not len(inside):
        return None, np.nan, "no_margin"
    # the trabecular bone above a thin cortex has rises of its own: start from each of the steepest few
    peaks = inside[1:-1][(d[inside][1:-1] >= d[inside][:-2]) & (d[inside][1:-1] >= d[inside][2:])]
    starts = tt[peaks[np.argsort(d[peaks])[::-1][:4]]] if len(peaks) else tt[inside[[np.argmax(d[inside])]]]
    level = lambda m: float(np.median(vv[m])) if m.any() else float(np.median(vv))
    bounds = ([-np.inf, -np.inf, -np.inf, b0 - max_w - 0.5 / px_mm, b0 - 1.0 / px_mm, 0.3],
              [np.inf, np.inf, np.inf, b0 - 0.5 * min_w, b0 + 1.0 / px_mm, max(0.31, 1.0 / px_mm)])
    r = None
    for a0 in starts:
        p0 = [level(tt < a0 - 0.5 / px_mm), level((tt > a0) & (tt < b0)), level(tt > b0 + 0.5 / px_mm), a0, b0,
              max(0.6, 0.1 / px_mm)]
        p0 = np.clip(p0, np.array(bounds[0]) + 1e-6, np.array(bounds[1]) - 1e-6)
        try:
            fit = optimize.least_squares(lambda p: edge_model(tt, *p) - vv, p0, bounds=bounds, x_scale="jac")
        except (ValueError, np.linalg.LinAlgError):
            continue
        if r is None or fit.cost < r.cost:
            r = fit
    if r is None:
        return None, np.nan, "fit"
    p = dict(zip(("marrow", "cortex", "soft", "a", "b", "sd"), map(float, r.x)))
    resid = float(np.std(r.fun))
    if not r.success:
        return p, resid, "fit"
    width = p["b"] - p["a"]
    if p["cortex"] - p["marrow"] < s.min_contrast * max(resid, 1.0) or p["cortex"] <= p["soft"] or width < min_w:
        return p, resid, "no_cortex"
    if width > max_w or p["a"] <= bounds[0][3] + 0.5:
        return p, resid, "no_margin"
    return p, resid, ""


def _foramen_margin(t: np.ndarray, values: np.ndarray, px_mm: float, s: MeasureSettings) -> float:
    """Along the profile (t = 0 at the landmark, outwards): the foramen's inferior margin, or NaN."""
    step = t[1] - t[0]
    reach = s.foramen_mm / px_mm
    sm = ndimage.gaussian_filter1d(values.astype(float), max(0.5, 0.25 / px_mm / step))
    around = np.flatnonzero(t <= reach)
    i0 = around[np.argmin(sm[around])]
    below = np.flatnonzero((t > t[i0]) & (t <= t[i0] + 3.0 / px_mm))
    if len(below) < 3:
        return np.nan
    d = _smooth_derivative(values, 0.15 / px_mm / step)
    j = below[np.argmax(d[below])]
    bone = sm[(t > t[j] + 0.5 / px_mm) & (t <= t[j] + 2.0 / px_mm)]
    rim = np.median(np.abs(np.diff(values))) * 3 + 2.0
    if not bone.size or np.median(bone) - sm[i0] < rim:   # no dark foramen against the bone below it
        return np.nan
    return float(t[0] + _peak(d, int(j)) * step)


def measure(gray: np.ndarray, x: float, y: float, px_mm, side: str = "left",
            settings: MeasureSettings = MeasureSettings()) -> Measurement:
    """MCW and PMI below the mental foramen at (``x``, ``y``) (pixels) of radiograph ``gray`` (2-D, any
    dtype). ``px_mm``: its pixel spacing in mm, one number or (rows, columns); None or NaN: unknown (MCW in
    mm is then flagged, PMI still given)."""
    s = settings
    out = Measurement(side=side)
    rows_mm, cols_mm = (px_mm, px_mm) if np.isscalar(px_mm) or px_mm is None else tuple(px_mm)
    known = all(v is not None and np.isfinite(v) and v > 0 for v in (rows_mm, cols_mm))
    spacing = float(np.sqrt(rows_mm * cols_mm)) if known else s.assumed_px_mm
    h, w = gray.shape
    if not (0 <= x < w and 0 <= y < h) or y + s.search_mm[0] / spacing >= h:
        return _flag(out, "outside")
    curve = trace_border(gray, x, y, spacing, s)
    if curve is None:
        return _flag(out, "no_border")
    bx, by = perpendicular(curve, x, y)
    dist = float(np.hypot(bx - x, by - y))
    direction = ((bx - x) / dist, (by - y) / dist)
    out.border, out.direction = (bx, by), direction
    t, values = sample_profile(gray, (x, y), direction, dist + 3.0 / spacing, s.band_mm / spacing)
    p, resid, reason = fit_margins(t, values, dist, spacing, s)
    out.profile = {"t": t, "values": values, "params": p, "px_mm": spacing,
                   "model": edge_model(t, *p.values()) if p is not None else None}
    if p is not None:
        out.contrast, out.edge_sd_px, out.residual = p["cortex"] - p["marrow"], p["sd"], resid
    if reason:
        return _flag(out, reason)
    a, b = p["a"], p["b"]
    out.endosteal = (x + a * direction[0], y + a * direction[1])
    out.periosteal = (x + b * direction[0], y + b * direction[1])
    out.mcw_px = b - a
    inferior = _foramen_margin(t, values, spacing, s)
    out.profile["foramen_margin"] = inferior
    if np.isfinite(inferior) and inferior < a:
        out.foramen_to_border_px = b - inferior
        out.pmi = out.mcw_px / out.foramen_to_border_px
    if known:  # a length along the perpendicular, through the spacing of rows and columns
        out.mcw_mm = out.mcw_px * float(np.hypot(direction[0] * cols_mm, direction[1] * rows_mm))
        out.mcw_anatomical_mm = out.mcw_mm / s.magnification
    else:
        return _flag(out, "no_spacing", keep=True)
    if not np.isfinite(out.pmi):
        return _flag(out, "no_foramen", keep=True)
    return out


def _flag(m: Measurement, key: str, keep: bool = False) -> Measurement:
    """Flag ``m`` with the reason ``key``; without ``keep`` every number of it is withdrawn."""
    m.flag, m.reason = True, REASONS[key]
    if not keep:
        m.mcw_mm = m.mcw_anatomical_mm = m.pmi = m.mcw_px = m.foramen_to_border_px = np.nan
    return m


def drawn_profile_image(width_mm: float = 3.0, px_mm: float = 0.1, depth_mm: float = 15.0, blur_mm: float = 0.1,
                        noise: float = 2.0, slope: float = 0.05, foramen_mm: float = 1.5, cortex: float = 200.0,
                        marrow: float = 120.0, soft: float = 60.0, seed: int = 0, size_mm: float = 40.0):
    """A drawn test picture with known margins, ``size_mm`` square: a dark round foramen at its centre
    column a quarter down, a straight lower border of ``slope`` ``depth_mm`` below it, a cortex
    ``width_mm`` wide (measured perpendicular to the border) above the border, Gaussian blur and noise.
    Returns (uint8 image, truth dict: x, y of the foramen in px, mcw_mm, foramen_to_border_mm, pmi)."""
    rng = np.random.default_rng(seed)
    h = w = int(round(size_mm / px_mm))
    k = 8                                                     # drawn 8 x finer, then each pixel's area averaged
    yy, xx = (np.mgrid[0:h * k, 0:w * k].astype(float) + 0.5) / k - 0.5
    fx, fy = w / 2, h / 4
    # signed distance below the border line through (fx, fy + depth / cos) with the given slope
    norm = np.hypot(1.0, slope)
    by = fy + depth_mm / px_mm * norm
    dist = ((yy - by) - slope * (xx - fx)) / norm            # > 0 below the border
    width = width_mm / px_mm
    img = np.where(dist > 0, soft, np.where(dist > -width, cortex, marrow)).astype(float)
    img = np.where(np.hypot(xx - fx, yy - fy) < foramen_mm / px_mm, marrow - 60.0, img)
    img = ndimage.gaussian_filter(img, blur_mm / px_mm * k).reshape(h, k, w, k).mean(axis=(1, 3))
    img = img + rng.normal(0, noise, img.shape)
    to_border = depth_mm - foramen_mm                          # along the perpendicular (the foramen is round)
    truth = {"x": fx, "y": fy, "mcw_mm": width_mm, "foramen_to_border_mm": to_border, "pmi": width_mm / to_border}
    return np.clip(img, 0, 255).astype(np.uint8), truth



def strip(gray: np.ndarray, m: Measurement, curve: np.poly1d, px_mm: float, half_mm: float, step_mm: float = 0.2,
          band_mm: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cortex straightened: rows every ``step_mm`` along the lower border (``half_mm`` either side of the
    perpendicular), columns along each row's own normal to the border from ``depth`` above it to 3 mm below,
    every 0.2 px, each row averaged over ``band_mm``. Returns (offsets px, t px relative to the border (< 0
    inside the bone), values)."""
    d1 = curve.deriv()
    step = 0.2
    depth = m.mcw_px + 4.0 / px_mm
    t = np.arange(-depth, 3.0 / px_mm + step / 2, step)
    bx0 = m.border[0]
    offsets = np.arange(-half_mm, half_mm + 1e-9, step_mm) / px_mm
    # walk along the curve by arc length from the foot of the perpendicular
    xs = np.linspace(bx0 - 2 * half_mm / px_mm, bx0 + 2 * half_mm / px_mm, 4001)
    arc = np.concatenate([[0], np.cumsum(np.hypot(np.diff(xs), np.diff(curve(xs))))])
    arc -= np.interp(bx0, xs, arc)
    bx = np.interp(offsets, arc, xs)
    by = curve(bx)
    norm = np.hypot(1.0, d1(bx))
    nx, ny = -d1(bx) / norm, 1.0 / norm                     # downwards, out of the bone
    n_lines = max(1, int(round(band_mm / px_mm)) | 1)
    spread = np.linspace(-band_mm / 2, band_mm / 2, n_lines) / px_mm
    X = bx[:, None, None] + t[None, None, :] * nx[:, None, None] + spread[None, :, None] * ny[:, None, None]
    Y = by[:, None, None] + t[None, None, :] * ny[:, None, None] - spread[None, :, None] * nx[:, None, None]
    vals = ndimage.map_coordinates(gray.astype(np.float32), [Y.ravel(), X.ravel()], order=1, mode="nearest")
    return offsets, t, vals.reshape(X.shape).mean(axis=1)


def morphology(gray: np.ndarray, m: Measurement, curve: np.poly1d, px_mm: float, half_mm: float = 10.0,
               s: MeasureSettings = MeasureSettings()) -> dict:
    """What Klemetti's index grades, measured on the straightened cortex (:func:`strip`, ``half_mm`` either
    side of the perpendicular; rows 0.2 mm wide, so a defect is not averaged away) of a measured side ``m``.

    In each row the periosteal margin is the steepest fall near the border and the endosteal margin the
    steepest rise inside the widest cortex (a Gaussian derivative). Returns ``margin_roughness`` (the robust
    SD of the endosteal margin about a quadratic along the border, over the median width: C2's semilunar
    defects and C3's erosion make it rough), ``cortex_porosity`` (the robust SD of the gray values inside
    the cortex over the cortex's contrast: C3's porous residues) and ``width_cv`` (the robust SD of the
    width over its median)."""
    offsets, t, v = strip(gray, m, curve, px_mm, half_mm)
    step = t[1] - t[0]
    d = ndimage.gaussian_filter1d(v, max(0.5, 0.15 / px_mm / step), axis=1, order=1, mode="nearest")
    near = np.abs(t) <= 1.0 / px_mm
    b = t[near][np.argmin(d[:, near], axis=1)]
    inside = (t[None, :] >= b[:, None] - s.max_width_mm / px_mm) & (t[None, :] <= b[:, None] - s.min_width_mm / px_mm)
    a = t[np.argmax(np.where(inside, d, -np.inf), axis=1)]
    width = b - a
    mad = lambda x: 1.4826 * float(np.median(np.abs(x - np.median(x))))
    w0 = float(np.median(width))
    res = a - np.poly1d(np.polyfit(offsets, a, 2))(offsets)
    sd = m.edge_sd_px if np.isfinite(m.edge_sd_px) else 1.0
    core = (t[None, :] > a[:, None] + 1.5 * sd) & (t[None, :] < b[:, None] - 1.5 * sd)
    spread = [mad(row[c]) for row, c in zip(v, core) if c.sum() >= 3]
    contrast = m.contrast if np.isfinite(m.contrast) and m.contrast > 0 else np.nan
    return {"margin_roughness": mad(res) / w0 if w0 > 0 else np.nan,
            "cortex_porosity": float(np.median(spread)) / contrast if spread else np.nan,
            "width_cv": mad(width) / w0 if w0 > 0 else np.nan}
