"""Train a tiny LM built from generated Mamba-2 blocks on associative recall.

    python -m mamba2_runner.train --pkg kernels-out/mamba2_simple [--steps N]
        [--out DIR] [--backend generated|reference|both] [--tiny]

The LM: token embedding, N generated blocks with residual pre-RMSNorm, a final
RMSNorm and a linear head. The task is multi-query associative recall (MQAR),
generated on the fly from a fixed seed: a sequence lists K key-value pairs,
then asks for keys drawn at random, each followed by its value; the loss and
the accuracy count only the answers.

Backends (same initial weights, same batches, fp32):
- generated: the package's block class, trained through its Triton forward
  and backward kernels (module.py must route to the package's autograd.py);
- reference: the same parameters run by the float64 reference
  (mamba2_runner.reference.ref_block on the package's ir.json), plain
  differentiable PyTorch that shares nothing with the generated kernels; the
  block's output is cast back to fp32.

Writes <out>/losses.json (per-step losses, accuracies, config) and
<out>/loss.png (matplotlib) or <out>/loss.svg (written by hand without it);
prints the largest relative gap between the two loss curves and the final
recall accuracy against --target.
"""
from __future__ import annotations

import argparse
import copy
import importlib
import json
import math
import sys
import time
from pathlib import Path

from .pkgload import load_generated, load_ir, read_manifest, select_device


# ---------------------------------------------------------------- data


def mqar_batch(gen, batch, pairs, seqlen, vocab, device):
    """Tokens [batch, seqlen], next-token targets and the answer mask.

    Keys come from [1, vocab // 2), values from [vocab // 2, vocab). Layout:
    k1 v1 ... kK vK, then (seqlen - 2K) / 2 query pairs q a, each q a key
    drawn uniformly (with replacement) and a its value; the model must
    predict a at the position of q, and only those positions are scored.
    """
    import torch

    half = vocab // 2
    if pairs > half - 1:
        raise ValueError(f"{pairs} pairs need more than {half - 1} distinct keys: raise --vocab")
    n_q = (seqlen - 2 * pairs) // 2
    if n_q < 1 or seqlen % 2:
        raise ValueError(f"seqlen {seqlen} must be even and leave room for queries after {pairs} pairs")
    keys = torch.argsort(torch.rand(batch, half - 1, generator=gen), dim=1)[:, :pairs] + 1
    vals = torch.randint(half, vocab, (batch, pairs), generator=gen)
    pick = torch.randint(0, pairs, (batch, n_q), generator=gen)
    qk = torch.gather(keys, 1, pick)
    qv = torch.gather(vals, 1, pick)
    ctx = torch.stack([keys, vals], dim=2).reshape(batch, 2 * pairs)
    qry = torch.stack([qk, qv], dim=2).reshape(batch, 2 * n_q)
    tokens = torch.cat([ctx, qry], dim=1)
    targets = torch.roll(tokens, -1, dims=1)
    mask = torch.zeros_like(tokens, dtype=torch.bool)
    mask[:, 2 * pairs::2] = True  # query positions: the next token is the answer
    return tokens.to(device), targets.to(device), mask.to(device)


# ---------------------------------------------------------------- reference backend


def reference_forward(block, ir, u):
    """The block's forward through the one float64 reference
    (mamba2_runner.reference.ref_block, interpreting the package's ir.json) on
    the block's own parameters. The reference upcasts with .to(float64), so
    autograd reaches every parameter; the result is cast back to u's dtype."""
    from .reference import ref_block

    return ref_block(ir, dict(block.named_parameters()), u).to(u.dtype)


# ---------------------------------------------------------------- model


def build_lm(block_cls, cfg, ir, vocab, n_layers, chunk_size):
    import torch
    import torch.nn as nn

    class RecallLM(nn.Module):
        """embedding -> n x (x + block(rmsnorm(x))) -> rmsnorm -> head."""

        def __init__(self):
            super().__init__()
            d = cfg.D_MODEL
            self.embed = nn.Embedding(vocab, d)
            self.norms = nn.ParameterList([nn.Parameter(torch.ones(d)) for _ in range(n_layers)])
            self.blocks = nn.ModuleList([block_cls(d, chunk_size=chunk_size) for _ in range(n_layers)])
            self.norm_f = nn.Parameter(torch.ones(d))
            self.head = nn.Linear(d, vocab, bias=False)
            self.backend = "generated"

        @staticmethod
        def _rms(x, w):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

        def forward(self, tokens):
            x = self.embed(tokens)
            for w, blk in zip(self.norms, self.blocks):
                hn = self._rms(x, w)
                x = x + (blk(hn) if self.backend == "generated" else reference_forward(blk, ir, hn))
            return self.head(self._rms(x, self.norm_f))

    return RecallLM()


