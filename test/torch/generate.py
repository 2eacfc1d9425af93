#!/usr/bin/python3
"""Generate PyTorch reference vectors for xent's tests.

Run with a Python that has torch (Debian: apt-get install python3-torch):

    /usr/bin/python3 test/torch/generate.py

Writes test/torch/vectors.json next to this file. Everything is computed in
float64 so the numbers are PyTorch's semantics, not float32 rounding.

JSON layout:
    {"generator": "test/torch/generate.py", "torch": "<version>", "cases": [case, ...]}
    case = {"op", "name", "rows", "classes", "inputs", "options", "expected"}
           (+ "targetKind": "sparse" | "probs" for crossEntropy)
All tensors are flat, row-major lists. Non-finite floats are the strings
"NaN", "Infinity", "-Infinity". Options left out of a case take PyTorch's
default (reduction "mean", ignoreIndex -100, no weight, labelSmoothing 0).
"""

import json
import math
import os

import torch
import torch.nn.functional as F

SEED = 20240601
DT = torch.float64
INF = math.inf
NAN = math.nan

torch.manual_seed(SEED)
cases = []


# ---------------------------------------------------------------- helpers

def jsonable(v):
    """Recursively turn tensors into flat lists and non-finite floats into strings."""
    if isinstance(v, torch.Tensor):
        v = v.detach().reshape(-1).tolist() if v.dim() > 0 else v.item()
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, bool) or isinstance(v, int) or isinstance(v, str) or v is None:
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    raise TypeError(f"cannot encode {type(v)}")


def t(data):
    return torch.tensor(data, dtype=DT)


def randn(rows, classes, scale=1.0):
    return torch.randn(rows, classes, dtype=DT) * scale


def add(op, name, x, inputs, options, expected, **extra):
    case = {"op": op, "name": name, "rows": x.shape[0], "classes": x.shape[1]}
    case.update(extra)
    case.update({"inputs": inputs, "options": options, "expected": expected})
    cases.append(jsonable(case))


def loss_and_grad(fn, x):
    """Reduced loss and d(loss)/dx by autograd."""
    x = x.clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    return loss.detach(), x.grad.detach()


def random_probs(rows, classes, one_hot_rows=()):
    """Rows summing to 1: fractional (softmax of noise) except the one-hot rows."""
    p = torch.softmax(randn(rows, classes, 1.5), dim=1)
    for r in one_hot_rows:
        p[r] = 0.0
        p[r, torch.randint(classes, ()).item()] = 1.0
    return p


# ---------------------------------------------------------------- logSumExp

def lse_case(name, x):
    add("logSumExp", name, x, {"logits": x}, {}, {"lse": torch.logsumexp(x, dim=1)})


lse_case("random 4x5", randn(4, 5, 2.0))
lse_case("one class", randn(3, 1))
lse_case("huge +-1e4", t([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4 - 1], [-1e4, -1e4, -1e4]]))
lse_case("non-finite rows: +inf / all -inf / NaN / +inf,-inf / +inf,NaN / some -inf", t([
    [0.0, INF, 1.0],
    [-INF, -INF, -INF],
    [0.0, NAN, 1.0],
    [INF, -INF, 0.0],
    [INF, NAN, 0.0],
    [-INF, 2.0, -INF],
]))
lse_case("33 classes N(0,3)", randn(2, 33, 3.0))


# ---------------------------------------------------------------- logSoftmax / softmax

def softmax_cases(name, x, temps):
    for T in temps:
        opts = {"temperature": T}
        add("logSoftmax", f"{name}, T={T}", x, {"logits": x}, opts,
            {"out": F.log_softmax(x / T, dim=1)})
        add("softmax", f"{name}, T={T}", x, {"logits": x}, opts,
            {"out": F.softmax(x / T, dim=1)})


softmax_cases("random 3x7", randn(3, 7, 2.0), [1.0, 0.5, 2.5])
softmax_cases("one class", randn(2, 1), [1.0])
softmax_cases("huge +-1e4", t([[1e4, -1e4, 0.0, 1e4 - 3]]), [1.0, 2.5])
softmax_cases("33 classes N(0,3)", randn(2, 33, 3.0), [1.0])
softmax_cases("non-finite rows: some -inf / all -inf / +inf / NaN", t([
    [-INF, 1.0, 2.0, -INF],
    [-INF, -INF, -INF, -INF],
    [0.0, INF, 1.0, 2.0],
    [0.0, NAN, 1.0, 2.0],
]), [1.0])


# ---------------------------------------------------------------- crossEntropy (sparse)

