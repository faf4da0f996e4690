"""What the Snakemake workflow (``workflow/Snakefile``) needs from Python: the job plan of a
profile, each job's declared inputs and outputs (from the steps table, :mod:`osteolib.steps`), and
one command that executes a notebook the way every job does.

``python -m osteolib.workflow notebook NB OUT --profile P [-p NAME VALUE ...] [--gpus N]``

- runs ``notebooks/NB`` with papermill from ``notebooks/``, given the profile's values of the
  parameters that notebook declares (so its executed copy records only what it reads) and the
  ``-p`` overrides (values parsed as YAML, as papermill's ``-y`` does), logging each cell's
  output so the job log reads like the notebook;
- retries when the kernel fails to start (parallel kernels can collide on ports), never when a
  cell fails: the executed notebook then keeps the error, as the audit trail of the failure;
- with ``--gpus N`` (N > 0) takes one of N local GPUs that no other job holds (a lock file per
  device under ``.snakemake/gpu-locks``) and pins the notebook to it with CUDA_VISIBLE_DEVICES;
  Snakemake's ``--resources gpu=N`` keeps at most N such jobs running. Under SLURM, which sets
  CUDA_VISIBLE_DEVICES for the job itself, and with N = 0, no device is chosen here.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import sys
import time
from pathlib import Path
from typing import Iterator

import yaml

from . import config, paths, steps
from .layout import StudyLayout

__all__ = ["backbones", "chunks", "outputs", "inputs", "gpu_slot", "run_notebook", "main"]


def backbones(profile: dict) -> list[str]:
    """The study's backbones (profile key ``backbones``, validated by the Grad-CAM notebook's
    parameters); the workflow needs them named, so ``"all"`` is refused here."""
    out = config.CamParams.from_namespace(profile).backbone_list
    if not out:
        raise config.ParameterError("the profile must name the study's backbones (key 'backbones'), not 'all'")
    return out


def chunks(profile: dict) -> list[str]:
    """The profile's repeats cut into jobs of ``repeats_per_job``: ``["0-9", "10-19", ...]``.

    >>> chunks({"repeats": "all", "n_repeats": 30, "repeats_per_job": 10})
    ['0-9', '10-19', '20-29']
    >>> chunks({"repeats": "0,1,2,5", "n_repeats": 30, "repeats_per_job": 2})
    ['0-1', '2,5']
    """
    n_repeats = config.CohortParams.from_namespace(profile).n_repeats
    reps = config.parse_repeats(config.TrainParams.from_namespace(profile).repeats, n_repeats)
    bad = [r for r in reps if r >= n_repeats]
    if bad:
        raise config.ParameterError(f"repeats {bad} exceed n_repeats = {n_repeats}")
    size = config.WorkflowParams.from_namespace(profile).repeats_per_job
    out = []
    for i in range(0, len(reps), size):
        part = reps[i:i + size]
        # a chunk is written as a range when it is one, else as a list
        if part == list(range(part[0], part[-1] + 1)):
            out.append(f"{part[0]}-{part[-1]}" if len(part) > 1 else str(part[0]))
        else:
            out.append(",".join(map(str, part)))
    return out


# --- each job's files, from the steps table -------------------------------------------------------------

def outputs(step: str, layout: StudyLayout, **job) -> list[str]:
    """What the workflow declares a job of ``step`` writes: the study files the step always writes
    that a job names in full (a family, such as every patient's ROI or every repeat's folder, is
    left out: its job's manifest, written last, stands for it), and the manifest. ``job``: the
    wildcards of a training job (``backbone``, ``arms``, ``repeats``)."""
    s = steps.STEPS[step]
    files = [u.path(layout) for u in s.writes if u.folder == "study" and not u.optional and not u.free]
    return [str(f) for f in files] + [str(layout.manifest(step, **job))]


def inputs(step: str, layout: StudyLayout, jobs: dict[str, list[str]], profile: dict) -> list[str]:
    """What the workflow declares a job of ``step`` reads: each study file the step needs, as the job
    that writes it declares it (a family by every output of the jobs of the step that writes it:
    ``jobs`` maps a step to them), and each file a parameter names (03's ``<backbone_params>/
    <backbone>.yaml``, with ``{backbone}`` left to Snakemake). Data-folder files are not inputs: notebook
    01 generates the synthetic cohort itself."""
    out: list[str] = []
    for u in steps.STEPS[step].reads:
        if u.optional or u.folder == "data":
            continue
        if u.folder == "param":
            values = {"backbone_params": profile.get("backbone_params") or "params", "backbone": "{backbone}"}
            out.append(steps.PARAM_FILES[u.key].format(**values))
        elif not u.free:
            out.append(str(u.path(layout)))
        else:
            out += jobs[steps.producer(u.key)]
    return list(dict.fromkeys(out))


# --- GPU slots -------------------------------------------------------------------------------------

@contextlib.contextmanager
def gpu_slot(n_gpus: int, lock_dir: str | Path = ".snakemake/gpu-locks", poll_s: float = 2.0) -> Iterator[str | None]:
    """Hold one of ``n_gpus`` local devices for the duration of the block; yields its index.

    Yields None (no pinning) when ``n_gpus`` is 0 or the scheduler already chose the devices
    (SLURM sets CUDA_VISIBLE_DEVICES). The lock is an advisory ``flock`` on a file per device,
    released by the kernel when the process ends, even if it is killed.
    """
    if n_gpus <= 0 or os.environ.get("SLURM_JOB_ID"):
        yield None
        return
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for i in range(n_gpus):
            f = open(lock_dir / f"gpu{i}.lock", "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            try:
                yield str(i)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
                f.close()
            return
        time.sleep(poll_s)


# --- running a notebook ----------------------------------------------------------------------------

def _kernel_failed_to_start(e: BaseException) -> bool:
    """Errors that mean the kernel never came up (so no cell ran and a retry is safe)."""
    import papermill as pm  # lazy: papermill takes seconds to import; the Snakefile imports this module
    if isinstance(e, pm.PapermillExecutionError):
        return False
    text = f"{type(e).__name__}: {e}".lower()
    return isinstance(e, (TimeoutError, RuntimeError, OSError)) and any(
        s in text for s in ("kernel", "address already in use", "zmq", "port"))


def run_notebook(notebook: str, output: str | Path, profile: str | Path | None = None,
                 parameters: dict | None = None, attempts: int = 3, gpus: int = 0) -> Path:
    """Execute ``notebooks/<notebook>.ipynb`` into ``output`` with papermill (see module docstring)."""
    import papermill as pm  # lazy: papermill takes seconds to import; the Snakefile imports this module
    source = paths.NOTEBOOKS / (notebook if notebook.endswith(".ipynb") else f"{notebook}.ipynb")
    if not source.is_file():
        raise FileNotFoundError(f"{source} not found")
    name = source.stem
    values = config.notebook_values(name, config.load_profile(profile)) if profile else {}
    values.update(parameters or {})
    output = paths.resolve(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with gpu_slot(gpus) as device:
        if device is not None:
            os.environ["CUDA_VISIBLE_DEVICES"] = device
            print(f"[osteolib.workflow] {notebook}: GPU {device} of {gpus}", flush=True)
        for attempt in range(1, attempts + 1):
            try:
                pm.execute_notebook(str(source), str(output), parameters=values, cwd=str(paths.NOTEBOOKS),
                                    log_output=True, progress_bar=False, kernel_name="python3")
                return output
            except Exception as e:  # noqa: BLE001 - only kernel start failures are retried
                if attempt == attempts or not _kernel_failed_to_start(e):
                    raise
                print(f"[osteolib.workflow] kernel failed to start ({type(e).__name__}: {e}); "
                      f"retry {attempt + 1} of {attempts}", file=sys.stderr, flush=True)
                time.sleep(2.0 * attempt)
    return output


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m osteolib.workflow", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    nb = sub.add_parser("notebook", help="execute one notebook with papermill")
    nb.add_argument("notebook", help="e.g. 03_train")
    nb.add_argument("output", help="the executed copy (e.g. outputs/demo/notebooks/03_train__resnet18__r0-9.ipynb)")
    nb.add_argument("--profile", help="params/<name>.yaml or a path")
    nb.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="override one parameter (VALUE parsed as YAML)")
    nb.add_argument("--gpus", type=int, default=0, help="local GPUs to choose from (0: do not pin)")
    nb.add_argument("--attempts", type=int, default=3, help="tries when the kernel fails to start")
    args = ap.parse_args(argv)
    params = {name: yaml.safe_load(value) for name, value in args.parameter}
    logging_setup()
    run_notebook(args.notebook, args.output, args.profile, params, args.attempts, args.gpus)
    return 0


def logging_setup() -> None:
    """papermill's cell output goes through logging at INFO (as ``papermill --log-output``)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("papermill").setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
