"""Train a small image classifier built on a generated vision block: which
quadrant holds the bright patch.

    python -m mamba2_runner.train_vision --pkg kernels-out/vision_mamba2 [--steps N]
        [--out DIR] [--backend generated|reference|both] [--tiny]

The task (generated on the fly from a fixed seed): a height x width image of
Gaussian noise (std 0.5) with one bright square patch (value +2, side
max(1, min(H, W) // 4)) placed uniformly inside one of its four quadrants; the
label is that quadrant (0 top-left, 1 top-right, 2 bottom-left, 3
bottom-right). Chance is 0.25.

The model: each pixel is a token, embedded by a linear map of its value plus
a learned position embedding; x + block(rmsnorm(x)) over the image
(the package's block class, [b, H, W, d_model] in and out); a final RMSNorm,
the mean over the tokens and a linear head to 4 classes.

Backends (same initial weights, same batches, fp32), as train.py's:
- generated: the package's block, trained through its Triton forward and
  backward kernels (conv2d, the cross scan, the norm);
- reference: the same parameters run by the float64 reference
  (mamba2_runner.reference.ref_block on the package's ir.json: ref_depthwise_conv2d,
  ref_cross_scan on explicitly permuted copies, the norm and the gate), cast back to fp32.

Writes <out>/losses.json and <out>/loss.png (or .svg); prints the largest
relative gap between the loss curves and the eval accuracy against --target
(0.95). Exit 1 when the accuracy misses it (not with --tiny).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

from .pkgload import load_generated, load_ir, read_manifest, select_device
from .train import max_rel_gap, reference_forward, write_figure


def quadrant_batch(gen, batch, height, width, device):
    """Images [batch, height, width] and labels [batch] (the quadrant of the patch)."""
    import torch

    side = max(1, min(height, width) // 4)
    hh, hw = height // 2, width // 2
    if hh < side or hw < side:
        raise ValueError(f"a {height}x{width} image has quadrants smaller than the {side}-pixel patch")
    img = 0.5 * torch.randn(batch, height, width, generator=gen)
    label = torch.randint(0, 4, (batch,), generator=gen)
    for i in range(batch):
        q = int(label[i])
        top = (q // 2) * (height - hh) + int(torch.randint(0, hh - side + 1, (1,), generator=gen))
        left = (q % 2) * (width - hw) + int(torch.randint(0, hw - side + 1, (1,), generator=gen))
        img[i, top:top + side, left:left + side] = 2.0
    return img.to(device), label.to(device)


def build_classifier(block_cls, d_model, height, width, ir):
    import torch
    import torch.nn as nn

    class QuadrantNet(nn.Module):
        """pixel -> token embedding + position -> x + block(rmsnorm(x)) -> rmsnorm -> mean -> 4 classes."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(1, d_model)
            self.pos = nn.Parameter(0.02 * torch.randn(height, width, d_model))
            self.norm = nn.Parameter(torch.ones(d_model))
            self.block = block_cls(d_model)
            self.norm_f = nn.Parameter(torch.ones(d_model))
            self.head = nn.Linear(d_model, 4)
            self.backend = "generated"

        @staticmethod
        def _rms(x, w):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

        def forward(self, img):
            x = self.embed(img.unsqueeze(-1)) + self.pos
            hn = self._rms(x, self.norm)
            x = x + (self.block(hn) if self.backend == "generated" else reference_forward(self.block, ir, hn))
            return self.head(self._rms(x, self.norm_f).mean(dim=(1, 2)))

    return QuadrantNet()


def train_one(net, data, steps, lr, log_every, label):
    import torch
    import torch.nn.functional as F

    opt = torch.optim.AdamW(net.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.0)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))
    )
    losses, accs = [], []
    t0 = time.time()
    for step in range(steps):
        img, y = data[step]
        logits = net(img)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        accs.append((logits.argmax(-1) == y).float().mean().item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"[{label}] step {step:5d} loss {losses[-1]:.4f} acc {accs[-1]:.3f} ({time.time() - t0:.1f}s)",
                  file=sys.stderr, flush=True)
    return losses, accs, time.time() - t0


