#!/usr/bin/python3
"""PyTorch golden values for linearCrossEntropy: F.linear then F.cross_entropy, and the
gradients of the loss with respect to hidden, the head's weight and its bias.

    /usr/bin/python3 test/torch/linear.py

Writes test/torch/linear-vectors.json. Inputs are stored rounded to float32 (what a
Float32Array holds); everything is computed in float64.
"""

import json
import os

import torch
import torch.nn.functional as F

DT = torch.float64
torch.manual_seed(20261203)


def f32(x):
    return x.to(torch.float32).to(DT)


def case(name, rows, dim, classes, bias=True, **opts):
    hidden = f32(torch.randn(rows, dim, dtype=DT))
    head = f32(torch.randn(classes, dim, dtype=DT) / dim**0.5)
    b = f32(torch.randn(classes, dtype=DT) * 0.1) if bias else None
    target = torch.randint(0, classes, (rows,))
    ignore = opts.get("ignoreIndex", -100)
    for r in opts.pop("ignoredRows", []):
        target[r] = ignore
    kw = {"reduction": opts.get("reduction", "mean"), "ignore_index": ignore,
          "label_smoothing": opts.get("labelSmoothing", 0.0)}
    if "weight" in opts:
        kw["weight"] = torch.tensor(opts["weight"], dtype=DT)
    h = hidden.clone().requires_grad_()
    w = head.clone().requires_grad_()
    bb = b.clone().requires_grad_() if b is not None else None
    loss = F.cross_entropy(F.linear(h, w, bb), target, **kw)
    loss.backward()
    losses = F.cross_entropy(F.linear(hidden, head, b), target, **{**kw, "reduction": "none"})
    out = {
        "name": name, "rows": rows, "dim": dim, "classes": classes,
        "hidden": hidden.flatten().tolist(), "head": head.flatten().tolist(),
        "bias": b.tolist() if b is not None else None, "target": target.tolist(), "options": opts,
        "expected": {
            "loss": loss.item(), "losses": losses.tolist(),
            "gradHidden": h.grad.flatten().tolist(), "gradHead": w.grad.flatten().tolist(),
            "gradBias": bb.grad.tolist() if bb is not None else None,
        },
    }
    return out


cases = [
    case("5 x 8 -> 11, bias", 5, 8, 11),
    case("9 x 13 -> 70, no bias, sum", 9, 13, 70, bias=False, reduction="sum"),
    case("70 x 6 -> 3, ignored rows", 70, 6, 3, ignoredRows=[0, 5, 69]),
    case("6 x 16 -> 130, weights + smoothing 0.1", 6, 16, 130,
         weight=[0.5 + (c % 5) * 0.25 for c in range(130)], labelSmoothing=0.1),
    case("4 x 65 -> 9, ignoreIndex 3", 4, 65, 9, ignoreIndex=3, ignoredRows=[1]),
]
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linear-vectors.json")
with open(path, "w") as f:
    json.dump({"generator": "test/torch/linear.py", "torch": torch.__version__, "cases": cases}, f)
print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
