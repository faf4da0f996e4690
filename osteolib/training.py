"""Training: the training loop, one fold with early stopping, and the repeat loop that resumes.

The loop (:class:`Engine`, :func:`fit`, :func:`train_model`) is the project's only one: the
cross-validation folds, a bundle's refit on every patient (:mod:`osteolib.bundle`) and the
benchmark (:mod:`osteolib.bench`) all run it.

One fold (:func:`fit`): SGD (momentum 0.9, weight decay 0) on the training part, the
validation part after every epoch, early stopping after ``patience`` epochs without a lower
validation loss, the best-validation weights restored, then the test fold predicted. The test
fold is never looked at before that final prediction.

One repeat (:func:`run`): every fold of every requested arm on the same splits, with the same
initial backbone weights, batch order and augmentation for both arms (seeds derived from the
master seed, the repeat and the fold). After each repeat and arm, ``runs/<backbone>/<arm>/r<NN>/``
(``predictions.csv``, ``history.csv``, ``metrics.json``) appears whole; a rerun skips the
repeats that are there, so an interrupted run loses at most the repeat it was in.

Images and weights are channels_last on every device (on the 2-core CPU too, same run, same fold:
EfficientNet-b0 1.65x faster per epoch at 40 x 64 px; ResNet-18 0.93-1.04x there and 1.19x at
125 x 200 px). On CUDA the forward pass runs in bfloat16 autocast; on the CPU in float32,
deterministically (the same seed gives the same numbers).
"""
from __future__ import annotations

import copy
import json
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from torch import nn
from tqdm import tqdm

from . import atomic, checkpoints, cohort, metrics, models, repro, settings, splits
from .datasets import Augmentation, CovariateScaler, load_rois, to_input
from .layout import HISTORY, PREDICTIONS, RUN_METRICS, StudyLayout
from .settings import NetworkConfig, TrainingSettings

__all__ = ["REFIT_SEED_PATH", "EarlyStopping", "Fold", "Engine", "FitResult", "fit", "start_skip_path", "train_model",
           "TrainingData", "run", "refit"]

#: Seed path of a refit on every patient: apart from every (repeat, fold) of the cross-validation.
REFIT_SEED_PATH = (10**6,)


class EarlyStopping:
    """Track the best validation loss; stop after ``patience`` epochs without improvement.

    Keeps a copy of the best weights (on their device) and restores them on request.
    """

    def __init__(self, patience: int):
        self.patience, self.best, self.best_epoch, self.wait, self.state = patience, float("inf"), -1, 0, None

    def step(self, epoch: int, val_loss: float, model: nn.Module) -> bool:
        """Record an epoch; True when training should stop."""
        if val_loss < self.best:
            self.best, self.best_epoch, self.wait = val_loss, epoch, 0
            self.state = copy.deepcopy(model.state_dict())
        else:
            self.wait += 1
        return self.wait >= self.patience

    def restore(self, model: nn.Module) -> nn.Module:
        if self.state is not None:
            model.load_state_dict(self.state)
        return model


@dataclass
class Fold:
    """Tensors of one fold, all on the training device."""

    images: torch.Tensor             # (n, h, w) uint8, every patient of the study
    labels: torch.Tensor             # (n,) int64
    covariates: torch.Tensor | None  # (n, 4) float32 scaled on this fold's training part, or None
    train: torch.Tensor              # indices
    val: torch.Tensor
    test: torch.Tensor