def check_generated_backward(lm, tokens):
    """The generated forward must be differentiable end to end (module.py
    routed through autograd.py); fail early with the fix otherwise."""
    import torch

    lm.zero_grad(set_to_none=True)
    lm(tokens[:1]).float().sum().backward()
    blk = lm.blocks[0]
    missing = [name for name, prm in blk.named_parameters() if prm.grad is None]
    lm.zero_grad(set_to_none=True)
    if missing:
        raise RuntimeError(
            f"the generated block's forward does not propagate gradients to {missing}: its module.py "
            "calls the forward-only ops. Regenerate the package with the autograd wrappers "
            "(module.py imports from .autograd)."
        )
    del torch


# ---------------------------------------------------------------- training


def train_one(lm, data, steps, lr, device, log_every, label):
    import torch
    import torch.nn.functional as F

    opt = torch.optim.AdamW(lm.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))
    )
    losses, accs = [], []
    t0 = time.time()
    for step in range(steps):
        tokens, targets, mask = data[step]
        logits = lm(tokens)
        loss = F.cross_entropy(logits[mask].float(), targets[mask])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        accs.append((logits[mask].argmax(-1) == targets[mask]).float().mean().item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"[{label}] step {step:5d} loss {losses[-1]:.4f} acc {accs[-1]:.3f} "
                  f"({time.time() - t0:.1f}s)", file=sys.stderr, flush=True)
    return losses, accs, time.time() - t0


def evaluate(lm, batches):
    import torch

    hit = tot = 0
    with torch.no_grad():
        for tokens, targets, mask in batches:
            pred = lm(tokens)[mask].argmax(-1)
            hit += (pred == targets[mask]).sum().item()
            tot += mask.sum().item()
    return hit / max(1, tot)


def max_rel_gap(a, b):
    return max((abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b)), default=0.0)


# ---------------------------------------------------------------- figure


