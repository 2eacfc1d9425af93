#!/usr/bin/python3
"""Trains the project's small character-level causal transformer and exports it to ONNX.

    /usr/bin/python3 scripts/make-model.py [--steps N] [--out data/char-model]

Writes OUT.onnx (input `input_ids` int64 [B, T], output `logits` float32 [B, T, V], batch and
sequence axes dynamic) and OUT.json: the vocabulary, the context length, the held-out split, and
the held-out mean negative log-likelihood PyTorch computed for the exported weights. The tests
check xent's scoring of the ONNX model against that number, so they need neither Python nor
training. Needs Debian's python3-torch and python3-onnx; about 2 minutes on 2 idle cores, 8 on busy ones (Debian's torch has a generic BLAS).
Seeded and single-process: a rerun writes the same .onnx, byte for byte.

The split: the first 90 % of the characters of data/kjv-genesis-exodus.txt train, the rest is
held out. Held-out scoring: the held-out text is cut into consecutive windows of `window`
characters (the last one shorter); within each window, every character after the first is
predicted from the ones before it in that window (a causal LM's shift by one). The mean is taken
over all predicted characters of all windows.
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = os.path.join(ROOT, 'data', 'kjv-genesis-exodus.txt')

CONTEXT = 64      # positions the model has embeddings for; also the held-out window
D_MODEL = 64
HEADS = 4
LAYERS = 2
TRAIN_SHARE = 0.9
BATCH = 32
SEED = 1234


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, then a GELU MLP."""

    def __init__(self, d, heads, context):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)
        # Sliced to [T, T] in forward, so the exported graph keeps T dynamic.
        self.register_buffer('mask', torch.tril(torch.ones(context, context, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        B, T, D = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q = q.view(B, T, h, D // h).transpose(1, 2)
        k = k.view(B, T, h, D // h).transpose(1, 2)
        v = v.view(B, T, h, D // h).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // h)
        scores = scores.masked_fill(~self.mask[:T, :T], float('-inf'))
        y = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class CharTransformer(nn.Module):
    def __init__(self, vocab, d=D_MODEL, heads=HEADS, layers=LAYERS, context=CONTEXT):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads, context) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, input_ids):
        T = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos(torch.arange(T, device=input_ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))


def held_out_nll(model, ids, window):
    """Mean NLL (nats) over the held-out windows, as the module docstring defines them, in float64."""
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids), window):
            piece = ids[start:start + window].unsqueeze(0)
            if piece.shape[1] < 2:
                continue
            logits = model(piece)[0, :-1].double()
            total += F.cross_entropy(logits, piece[0, 1:], reduction='sum').item()
            count += piece.shape[1] - 1
    return total / count, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=220)
    parser.add_argument('--out', default=os.path.join(ROOT, 'data', 'char-model'))
    args = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    text = open(TEXT, encoding='utf-8').read()
    vocab = ''.join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = int(len(text) * TRAIN_SHARE)
    train, held = ids[:split], ids[split:]

    model = CharTransformer(len(vocab))
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=args.steps, pct_start=0.05)
    generator = torch.Generator().manual_seed(SEED)
    started = time.time()
    model.train()
    for step in range(args.steps):
        starts = torch.randint(0, len(train) - CONTEXT - 1, (BATCH,), generator=generator)
        x = torch.stack([train[s:s + CONTEXT] for s in starts])
        y = torch.stack([train[s + 1:s + CONTEXT + 1] for s in starts])
        loss = F.cross_entropy(model(x).reshape(-1, len(vocab)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 20 == 0 or step == args.steps - 1:
            print(f'step {step:5d}  train loss {loss.item():.4f}  {time.time() - started:6.1f} s', flush=True)
    model.eval()

    nll, count = held_out_nll(model, held, CONTEXT)
    print(f'held-out: {count} predicted characters, mean nll {nll:.6f} nats, perplexity {math.exp(nll):.6f}')

    onnx_path = args.out + '.onnx'
    torch.onnx.export(
        model, torch.zeros(2, CONTEXT, dtype=torch.long), onnx_path,
        input_names=['input_ids'], output_names=['logits'],
        dynamic_axes={'input_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch', 1: 'sequence'}},
        opset_version=17, do_constant_folding=True,
    )
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    meta = {
        'description': 'Character-level causal transformer trained by scripts/make-model.py on data/kjv-genesis-exodus.txt',
        'vocabulary': vocab,
        'context': CONTEXT,
        'model': {'layers': LAYERS, 'dModel': D_MODEL, 'heads': HEADS, 'parameters': params},
        'training': {'steps': args.steps, 'batch': BATCH, 'seed': SEED, 'seconds': round(time.time() - started, 1), 'torch': torch.__version__},
        'heldOut': {
            'text': 'data/kjv-genesis-exodus.txt',
            'start': split,
            'end': len(text),
            'window': CONTEXT,
            'scoring': 'consecutive windows of `window` characters from `start` (the last one shorter); '
                       'each character after the first of its window is predicted from the ones before it in that window',
            'count': count,
            'loss': nll,
            'perplexity': math.exp(nll),
        },
    }
    with open(args.out + '.json', 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(f'wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes, {params} parameters) and {args.out}.json')


if __name__ == '__main__':
    main()