class Engine:
    """A network on its device with the device's precision policy, its SGD optimiser and the
    training augmentation: the one training loop of the project (cross-validation folds, the
    refit of a bundle and the benchmark all run it)."""

    def __init__(self, net: nn.Module, device: torch.device, s: TrainingSettings):
        self.cuda = device.type == "cuda"
        if self.cuda:
            torch.backends.cudnn.benchmark = True  # batch shapes are fixed: let cuDNN pick its kernels
        self.net = net.to(device, memory_format=torch.channels_last)
        self.spec = net.spec
        self.settings = s
        self.opt = torch.optim.SGD(self.net.parameters(), lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
        self.augment = Augmentation(**s.augmentation)

    def logits(self, fold: Fold, idx: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """The network's logits for ``idx``; augmented (drawn from ``gen``) when a generator is given."""
        augment = self.augment if gen is not None else None
        x = to_input(fold.images[idx], self.spec, augment=augment, gen=gen, channels_last=True)
        cov = fold.covariates[idx] if fold.covariates is not None else None
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda):
            return self.net(x, cov).float()

    @torch.no_grad()
    def evaluate(self, fold: Fold, idx: torch.Tensor) -> tuple[float, np.ndarray]:
        """Mean cross-entropy and P(osteoporosis) over ``idx`` (every sample, no drop_last), in
        batches of 4 x the training batch."""
        self.net.eval()
        batch = 4 * self.settings.batch_size
        out = torch.cat([self.logits(fold, idx[i:i + batch]) for i in range(0, len(idx), batch)])
        loss = nn.functional.cross_entropy(out, fold.labels[idx]).item()
        return loss, torch.softmax(out, 1)[:, 1].cpu().numpy()

    def train_epoch(self, fold: Fold, gen: torch.Generator) -> float:
        """One pass over the training part in a seeded random order; returns the mean training loss."""
        self.net.train()
        batch_size = self.settings.batch_size
        order = fold.train[torch.randperm(len(fold.train), generator=gen, device=gen.device).to(fold.train.device)]
        n_batches = _n_batches(len(order), batch_size)
        total = torch.zeros((), device=order.device)
        seen = 0
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss = nn.functional.cross_entropy(self.logits(fold, idx, gen), fold.labels[idx])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += loss.detach() * len(idx)  # no .item() here: it would synchronise the GPU every step
            seen += len(idx)
        return float(total) / seen


def _n_batches(n: int, batch_size: int) -> int:
    """Batches of an epoch: the last is dropped only when it would hold a single sample (BatchNorm
    needs two)."""
    return max(1, n // batch_size + (n % batch_size > 1))


@dataclass
class FitResult:
    """What :func:`fit` returns: the per-epoch history, the test part's P(osteoporosis) (empty when
    the fold has no test part), the best epoch and its validation loss (-1 and inf without
    validation), the threshold chosen on the validation part (Youden's J of the restored model;
    nan without validation) and the trained network (best-validation weights restored)."""

    history: pd.DataFrame
    p_test: np.ndarray
    best_epoch: int
    best_loss: float
    threshold: float
    net: nn.Module


def fit(net: nn.Module, fold: Fold, s: TrainingSettings, gen: torch.Generator, device: torch.device,
        epochs: int | None = None, label: str = "", progress: bool = True) -> FitResult:
    """Train ``net`` on ``fold``: the cross-validation fit, or with ``epochs`` a fixed number of
    epochs on the training part alone (no validation, no early stopping: a refit on everyone).

    The cross-validation fit validates after every epoch, stops after ``s.patience`` epochs without
    a lower validation loss, restores the best-validation weights and then, only then, predicts
    the test part.
    """
    engine = Engine(net, device, s)
    validate = epochs is None
    stopper, rows = EarlyStopping(s.patience), []
    y_val = fold.labels[fold.val].cpu().numpy()
    bar = tqdm(range(s.max_epochs if validate else epochs), desc=f"{label} epochs", leave=False, file=sys.stdout,
               mininterval=1.0, dynamic_ncols=False, ncols=100, disable=not progress)
    for epoch in bar:
        t0 = time.perf_counter()
        train_loss = engine.train_epoch(fold, gen)
        if not validate:
            rows.append({"epoch": epoch, "train_loss": train_loss, "seconds": time.perf_counter() - t0})
            continue
        val_loss, p_val = engine.evaluate(fold, fold.val)
        auc = roc_auc_score(y_val, p_val) if len(np.unique(y_val)) == 2 else float("nan")
        rows.append({"epoch": epoch, "train_loss": train_loss,
                     "val_loss": val_loss, "val_auc": auc, "seconds": time.perf_counter() - t0})
        bar.set_postfix(val_loss=f"{val_loss:.3f}", best=f"{min(stopper.best, val_loss):.3f}")
        if stopper.step(epoch, val_loss, engine.net):
            break
    bar.close()
    stopper.restore(engine.net)
    # the operating point is chosen on the validation part only, never on the test part
    threshold = metrics.youden_threshold(y_val, engine.evaluate(fold, fold.val)[1]) if validate else float("nan")
    p_test = engine.evaluate(fold, fold.test)[1] if len(fold.test) else np.empty(0)
    return FitResult(pd.DataFrame(rows), p_test, stopper.best_epoch, stopper.best, threshold, engine.net)


def start_skip_path(net: models.OsteoNet, fold: Fold) -> None:
    """Start the ensemble's covariate path (fusion ``concat+skip``) at the covariates-only logistic
    regression of the fold's training part (unpenalised, as the covariates baseline): the network
    starts where the covariates alone stand and learns what the image adds. Only the training part
    is used, never the validation or test part."""
    train = fold.train.cpu().numpy()
    x, y = fold.covariates.cpu().numpy()[train], fold.labels.cpu().numpy()[train]
    lr = LogisticRegression(C=np.inf, max_iter=1000).fit(x, y)
    # softmax over (-z/2, z/2) gives P(osteoporosis) = sigmoid(z), the regression's probability
    w, b = lr.coef_[0] / 2, lr.intercept_[0] / 2
    with torch.no_grad():
        net.skip.weight.copy_(torch.tensor(np.stack([-w, w]), dtype=net.skip.weight.dtype))
        net.skip.bias.copy_(torch.tensor([-b, b], dtype=net.skip.bias.dtype))


def train_model(fold: Fold, s: TrainingSettings, arm: str, input_size: tuple[int, int], device: torch.device,
                seed_path: tuple[int, ...], epochs: int | None = None, label: str = "",
                progress: bool = True) -> FitResult:
    """Build a fresh network and :func:`fit` it, every random draw derived from the master seed
    and ``seed_path`` (``(repeat, fold)`` in cross-validation): the initial weights, the batch
    order and augmentation (a generator), and torch's global generators, which EfficientNet's
    stochastic depth draws from (seeded for the block, restored after it)."""
    net = models.build(s.network(arm, input_size), seed=repro.child_seed(s.seed, *seed_path),
                       pretrained=s.pretrained, weights_dir=s.weights_dir or None)
    if getattr(net, "skip", None) is not None:
        start_skip_path(net, fold)
    gen = torch.Generator(device=device).manual_seed(repro.child_seed(s.seed, *seed_path, 1))
    with repro.seeded_global_rng(repro.child_seed(s.seed, *seed_path, 2), device):
        return fit(net, fold, s, gen, device, epochs, label, progress)


class TrainingData:
    """The cohort, the splits and the ROIs of one study, loaded once (ROIs on ``device``)."""

    def __init__(self, layout: StudyLayout, device: torch.device):
        self.layout = layout
        self.cohort = cohort.read_cohort(layout)
        self.splits = splits.read(layout)
        splits.check(self.splits, self.cohort)
        self.device = device
        self.images = load_rois(self.layout, self.cohort["patient_id"], device)
        self.labels = torch.tensor(self.cohort["label"].to_numpy(), dtype=torch.int64, device=device)
        self.index = pd.Series(np.arange(len(self.cohort)), index=self.cohort["patient_id"])

    @property
    def by_site(self) -> bool:
        """Whether the splits hold sites out (internal-external cross-validation, ``splits.leave_site_out``)."""
        return "site" in self.splits.columns

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:])

    @property
    def n_repeats(self) -> int:
        return int(self.splits["repeat"].max()) + 1

    def _fold(self, arm: str, idx: dict[str, torch.Tensor]) -> tuple[Fold, CovariateScaler]:
        scaler = CovariateScaler.fit(self.cohort.iloc[idx["train"].cpu().numpy()])
        cov = scaler.transform(self.cohort).to(self.device) if arm == "ensemble" else None
        return Fold(self.images, self.labels, cov, idx["train"], idx["val"], idx["test"]), scaler

    def fold(self, repeat: int, k: int, arm: str) -> tuple[Fold, CovariateScaler]:
        """Fold ``k`` of ``repeat``, the covariates scaled on its training part only."""
        part = self.splits[(self.splits["repeat"] == repeat) & (self.splits["fold"] == k)]
        idx = {role: torch.tensor(self.index[g["patient_id"]].to_numpy(), device=self.device)
               for role, g in part.groupby("role")}
        return self._fold(arm, idx)

    def everyone(self, arm: str) -> tuple[Fold, CovariateScaler]:
        """Every patient as the training part (no validation, no test): a refit."""
        everyone = torch.arange(len(self.cohort), device=self.device)
        return self._fold(arm, {"train": everyone, "val": everyone[:0], "test": everyone[:0]})


