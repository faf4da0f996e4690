"""Reproducibility: seeds, the environment report, git state, file hashes and the run manifest.

One master seed drives everything; child seeds are derived with :class:`numpy.random.SeedSequence`
so that each repeat, fold or patient has its own independent, recorded stream; library code passes
generators explicitly and touches torch's global random state only through
:func:`seeded_global_rng`, which restores it afterwards.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import atomic, paths
from .layout import manifest_step

__all__ = ["PACKAGES", "child_seed", "seeded_global_rng", "seeded_numpy_global", "sha256", "versions",
           "git_state", "resolve_device", "cpu_model", "device_report", "environment_report", "write_manifest"]

#: Packages whose versions are recorded in every manifest.
PACKAGES = ("osteolib", "numpy", "pandas", "scipy", "scikit-learn", "torch", "torchvision",
            "efficientnet-pytorch", "grad-cam", "pingouin", "tifffile", "pillow", "papermill", "pydicom",
            "python-gdcm", "pylibjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle")


def child_seed(master: int, *path: int) -> int:
    """A 32-bit seed derived from ``master`` and a path of integers (e.g. repeat, fold).

    Examples
    --------
    >>> child_seed(0, 3) == child_seed(0, 3) != child_seed(0, 4)
    True
    """
    return int(np.random.SeedSequence([int(master), *map(int, path)]).generate_state(1)[0])


@contextmanager
def seeded_global_rng(seed: int, device=None):
    """Seed torch's global generators (the CPU's, and ``device``'s if it is CUDA) for a block and
    restore them after it: for code that draws from them and takes no generator (EfficientNet's
    stochastic depth, a network's initialisation)."""
    import torch  # lazy: the workflow and the readers use this module without loading torch
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def seeded_numpy_global(seed: int):
    """Seed numpy's legacy global generator for a block and restore it after: for a library that
    draws from it and takes no generator (seaborn's strip-plot jitter)."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state(root: Path = paths.ROOT) -> dict[str, object]:
    """Commit and whether the working tree has uncommitted changes (None outside a git checkout)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                  check=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def resolve_device(name: str = "auto"):
    """A :class:`torch.device`; ``auto``: the first CUDA device when there is one, else the CPU."""
    import torch  # lazy: the workflow and the readers use this module without loading torch
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what :mod:`platform` says): results on the
    CPU depend on it (the order of floating-point sums), so every manifest records it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_report() -> dict[str, object]:
    """CPU/GPU the run sees."""
    info: dict[str, object] = {"platform": platform.platform(), "processor": platform.machine(),
                               "cpu_model": cpu_model(), "cpu_count": os.cpu_count()}
    try:
        import torch  # lazy: the workflow and the readers use this module without loading torch
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:  # pragma: no cover
        pass
    return info


def environment_report() -> dict[str, object]:
    """Everything a reader of an executed notebook needs to know about where it ran."""
    return {"time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": versions(), "git": git_state(), "device": device_report()}


def write_manifest(target: str | Path, params: dict, inputs: dict[str, str | Path],
                   outputs: list[str | Path] | None = None, extra: dict | None = None) -> Path:
    """Write the manifest ``target`` (``.../manifest_<step>.json``, as
    :meth:`osteolib.layout.StudyLayout.manifest` names it): parameters, environment, input and
    output hashes.

    ``inputs`` maps a role (e.g. ``"clinical.csv"``) to a file; each is hashed. ``outputs`` are
    hashed too, so a later step can tell whether what it reads is what this step wrote.
    """
    target = Path(target)
    step = manifest_step(target)
    def digest(p: str | Path) -> dict[str, str]:
        return {"path": paths.shown(p), "sha256": sha256(p)}
    manifest = {"step": step, "parameters": params, "environment": environment_report(),
                "inputs": {k: digest(v) for k, v in inputs.items()},
                "outputs": [digest(p) for p in (outputs or [])], **(extra or {})}
    return atomic.write_json(manifest, target)