def ce_options_to_torch(opts):
    kw = {}
    if "weight" in opts:
        kw["weight"] = t(opts["weight"])
    if "ignoreIndex" in opts:
        kw["ignore_index"] = opts["ignoreIndex"]
    if "labelSmoothing" in opts:
        kw["label_smoothing"] = opts["labelSmoothing"]
    return kw, opts.get("reduction", "mean")


def ce_sparse(name, x, target, **opts):
    tgt = torch.tensor(target, dtype=torch.long)
    kw, reduction = ce_options_to_torch(opts)
    loss, grad = loss_and_grad(lambda z: F.cross_entropy(z, tgt, reduction=reduction, **kw), x)
    losses = F.cross_entropy(x, tgt, reduction="none", **kw)
    add("crossEntropy", name, x, {"logits": x, "target": target}, opts,
        {"loss": loss, "losses": losses, "grad": grad}, targetKind="sparse")


W5 = [0.5, 2.0, 1.0, 0.25, 3.0]
ce_sparse("plain 4x5", randn(4, 5, 2.0), [0, 3, 4, 1])
ce_sparse("plain 6x7 with explicit defaults", randn(6, 7), [6, 0, 2, 2, 5, 1],
          reduction="mean", ignoreIndex=-100, labelSmoothing=0.0)
ce_sparse("class weights", randn(4, 5, 2.0), [0, 3, 4, 1], weight=W5)
ce_sparse("ignored rows (-100)", randn(5, 4), [1, -100, 3, -100, 0])
ce_sparse("ignoreIndex 2", randn(5, 4), [1, 2, 3, 2, 0], ignoreIndex=2)
for eps in (0.1, 0.3, 1.0):
    ce_sparse(f"label smoothing {eps}", randn(3, 6), [5, 0, 2], labelSmoothing=eps)
for red in ("mean", "sum"):
    ce_sparse(f"weights + label smoothing 0.1 + ignored rows, {red}", randn(5, 5, 2.0),
              [2, -100, 0, 4, -100], weight=W5, labelSmoothing=0.1, reduction=red)
ce_sparse("weights + label smoothing 0.3 + ignoreIndex 1, mean", randn(4, 5),
          [1, 3, 1, 0], weight=W5, labelSmoothing=0.3, ignoreIndex=1)
ce_sparse("all rows ignored, mean", randn(3, 4), [-100, -100, -100])
ce_sparse("all rows ignored, sum", randn(3, 4), [-100, -100, -100], reduction="sum")
ce_sparse("all rows ignored, label smoothing 0.1, mean", randn(2, 4), [-100, -100],
          labelSmoothing=0.1)
ce_sparse("target logit is -inf", t([[0.0, -INF, 1.0], [0.5, 1.5, -INF]]), [1, 0])
ce_sparse("non-target logit is -inf (masked class)", t([[0.0, -INF, 1.0], [-INF, 1.5, 0.2]]),
          [2, 1])
ce_sparse("row with NaN logit (not ignored)", t([[0.0, NAN, 1.0], [0.5, 1.5, -0.5]]), [0, 1])
ce_sparse("row with NaN logit (ignored; torch still gives that row NaN grad)", t([[0.0, NAN, 1.0], [0.5, 1.5, -0.5]]), [-100, 1])
ce_sparse("one class", randn(3, 1), [0, 0, 0])
ce_sparse("one class, label smoothing 0.1, sum", randn(2, 1), [0, 0], labelSmoothing=0.1,
          reduction="sum")
ce_sparse("33 classes N(0,3)", randn(4, 33, 3.0), [0, 32, 17, 5])
ce_sparse("33 classes N(0,3), weights + label smoothing 0.1", randn(3, 33, 3.0), [3, 31, -100],
          weight=[0.5 + (c % 4) * 0.5 for c in range(33)], labelSmoothing=0.1)
ce_sparse("huge logits +-1e4", t([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]]),
          [0, 1, 2])
ce_sparse("reduction sum", randn(4, 5, 2.0), [4, 4, 0, 2], reduction="sum")
ce_sparse("reduction sum, weights", randn(4, 5, 2.0), [4, 4, 0, 2], weight=W5, reduction="sum")


# ---------------------------------------------------------------- crossEntropy (probabilities)

def ce_probs(name, x, probs, **opts):
    kw, reduction = ce_options_to_torch(opts)
    loss, grad = loss_and_grad(lambda z: F.cross_entropy(z, probs, reduction=reduction, **kw), x)
    losses = F.cross_entropy(x, probs, reduction="none", **kw)
    add("crossEntropy", name, x, {"logits": x, "probs": probs}, opts,
        {"loss": loss, "losses": losses, "grad": grad}, targetKind="probs")


