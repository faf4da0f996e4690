"""The Snakemake workflow (workflow/Snakefile) and the notebook runner every job uses.

Studies and data go to a temporary folder (``OSTEOLIB_OUTPUTS`` / ``OSTEOLIB_DATA``, which
Snakemake's jobs and their kernels inherit), never into the repository."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import papermill as pm
import pytest
import yaml

from osteolib import config, paths, workflow

SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(paths.ROOT / "workflow" / "Snakefile")]


def snakemake(profile: Path, *args: str, cores: int = 2) -> str:
    done = subprocess.run([*SNAKEMAKE, "--cores", str(cores), "--config", f"profile={profile}", *args],
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout + done.stderr


def job_counts(text: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry run."""
    if "Job stats:" not in text:
        assert "Nothing to be done" in text, text[-3000:]
        return {}
    table = text.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


@pytest.fixture
def roots(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.OUTPUTS_ENV, str(tmp_path / "outputs"))
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def profile(roots, tmp_path):
    """A tiny study (the smoke profile): two backbones, two chunks of one repeat, one epoch; the
    per-backbone parameter files are copies the test may change."""
    name = f"pytest-wf-{uuid.uuid4().hex[:8]}"
    own = tmp_path / "backbones"
    own.mkdir()
    for b in ("resnet18", "efficientnet-b0"):
        shutil.copy(paths.PARAMS / f"{b}.yaml", own)
    values = {**config.load_profile("smoke"), "study": name, "backbones": "resnet18,efficientnet-b0",
              "repeats": "0-1", "repeats_per_job": 1, "max_epochs": 1, "patience": 1, "n_boot": 100,
              "lr": 0.0, "backbone_params": str(own)}
    file = tmp_path / "tiny.yaml"
    file.write_text(yaml.safe_dump(values))
    return file


def test_dry_run_lists_exactly_the_expected_jobs(profile):
    out = snakemake(profile, "--dry-run")
    # a training job per backbone (2), arm (2) and chunk of repeats (2)
    assert job_counts(out) == {"cohort": 1, "roi": 1, "indices": 1, "train": 8, "stats": 1, "gradcam": 1, "readers": 1,
                               "all": 1, "total": 15}
    study = yaml.safe_load(profile.read_text())["study"]
    for b in ("resnet18", "efficientnet-b0"):
        for arm in ("image", "ensemble"):
            for chunk in ("0", "1"):
                assert f"{paths.study_dir(study)}/notebooks/03_train__{b}__{arm}__r{chunk}.ipynb" in out
    # the paper profile: 6 backbones x 2 arms x 3 chunks of 10 repeats
    assert job_counts(snakemake(Path("params/paper.yaml"), "--dry-run", "--quiet", "rules"))["train"] == 36


@pytest.mark.slow
def test_tiny_study_end_to_end_then_nothing_then_only_the_touched_backbone(profile):
    values = yaml.safe_load(profile.read_text())
    profile.write_text(yaml.safe_dump({**values, "repeats_per_job": 2}))  # one chunk: 4 training jobs
    study = values["study"]
    s = paths.study_dir(study)
    first = snakemake(profile)
    assert job_counts(first)["total"] == 11
    for nb in ("01_cohort", "02_roi", "02b_indices", "03_train__resnet18__image__r0-1", "03_train__efficientnet-b0__ensemble__r0-1",
               "04_stats", "05_gradcam", "07_readers"):
        assert (s / "notebooks" / f"{nb}.ipynb").is_file(), nb
    for b in ("resnet18", "efficientnet-b0"):
        for r in ("r00", "r01"):
            assert (s / "runs" / b / "ensemble" / r / "predictions.csv").is_file()
    assert (s / "stats" / "table_resnet.csv").is_file() and (s / "cam" / "summary.png").is_file()

    assert "Nothing to be done" in snakemake(profile), "a second run with nothing changed does nothing"

    effnet = s / "runs" / "efficientnet-b0" / "image" / "r00" / "predictions.csv"
    resnet = s / "runs" / "resnet18" / "image" / "r00" / "predictions.csv"
    stamps = effnet.stat().st_mtime_ns, resnet.stat().st_mtime_ns
    backbone_file = profile.parent / "backbones" / "resnet18.yaml"
    st = backbone_file.stat()
    os.utime(backbone_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**11))
    assert "Nothing to be done" in snakemake(profile, "--dry-run"), "a touch without a change reruns nothing"

    values = yaml.safe_load(backbone_file.read_text())
    backbone_file.write_text(yaml.safe_dump({**values, "lr": values["lr"] / 2}))
    plan = job_counts(snakemake(profile, "--dry-run"))
    # the changed backbone's training, and what reads its predictions: 04, 05 and the reader study of its model (07)
    assert plan == {"train": 2, "stats": 1, "gradcam": 1, "readers": 1, "all": 1, "total": 6}
    third = snakemake(profile)
    assert job_counts(third)["train"] == 2
    assert effnet.stat().st_mtime_ns == stamps[0], "the other backbone's runs are untouched"
    assert resnet.stat().st_mtime_ns != stamps[1], "the changed backbone is trained again"
    metrics = json.loads((resnet.parent / "metrics.json").read_text())
    assert metrics["settings"]["lr"] == values["lr"] / 2
    manifest = json.loads((s / "runs" / "resnet18" / "manifest_03_train__image__0-1.json").read_text())
    assert manifest["parameters"]["repeats"] == "0-1" and manifest["parameters"]["arms"] == "image"
    assert manifest["parameters"]["retrain_changed"] is True
    assert "Nothing to be done" in snakemake(profile)


