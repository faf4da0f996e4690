"""The seeded training loop the detector's parts share (its keypoints, :mod:`osteolib.placement.fit`, and
its side-marker reader, :mod:`osteolib.placement.marker`): AdamW with a one-cycle schedule."""
from __future__ import annotations

import math

import torch
from tqdm.auto import tqdm

from .. import repro

__all__ = ["seeded_loop"]


def seeded_loop(make_net, n: int, s, key: int, desc: str, batch_loss, progress: bool = True):
    """The training loop of the detector's parts (keypoints, marker reader): the network made under the
    global RNG seeded with child seed (``s.seed``, ``key``), AdamW with a one-cycle schedule, seeded
    shuffles of ``n`` items in batches of ``s.batch_size`` (a last batch of one is skipped);
    ``batch_loss(net, idx, gen)`` gives one batch's loss. CPU-deterministic; returns the net in eval mode."""
    with repro.seeded_global_rng(repro.child_seed(s.seed, key)):
        net = make_net()
        gen = torch.Generator().manual_seed(repro.child_seed(s.seed, key, 1))
        opt = torch.optim.AdamW(net.parameters(), lr=s.lr, weight_decay=1e-4)
        steps = s.epochs * math.ceil(n / s.batch_size)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=steps, pct_start=0.15)
        bar = tqdm(range(s.epochs), desc=desc, disable=not progress)
        net.train()
        for _ in bar:
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for i in range(0, n, s.batch_size):
                idx = order[i:i + s.batch_size]
                if len(idx) < 2:
                    continue
                loss = batch_loss(net, idx, gen)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
            bar.set_postfix(loss=f"{total / n:.3f}")
    return net.eval()
