"""Annotating in JupyterLab: landmarking the mental foramina, and measuring the cortex below them by hand.

**Landmarking** (:class:`Landmarking`): set or correct the mental foramina of a data folder, one radiograph at a time.

Notebook ``00_data`` opens it on a data folder without landmarks, or with the ROI detector's proposals to
review: each radiograph is shown with the proposed foramina and the ROI of notebook 02 below the left one;
a click sets the point of the active side (``l`` / ``r`` choose it), ``Enter`` (or ``a``) accepts the
patient, ``s`` skips to the next, ``u`` undoes the last click. After every accepted patient the data
folder's ``landmarks.csv`` (the input layout: patient_id, side, x, y) is rewritten atomically, so an
interrupted session resumes where it stopped; ``landmarking.csv`` beside it records, per point, whether
it was the proposal accepted or a click, and when. Patients the detector flagged (or has no proposal for)
come first, the least confident first.

**Measuring** (:class:`Measuring`): a clinician measures the mandibular cortical width (MCW) by hand and grades
Klemetti's index, the reference the automatic measurement of notebook 02b is compared with. The cortex below each
landmarked foramen is shown enlarged; two clicks mark its lower (periosteal) margin and its upper (endosteal) margin
on the line through the foramen perpendicular to the lower border (``l`` / ``r`` choose the side, ``x`` marks the active
side's cortex as not measurable), keys ``1`` ``2`` ``3`` grade C1-C3 (``0`` clears), ``Enter`` accepts. After every
accepted patient ``measurements/<reader>.csv`` (:data:`osteolib.datafolder.MEASUREMENT_COLUMNS`; the width in
radiographic mm through the image's pixel spacing) is rewritten atomically; running it again resumes. Two readers'
files give the inter-observer agreement (notebook 02b).

The clicks come from **ipyevents** (mouse and key events on an ``ipywidgets.Image``); the drawing is
PIL's. Both sessions share :class:`Session` (the queue of patients, the picture, the widget, resuming) and
can be driven without a browser (``click``, ``key``, ``accept``), which is how the tests drive them.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd
import torch
from ipyevents import Event
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from . import atomic, checkpoints, contribution, images
from .cam.method import Explainer
from .cohort import read_clinical
from .datafolder import LANDMARK_COLUMNS, MEASUREMENT_COLUMNS, SPACING_COLUMNS, DataFolder
from .placement import load, place
from .settings import RoiGeometry

__all__ = ["SIDES", "LOG_COLUMNS", "GRADES", "READING_COLUMNS", "read_proposals", "propose", "Session", "Landmarking",
           "Measuring", "Reading"]

SIDES = ("left", "right")
#: Klemetti's grades, keyed 1-3 in the measuring widget.
GRADES = ("C1", "C2", "C3")
#: What ``landmarking.csv`` records per point.
LOG_COLUMNS = ("patient_id", "side", "x", "y", "source", "proposal_x", "proposal_y", "saved_at")


def read_proposals(source) -> pd.DataFrame:
    """Proposals as a table indexed by patient_id with ``left_x, left_y, right_x, right_y``, ``ok`` and
    ``confidence``, from a DataFrame or CSV in the layout of ``python -m osteolib.placement evaluate``
    (or of :func:`propose`)."""
    t = pd.read_csv(source, dtype={"patient_id": str}) if isinstance(source, (str, Path)) else source.copy()
    missing = [c for c in ("patient_id", "left_x", "left_y", "right_x", "right_y") if c not in t.columns]
    if missing:
        raise ValueError(f"{source if isinstance(source, (str, Path)) else 'proposals'}: no column(s) {missing}")
    t["patient_id"] = t["patient_id"].astype(str)
    t["ok"] = t["ok"].astype(bool) if "ok" in t else True
    t["confidence"] = t["confidence"] if "confidence" in t else 1.0
    return t.set_index("patient_id")


def propose(detector, data_dir: str | Path, patient_ids=None, min_confidence: float = 0.5,
            progress: bool = True) -> pd.DataFrame:
    """The detector's proposals for the patients of a data folder (all, or ``patient_ids``), with
    its verdict (``ok``, ``reason``): the table :class:`Landmarking` reviews."""
    net = load(detector)[0] if isinstance(detector, (str, Path)) else detector
    folder = DataFolder(data_dir)
    clinical = read_clinical(data_dir, check_images=False).set_index("patient_id")
    ids = list(patient_ids) if patient_ids is not None else list(clinical.index)
    rows = [{"patient_id": pid, **place(net, images.read_gray(folder.image(clinical.loc[pid, "image"])), min_confidence)}
            for pid in tqdm(ids, desc="proposing", disable=not progress)]
    return read_proposals(pd.DataFrame(rows))


class Session:
    """What the annotating sessions share: the data folder's patients in a queue (resumed: those saved are not
    asked again), the current radiograph, the widget (an ``ipywidgets.Image`` with ipyevents clicks and keys,
    and buttons), and the mapping from the displayed picture to the radiograph's pixels. A subclass says what a
    click and a key do, what is saved, and what the picture shows (:meth:`view`: the part of the radiograph
    shown, ``(x0, y0, x1, y1)``; the whole by default)."""

    BUTTONS: dict[str, str] = {}

    def __init__(self, data_dir: str | Path, ids: list[str] | None, done: set[str], width: int):
        """``ids``: whom to ask, in order (None: every patient of ``clinical.csv``); ``done``: those saved."""
        self.data_dir = Path(data_dir)
        self.clinical = read_clinical(self.data_dir, check_images=False).set_index("patient_id")
        ids = [str(p) for p in (ids if ids is not None else self.clinical.index)]
        self.width, self.n_total = width, len(ids)
        self.queue = [p for p in self._order(ids) if p not in done]
        self._gray = self._scale = None

    @staticmethod
    def _read(file: Path, columns) -> pd.DataFrame:
        return pd.read_csv(file, dtype={"patient_id": str}) if file.is_file() else pd.DataFrame(columns=columns)

    def _order(self, ids: list[str]) -> list[str]:
        return ids

    @property
    def current(self) -> str | None:
        return self.queue[0] if self.queue else None

    @property
    def n_done(self) -> int:
        return self.n_total - len(self.queue)

    def _load(self) -> None:
        if self.current is not None:
            self._gray = images.read_gray(DataFolder(self.data_dir).image(self.clinical.loc[self.current, "image"]))
            x0, _, x1, _ = self.view()
            self._scale = self.width / (x1 - x0)

    def view(self) -> tuple[float, float, float, float]:
        h, w = self._gray.shape
        return 0.0, 0.0, float(w), float(h)

    def skip(self) -> None:
        """Put the current patient at the end of the queue."""
        if self.queue:
            self.queue.append(self.queue.pop(0))
            self._load()

    def _canvas(self) -> tuple[Image.Image, float, float, float]:
        """The view at display width as RGB, and (scale, x0, y0) to draw points of the radiograph on it."""
        x0, y0, x1, y1 = self.view()
        f = self.width / (x1 - x0)
        img = Image.fromarray(self._gray).resize((self.width, max(1, round((y1 - y0) * f))), Image.BILINEAR,
                                                 box=(x0, y0, x1, y1)).convert("RGB")
        return img, f, x0, y0

    @staticmethod
    def _png(img: Image.Image) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def picture(self) -> bytes:
        return b""

    def status(self) -> str:
        return ""

    def click(self, x: float, y: float) -> None:
        raise NotImplementedError

    def accept(self) -> bool:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def key(self, key: str) -> bool:
        """The keys every session shares: Enter/a accept, s skip, u undo. Returns whether ``key`` was one."""
        k = key.lower()
        actions = {"enter": self.accept, "a": self.accept, "s": self.skip, "u": self.undo}
        if k in actions:
            actions[k]()
        return k in actions

    def on_event(self, event: dict) -> None:
        """An ipyevents event: a click (``dataX/Y``: pixels of the displayed picture, which ipyevents gives
        for an Image widget; else ``relativeX/Y`` in the element as shown) or a key."""
        if event.get("type") == "click" and self.current is not None:
            if "dataX" in event:
                x, y = event["dataX"], event["dataY"]
            else:
                shown = event.get("boundingRectWidth") or self.width
                x, y = event["relativeX"] * self.width / shown, event["relativeY"] * self.width / shown
            x0, y0, _, _ = self.view()
            self.click(x0 + x / self._scale, y0 + y / self._scale)
        elif event.get("type") == "keydown":
            self.key(event.get("key", ""))
        self._refresh()

    def widget(self):
        """The ipywidgets box to display in the notebook."""
        self._image = w.Image(value=self.picture(), format="png", layout=w.Layout(width=f"{self.width}px"))
        self._label = w.Label(self.status())
        buttons = {name: w.Button(description=name) for name in self.BUTTONS}
        for name, b in buttons.items():
            b.on_click(lambda _, k=self.BUTTONS[name]: (self.key(k), self._refresh()))
        self._events = Event(source=self._image, watched_events=["click", "keydown"], prevent_default_action=True)
        self._events.on_dom_event(self.on_event)
        return w.VBox([self._label, self._image, w.HBox(list(buttons.values()))])

    def _refresh(self) -> None:
        if getattr(self, "_image", None) is not None:
            self._image.value = self.picture()
            self._label.value = self.status()


class Landmarking(Session):
    """The state of a landmarking session on ``data_dir`` (see the module's docstring).

    Parameters
    ----------
    data_dir : the data folder (input layout); ``landmarks.csv`` is written there.
    proposals : the detector's proposals (:func:`propose`, or a placement CSV), or None.
    geometry : the ROI drawn below the left foramen (notebook 02's, in the image's pixels).
    patient_ids : whom to landmark (default: every patient of ``clinical.csv``).
    width : display width in screen pixels.
    """

    BUTTONS = {"left": "l", "right": "r", "undo": "u", "skip": "s", "accept": "enter"}

    def __init__(self, data_dir: str | Path, proposals=None, geometry: RoiGeometry | None = None,
                 patient_ids=None, width: int = 1000):
        folder = DataFolder(data_dir)
        self.out, self.log_file = folder.landmarks_csv, folder.landmarking_csv
        self.proposals = read_proposals(proposals) if proposals is not None else None
        self.geometry = geometry
        self.saved = self._read(self.out, list(LANDMARK_COLUMNS))
        self.log = self._read(self.log_file, list(LOG_COLUMNS))
        done = set(self.saved.groupby("patient_id")["side"].nunique().loc[lambda n: n == len(SIDES)].index)
        super().__init__(data_dir, patient_ids, done, width)
        self.side, self.points, self.history = "left", {}, []
        self._load()

    def _order(self, ids: list[str]) -> list[str]:
        """Flagged patients and those without a proposal first (least confident first), then the rest."""
        if self.proposals is None:
            return ids
        p = self.proposals.reindex(ids)
        key = pd.DataFrame({"ok": p["ok"].fillna(False).astype(bool), "conf": p["confidence"].fillna(-1.0)}, index=ids)
        return key.sort_values(["ok", "conf"], kind="stable").index.tolist()

    def proposal(self, pid: str | None = None) -> dict[str, tuple[float, float]]:
        pid = pid or self.current
        if self.proposals is None or pid not in self.proposals.index:
            return {}
        r = self.proposals.loc[pid]
        return {k: (float(r[f"{k}_x"]), float(r[f"{k}_y"])) for k in SIDES if pd.notna(r[f"{k}_x"])}

    def _load(self) -> None:
        """Start the current patient from its proposal (accepted as it is unless clicked)."""
        self.points, self.history, self.side = dict(self.proposal()), [], "left"
        super()._load()

    def click(self, x: float, y: float, side: str | None = None) -> None:
        """Set the point of ``side`` (default: the active side) to (x, y) in the image's pixels; the active
        side then moves on to the other one."""
        side = side or self.side
        if side not in SIDES:
            raise ValueError(f"side {side!r}: one of {SIDES}")
        self.history.append((side, self.points.get(side)))
        self.points[side] = (float(x), float(y))
        self.side = SIDES[(SIDES.index(side) + 1) % len(SIDES)]

    def undo(self) -> None:
        if self.history:
            side, before = self.history.pop()
            self.points.pop(side) if before is None else self.points.__setitem__(side, before)
            self.side = side

    def accept(self) -> bool:
        """Save the current patient (both sides needed) to ``landmarks.csv`` atomically and move on.
        Returns False (nothing saved) while a side has no point."""
        pid = self.current
        if pid is None or any(k not in self.points for k in SIDES):
            return False
        clicked = {side for side, _ in self.history}
        prop, now = self.proposal(), time.strftime("%Y-%m-%dT%H:%M:%S")
        rows = pd.DataFrame([{"patient_id": pid, "side": k, "x": round(self.points[k][0], 1),
                              "y": round(self.points[k][1], 1)} for k in SIDES])
        log = pd.DataFrame([{**r, "source": "clicked" if r["side"] in clicked else "proposal",
                             "proposal_x": prop.get(r["side"], (np.nan, np.nan))[0],
                             "proposal_y": prop.get(r["side"], (np.nan, np.nan))[1], "saved_at": now}
                            for r in rows.to_dict("records")])
        keep = lambda t: t[t["patient_id"] != pid]
        self.saved = pd.concat([keep(self.saved), rows], ignore_index=True).sort_values(["patient_id", "side"], kind="stable")
        self.log = pd.concat([keep(self.log), log], ignore_index=True)
        atomic.write_csv(self.log, self.log_file, index=False)
        atomic.write_csv(self.saved, self.out, index=False)        # last: the file a resumed session reads
        self.queue.pop(0)
        self._load()
        return True

    def key(self, key: str) -> bool:
        """A key press: Enter/a accept, s skip, u undo, l/r the active side."""
        k = key.lower()
        if super().key(k):
            return True
        if k in ("l", "r"):
            self.side = "left" if k == "l" else "right"
        return k in ("l", "r")

    def picture(self) -> bytes:
        """The current radiograph at display width as PNG: the proposal (yellow), the points set (green
        left, cyan right; the active side ringed) and the ROI below the left point."""
        if self.current is None:
            return b""
        img, f, _, _ = self._canvas()
        draw = ImageDraw.Draw(img)
        r = 6
        for k, (x, y) in self.proposal().items():
            draw.line([(x * f - r, y * f), (x * f + r, y * f)], fill=(255, 220, 0), width=1)
            draw.line([(x * f, y * f - r), (x * f, y * f + r)], fill=(255, 220, 0), width=1)
        for k, (x, y) in self.points.items():
            colour = (0, 230, 0) if k == "left" else (0, 200, 255)
            draw.ellipse([x * f - 3, y * f - 3, x * f + 3, y * f + 3], fill=colour)
            if k == self.side:
                draw.ellipse([x * f - 9, y * f - 9, x * f + 9, y * f + 9], outline=colour, width=2)
            if k == "left" and self.geometry is not None:
                x0, y0, x1, y1 = self.geometry.box(x, y)
                draw.rectangle([x0 * f, y0 * f, x1 * f, y1 * f], outline=(0, 230, 0), width=1)
        return self._png(img)

    def status(self) -> str:
        if self.current is None:
            return f"all {self.n_total} patients landmarked: {self.out}"
        flagged = ""
        if self.proposals is not None and self.current in self.proposals.index:
            p = self.proposals.loc[self.current]
            flagged = "" if p["ok"] else f" · FLAGGED: {p.get('reason', '') or 'low confidence'}"
        elif self.proposals is not None:
            flagged = " · no proposal"
        todo = ("both set: Enter accepts, a click moves the " if all(k in self.points for k in SIDES)
                else "click sets the ")
        return (f"{self.current} · {self.n_done + 1} of {self.n_total} · {todo}{self.side} foramen "
                f"(l/r: side, u: undo, Enter: accept, s: skip){flagged}")


#: The margins a measuring click sets, in the order they are asked for on each side.
MARGINS = ("periosteal", "endosteal")


class Measuring(Session):
    """A clinician's manual MCW and Klemetti grade on ``data_dir`` (see the module's docstring), saved to
    ``measurements/<reader>.csv``.

    Parameters
    ----------
    data_dir : the data folder, landmarked (``landmarks.csv``: the cortex is shown below each foramen).
    reader : the clinician's name or code (a plain file name): whose measurements these are.
    patient_ids : whom to measure (default: every patient with a landmark).
    view_mm : the width of the cortex shown around the foramen (mm; pixels through the image's spacing).
    width : display width in screen pixels.
    """

    BUTTONS = {"left": "l", "right": "r", "C1": "1", "C2": "2", "C3": "3", "not measurable": "x", "undo": "u",
               "skip": "s", "accept": "enter"}

    def __init__(self, data_dir: str | Path, reader: str, patient_ids=None, view_mm: float = 24.0, width: int = 800):
        if not reader or not all(c.isalnum() or c in "_-." for c in reader):
            raise ValueError(f"reader {reader!r}: a plain name (letters, digits, _ - .), used as the file name")
        folder = DataFolder(data_dir)
        self.reader, self.out, self.view_mm = reader, folder.measurements(reader), view_mm
        landmarks = self._read(folder.landmarks_csv, list(LANDMARK_COLUMNS))
        landmarks["patient_id"] = landmarks["patient_id"].astype(str)
        self.foramina = {(r.patient_id, r.side): (float(r.x), float(r.y)) for r in landmarks.itertuples()}
        self.saved = self._read(self.out, list(MEASUREMENT_COLUMNS))
        self.saved["patient_id"] = self.saved["patient_id"].astype(str)
        ids = [str(p) for p in (patient_ids if patient_ids is not None else
                                dict.fromkeys(landmarks["patient_id"].astype(str)))]
        super().__init__(data_dir, ids, set(self.saved["patient_id"]), width)
        self._load()

    def _load(self) -> None:
        self.sides = [k for k in SIDES if (self.current, k) in self.foramina] if self.current else []
        self.side = self.sides[0] if self.sides else "left"
        self.marks: dict[str, dict[str, tuple[float, float]]] = {k: {} for k in SIDES}
        self.unmeasurable: set[str] = set()
        self.grade, self.history = "", []
        if self.current is not None:
            super()._load()

    @property
    def spacing(self) -> tuple[float, float]:
        """(rows, columns) mm per pixel of the current radiograph (NaN: unknown)."""
        row = self.clinical.loc[self.current]
        return tuple(float(row[c]) if c in row and pd.notna(row[c]) else np.nan for c in SPACING_COLUMNS)

    def view(self) -> tuple[float, float, float, float]:
        """``view_mm`` wide around the active side's foramen, from a fifth of it above to the rest below."""
        h, w = self._gray.shape
        px = np.nanmean(self.spacing) if np.isfinite(self.spacing).any() else 0.1
        x, y = self.foramina.get((self.current, self.side), (w / 2, h / 2))
        half = self.view_mm / px / 2
        x0, y0 = float(np.clip(x - half, 0, max(0, w - 2 * half))), float(np.clip(y - 0.4 * half, 0, max(0, h - 1.6 * half)))
        return x0, y0, min(float(w), x0 + 2 * half), min(float(h), y0 + 1.6 * half)

    def _next_margin(self) -> str | None:
        return next((m for m in MARGINS if m not in self.marks[self.side]), None)

    def click(self, x: float, y: float) -> None:
        """Set the active side's next margin (periosteal, then endosteal; when both are set, the periosteal
        again) to (x, y) in the image's pixels."""
        margin = self._next_margin() or MARGINS[0]
        if self._next_margin() is None:
            self.marks[self.side] = {}
        self.history.append((self.side, dict(self.marks[self.side]), self.side in self.unmeasurable))
        self.marks[self.side][margin] = (float(x), float(y))
        self.unmeasurable.discard(self.side)
        if self._next_margin() is None and self.side != self.sides[-1]:
            self.side = self.sides[self.sides.index(self.side) + 1]
            self._scale = self.width / (self.view()[2] - self.view()[0])

    def undo(self) -> None:
        if self.history:
            self.side, marks, unmeasurable = self.history.pop()
            self.marks[self.side] = marks
            self.unmeasurable.add(self.side) if unmeasurable else self.unmeasurable.discard(self.side)

    def ready(self) -> bool:
        """Every landmarked side either has both margins or is marked not measurable."""
        return bool(self.current) and all(k in self.unmeasurable or len(self.marks[k]) == 2 for k in self.sides)

    def mcw_mm(self, side: str) -> float:
        """The width between the two margins of ``side``, radiographic mm (NaN: not both set, or no spacing)."""
        m = self.marks[side]
        if len(m) < 2:
            return np.nan
        (px, py), (ex, ey) = m["periosteal"], m["endosteal"]
        rows, cols = self.spacing
        return float(np.hypot((px - ex) * cols, (py - ey) * rows))

    def accept(self) -> bool:
        """Save the current patient to ``measurements/<reader>.csv`` atomically and move on; False (nothing
        saved) until :meth:`ready`."""
        if not self.ready():
            return False
        pid, now = self.current, time.strftime("%Y-%m-%dT%H:%M:%S")
        rows = []
        for k in self.sides:
            m = self.marks[k]
            p, e = m.get("periosteal", (np.nan, np.nan)), m.get("endosteal", (np.nan, np.nan))
            rows.append({"patient_id": pid, "side": k, "periosteal_x": round(p[0], 2), "periosteal_y": round(p[1], 2),
                         "endosteal_x": round(e[0], 2), "endosteal_y": round(e[1], 2), "mcw_mm": round(self.mcw_mm(k), 4),
                         "mci": self.grade, "saved_at": now})
        kept = self.saved[self.saved["patient_id"] != pid]
        self.saved = pd.concat([kept, pd.DataFrame(rows)], ignore_index=True)[list(MEASUREMENT_COLUMNS)]
        atomic.write_csv(self.saved, self.out, index=False)
        self.queue.pop(0)
        self._load()
        return True

    def key(self, key: str) -> bool:
        """A key press: Enter/a accept, s skip, u undo, l/r the active side, 1/2/3 the grade C1-C3 (0 clears
        it), x the active side's cortex not measurable."""
        k = key.lower()
        if super().key(k):
            return True
        if k in ("l", "r") and ("left" if k == "l" else "right") in self.sides:
            self.side = "left" if k == "l" else "right"
            self._scale = self.width / (self.view()[2] - self.view()[0])
        elif k in ("1", "2", "3", "0"):
            self.grade = GRADES[int(k) - 1] if k != "0" else ""
        elif k == "x" and self.current:
            self.history.append((self.side, dict(self.marks[self.side]), self.side in self.unmeasurable))
            self.marks[self.side] = {}
            self.unmeasurable.add(self.side)
        else:
            return False
        return True

    def picture(self) -> bytes:
        """The active side's cortex enlarged: the foramen (yellow), the margins set (magenta periosteal, cyan
        endosteal) and the line between them."""
        if self.current is None:
            return b""
        img, f, x0, y0 = self._canvas()
        draw = ImageDraw.Draw(img)
        at = lambda x, y: ((x - x0) * f, (y - y0) * f)
        fx, fy = at(*self.foramina[(self.current, self.side)]) if (self.current, self.side) in self.foramina else (None, None)
        if fx is not None:
            draw.line([(fx - 8, fy), (fx + 8, fy)], fill=(255, 220, 0)), draw.line([(fx, fy - 8), (fx, fy + 8)], fill=(255, 220, 0))
        m = self.marks[self.side]
        if len(m) == 2:
            draw.line([at(*m["periosteal"]), at(*m["endosteal"])], fill=(255, 255, 255), width=1)
        for name, colour in (("periosteal", (255, 0, 255)), ("endosteal", (0, 220, 255))):
            if name in m:
                x, y = at(*m[name])
                draw.ellipse([x - 4, y - 4, x + 4, y + 4], outline=colour, width=2)
        return self._png(img)

    def status(self) -> str:
        if self.current is None:
            return f"all {self.n_total} patients measured by {self.reader}: {self.out}"
        if not self.sides:
            return f"{self.current}: no landmark on either side (landmark it first); s skips"
        nxt = self._next_margin()
        todo = ("not measurable (click to measure after all)" if self.side in self.unmeasurable
                else f"click the {nxt} margin" if nxt else f"MCW {self.mcw_mm(self.side):.2f} mm")
        return (f"{self.current} · {self.n_done + 1} of {self.n_total} · {self.side}: {todo} · grade "
                f"{self.grade or '-'} (1/2/3) · {'Enter accepts' if self.ready() else 'x: not measurable'} · "
                "l/r: side, u: undo, s: skip")


#: What a reading records per case (``readings/<reader>.csv``; the ratings table's columns first).
READING_COLUMNS = ("reader_id", "modality", "patient_id", "truth", "score", "session", "seconds", "shown", "saved_at")


class Reading(Session):
    """A clinician's reading session in a reader study (notebook 07's ``readers/design.csv``), saved to the
    data folder's ``readings/<reader>.csv`` after every case.

    The reader reads the cases of their current session in the design's order: session 1 first; session 2 once
    the washout has passed since their last reading of session 1. Each case shows the ROI (and, when the design
    shows them, age, sex and BMI); aided, also the model's probability, its Grad-CAM and what the image and the
    covariates contribute (:mod:`osteolib.contribution`), from the kept model, which never trained on these
    cases. The score is typed: 0-100 (digits, Backspace) or 1-5, then Enter; ``s`` skips. The time from showing a
    case to its score and what was shown are recorded.

    Parameters
    ----------
    data_dir : the study's data folder (``readings/`` is written there).
    layout : the study's folders (its design, ROIs, cohort and kept model).
    reader : the reader's id, one of the design's readers.
    today : the date the washout is counted to (default: today), for tests.
    """

    BUTTONS = {"skip": "s", "accept": "enter"}

    def __init__(self, data_dir: str | Path, layout, reader: str, today: str | None = None, width: int = 640):
        design = pd.read_csv(layout.readers_table("design"), dtype={"patient_id": str, "reader_id": str})
        mine = design[design["reader_id"] == reader]
        if mine.empty:
            raise ValueError(f"reader {reader!r} is not in {layout.readers_table('design')} (readers: "
                             f"{', '.join(dict.fromkeys(design['reader_id']))}): rerun notebook 07 with reader_ids")
        self.layout, self.reader, self.design = layout, reader, mine.sort_values(["session", "position"])
        self.scale = str(mine["scale"].iloc[0])
        self.show_covariates = bool(mine["show_covariates"].iloc[0])
        self.out = DataFolder(data_dir).reading(reader)
        self.saved = self._read(self.out, list(READING_COLUMNS))
        self.saved["patient_id"] = self.saved["patient_id"].astype(str)
        self.today = pd.Timestamp(today or time.strftime("%Y-%m-%d"))
        self.session, self.opens = self._session()
        todo = self.design[self.design["session"] == self.session]
        done = set(self.saved.loc[self.saved["session"] == self.session, "patient_id"]) if self.session else set()
        super().__init__(data_dir, list(todo["patient_id"]), done, width)
        self.cohort = pd.read_csv(layout.cohort_csv, dtype={"patient_id": str}).set_index("patient_id")
        self._explainer = self._net = None
        self._load()

    def _session(self) -> tuple[int, pd.Timestamp | None]:
        """The session to read now (0: none: all done, or session 2 before its washout ends) and when
        session 2 opens."""
        n = self.design.groupby("session")["patient_id"].nunique()
        done = self.saved.groupby("session")["patient_id"].nunique().reindex(n.index, fill_value=0)
        if done.get(1, 0) < n.get(1, 0):
            return 1, None
        last = pd.to_datetime(self.saved.loc[self.saved["session"] == 1, "saved_at"]).max().normalize()
        opens = last + pd.Timedelta(days=int(self.design.loc[self.design["session"] == 2, "not_before_day"].max()))
        if done.get(2, 0) >= n.get(2, 0):
            return 0, opens
        return (2, opens) if self.today >= opens else (0, opens)

    @property
    def modality(self) -> str:
        rows = self.design[self.design["session"] == self.session]
        return str(rows["modality"].iloc[0]) if len(rows) else ""

    def _load(self) -> None:
        self.typed, self._aid, self._shown_at = "", None, time.monotonic()
        if self.current is None and self.session:    # a session finished: the next, if its washout has passed
            self.session, self.opens = self._session()
            if self.session:
                todo = self.design[self.design["session"] == self.session]["patient_id"].tolist()
                self.queue, self.n_total = todo, len(todo)
        if self.current is None:
            return
        self._gray = np.asarray(Image.open(self.layout.roi_png(self.current)))
        self._scale = self.width / self._gray.shape[1]
        if self.modality == "aided":
            self._aid = self._aided(self.current)

    def _aided(self, pid: str) -> dict:
        """The kept model on this case: its probability, Grad-CAM and the contributions."""
        if self._net is None:
            aid = str(self.design["aid_model"].iloc[0]).split("/")
            self._net, self._card = checkpoints.load_kept(self.layout.kept_model(*aid))
            self._net.eval()
        roi = torch.from_numpy(self._gray.copy())[None]
        cov = checkpoints.scaler(self._card).transform(self.cohort.loc[[pid]].reset_index()) if self._net.arm == "ensemble" else None
        with Explainer(self._net, "osteoporosis") as ex:
            e = ex.explain(roi, cov, guided=False)
        parts = contribution.decompose(self._net, roi, cov).iloc[0]
        return {"p": float(e.probability[0]), "cam": e.gradcam[0],
                "words": contribution.in_words(parts, not np.any(e.gradcam[0] > 0))}

    def picture(self) -> bytes:
        """The ROI enlarged; aided, the Grad-CAM overlay below it."""
        if self.current is None:
            return b""
        h, w = self._gray.shape
        size = (self.width, max(1, round(h * self._scale)))
        img = Image.fromarray(self._gray).resize(size, Image.BILINEAR).convert("RGB")
        if self._aid is None:
            return self._png(img)
        heat = (np.clip(self._aid["cam"], 0, 1) * 255).astype(np.uint8)
        red = Image.fromarray(np.stack([heat, np.zeros_like(heat), 255 - heat], axis=2)).resize(size, Image.BILINEAR)
        both = Image.new("RGB", (size[0], 2 * size[1] + 4), (255, 255, 255))
        both.paste(img, (0, 0))
        both.paste(Image.blend(img, red, 0.4), (0, size[1] + 4))
        return self._png(both)

    def click(self, x: float, y: float) -> None:
        """Clicks mean nothing in a reading (the score is typed)."""

    def undo(self) -> None:
        self.typed = self.typed[:-1]

    def key(self, key: str) -> bool:
        """Digits type the score (0-100) or set it (1-5), Backspace deletes, Enter accepts, s skips."""
        if key == "Backspace":
            self.undo()
            return True
        if key.isdigit() and len(key) == 1:
            self.typed = (self.typed + key)[-3:] if self.scale == "0-100" else key
            return True
        return key.lower() in ("enter", "a", "s") and super().key(key)

    def score(self) -> int | None:
        """The typed score if it is one of the scale's, else None."""
        if not self.typed:
            return None
        v = int(self.typed)
        return v if (0 <= v <= 100 if self.scale == "0-100" else 1 <= v <= 5) else None

    def accept(self) -> bool:
        """Save the current case's score to ``readings/<reader>.csv`` atomically and show the next; False (nothing
        saved) while no valid score is typed."""
        v = self.score()
        if self.current is None or v is None:
            return False
        pid, case = self.current, self.design.set_index("patient_id").loc[self.current]
        case = case[case["session"] == self.session].iloc[0] if isinstance(case, pd.DataFrame) else case
        shown = "roi" + ("+age,sex,bmi" if self.show_covariates else "") + (
            "+model probability,grad-cam,contributions" if self._aid is not None else "")
        row = {"reader_id": self.reader, "modality": self.modality, "patient_id": pid, "truth": int(case["truth"]),
               "score": v, "session": self.session, "seconds": round(time.monotonic() - self._shown_at, 1),
               "shown": shown, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        kept = self.saved[~((self.saved["patient_id"] == pid) & (self.saved["session"] == self.session))]
        self.saved = pd.concat([kept, pd.DataFrame([row])], ignore_index=True)[list(READING_COLUMNS)]
        atomic.write_csv(self.saved, self.out, index=False)
        self.queue.pop(0)
        self._load()
        return True

    def status(self) -> str:
        if self.current is None:
            when = f"; session 2 opens on {self.opens.date()}" if self.session == 0 and self.opens is not None and \
                self.today < self.opens else ""
            return f"{self.reader}: nothing to read now{when} ({self.out})"
        c = self.cohort.loc[self.current]
        about = f" · age {int(c['age'])}, {c['sex']}, BMI {c['bmi']:.1f}" if self.show_covariates else ""
        aid = f" · model: P(osteoporosis) {self._aid['p']:.2f}. {self._aid['words']}" if self._aid else ""
        ask = "0-100" if self.scale == "0-100" else "1 (definitely not) to 5 (definitely)"
        return (f"{self.reader} · session {self.session} ({self.modality}) · case {self.n_done + 1} of {self.n_total}"
                f"{about} · osteoporosis? type {ask}, Enter · score: {self.typed or '-'}{aid}")