def test_slurm_profile_gives_training_a_gpu():
    """What can be checked here without a cluster: the profile loads with the SLURM executor plugin
    and resolves each job's resources (a dry run submits nothing)."""
    out = subprocess.run([*SNAKEMAKE, "--profile", "profiles/slurm", "--config", "profile=params/paper.yaml",
                          "--dry-run"], cwd=paths.ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    jobs = out.stdout.split("\nrule ")[1:]
    train = [j for j in jobs if j.startswith("train:")]
    assert len(train) == 36
    assert all("slurm_partition=gpu" in j and "gpu=1" in j and "runtime=360" in j for j in train)
    assert all("SLURM_CPUS_PER_TASK" in j for j in train), "threads follow what SLURM allocated"
    cohort = next(j for j in jobs if j.startswith("cohort:"))
    assert "slurm_partition=cpu" in cohort and "gpu=" not in cohort.split("resources:")[1].split("\n")[0]


def test_failed_notebook_keeps_the_executed_copy_with_the_error(roots, tmp_path):
    out = tmp_path / "01.ipynb"
    with pytest.raises(pm.PapermillExecutionError, match="unknown parameter 'n_fold'"):
        workflow.run_notebook("01_cohort", out, parameters={"study": "never-written", "n_fold": 3})
    assert "unknown parameter" in out.read_text()
    assert not paths.study_dir("never-written").exists()


def test_kernel_start_failures_are_retried_cell_errors_are_not(monkeypatch, tmp_path):
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return None

    monkeypatch.setattr(pm, "execute_notebook", flaky)
    monkeypatch.setattr(workflow.time, "sleep", lambda s: None)
    workflow.run_notebook("04_stats", tmp_path / "x.ipynb")
    assert len(calls) == 2

    def broken(*args, **kwargs):
        calls.append(1)
        raise pm.PapermillExecutionError(0, 1, "ValueError", "ValueError", "bad", [])

    calls.clear()
    monkeypatch.setattr(pm, "execute_notebook", broken)
    with pytest.raises(pm.PapermillExecutionError):
        workflow.run_notebook("04_stats", tmp_path / "y.ipynb")
    assert len(calls) == 1


def test_gpu_slots_are_exclusive(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with workflow.gpu_slot(2, tmp_path) as a, workflow.gpu_slot(2, tmp_path) as b:
        assert {a, b} == {"0", "1"}
    with workflow.gpu_slot(2, tmp_path) as c:
        assert c == "0", "released slots are free again"
    with workflow.gpu_slot(0, tmp_path) as none:
        assert none is None
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    with workflow.gpu_slot(4, tmp_path) as slurm:
        assert slurm is None, "under SLURM the scheduler pins the devices"


def test_chunks_and_backbones_from_a_profile():
    assert workflow.chunks({"repeats": "0-4", "n_repeats": 30, "repeats_per_job": 2}) == ["0-1", "2-3", "4"]
    with pytest.raises(config.ParameterError, match="exceed n_repeats"):
        workflow.chunks({"repeats": "28-31", "n_repeats": 30, "repeats_per_job": 2})
    with pytest.raises(config.ParameterError, match="valid: resnet18"):
        workflow.backbones({"backbones": "resnet18,resnet34"})


def test_the_networks_profile_trains_every_registered_backbone():
    """params/networks.yaml (accuracy against cost) names every backbone of the registry, the paper's six and
    the newer ones, and each has its own learning rate in params/."""
    from osteolib import backbones, paths
    profile = config.load_profile("networks")
    assert workflow.backbones(profile) == backbones.names()
    assert set(backbones.paper_names()) < set(backbones.names())
    for b in backbones.names():
        assert (paths.PARAMS / f"{b}.yaml").is_file(), b
