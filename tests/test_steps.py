"""The steps table (osteolib.steps) against what reads it: the Snakefile as Snakemake itself sees it, the
notebooks' Reads/Writes cells, the "run 0N first" errors and the manifests' guard on outputs. (That every
manifest hashes exactly its step's declared inputs is checked on the executed notebooks,
tests/test_notebooks.py.)"""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys

import pytest

from osteolib import config, layout, paths, steps
from osteolib.layout import StudyLayout

RULES = {"cohort": "01_cohort", "roi": "02_roi", "indices": "02b_indices", "train": "03_train", "stats": "04_stats",
         "gradcam": "05_gradcam", "readers": "07_readers"}


def filegraph(profile: str, outputs) -> dict[str, dict[str, set[str]]]:
    """Every rule's input and output files as Snakemake sees them (``--filegraph``), wildcard
    constraints dropped: {rule: {"input": {...}, "output": {...}}}."""
    env = {**__import__("os").environ, paths.OUTPUTS_ENV: str(outputs), paths.DATA_ENV: str(outputs / "data")}
    dot = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(paths.ROOT / "workflow" / "Snakefile"),
                          "--cores", "1", "--config", f"profile={profile}", "--filegraph"],
                         cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=300, check=True).stdout
    rules = {}
    for node in re.findall(r"^\d+ \[.*?\]$", dot, re.S | re.M):
        name = re.search(r'point-size="18">(\w+)<', node).group(1)
        parts = node.split("output &rarr;")
        files = [[re.sub(r"\{(\w+),[^}]*\}", r"{\1}", html.unescape(f)).replace("\\\\", "\\")
                  for f in re.findall(r'monospace">([^<]*)<', part)] for part in (parts + [""])[:2]]
        rules[name] = {"input": set(files[0]), "output": set(files[1])}
    return rules


def test_the_snakefile_declares_what_the_steps_table_says(tmp_path):
    profile = config.load_profile("smoke")
    lay = StudyLayout(tmp_path / "smoke")
    job = {"backbone": "{backbone}", "arms": "{arm}", "repeats": "{chunk}"}
    graph = filegraph("params/smoke.yaml", tmp_path)
    assert set(graph) == set(RULES) | {"all"}
    declared_out = {}
    for rule, name in RULES.items():
        step = steps.STEPS[name]
        # outputs: every study file the step always writes that a job names in full, and its manifest
        want = {str(u.path(lay)) for u in step.writes if u.folder == "study" and not u.optional and not u.free}
        want.add(str(lay.manifest(name, **(job if name == "03_train" else {}))))
        assert graph[rule]["output"] == want, (rule, graph[rule]["output"] ^ want)
        declared_out[name] = want
    for rule, name in RULES.items():
        step, inputs = steps.STEPS[name], graph[rule]["input"]
        reads = [u for u in step.reads if u.folder == "study" and not u.optional]
        for u in reads:   # every single file the step needs is an input ...
            if not u.free:
                assert str(u.path(lay)) in inputs, (rule, u.key)
        allowed = {f"notebooks/{name}.ipynb"} | {str(u.path(lay)) for u in reads if not u.free}
        if any(u.folder == "param" and not u.optional for u in step.reads):
            allowed.add(f"{profile['backbone_params'] or 'params'}/{{backbone}}.yaml")
        for u in (u for u in reads if u.free):   # ... a family by its producer's jobs' outputs
            producer = steps.producer(u.key)
            made = {o for o in inputs if o in declared_out.get(producer, set())
                    or (producer == "03_train" and "manifest_03_train__" in o)}
            assert made, (rule, u.key, "no output of its producer", producer)
            allowed |= made
        assert inputs <= allowed, (rule, inputs - allowed)   # and nothing else


#: What a Reads/Writes paragraph may name besides the table's files: the folders they lie in.
FOLDERS = {"outputs/<study>/", "data/<study>/", "notebooks/"}


def paragraph(text: str, word: str) -> str:
    start = text.index(f"**{word}**")
    return text[start:].split("\n\n", 1)[0]


def backticked_files(text: str) -> set[str]:
    return {t for t in re.findall(r"`([^`]+)`", text) if re.search(r"\.(csv|json|png|ipynb|yaml|safetensors)$|/", t)}


@pytest.mark.parametrize("name", steps.ORDER)
def test_each_notebook_says_what_the_table_says(name):
    step = steps.STEPS[name]
    first = "".join(json.loads(step.notebook.read_text())["cells"][0]["source"])
    for word, uses, extra in (("Reads", step.reads, set()), ("Writes", step.writes, {step.manifest_shown})):
        named = backticked_files(paragraph(first, word))
        shown = {u.shown for u in uses} | extra
        assert shown <= named, (word, shown - named)
        folders = {f for f in named - shown if f.endswith("/")}
        assert all(f in FOLDERS or any(s.startswith(f) for s in shown) for f in folders), folders
        assert named - shown - folders == set(), (word, named - shown - folders)


def test_every_file_of_the_grammar_is_written_by_a_step():
    """... or by a command run after the study (the cost of its networks), which says so."""
    for key in layout.FILES:
        if key in layout.WRITTEN_BY_COMMAND:
            with pytest.raises(KeyError):
                steps.producer(key)
            continue
        assert steps.producer(key) in steps.ORDER, key
    assert set(layout.WRITTEN_BY_COMMAND) <= set(layout.FILES)


def test_a_missing_file_names_the_notebook_that_writes_it(tmp_path):
    from osteolib import cohort, roi, runs, splits
    from osteolib.datasets import load_rois
    empty = StudyLayout(tmp_path / "empty")
    for read, notebook in ((lambda: cohort.read_cohort(empty), "01_cohort"), (lambda: splits.read(empty), "01_cohort"),
                           (lambda: roi.read_rois(empty), "02_roi"), (lambda: roi.read_geometry(empty), "02_roi"),
                           (lambda: load_rois(empty, ["P0001"]), "02_roi"),
                           (lambda: runs.load(empty, None), "03_train")):
        with pytest.raises(FileNotFoundError, match=f"run notebooks/{notebook}.ipynb"):
            read()


def test_a_manifest_refuses_an_output_the_table_does_not_declare(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.OUTPUTS_ENV, str(tmp_path))
    cfg = config.StatsParams(study="x")
    stray = cfg.layout.root / "stats" / "not_declared.txt"
    with pytest.raises(ValueError, match="stats/not_declared.txt, which the steps table does not declare"):
        steps.write_manifest(cfg, outputs=[stray])
    assert not cfg.layout.manifest("04_stats").exists()


def test_the_table_prints():
    out = subprocess.run([sys.executable, "-m", "osteolib.steps", "--markdown"], capture_output=True, text=True,
                         check=True, cwd=paths.ROOT).stdout
    row = next(line for line in out.splitlines() if "04_stats" in line and "predictions.csv" in line)
    assert re.sub(r"\s+", " ", row).startswith("| 04_stats | reads | study | runs/<backbone>/<arm>/r<NN>/predictions.csv |")