def run(data: TrainingData, s: TrainingSettings, arms: list[str], repeats: list[int], folds_at_once: int = 1,
        retrain_changed: bool = False) -> pd.DataFrame:
    """Train ``repeats`` x folds for each arm; skip repeats already on disk. Returns a summary.

    A repeat on disk that was trained with other settings stops the run (a study never mixes
    settings), unless ``retrain_changed``: then it is trained again and replaced (the workflow
    does this when a changed parameter made it rerun a job).

    ``folds_at_once`` > 1 trains that many folds at the same time in worker processes sharing the
    device: one small model leaves a large GPU mostly idle, several fill it. Every fold has its own
    seeds, so the results do not depend on it (on the CPU the workers use the parent's thread count,
    since summation order changes the numbers; there it gives no speed, only on a GPU).
    """
    for arm in arms:
        settings.check_arm(arm)
    bad = [r for r in repeats if not 0 <= r < data.n_repeats]
    if bad:
        raise ValueError(f"repeats {bad} are not in splits.csv (repeats 0-{data.n_repeats - 1})")
    pool = _pool(data, folds_at_once) if folds_at_once > 1 else None
    summary = []
    try:
        for repeat in tqdm(repeats, desc=f"{s.backbone} repeats", file=sys.stdout, ncols=100):
            for arm in arms:
                out = data.layout.run_dir(s.backbone, arm, repeat)
                if out.exists() and retrain_changed and not _same_settings(out, s):
                    tqdm.write(f"{out}: trained with other settings, training it again", file=sys.stdout)
                    out = _retire(out)
                if out.exists():
                    _check_settings(out, s)
                    summary.append({"repeat": repeat, "arm": arm, "status": "done before",
                                    **json.loads((out / RUN_METRICS).read_text())["repeat_metrics"]})
                    continue
                m = _run_repeat(data, s, arm, repeat, out, pool)
                summary.append({"repeat": repeat, "arm": arm, "status": "trained", **m})
    finally:
        if pool is not None:
            pool.shutdown()
    return pd.DataFrame(summary)


