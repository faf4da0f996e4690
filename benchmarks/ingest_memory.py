"""The peak memory of ingesting a folder of full-size 16-bit radiographs, against a folder a tenth its size.

    python benchmarks/ingest_memory.py WORK [--n 1000 100] [--bases 8]

Writes, under ``WORK`` (tens of GB for 1,000 radiographs: put it on a large disk), for each ``n``: an
export of ``n`` patients (a CSV sheet in the input layout's own names, no landmarks) and ``n`` full-size
DICOM radiographs (2964 x 1464 px, 0.1 mm, a 12-bit detector's values in ``BitsStored`` 16, uncompressed:
8.7 MB each), each made from one of ``--bases`` synthetic full-size radiographs with its own noise, so no
two files are alike. Then runs ``python -m osteolib.ingest`` on each in its own process under
``/usr/bin/time -v`` and prints a markdown table: radiographs, wall seconds, seconds per radiograph, the
process's peak resident memory (``Maximum resident set size``: the libraries the later checks and the
provenance record load are part of it) and the peak while the radiographs are read, checked and written
(sampled every 2 ms inside the process, from ``/proc/self/statm``) with the memory before that loop.
Memory that does not grow with the folder shows as the same peaks for both sizes (the ingest reads,
checks and writes one radiograph at a time). Asserts nothing (a measurement, not a test); the numbers of
a run are quoted with its machine.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from osteolib import images, synthetic
from osteolib.datafolder import DataFolder
from osteolib.synthetic.export import write_dicom

MAPPING = """\
clinical:
  file: clinical.csv
  id: patient_id
  columns: {cols}
images:
  folder: dicom
  match_column: patient_id
"""


def export(out: Path, n: int, bases: list[np.ndarray], clinical: pd.DataFrame, seed: int = 0) -> Path:
    """``n`` patients' sheet and radiographs (see the module's text); reuses a complete one."""
    if (out / "mapping.yaml").is_file():
        return out
    rng = np.random.default_rng(seed)
    sheet = clinical.sample(n, replace=True, random_state=seed).reset_index(drop=True).drop(columns="image")
    sheet["patient_id"] = [f"B{i:05d}" for i in range(n)]
    for i in tqdm(range(n), desc=f"export {n}", unit="img"):
        gray = bases[i % len(bases)].astype(np.int32) + rng.integers(-2, 3, bases[0].shape)
        stored = (np.clip(gray, 0, 255).astype(np.uint32) * 4095 + 127) // 255  # a 12-bit detector
        write_dicom(out / "dicom" / f"{sheet.patient_id[i]}.dcm", stored, {"PatientID": sheet.patient_id[i]},
                    bits=16, spacing=("PixelSpacing", 0.1))
    sheet.to_csv(out / "clinical.csv", index=False)
    cols = {c: c for c in sheet.columns if c != "patient_id"}
    (out / "mapping.yaml").write_text(MAPPING.format(cols=cols))
    return out


def ingest(export_dir: Path, out: Path) -> dict:
    """One ingest in its own process (:func:`child`); its wall time and peak resident memories."""
    shutil.rmtree(out, ignore_errors=True)
    key = out.with_name(out.name + "-key.csv")
    key.unlink(missing_ok=True)
    cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", str(export_dir / "mapping.yaml"), str(out), str(key)]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if run.returncode:
        raise SystemExit(f"ingest failed:\n{run.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    loop = json.loads(run.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "peak_mib": peak_kb / 1024, **loop}


def child(mapping: str, out: str, key: str) -> None:
    """``python -m osteolib.ingest`` with the resident memory sampled while its radiographs are read."""
    import threading

    from osteolib import ingest as ing

    def rss() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20

    seen = {"on": False, "peak": 0.0}

    def watch():
        while True:
            if seen["on"]:
                seen["peak"] = max(seen["peak"], rss())
            time.sleep(0.002)

    threading.Thread(target=watch, daemon=True).start()
    match = ing.match_images

    def sampled(*args, **kwargs):
        seen["before"], seen["on"] = rss(), True
        try:
            return match(*args, **kwargs)
        finally:
            seen["on"] = False

    ing.match_images = sampled
    if ing.main([mapping, "--out", out, "--key", key]):
        raise SystemExit(1)
    print(json.dumps({"before_images_mib": seen["before"], "images_peak_mib": seen["peak"]}))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("work", type=Path, nargs="?")
    p.add_argument("--n", type=int, nargs="+", default=[1000, 100])
    p.add_argument("--bases", type=int, default=8)
    p.add_argument("--child", nargs=3, metavar=("MAPPING", "OUT", "KEY"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(*a.child)
        return 0
    a.work.mkdir(parents=True, exist_ok=True)
    base_dir = a.work / "bases"
    if not (base_dir / "clinical.csv").is_file():
        synthetic.generate(base_dir, max(40, a.bases), 1.0, 0)  # the smallest cohort the generator draws
    folder = DataFolder(base_dir)
    clinical = pd.read_csv(folder.clinical_csv, dtype=str, keep_default_na=False)
    bases = [images.read_gray(folder.image(r)) for r in clinical["image"][: a.bases]]
    rows = []
    for n in a.n:
        e = export(a.work / f"export-{n}", n, bases, clinical)
        r = ingest(e, a.work / f"ingested-{n}")
        rows.append({"radiographs": n, **r, "s_per_radiograph": r["wall_s"] / n})
        print(rows[-1], file=sys.stderr)
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".2f"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
