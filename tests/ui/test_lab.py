"""JupyterLab in a real browser: ``make test-ui`` (Playwright driving Debian's chromium; not part of
``make test``).

A JupyterLab server is started on a free port with the project's kernel, over a folder holding
notebooks 01 and 02 with the smoke profile's parameters injected after their ``parameters`` cell (as
papermill does, without running them). The browser opens each notebook, runs all cells through the
Run menu, waits for the kernel, and checks that no cell shows an error and that the notebook's outputs
are on disk. Screenshots go to the test's temporary folder (``UI_SCREENSHOTS`` copies them elsewhere)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from osteolib import config, paths
from osteolib.layout import StudyLayout

pytestmark = pytest.mark.ui
STUDY = "ui-smoke"
LANDMARK_STUDY = "ui-landmark"
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over parameterised copies of notebooks 01 and 02: (url, token, folder, roots)."""
    base = tmp_path_factory.mktemp("lab")
    folder = base / "notebooks"
    folder.mkdir()
    values = {**config.load_profile("smoke"), "study": STUDY}
    # a data folder without landmarks for 00's landmarking widget
    from osteolib.synthetic import generate
    unlabelled = generate(base / "unlabelled", n_screened=30, scale=0.16, seed=5, jobs=1, progress=False)
    (unlabelled / "landmarks.csv").unlink()
    landmark = {"study": LANDMARK_STUDY, "data_dir": str(unlabelled), "landmark": True}
    for name, v in (("01_cohort", values), ("02_roi", values), ("00_data", landmark)):
        nb = load_notebook_node(str(paths.NOTEBOOKS / f"{name}.ipynb"))  # papermill's reader (tags every cell)
        nb = parameterize_notebook(nb, config.notebook_values(name, v) if name != "00_data" else v)
        nbformat.write(nb, folder / f"{name}.ipynb")
    # the lab's own settings, apart from the user's: every cell rendered (JupyterLab 4 renders only the
    # cells in view by default, so prompts below the fold would not be in the page) and no news pop-up
    settings = base / "settings"
    for plugin, value in {"notebook-extension/tracker": {"windowingMode": "none"},
                          "apputils-extension/notification": {"fetchNews": "false"}}.items():
        f = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    env = {**os.environ, paths.OUTPUTS_ENV: str(base / "outputs"), paths.DATA_ENV: str(base / "data"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces")}
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
                               "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
                               "--allow-root"], env=env, stdout=open(base / "lab.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail(f"JupyterLab did not start: {(base / 'lab.log').read_text()[-2000:]}")
    yield url, token, folder, base
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install chromium (make test-ui does), or set CHROMIUM")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def select_kernel(page, wait_ms: int = 5_000) -> None:
    """Answer JupyterLab's "Select Kernel" dialog when it comes up (it can, for a notebook opened
    for the first time even when its kernel exists): keep the notebook's own kernel."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(state="visible", timeout=wait_ms)
    except Exception:  # no dialog: nothing to answer
        return
    dialog.get_by_role("button", name="Select", exact=True).click()
    dialog.wait_for(state="hidden", timeout=wait_ms)


def run_all_cells(page, url: str, token: str, notebook: str, shots: Path, timeout_s: float = 600) -> dict:
    """Open a notebook, run all cells through the Run menu, wait until the kernel is idle and every
    code cell has run; returns what the page shows."""
    page.goto(f"{url}/lab/tree/{notebook}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Cell", timeout=60_000)
    select_kernel(page)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']:visible").first.wait_for(timeout=120_000)
    t0 = time.perf_counter()
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    select_kernel(page, wait_ms=2_000)
    code = page.locator(".jp-NotebookPanel:visible .jp-CodeCell")
    n = code.count()
    while time.perf_counter() - t0 < timeout_s:
        prompts = code.locator(".jp-InputPrompt").all_inner_texts()
        if len(prompts) == n and all(p.strip() not in ("[ ]:", "[*]:", "") for p in prompts):
            break
        if time.perf_counter() - t0 > 120 and all(p.strip() == "[ ]:" for p in prompts):
            page.screenshot(path=str(shots / f"{notebook.removesuffix('.ipynb')}-stuck.png"))
            raise AssertionError(f"{notebook}: no cell started within 2 minutes of Run All Cells "
                                 f"(screenshot in {shots})")
        time.sleep(1)
    seconds = time.perf_counter() - t0
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(shots / f"{notebook.removesuffix('.ipynb')}.png"), full_page=False)
    errors = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    return {"cells": n, "prompts": prompts, "errors": errors.all_inner_texts(), "seconds": seconds}


def test_notebooks_01_and_02_run_in_jupyterlab(lab, browser, tmp_path):
    url, token, folder, base = lab
    shots = Path(os.environ.get("UI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    timings = {}
    for notebook in ("01_cohort.ipynb", "02_roi.ipynb"):
        shown = run_all_cells(page, url, token, notebook, shots)
        assert not shown["errors"], f"{notebook}: {shown['errors'][0][:2000]}"
        assert all(p.strip() not in ("[ ]:", "[*]:") for p in shown["prompts"]), f"{notebook}: {shown['prompts']}"
        timings[notebook] = round(shown["seconds"])
        saved = [c for c in json.loads((folder / notebook).read_text())["cells"] if c["cell_type"] == "code"]
        assert all(c.get("execution_count") for c in saved), f"{notebook}: saved from the browser with every cell run"
        assert not [o for c in saved for o in c.get("outputs", []) if o["output_type"] == "error"], \
            f"{notebook}: the saved notebook holds an error output"
    s = StudyLayout(base / "outputs" / STUDY)
    assert s.cohort_csv.is_file() and s.splits_csv.is_file() and s.rois_csv.is_file()
    assert s.figure("roi_contact_sheet").stat().st_size > 10_000
    assert s.manifest("01_cohort").is_file()
    print(f"\nrun in JupyterLab through chromium: {timings} s; screenshots in {shots}")


def test_landmarking_in_jupyterlab_saves_every_patient_and_resumes(lab, browser, tmp_path):
    """Notebook 00 with landmark=True on a folder without landmarks: two clicks on the radiograph (the
    right foramen after the left), Enter; landmarks.csv holds the clicked points in the image's pixels,
    and a new session starts with the next patient."""
    import pandas as pd
    url, token, folder, base = lab
    shots = Path(os.environ.get("UI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    data = base / "unlabelled"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    shown = run_all_cells(page, url, token, "00_data.ipynb", shots)
    assert not shown["errors"], shown["errors"][0][:2000]
    picture = page.locator(".jp-NotebookPanel:visible img.widget-image").first
    picture.scroll_into_view_if_needed()
    label = page.locator(".jp-NotebookPanel:visible .widget-label", has_text="of 30").first
    assert label.inner_text().startswith("P0001 · 1 of 30")
    box = picture.bounding_box()
    width = 474                                                      # the radiograph at 0.16 x scale
    scale = box["width"] / width                                     # displayed pixels per image pixel
    clicks = {"left": (303.0, 185.0), "right": (170.0, 186.0)}
    for x, y in clicks.values():
        picture.click(position={"x": x * scale, "y": y * scale})
        page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "00_landmarking.png"))
    page.keyboard.press("Enter")
    label.filter(has_text="P0002").wait_for(timeout=10_000)
    saved = pd.read_csv(data / "landmarks.csv", dtype={"patient_id": str}).set_index("side")
    assert list(saved["patient_id"]) == ["P0001", "P0001"]
    for side, (x, y) in clicks.items():
        assert abs(saved.loc[side, "x"] - x) < 1.0 and abs(saved.loc[side, "y"] - y) < 1.0, (side, saved)
    # a new session resumes with the second patient (the notebook run again under papermill:
    # tests/test_notebooks.py; here the state the widget left on disk)
    from osteolib import annotate
    assert annotate.Landmarking(data).current == "P0002"


def test_reading_in_jupyterlab_saves_every_case_and_resumes(lab, browser, tmp_path):
    """Notebook 08 for a clinician of a reader study (a tiny study: resnet18's ensemble trained one epoch, notebook
    07's design for reader ``dr_ui`` on 6 cases): the score typed and Enter pressed in the real browser, saved to
    readings/dr_ui.csv; the notebook run again shows the next case."""
    import pandas as pd
    import torch
    from osteolib import annotate, cohort as cohorts, readers, roi, splits, training
    from osteolib.settings import RoiGeometry, TrainingSettings
    from osteolib.synthetic import generate
    url, token, folder, base = lab
    shots = Path(os.environ.get("UI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    data = generate(base / "data" / "ui-reading", n_screened=80, scale=0.16, seed=6, jobs=1, progress=False)
    layout = StudyLayout(base / "outputs" / "ui-reading")
    patients = cohorts.build(data, layout)["cohort"]
    splits.save(splits.make(patients, n_repeats=1, n_folds=5, seed=0), layout)
    roi.crop_study(data, patients, RoiGeometry(32, 64), layout, progress=False)
    training.run(training.TrainingData(layout, torch.device("cpu")),
                 TrainingSettings(backbone="resnet18", lr=0.01, batch_size=16, max_epochs=1, patience=1, hidden=16,
                                  fusion="concat+skip"), ["ensemble"], [0])
    readers.study.run(layout, data, patients, "resnet18", "ensemble", n_cases=6, reader_ids=["dr_ui"])
    nb = load_notebook_node(str(paths.NOTEBOOKS / "08_reading.ipynb"))
    nbformat.write(parameterize_notebook(nb, {"study": "ui-reading", "reader": "dr_ui"}), folder / "08_reading.ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    shown = run_all_cells(page, url, token, "08_reading.ipynb", shots)
    assert not shown["errors"], shown["errors"][0][:2000]
    label = page.locator(".jp-NotebookPanel:visible .widget-label", has_text="dr_ui").first
    assert "session 1 (unaided) · case 1 of 6" in label.inner_text()
    picture = page.locator(".jp-NotebookPanel:visible img.widget-image").first
    picture.scroll_into_view_if_needed()
    picture.click()                                                  # focus: the keys go to the widget
    for key in ("6", "5"):
        page.keyboard.press(key)
    label.filter(has_text="score: 65").wait_for(timeout=10_000)
    picture.scroll_into_view_if_needed()
    page.locator(".jp-NotebookPanel:visible .jp-Cell-outputArea").last.screenshot(path=str(shots / "08_reading_widget.png"))
    page.keyboard.press("Enter")
    label.filter(has_text="case 2 of 6").wait_for(timeout=10_000)
    saved = pd.read_csv(data / "readings" / "dr_ui.csv", dtype={"patient_id": str})
    first = pd.read_csv(layout.readers_table("design"), dtype={"patient_id": str}).query("session == 1").sort_values("position")
    assert saved[["patient_id", "score", "modality"]].values.tolist() == [[first["patient_id"].iloc[0], 65, "unaided"]]
    # the notebook run again (the page reloaded): the session resumes with the second case
    shown = run_all_cells(page, url, token, "08_reading.ipynb", shots)
    assert not shown["errors"] and "case 2 of 6" in page.locator(".jp-NotebookPanel:visible .widget-label",
                                                                  has_text="dr_ui").first.inner_text()
    assert annotate.Reading(data, layout, "dr_ui").current == first["patient_id"].iloc[1]


def test_the_study_report_opens_in_chromium_without_a_console_error(browser, tmp_path, monkeypatch):
    """`make report` on a smoke study (notebooks 01-04 run by papermill, resnet18, one epoch): one HTML
    file, opened from disk in chromium; no console error, no failed request (it loads nothing), the
    checklist's every TRIPOD+AI item in the page."""
    import papermill as pm
    from osteolib import report
    monkeypatch.setenv(paths.OUTPUTS_ENV, str(tmp_path / "outputs"))
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "data"))
    shots = Path(os.environ.get("UI_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    values = {**config.load_profile("smoke"), "study": "ui-report", "max_epochs": 1, "patience": 1, "n_sim": 10}
    layout = StudyLayout.named("ui-report")
    for name in ("01_cohort", "02_roi", "02b_indices", "03_train", "04_stats"):
        layout.notebooks_dir.mkdir(parents=True, exist_ok=True)
        pm.execute_notebook(str(paths.NOTEBOOKS / f"{name}.ipynb"), str(layout.notebooks_dir / f"{name}.ipynb"),
                            parameters=config.notebook_values(name, values), cwd=str(paths.NOTEBOOKS),
                            progress_bar=False, kernel_name="python3")
    out = report.html(layout)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    messages, failed = [], []
    page.on("console", lambda m: messages.append(m) if m.type == "error" else None)
    page.on("pageerror", lambda e: messages.append(e))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert not messages and not failed, (messages, failed)
    assert page.locator("h1").first.inner_text() == "Study report: ui-report"
    rows = page.locator("table.checklist tbody tr")
    assert rows.count() == len(report.TRIPOD_AI) + len(report.DENTAL_AI)
    page.screenshot(path=str(shots / "report.png"))
    print(f"\nreport {out} ({out.stat().st_size // 1024} KiB) opened in chromium; screenshot in {shots}")
