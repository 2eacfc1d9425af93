#!/usr/bin/python3
"""PyTorch golden values at real vocabulary sizes (V = 32000 and 128256).

    /usr/bin/python3 test/torch/large.py

The inputs are not stored: both sides regenerate them from a seed with mulberry32 (the
integer generator of test/support/data.ts), rounded to f32 on both sides, so the fixture stays
small. Gradients are stored at sampled positions (each row's target and a few
generator-chosen columns). Everything is computed in float64.
"""

import json
import math
import os

import torch
import torch.nn.functional as F

DT = torch.float64


def mulberry32(seed):
    """Yields the generator's 32-bit outputs, as test/support/data.ts's rng (times 2^32)."""
    a = seed & 0xFFFFFFFF
    while True:
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        yield (t ^ (t >> 14)) & 0xFFFFFFFF


def f32(values):
    """Rounded to float32, as a Float32Array stores them."""
    return torch.tensor(values, dtype=torch.float32).to(DT).tolist()


def inputs(seed, rows, classes, spread):
    """Logits in [-spread, spread), class weights in [0.5, 1.5), targets, sampled columns."""
    g = mulberry32(seed)
    logits = f32([((next(g) >> 8) / 2**23 - 1) * spread for _ in range(rows * classes)])
    targets = [next(g) % classes for _ in range(rows)]
    weight = f32([0.5 + (next(g) >> 8) / 2**24 for _ in range(classes)])
    samples = [next(g) % classes for _ in range(8)]
    return logits, targets, weight, samples


def case(name, seed, rows, classes, spread, options):
    logits, targets, weight, samples = inputs(seed, rows, classes, spread)
    x = torch.tensor(logits, dtype=DT).reshape(rows, classes).requires_grad_(True)
    ignore = options.get("ignoreIndex", -100)
    if options.get("ignoreRow") is not None:
        targets[options["ignoreRow"]] = ignore
    tgt = torch.tensor(targets)
    v = x
    if "softcap" in options:
        v = options["softcap"] * torch.tanh(x / options["softcap"])
    lse = torch.logsumexp(v, dim=1)
    w = torch.tensor(weight, dtype=DT) if options.get("weight") else None
    eps = options.get("labelSmoothing", 0.0)
    losses = F.cross_entropy(v, tgt, weight=w, ignore_index=ignore, label_smoothing=eps, reduction="none")
    counted = tgt != ignore
    denominator = (w[tgt[counted]].sum() if w is not None else counted.sum().to(DT))
    zl = options.get("zLoss", 0.0)
    z = zl * lse**2 * counted
    loss = losses.sum() / denominator + z.sum() / counted.sum()
    loss.backward()
    grad = x.grad
    sampled = [[r, c] for r in range(rows) for c in ([targets[r]] if targets[r] != ignore else []) + samples]
    logp = torch.log_softmax(x.detach(), dim=1)
    return {
        "name": name, "seed": seed, "rows": rows, "classes": classes, "spread": spread,
        "options": {k: v for k, v in options.items() if k != "ignoreRow"},
        "ignoreRow": options.get("ignoreRow"),
        "expected": {
            "loss": loss.item(),
            "losses": (losses + z).tolist(),
            "lse": torch.where(counted, lse, torch.zeros_like(lse)).tolist(),
            "grad": [[r, c, grad[r, c].item()] for r, c in sampled],
            "logSoftmax": [[r, c, logp[r, c].item()] for r, c in sampled],
        },
    }


cases = []
for classes, rows in ((32000, 4), (128256, 3)):
    cases.append(case(f"{classes} classes, N(0,1)-sized logits", classes, rows, classes, 4.0, {}))
    cases.append(case(f"{classes} classes, logits in [-30, 30), weights, smoothing 0.1, an ignored row",
                      classes + 1, rows, classes, 30.0, {"weight": True, "labelSmoothing": 0.1, "ignoreRow": 1}))
    cases.append(case(f"{classes} classes, softcap 30, z-loss 1e-4, logits in [-60, 60)",
                      classes + 2, rows, classes, 60.0, {"softcap": 30.0, "zLoss": 1e-4}))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "large-vectors.json")
with open(out, "w") as f:
    json.dump({"generator": "test/torch/large.py", "torch": torch.__version__, "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases to {out}")
