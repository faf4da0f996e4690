"""Benchmark of one training epoch: the project's loop against two references, in the same run.

``python -m osteolib.bench [--backbones resnet18 efficientnet-b0 resnet152] [--size 250 400]``

On random ROIs and one fold of the paper's size (553 training + 225 validation/test images), per
backbone, it times:

* **naive**: the loop most published code uses: PNG files through a torch ``DataLoader`` (workers),
  torchvision CPU transforms for the same augmentation, float32, batch 32;
* **project**: the project's training loop (:class:`osteolib.training.Engine`: an epoch plus the
  validation pass, as :func:`osteolib.training.fit` runs them): ROIs resident on the device as uint8, augmentation on the device, channels_last, bf16 on
  CUDA, batch 32;
* **bare**: the bare training step, channels_last, bf16 on CUDA (float32 on the CPU), batch 128,
  on one resident random batch: no data work at all (an upper bound for the training part).

Each is warmed up for one epoch (cuDNN autotuning) before it is timed. With ``--parallel K`` it
also runs K project epochs at once in K processes on the same device, to see whether training
several folds at once fills a GPU that one small model leaves idle (the workers wait at a barrier
after their warm-up, so the timed epochs really overlap). Results: a CSV and a markdown
table. This is a benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T

from . import atomic, backbones, models, paths, repro
from .settings import NetworkConfig, TrainingSettings
from .training import Engine, Fold

__all__ = ["N_TRAIN", "N_EVAL", "project_epoch", "naive_epoch", "bare_step", "parallel", "main"]

N_TRAIN, N_EVAL = 553, 225


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _data(size: tuple[int, int], n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *size), dtype=np.uint8)
    return images, (rng.random(n) < 0.3).astype(np.int64)


def project_epoch(backbone: str, images: np.ndarray, labels: np.ndarray, device: torch.device,
                  epochs: int = 2, barrier=None, n_train: int = N_TRAIN) -> dict[str, float]:
    """Seconds per epoch of the project's loop (train part and validation part), after a warm-up;
    ``barrier`` (if given) is called between the warm-up and the timed epochs."""
    net = models.build(NetworkConfig(backbone, "ensemble", images.shape[1:]), seed=0)
    engine = Engine(net, device, TrainingSettings(backbone, lr=0.001, batch_size=32))
    n = len(images)
    fold = Fold(torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device),
                torch.zeros(n, 4, device=device), torch.arange(n_train, device=device),
                torch.arange(n_train, n, device=device), torch.arange(n_train, n, device=device))
    gen = torch.Generator(device=device).manual_seed(0)
    times = []
    for epoch in range(epochs + 1):
        if epoch == 1 and barrier is not None:
            barrier()
        _sync(device)
        t0 = time.perf_counter()
        engine.train_epoch(fold, gen)
        _sync(device)
        t1 = time.perf_counter()
        engine.evaluate(fold, fold.val)
        _sync(device)
        times.append((t1 - t0, time.perf_counter() - t1))
    train, val = np.median(np.array(times[1:]), axis=0)
    return {"project_train_s": train, "project_eval_s": val, "project_epoch_s": train + val}


class _PngDataset(torch.utils.data.Dataset):
    def __init__(self, files, labels, transform):
        self.files, self.labels, self.transform = files, labels, transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.transform(Image.open(self.files[i]).convert("L")), int(self.labels[i])


def naive_epoch(backbone: str, images: np.ndarray, labels: np.ndarray, device: torch.device,
                workers: int, epochs: int = 2, n_train: int = N_TRAIN) -> dict[str, float]:
    """Seconds per epoch of the typical loop: PNG files, DataLoader, torchvision CPU transforms, fp32."""
    folder = Path(tempfile.mkdtemp(prefix="osteolib-bench-"))
    files = []
    for i, a in enumerate(images):
        files.append(folder / f"{i}.png")
        Image.fromarray(a).save(files[-1])
    norm = [T.ToTensor(), T.Lambda(lambda x: x.expand(3, -1, -1)),
            T.Normalize(backbones.IMAGENET_MEAN, backbones.IMAGENET_STD)]
    aug = T.Compose([T.RandomApply([T.RandomRotation(25)], p=0.5), T.RandomVerticalFlip(0.5),
                     T.RandomHorizontalFlip(0.5), T.RandomApply([T.ColorJitter(brightness=0.05)], p=0.5),
                     T.RandomApply([T.ColorJitter(contrast=0.05)], p=0.5), *norm])
    kw = dict(batch_size=32, num_workers=workers, pin_memory=device.type == "cuda",
              persistent_workers=workers > 0)
    train = torch.utils.data.DataLoader(_PngDataset(files[:n_train], labels[:n_train], aug), shuffle=True, **kw)
    val = torch.utils.data.DataLoader(_PngDataset(files[n_train:], labels[n_train:], T.Compose(norm)), **kw)
    net = models.build(NetworkConfig(backbone, "image", images.shape[1:]), seed=0).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    times = []
    for _ in range(epochs + 1):
        _sync(device)
        t0 = time.perf_counter()
        net.train()
        for x, y in train:
            loss = nn.functional.cross_entropy(net(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            for x, y in val:
                net(x.to(device)).cpu()
        _sync(device)
        times.append(time.perf_counter() - t0)
    for f in files:
        f.unlink()
    folder.rmdir()
    return {"naive_epoch_s": float(np.median(times[1:]))}


def bare_step(backbone: str, size: tuple[int, int], device: torch.device, steps: int = 10,
              n_train: int = N_TRAIN) -> dict[str, float]:
    """Images per second of the bare training step (batch 128, no data work)."""
    cuda = device.type == "cuda"
    net = models.build(NetworkConfig(backbone, "image", size), seed=0).to(device, memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    x = torch.randn(128, 3, *size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 2, (128,), device=device)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = nn.functional.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    ips = 128 * steps / (time.perf_counter() - t0)
    return {"bare_img_per_s": ips, "bare_train_s": n_train / ips}


def parallel(backbone: str, size: tuple[int, int], k: int, device: str, epochs: int = 2,
             fold: tuple[int, int] = (N_TRAIN, N_EVAL)) -> dict[str, float]:
    """K project epochs at once in K processes: seconds per fold-epoch (train + validation) together.

    Every worker warms up (imports, cuDNN autotuning) and then waits at a barrier; the clock runs
    from the moment all are released until the last has finished its timed epochs, so the epochs
    measured really ran at the same time (workers timing themselves would overlap only by chance)."""
    folder = Path(tempfile.mkdtemp(prefix="osteolib-parallel-"))
    cmd = [sys.executable, "-m", "osteolib.bench", "--worker", "--backbones", backbone, "--epochs", str(epochs),
           "--size", str(size[0]), str(size[1]), "--device", device, "--barrier", str(folder),
           "--fold", str(fold[0]), str(fold[1])]
    procs = [subprocess.Popen(cmd + ["--worker-id", str(i)], stdout=subprocess.DEVNULL) for i in range(k)]
    try:
        while len(list(folder.glob("ready-*"))) < k:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a --parallel worker of {backbone} ended before its timed epochs")
            time.sleep(0.05)
        t0 = time.perf_counter()
        (folder / "go").touch()
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
        if any(codes):
            raise RuntimeError(f"--parallel workers of {backbone} failed (exit codes {codes})")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(folder, ignore_errors=True)
    return {f"parallel{k}_fold_epoch_s": wall / (k * epochs), f"parallel{k}_timed_wall_s": wall}


def _file_barrier(folder: Path, worker_id: int):
    """Wait, after the warm-up, until the parent releases every worker at once (no library does a
    barrier across unrelated processes through a folder; this is the whole of it)."""
    def wait():
        (folder / f"ready-{worker_id}").touch()
        while not (folder / "go").exists():
            time.sleep(0.01)
    return wait


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m osteolib.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbones", nargs="+", default=["resnet18", "efficientnet-b0", "resnet152"])
    p.add_argument("--size", nargs=2, type=int, default=[250, 400], metavar=("H", "W"))
    p.add_argument("--device", default="auto")
    p.add_argument("--fold", nargs=2, type=int, default=[N_TRAIN, N_EVAL], metavar=("TRAIN", "EVAL"),
                   help=f"images of the fold's training and validation parts (default: the paper's {N_TRAIN} + {N_EVAL})")
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers of the naive loop "
                   "(default: 4 on a GPU, as in the reference, else 0)")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
    p.add_argument("--parallel", type=int, default=0, help="also run K project epochs at once (K processes)")
    p.add_argument("--skip-naive", action="store_true")
    p.add_argument("--out", default=None, help="CSV to write (default: bench/bench.csv under the outputs root)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-id", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--barrier", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    device, size = repro.resolve_device(a.device), tuple(a.size)
    n_train, n_eval = a.fold
    images, labels = _data(size, n_train + n_eval)
    if a.worker:  # one process of --parallel: warm up, wait at the barrier, run its timed epochs
        project_epoch(a.backbones[0], images, labels, device, a.epochs,
                      barrier=_file_barrier(Path(a.barrier), a.worker_id) if a.barrier else None, n_train=n_train)
        return 0
    workers = a.workers if a.workers is not None else (4 if device.type == "cuda" else 0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores)"
    rows = []
    for b in a.backbones:
        row = {"backbone": b, "device": name, "input": f"{size[0]}x{size[1]}", "fold": f"{n_train}+{n_eval}",
               "torch": torch.__version__}
        row.update(project_epoch(b, images, labels, device, a.epochs, n_train=n_train))
        row.update(bare_step(b, size, device, n_train=n_train))
        if not a.skip_naive:
            row.update(naive_epoch(b, images, labels, device, workers, a.epochs, n_train=n_train))
            row["speedup_vs_naive"] = row["naive_epoch_s"] / row["project_epoch_s"]
        row["train_ratio_vs_bare"] = row["project_train_s"] / row["bare_train_s"]
        if a.parallel > 1:
            row.update(parallel(b, size, a.parallel, a.device, a.epochs, (n_train, n_eval)))
            # one fold-epoch (train + validation) of K at once, against one fold alone and the bare step
            row[f"parallel{a.parallel}_vs_one"] = row["project_epoch_s"] / row[f"parallel{a.parallel}_fold_epoch_s"]
            row[f"parallel{a.parallel}_vs_bare"] = row[f"parallel{a.parallel}_fold_epoch_s"] / row["bare_train_s"]
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False), flush=True)
        # the table so far, after every backbone: a run cut short by a time limit keeps what it measured
        _write(pd.DataFrame(rows), Path(a.out) if a.out else paths.outputs_root() / "bench" / "bench.csv")
    print(pd.DataFrame(rows).round(3).to_markdown(index=False))
    return 0


def _write(table: pd.DataFrame, out: Path) -> None:
    atomic.write_csv(table.round(4), out)
    atomic.write_text(table.round(3).to_markdown(index=False) + "\n", out.with_suffix(".md"))


if __name__ == "__main__":
    sys.exit(main())