ce_probs("one-hot and fractional 4x5", randn(4, 5, 2.0), random_probs(4, 5, one_hot_rows=(0, 2)))
ce_probs("fractional, sum", randn(3, 6), random_probs(3, 6), reduction="sum")
ce_probs("class weights", randn(4, 5, 2.0), random_probs(4, 5, one_hot_rows=(1,)), weight=W5)
for eps in (0.1, 0.3, 1.0):
    ce_probs(f"label smoothing {eps}", randn(3, 5), random_probs(3, 5, one_hot_rows=(0,)),
             labelSmoothing=eps)
for red in ("mean", "sum"):
    ce_probs(f"weights + label smoothing 0.1, {red}", randn(4, 5, 2.0),
             random_probs(4, 5, one_hot_rows=(3,)), weight=W5, labelSmoothing=0.1, reduction=red)
ce_probs("one class", randn(2, 1), t([[1.0], [1.0]]))
ce_probs("33 classes N(0,3)", randn(2, 33, 3.0), random_probs(2, 33, one_hot_rows=(1,)))
ce_probs("huge logits +-1e4", t([[1e4, -1e4, 0.0], [-1e4, 0.0, 1e4]]),
         t([[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]]))
# -inf logits: torch multiplies log_softmax by the target, so 0 * -inf = NaN.
ce_probs("-inf logit where target prob is 0 (torch: 0*-inf = NaN)",
         t([[0.0, -INF, 1.0], [0.5, 1.5, -0.5]]), t([[0.25, 0.0, 0.75], [0.0, 1.0, 0.0]]))
ce_probs("-inf logit where target prob > 0", t([[0.0, -INF, 1.0], [0.5, 1.5, -0.5]]),
         t([[0.25, 0.5, 0.25], [0.0, 1.0, 0.0]]))


# ---------------------------------------------------------------- binaryCrossEntropy

def bce(name, x, target, **opts):
    kw = {}
    if "weight" in opts:
        kw["weight"] = t(opts["weight"]).reshape(x.shape)
    if "posWeight" in opts:
        kw["pos_weight"] = t(opts["posWeight"])  # scalar, or [C] broadcast over rows
        if isinstance(opts["posWeight"], list):
            opts["classes"] = x.shape[1]
    reduction = opts.get("reduction", "mean")
    fn = F.binary_cross_entropy_with_logits
    loss, grad = loss_and_grad(lambda z: fn(z, target, reduction=reduction, **kw), x)
    losses = fn(x, target, reduction="none", **kw)
    add("binaryCrossEntropy", name, x, {"logits": x, "target": target}, opts,
        {"loss": loss, "losses": losses, "grad": grad})


def targets01(rows, classes):
    """Mix of 0, 1 and fractional targets."""
    u = torch.rand(rows, classes, dtype=DT)
    return torch.where(u < 0.35, torch.zeros_like(u), torch.where(u > 0.7, torch.ones_like(u), u))


bce("plain, fractional targets", randn(4, 3, 2.0), targets01(4, 3))
bce("reduction sum", randn(3, 5, 2.0), targets01(3, 5), reduction="sum")
bce("per-element weight", randn(3, 4, 2.0), targets01(3, 4),
    weight=torch.rand(12, dtype=DT).mul(2).tolist())
bce("posWeight scalar", randn(4, 3, 2.0), targets01(4, 3), posWeight=3.0)
bce("posWeight per class + weight, sum", randn(3, 4, 2.0), targets01(3, 4),
    posWeight=[0.5, 1.0, 2.0, 4.0], weight=torch.rand(12, dtype=DT).add(0.5).tolist(),
    reduction="sum")
bce("extreme logits +-100, +-1e4", t([[100.0, -100.0, 1e4, -1e4]] * 3),
    t([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]]))
bce("extreme logits with posWeight per class", t([[100.0, -100.0, 1e4, -1e4]] * 2),
    t([[0.0, 1.0, 0.3, 0.7], [1.0, 0.0, 1.0, 0.0]]), posWeight=[2.0, 0.5, 3.0, 1.5])
bce("single column", randn(5, 1, 3.0), targets01(5, 1))


# ---------------------------------------------------------------- sigmoidFocalLoss

def focal(x, target, alpha, gamma, reduction):
    """torchvision.ops.sigmoid_focal_loss, written out."""
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def focal_case(name, x, target, alpha, gamma, reduction):
    loss, grad = loss_and_grad(lambda z: focal(z, target, alpha, gamma, reduction), x)
    add("sigmoidFocalLoss", name, x, {"logits": x, "target": target},
        {"alpha": alpha, "gamma": gamma, "reduction": reduction},
        {"loss": loss, "losses": focal(x, target, alpha, gamma, "none"), "grad": grad})


