"""Landmarking in JupyterLab: set or correct the mental foramina of a data folder, one radiograph at a time.

Notebook ``00_data`` opens it on a data folder without landmarks, or with the ROI detector's proposals to
review: each radiograph is shown with the proposed foramina and the ROI of notebook 02 below the left one;
a click sets the point of the active side (``l`` / ``r`` choose it), ``Enter`` (or ``a``) accepts the
patient, ``s`` skips to the next, ``u`` undoes the last click. After every accepted patient the data
folder's ``landmarks.csv`` (the input layout: patient_id, side, x, y) is rewritten atomically, so an
interrupted session resumes where it stopped; ``landmarking.csv`` beside it records, per point, whether
it was the proposal accepted or a click, and when. Patients the detector flagged (or has no proposal for)
come first, the least confident first.

The clicks come from **ipyevents** (mouse and key events on an ``ipywidgets.Image``); the drawing is
PIL's. :class:`Landmarking` holds the state and can be driven without a browser (``click``, ``key``,
``accept``), which is how the tests drive it.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd
from ipyevents import Event
from PIL import Image, ImageDraw
from tqdm.auto import tqdm

from . import atomic, images
from .cohort import read_clinical
from .datafolder import LANDMARK_COLUMNS, DataFolder
from .placement import load, place
from .settings import RoiGeometry

__all__ = ["SIDES", "LOG_COLUMNS", "read_proposals", "propose", "Landmarking"]

SIDES = ("left", "right")
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


class Landmarking:
    """The state of a landmarking session on ``data_dir`` (see the module's docstring).

    Parameters
    ----------
    data_dir : the data folder (input layout); ``landmarks.csv`` is written there.
    proposals : the detector's proposals (:func:`propose`, or a placement CSV), or None.
    geometry : the ROI drawn below the left foramen (notebook 02's, in the image's pixels).
    patient_ids : whom to landmark (default: every patient of ``clinical.csv``).
    width : display width in screen pixels.
    """

    def __init__(self, data_dir: str | Path, proposals=None, geometry: RoiGeometry | None = None,
                 patient_ids=None, width: int = 1000):
        self.data_dir = Path(data_dir)
        folder = DataFolder(self.data_dir)
        self.out, self.log_file = folder.landmarks_csv, folder.landmarking_csv
        self.clinical = read_clinical(self.data_dir, check_images=False).set_index("patient_id")
        self.proposals = read_proposals(proposals) if proposals is not None else None
        self.geometry, self.width = geometry, width
        self.saved = self._read(self.out, list(LANDMARK_COLUMNS))
        self.log = self._read(self.log_file, list(LOG_COLUMNS))
        done = set(self.saved.groupby("patient_id")["side"].nunique().loc[lambda n: n == len(SIDES)].index)
        ids = [str(p) for p in (patient_ids if patient_ids is not None else self.clinical.index)]
        self.queue = [p for p in self._order(ids) if p not in done]
        self.n_total, self.side, self.points, self.history = len(ids), "left", {}, []
        self._gray = self._scale = None
        self._load()

    @staticmethod
    def _read(file: Path, columns) -> pd.DataFrame:
        return pd.read_csv(file, dtype={"patient_id": str}) if file.is_file() else pd.DataFrame(columns=columns)

    def _order(self, ids: list[str]) -> list[str]:
        """Flagged patients and those without a proposal first (least confident first), then the rest."""
        if self.proposals is None:
            return ids
        p = self.proposals.reindex(ids)
        key = pd.DataFrame({"ok": p["ok"].fillna(False).astype(bool), "conf": p["confidence"].fillna(-1.0)}, index=ids)
        return key.sort_values(["ok", "conf"], kind="stable").index.tolist()

    # -- state -----------------------------------------------------------------------------------------
    @property
    def current(self) -> str | None:
        return self.queue[0] if self.queue else None

    @property
    def n_done(self) -> int:
        return self.n_total - len(self.queue)

    def proposal(self, pid: str | None = None) -> dict[str, tuple[float, float]]:
        pid = pid or self.current
        if self.proposals is None or pid not in self.proposals.index:
            return {}
        r = self.proposals.loc[pid]
        return {k: (float(r[f"{k}_x"]), float(r[f"{k}_y"])) for k in SIDES if pd.notna(r[f"{k}_x"])}

    def _load(self) -> None:
        """Start the current patient from its proposal (accepted as it is unless clicked)."""
        self.points, self.history, self.side = dict(self.proposal()), [], "left"
        if self.current is not None:
            self._gray = images.read_gray(DataFolder(self.data_dir).image(self.clinical.loc[self.current, "image"]))
            self._scale = self.width / self._gray.shape[1]

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

    def skip(self) -> None:
        """Put the current patient at the end of the queue."""
        if self.queue:
            self.queue.append(self.queue.pop(0))
            self._load()

    def key(self, key: str) -> None:
        """A key press: Enter/a accept, s skip, u undo, l/r the active side."""
        k = key.lower()
        if k in ("enter", "a"):
            self.accept()
        elif k == "s":
            self.skip()
        elif k == "u":
            self.undo()
        elif k in ("l", "r"):
            self.side = "left" if k == "l" else "right"

    # -- drawing and the widget ------------------------------------------------------------------------
    def picture(self) -> bytes:
        """The current radiograph at display width as PNG: the proposal (yellow), the points set (green
        left, cyan right; the active side ringed) and the ROI below the left point."""
        if self.current is None:
            return b""
        h, w = self._gray.shape
        f = self._scale
        img = Image.fromarray(self._gray).resize((self.width, max(1, round(h * f))), Image.BILINEAR).convert("RGB")
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
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

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

    def on_event(self, event: dict) -> None:
        """An ipyevents event: a click (``dataX/Y``: pixels of the displayed picture, which ipyevents gives
        for an Image widget; else ``relativeX/Y`` in the element as shown) or a key."""
        if event.get("type") == "click" and self.current is not None:
            if "dataX" in event:
                x, y = event["dataX"], event["dataY"]
            else:
                shown = event.get("boundingRectWidth") or self.width
                x, y = event["relativeX"] * self.width / shown, event["relativeY"] * self.width / shown
            self.click(x / self._scale, y / self._scale)
        elif event.get("type") == "keydown":
            self.key(event.get("key", ""))
        self._refresh()

    def widget(self):
        """The ipywidgets box to display in the notebook."""
        self._image = w.Image(value=self.picture(), format="png", layout=w.Layout(width=f"{self.width}px"))
        self._label = w.Label(self.status())
        buttons = {name: w.Button(description=name) for name in ("left", "right", "undo", "skip", "accept")}
        for name, b in buttons.items():
            b.on_click(lambda _, k={"left": "l", "right": "r", "undo": "u", "skip": "s", "accept": "enter"}[name]:
                       (self.key(k), self._refresh()))
        self._events = Event(source=self._image, watched_events=["click", "keydown"], prevent_default_action=True)
        self._events.on_dom_event(self.on_event)
        return w.VBox([self._label, self._image, w.HBox(list(buttons.values()))])

    def _refresh(self) -> None:
        if getattr(self, "_image", None) is not None:
            self._image.value = self.picture()
            self._label.value = self.status()