def evaluate(net, batches):
    import torch

    hit = tot = 0
    with torch.no_grad():
        for img, y in batches:
            hit += (net(img).argmax(-1) == y).sum().item()
            tot += y.numel()
    return hit / max(1, tot)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mamba2_runner.train_vision", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pkg", default="kernels-out/vision_mamba2", help="generated vision package (kernels-out/<name>)")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default 300; 2 with --tiny)")
    ap.add_argument("--out", default="train-vision-out", help="directory for losses.json and the figure")
    ap.add_argument("--backend", choices=["generated", "reference", "both"], default="both")
    ap.add_argument("--tiny", action="store_true", help="two small steps (CPU smoke test)")
    ap.add_argument("--batch", type=int, default=None, help="default 32 (2 with --tiny)")
    ap.add_argument("--eval-batches", type=int, default=None, help="default 8 (1 with --tiny)")
    ap.add_argument("--eval-batch", type=int, default=None, help="images per eval batch (default: --batch)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", type=float, default=0.95, help="eval accuracy the model should reach")
    ap.add_argument("--log-every", type=int, default=25)
    args = ap.parse_args(argv)

    device = select_device()  # TRITON_INTERPRET=1 on CPU before the package is imported
    import torch

    steps = args.steps if args.steps is not None else (2 if args.tiny else 300)
    batch = args.batch or (2 if args.tiny else 32)
    n_eval = args.eval_batches or (1 if args.tiny else 8)
    if args.tiny:
        args.log_every = 1

    manifest = read_manifest(args.pkg)
    pkg = load_generated(args.pkg)
    ir = load_ir(args.pkg)
    image = next((n.get("image") for n in ir["nodes"] if n["kind"] == "Input"), None)
    if image is None:
        raise SystemExit(f"{args.pkg} is not a vision package (its input has no image size): "
                         "use mamba2_runner.train for sequence blocks")
    height, width = image["height"], image["width"]
    d_model = next(n["features"] for n in ir["nodes"] if n["kind"] == "Input")
    block_cls = getattr(pkg, manifest["className"])

    torch.manual_seed(args.seed)
    net0 = build_classifier(block_cls, d_model, height, width, ir).to(device)
    gen = torch.Generator().manual_seed(args.seed + 1)
    data = [quadrant_batch(gen, batch, height, width, device) for _ in range(steps)]
    eval_gen = torch.Generator().manual_seed(args.seed + 2)
    eval_batches = [quadrant_batch(eval_gen, args.eval_batch or batch, height, width, device) for _ in range(n_eval)]

    backends = ["generated", "reference"] if args.backend == "both" else [args.backend]
    results = {}
    for be in backends:
        net = copy.deepcopy(net0)
        net.backend = be
        losses, accs, secs = train_one(net, data, steps, args.lr, args.log_every, be)
        results[be] = {"loss": losses, "train_acc": accs, "seconds": secs, "eval_acc": evaluate(net, eval_batches)}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "task": "quadrant", "pkg": str(args.pkg), "device": device, "torch": torch.__version__, "steps": steps,
        "batch": batch, "eval_images": n_eval * (args.eval_batch or batch), "height": height, "width": width, "d_model": d_model, "lr": args.lr, "seed": args.seed,
        "target": args.target, "results": results,
    }
    if len(results) == 2:
        gl, rl = results["generated"]["loss"], results["reference"]["loss"]
        summary["max_rel_loss_gap"] = max_rel_gap(gl, rl)
        summary["max_rel_loss_gap_first_100"] = max_rel_gap(gl[:100], rl[:100])
    (out / "losses.json").write_text(json.dumps(summary, indent=1) + "\n")
    fig = write_figure(out, {be: r["loss"] for be, r in results.items()},
                       f"quadrant of the bright patch, {height}x{width}, {manifest['name']}")
    print(f"wrote {out / 'losses.json'} and {fig}")
    for be, r in results.items():
        print(f"{be:9s}: final loss {r['loss'][-1]:.4f}, eval accuracy {r['eval_acc']:.3f} "
              f"(target {args.target}), {r['seconds']:.1f}s for {steps} steps")
    if "max_rel_loss_gap" in summary:
        print(f"largest relative gap between the loss curves: {summary['max_rel_loss_gap']:.3e} "
              f"(first 100 steps: {summary['max_rel_loss_gap_first_100']:.3e})")
    main_be = "generated" if "generated" in results else backends[0]
    ok = results[main_be]["eval_acc"] >= args.target
    print(f"{main_be} accuracy {results[main_be]['eval_acc']:.3f} {'>=' if ok else '<'} target {args.target}: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if (ok or args.tiny) else 1


if __name__ == "__main__":
    sys.exit(main())