def _same_settings(out: Path, s: TrainingSettings) -> bool:
    file = out / RUN_METRICS
    return file.is_file() and json.loads(file.read_text())["settings"] == json.loads(json.dumps(asdict(s)))


def _retire(out: Path) -> Path:
    """Remove a stale repeat folder (renamed first, so a crash never leaves half of it)."""
    trash = out.with_name(f".{out.name}.stale")
    shutil.rmtree(trash, ignore_errors=True)
    out.rename(trash)
    shutil.rmtree(trash)
    return out


def _check_settings(out: Path, s: TrainingSettings) -> None:
    have = json.loads((out / RUN_METRICS).read_text())["settings"]
    if have != json.loads(json.dumps(asdict(s))):
        diff = {k: (have.get(k), v) for k, v in asdict(s).items() if have.get(k) != v}
        raise ValueError(f"{out} was trained with other settings {diff} (was, now): use another study "
                         "name, or delete that backbone's runs to retrain")


def _fit_one(data: TrainingData, s: TrainingSettings, arm: str, repeat: int, k: int, progress: bool = True) -> dict:
    """Train fold ``k`` of ``repeat``; everything the repeat's files need, on the CPU."""
    t0 = time.perf_counter()
    fold, scaler = data.fold(repeat, k, arm)
    r = train_model(fold, s, arm, data.input_size, data.device, (repeat, k),
                    label=f"r{repeat:02d} f{k} {arm}", progress=progress)
    # repeat 0's fold 0 is kept; with sites held out (internal-external CV) every fold: each site's model
    keep = repeat == 0 and (k == 0 or data.by_site)
    return {"k": k, "history": r.history, "p_test": r.p_test, "test": fold.test.cpu().numpy(), "scaler": scaler,
            "best_epoch": r.best_epoch, "best": r.best_loss, "threshold": r.threshold,
            "seconds": time.perf_counter() - t0,
            "state": {n: v.detach().cpu() for n, v in r.net.state_dict().items()} if keep else None}


_WORKER: dict = {}


