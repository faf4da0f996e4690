"""The workflow on a real SLURM: ``make test-cluster`` (tests/cluster/slurm-up.sh starts a one-node
cluster on this machine first; not part of ``make test``).

One smoke study runs locally and once through ``snakemake --profile`` with the project's SLURM profile
(adapted to a one-node test cluster: see :func:`cluster_profile`). While the SLURM run trains, one
training job is cancelled with ``scancel`` after its first repeat: the profile's ``retries`` resubmit it,
it resumes from the finished repeat, and the study's results are the local run's, file for file.
``CLUSTER_LOG_DIR=DIR`` keeps Snakemake's log of the SLURM run there."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from osteolib import config, paths

pytestmark = pytest.mark.cluster
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(paths.ROOT / "workflow" / "Snakefile")]
#: Files that record when, where and how long (times, hosts, paths, job ids): not results. (The
#: training histories are results but for their ``seconds`` column, which :func:`results` leaves out.)
NOT_RESULTS = (".json", ".ipynb", ".log")


def cluster_profile(folder: Path) -> Path:
    """profiles/slurm/config.yaml as an admin would adapt it to this one-node cluster: no account,
    no GPU gres (the `gpu` partition still takes the GPU rules), requests that fit 2 cores, and job
    status from ``squeue``, since the test cluster has no accounting database for ``sacct``."""
    profile = yaml.safe_load((paths.ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    profile.update({"jobs": 2, "latency-wait": 5, "slurm-status-command": "squeue", "slurm-no-account": True,
                    "slurm-init-seconds-before-status-checks": 5, "seconds-between-status-checks": 5,
                    "set-threads": {"train": 1}})
    profile["default-resources"] = {**profile["default-resources"], "cpus_per_task": 1, "mem_mb": 2000}
    del profile["default-resources"]["slurm_account"]
    for rule, res in profile["set-resources"].items():
        res.pop("gpu", None)
        res.update(cpus_per_task=min(int(res.get("cpus_per_task", 1)), 2) if rule in ("cohort", "roi") else 1,
                   mem_mb=min(int(res.get("mem_mb", 2000)), 4000))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder


def study_profile(folder: Path, study: str) -> Path:
    """The smoke profile, one backbone, two repeats in one chunk (so a job can be cancelled between them)."""
    values = {**config.load_profile("smoke"), "study": study, "backbones": "resnet18", "repeats": "0-1",
              "repeats_per_job": 2, "max_epochs": 2, "patience": 2, "n_boot": 100}
    file = folder / f"{study}.yaml"
    file.write_text(yaml.safe_dump(values))
    return file


def results(study_dir: Path) -> dict[str, str]:
    """SHA-256 of every result file; a training history without its ``seconds`` column (wall time)."""
    def digest(p: Path) -> str:
        if p.name == "history.csv":
            return hashlib.sha256(pd.read_csv(p).drop(columns="seconds").to_csv(index=False).encode()).hexdigest()
        return hashlib.sha256(p.read_bytes()).hexdigest()
    return {p.relative_to(study_dir).as_posix(): digest(p)
            for p in sorted(study_dir.rglob("*")) if p.is_file() and p.suffix not in NOT_RESULTS}


def squeue() -> list[dict]:
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%k|%T"], capture_output=True, text=True, check=True)
    return [dict(zip(("id", "comment", "state"), line.split("|"))) for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def cluster():
    try:
        state = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as e:
        pytest.fail(f"no SLURM here ({e}): run tests/cluster/slurm-up.sh first (make test-cluster does)")
    assert state.split() and state.split()[0].rstrip("*") in ("idle", "mixed"), \
        f"the node is {state.strip() or 'missing'}: run tests/cluster/slurm-up.sh first (make test-cluster does)"


def test_smoke_study_on_slurm_resumes_a_cancelled_job_and_equals_the_local_run(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.OUTPUTS_ENV, str(tmp_path / "outputs"))
    monkeypatch.setenv(paths.DATA_ENV, str(tmp_path / "data"))
    local = study_profile(tmp_path, "cluster-local")
    t0 = time.perf_counter()
    done = subprocess.run([*SNAKEMAKE, "--cores", "2", "--config", f"profile={local}"], cwd=paths.ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-4000:]
    local_s = time.perf_counter() - t0

    slurm = study_profile(tmp_path, "cluster-slurm")
    study = paths.study_dir("cluster-slurm")
    first = study / "runs" / "resnet18" / "image" / "r00" / "predictions.csv"
    second = first.parent.parent / "r01" / "predictions.csv"
    log = tmp_path / "slurm-run.log"
    before = {j["id"] for j in squeue()}
    t0 = time.perf_counter()
    with open(log, "w") as out:
        run = subprocess.Popen([*SNAKEMAKE, "--profile", str(cluster_profile(tmp_path / "profile")),
                                "--config", f"profile={slurm}"], cwd=paths.ROOT, stdout=out, stderr=subprocess.STDOUT)
        cancelled, submitted = None, set()
        while run.poll() is None and time.perf_counter() - t0 < 1800:
            jobs = squeue()
            submitted |= {j["id"] for j in jobs}
            if cancelled is None and first.is_file() and not second.is_file():
                job = next((j for j in jobs if "image" in j["comment"] and j["comment"].startswith("rule_train")
                            and j["state"] == "RUNNING"), None)
                if job:  # the image arm's training job, between its two repeats
                    subprocess.run(["scancel", job["id"]], check=True)
                    cancelled, stamp = job["id"], first.stat().st_mtime_ns
            time.sleep(0.5)
        if run.poll() is None:
            run.kill()
    slurm_s = time.perf_counter() - t0
    text = log.read_text()
    assert run.returncode == 0, text[-5000:]
    assert cancelled is not None, "no training job was caught between its repeats"
    states = {j["id"]: j["state"] for j in squeue()}
    assert states[cancelled] == "CANCELLED"
    submitted -= before
    train_jobs = [j for j in squeue() if j["comment"].startswith("rule_train") and j["id"] in submitted]
    assert len(train_jobs) == 3, "two arms, and the cancelled one submitted again"
    assert all(states[j["id"]] == "COMPLETED" for j in train_jobs if j["id"] != cancelled)
    assert first.stat().st_mtime_ns == stamp, "the finished repeat was kept, not trained again"
    executed = study / "notebooks" / "03_train__resnet18__image__r0-1.ipynb"
    assert "done before" in executed.read_text(), "the resubmitted job resumed from its finished repeat"

    a, b = results(paths.study_dir("cluster-local")), results(study)
    assert a.keys() == b.keys()
    differ = [f for f in a if a[f] != b[f]]
    assert not differ, f"{len(differ)} of {len(a)} files differ from the local run: {differ[:10]}"
    print(f"\nlocal run {local_s:.0f} s; SLURM run {slurm_s:.0f} s with job {cancelled} cancelled and "
          f"resubmitted; {len(a)} result files identical; jobs: {sorted(submitted, key=int)}")
    if os.environ.get("CLUSTER_LOG_DIR"):  # keep Snakemake's log of the SLURM run
        shutil.copy(log, Path(os.environ["CLUSTER_LOG_DIR"]) / "slurm-run.log")