for alpha, gamma, red in [(0.25, 2.0, "mean"), (-1.0, 2.0, "sum"), (0.5, 0.0, "mean"),
                          (0.25, 1.5, "sum"), (-1.0, 1.5, "mean")]:
    focal_case(f"alpha {alpha}, gamma {gamma}, {red}", randn(4, 3, 2.0), targets01(4, 3),
               alpha, gamma, red)
focal_case("binary targets, large logits +-20", t([[20.0, -20.0, 5.0], [-20.0, 20.0, -5.0]]),
           t([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), 0.25, 2.0, "mean")


# ---------------------------------------------------------------- klDivergence

def kl_case(name, s, tch, T, reduction):
    def fn(z, red):
        return F.kl_div(F.log_softmax(z / T, 1), F.log_softmax(tch / T, 1),
                        log_target=True, reduction=red)
    loss, grad = loss_and_grad(lambda z: fn(z, reduction), s)
    add("klDivergence", name, s, {"student": s, "teacher": tch},
        {"temperature": T, "reduction": reduction},
        {"loss": loss, "losses": fn(s, "none").sum(dim=1), "grad": grad})


for T in (1.0, 2.0):
    for red in ("batchmean", "sum"):
        kl_case(f"4x5, T={T}, {red}", randn(4, 5, 2.0), randn(4, 5, 2.0), T, red)
kl_case("33 classes N(0,3), T=2, batchmean", randn(3, 33, 3.0), randn(3, 33, 3.0), 2.0, "batchmean")
kl_case("one class, T=1, batchmean", randn(2, 1), randn(2, 1), 1.0, "batchmean")
kl_case("student equals teacher (zero loss)", *(lambda a: (a, a.clone()))(randn(2, 4)), 1.0, "sum")


# ---------------------------------------------------------------- evaluate

def evaluate_case(name, x, target, topk=None, ignore_index=-100):
    tgt = torch.tensor(target, dtype=torch.long)
    counted = tgt != ignore_index
    logp = F.log_softmax(x, dim=1)
    nll = torch.zeros(x.shape[0], dtype=DT)
    nll[counted] = -logp[counted].gather(1, tgt[counted].unsqueeze(1)).squeeze(1)
    entropy = torch.special.entr(logp.exp()).sum(dim=1)  # entr(0) = 0
    argmax = torch.argmax(x, dim=1)
    count = int(counted.sum())
    correct = (argmax[counted] == tgt[counted]).sum().item()
    expected = {
        "nll": nll,
        "entropy": entropy,
        "argmax": argmax.tolist(),
        "loss": nll[counted].sum().item() / count if count else NAN,
        "accuracy": correct / count if count else NAN,
        "meanEntropy": entropy[counted].sum().item() / count if count else NAN,
        "count": count,
    }
    options = {}
    if topk is not None:
        vals, idx = torch.topk(logp, topk, dim=1, largest=True, sorted=True)
        # Tied values would make the order ambiguous: refuse to write such rows.
        assert all(len(set(row)) == len(row) for row in vals.tolist()), "tie in top-k"
        options["topK"] = topk
        expected["topkIndices"] = idx  # flat, rows x topK
        expected["topkLogprobs"] = vals
    add("evaluate", name, x, {"logits": x, "target": target}, options, expected)


evaluate_case("6x7, two ignored rows, top-3", randn(6, 7, 2.0), [3, -100, 0, 6, -100, 2], topk=3)
evaluate_case("33 classes N(0,3), top-3", randn(3, 33, 3.0), [5, 12, 30], topk=3)
evaluate_case("5x4 with argmax hits, top-3",
              t([[3.0, 0.0, 1.0, -1.0], [0.1, 2.0, -0.5, 1.0], [0.0, 0.5, 1.0, 4.0],
                 [2.5, 1.5, 0.5, -0.5], [-1.0, -2.0, 0.3, 0.2]]),
              [0, 1, 2, 3, -100], topk=3)
# Exact ties: argmax must pick the lowest index. No topK here (tie order would be ambiguous).
evaluate_case("exact ties (argmax -> lowest index), no topK",
              t([[1.0, 2.0, 2.0, 0.0], [5.0, 5.0, 5.0, 5.0], [0.0, -1.0, 3.0, 3.0]]),
              [2, 0, 2])


# ---------------------------------------------------------------- write

out = {"generator": "test/torch/generate.py", "torch": torch.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
# One case per line keeps diffs readable; allow_nan=False guards the string encoding.
with open(path, "w") as f:
    header = json.dumps({k: out[k] for k in ("generator", "torch")}, allow_nan=False)
    f.write(header[:-1] + ', "cases": [\n')
    f.write(",\n".join(json.dumps(c, allow_nan=False) for c in cases))
    f.write("\n]}\n")
print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