def _worker_init(study_dir: str, device: str, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER["data"] = TrainingData(StudyLayout(Path(study_dir)), torch.device(device))


def _worker_fit(job: tuple) -> dict:
    return _fit_one(_WORKER["data"], *job, progress=False)


def _pool(data: TrainingData, n: int):
    # the parent's thread count: CPU results depend on it (summation order), so keep them identical
    threads = torch.get_num_threads()
    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                               initargs=(str(data.layout.root), str(data.device), threads))


def _run_repeat(data: TrainingData, s: TrainingSettings, arm: str, repeat: int, out: Path, pool=None) -> dict:
    ks = range(int(data.splits["fold"].max()) + 1)
    jobs = [(s, arm, repeat, k) for k in ks]
    results = pool.map(_worker_fit, jobs) if pool is not None else (_fit_one(data, *j) for j in jobs)
    preds, hist, folds, keep = [], [], [], []
    for r in results:
        test = data.cohort.iloc[r["test"]]
        preds.append(pd.DataFrame({"repeat": repeat, "fold": r["k"], "patient_id": test["patient_id"].to_numpy(),
                                   "y_true": test["label"].to_numpy(), "p_osteoporosis": r["p_test"],
                                   "threshold": r["threshold"]}))
        hist.append(r["history"].assign(fold=r["k"]))
        folds.append({"fold": r["k"], "best_epoch": r["best_epoch"], "epochs": len(r["history"]),
                      "best_val_loss": r["best"], "threshold": r["threshold"], "seconds": r["seconds"],
                      **metrics.classification(preds[-1]["y_true"], r["p_test"])})
        tqdm.write(f"r{repeat:02d} f{r['k']} {s.backbone}/{arm}: {len(r['history'])} epochs, best val loss "
                   f"{r['best']:.3f} at epoch {r['best_epoch']}, test AUC {folds[-1]['auc']:.3f}, "
                   f"{r['seconds']:.0f} s", file=sys.stdout)
        if r["state"] is not None:
            keep.append((r["k"], r["state"], r["scaler"]))
    predictions = pd.concat(preds).sort_values(["fold", "patient_id"]).reset_index(drop=True)
    history = pd.concat(hist)[["fold", "epoch", "train_loss", "val_loss", "val_auc", "seconds"]]
    repeat_metrics = metrics.classification(predictions["y_true"], predictions["p_osteoporosis"])
    at_validation = metrics.classification(predictions["y_true"], predictions["p_osteoporosis"],
                                           predictions["threshold"].to_numpy())
    with atomic.atomic_dir(out) as tmp:
        predictions.to_csv(tmp / PREDICTIONS, index=False, float_format="%.6f")
        history.to_csv(tmp / HISTORY, index=False, float_format="%.6f")
        atomic.write_json({"backbone": s.backbone, "arm": arm, "repeat": repeat, "settings": asdict(s),
                           "repeat_metrics": repeat_metrics, "repeat_metrics_validation_threshold": at_validation,
                           "folds": folds,
                           "device": str(data.device), "environment": repro.environment_report()},
                          tmp / RUN_METRICS)
        for k, state, scaler in keep:
            checkpoints.save(tmp, state, s, s.network(arm, data.input_size), scaler, fold=k)
    return repeat_metrics


def refit(layout: StudyLayout, card: dict, device: str = "cpu", progress: bool = True) -> tuple[dict, dict]:
    """Train a kept model's configuration on every patient of its study, for the median number of
    epochs that early stopping chose across repeat 0's folds (a bundle's ``--refit``); returns the
    state dict and what a bundle's card says of it (its covariate scaler, where it comes from)."""
    s = TrainingSettings(**card["settings"])
    arm = NetworkConfig.from_card(card).arm
    folds = json.loads(layout.run_metrics(s.backbone, arm, 0).read_text())["folds"]
    epochs = int(np.median([f["best_epoch"] + 1 for f in folds]))
    data = TrainingData(layout, torch.device(device))
    fold, scaler = data.everyone(arm)
    result = train_model(fold, s, arm, data.input_size, data.device, REFIT_SEED_PATH, epochs=epochs,
                         label=f"refit {s.backbone}/{arm}", progress=progress)
    state = {k: v.detach().cpu() for k, v in result.net.state_dict().items()}
    return state, {"covariates": scaler.as_card(),
                   "source": {"model": f"refit on all {len(data.cohort)} patients for {epochs} epochs "
                                       "(the median best epoch of repeat 0's folds)",
                              "patients": len(data.cohort)}}