def write_figure(out_dir: Path, curves: dict, title: str) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, ys in curves.items():
            ax.plot(range(len(ys)), ys, label=name, linewidth=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (answers only)")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.legend()
        fig.tight_layout()
        path = out_dir / "loss.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path
    except ImportError:
        return _write_svg(out_dir / "loss.svg", curves, title)


def _write_svg(path: Path, curves: dict, title: str) -> Path:
    W, H, m = 720, 400, 50
    ys_all = [v for ys in curves.values() for v in ys if v > 0 and math.isfinite(v)] or [1.0]
    lo, hi = math.log10(min(ys_all)), math.log10(max(ys_all))
    hi = hi if hi > lo else lo + 1
    n = max(len(ys) for ys in curves.values()) or 1
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]

    def px(i, v):
        x = m + (W - 2 * m) * (i / max(1, n - 1))
        y = H - m - (H - 2 * m) * ((math.log10(max(v, 1e-12)) - lo) / (hi - lo))
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<text x="{W / 2}" y="20" text-anchor="middle">{title}</text>',
             f'<line x1="{m}" y1="{H - m}" x2="{W - m}" y2="{H - m}" stroke="black"/>',
             f'<line x1="{m}" y1="{m}" x2="{m}" y2="{H - m}" stroke="black"/>',
             f'<text x="{W / 2}" y="{H - 15}" text-anchor="middle">step (0..{n - 1})</text>',
             f'<text x="5" y="{m}">{10 ** hi:.3g}</text>',
             f'<text x="5" y="{H - m}">{10 ** lo:.3g}</text>']
    for k, (name, ys) in enumerate(curves.items()):
        c = colors[k % len(colors)]
        pts = " ".join(px(i, v) for i, v in enumerate(ys))
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.2" points="{pts}"/>')
        parts.append(f'<text x="{W - m - 150}" y="{m + 15 * (k + 1)}" fill="{c}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path


# ---------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/mamba2_simple", help="generated package dir (kernels-out/<name>)")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default 600; 3 with --tiny)")
    ap.add_argument("--out", default="train-out", help="directory for losses.json and the figure")
    ap.add_argument("--backend", choices=["generated", "reference", "both"], default="both")
    ap.add_argument("--tiny", action="store_true", help="a few small steps (CPU smoke test)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=None, help="default 64 (2 with --tiny)")
    ap.add_argument("--pairs", type=int, default=None, help="key-value pairs (default 8; 4 with --tiny)")
    ap.add_argument("--seqlen", type=int, default=None, help="default 64 (16 with --tiny)")
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", type=float, default=0.9, help="recall accuracy the generated model should reach")
    ap.add_argument("--log-every", type=int, default=50)
    args = ap.parse_args(argv)

    device = select_device()  # sets TRITON_INTERPRET=1 on CPU before the package is imported
    import torch

    steps = args.steps if args.steps is not None else (3 if args.tiny else 600)
    batch = args.batch or (2 if args.tiny else 64)
    pairs = args.pairs or (4 if args.tiny else 8)
    seqlen = args.seqlen or (16 if args.tiny else 64)
    layers = 1 if args.tiny else args.layers
    if args.tiny:
        args.log_every = 1

    pkg = load_generated(args.pkg)
    name = read_manifest(args.pkg)["name"]
    cfg = importlib.import_module(f"{name}._config")
    block_cls = getattr(pkg, read_manifest(args.pkg)["className"])

    torch.manual_seed(args.seed)
    lm0 = build_lm(block_cls, cfg, load_ir(args.pkg), args.vocab, layers, args.chunk_size).to(device)
    gen = torch.Generator().manual_seed(args.seed + 1)
    data = [mqar_batch(gen, batch, pairs, seqlen, args.vocab, device) for _ in range(steps)]
    eval_gen = torch.Generator().manual_seed(args.seed + 2)
    eval_batches = [mqar_batch(eval_gen, batch, pairs, seqlen, args.vocab, device) for _ in range(1 if args.tiny else 8)]

    backends = ["generated", "reference"] if args.backend == "both" else [args.backend]
    results = {}
    for be in backends:
        lm = copy.deepcopy(lm0)
        lm.backend = be
        if be == "generated":
            check_generated_backward(lm, data[0][0])
        losses, accs, secs = train_one(lm, data, steps, args.lr, device, args.log_every, be)
        results[be] = {"loss": losses, "train_acc": accs, "seconds": secs, "eval_acc": evaluate(lm, eval_batches)}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "pkg": str(args.pkg), "device": device, "torch": torch.__version__, "steps": steps, "batch": batch,
        "pairs": pairs, "seqlen": seqlen, "vocab": args.vocab, "layers": layers, "d_model": cfg.D_MODEL,
        "lr": args.lr, "seed": args.seed, "target": args.target, "results": results,
    }
    if len(results) == 2:
        gl, rl = results["generated"]["loss"], results["reference"]["loss"]
        summary["max_rel_loss_gap"] = max_rel_gap(gl, rl)
        # two fp32 trainings drift apart chaotically once the loss is small;
        # the early steps show whether the gradients themselves agree
        summary["max_rel_loss_gap_first_100"] = max_rel_gap(gl[:100], rl[:100])
    (out / "losses.json").write_text(json.dumps(summary, indent=1) + "\n")
    fig = write_figure(out, {be: r["loss"] for be, r in results.items()},
                       f"MQAR {pairs} pairs, seqlen {seqlen}, {name}, {layers} layers")

    print(f"wrote {out / 'losses.json'} and {fig}")
    for be, r in results.items():
        print(f"{be:9s}: final loss {r['loss'][-1]:.4f}, eval recall accuracy {r['eval_acc']:.3f} "
              f"(target {args.target}), {r['seconds']:.1f}s for {steps} steps")
    if "max_rel_loss_gap" in summary:
        print(f"largest relative gap between the loss curves: {summary['max_rel_loss_gap']:.3e} "
              f"(first 100 steps: {summary['max_rel_loss_gap_first_100']:.3e})")
    main_be = "generated" if "generated" in results else backends[0]
    ok = results[main_be]["eval_acc"] >= args.target
    print(f"{main_be} recall accuracy {results[main_be]['eval_acc']:.3f} "
          f"{'>=' if ok else '<'} target {args.target}: {'PASS' if ok else 'FAIL'}")
    return 0 if (ok or args.tiny) else 1


if __name__ == "__main__":
    sys.exit(main())
