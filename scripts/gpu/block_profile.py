"""Where the block's forward+backward time goes, ours vs the incumbent (issue 9: the block's glue).

    PYTHONPATH=packages/runner/python:packages/kernels/python python3 scripts/gpu/block_profile.py \
        [--d-model 2560] [--batch 4] [--seqlen 4096] [--ab] [--out DIR]

bench/pkgs/bench_block_<d_model>'s block (bf16) and mamba_ssm's Mamba2Simple with
use_mem_eff_path=True on the same weights (needs .baseline, causal-conv1d's .so for the
fused path). Each is profiled over 10 forward+backward calls after warm-up; prints the
wall time per call, the GPU time per call, and the kernels by GPU time (names shortened),
so the scan's share and the glue's (conv, norm, casts, cat, GEMMs) can be read off, and
the GPU time per kernel group (GROUPS: cat, copy/cast, fill, reduce, GEMM, scan, conv, norm,
other). --ab also profiles ours with block.py's composition (FUSED False: the per-op
autograd wrappers and the two torch.split backwards' cats) to read the fused Function's gain.
Writes <out>/block_profile_<d_model>.txt.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
for p in ("packages/runner/python", "packages/kernels/python"):
    sys.path.insert(0, str(ROOT / p))

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from mamba2_runner.bench.providers import make_baseline_block, make_generated_module  # noqa: E402
from mamba2_runner.bench.baseline import load_mamba_ssm  # noqa: E402
from mamba2_runner.pkgload import load_generated, load_ir  # noqa: E402


# (group, substrings of the lower-cased kernel name), first match wins
GROUPS = (
    ("cat", ("catarray", "cat_")),
    ("copy/cast", ("copy",)),
    ("fill", ("fill",)),
    ("reduce", ("reduce",)),
    ("GEMM", ("gemm", "cutlass", "nvjet", "sm90_xmma", "ampere", "cublas")),
    ("scan", ("ssd",)),
    ("conv", ("conv",)),
    ("norm", ("norm",)),
)


def group_of(name):
    low = name.lower()
    return next((g for g, keys in GROUPS if any(k in low for k in keys)), "other")


def step(mod, u, gy):
    y = mod(u)
    torch.autograd.backward(y, gy)


def flush(lines, out, d_model):
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"block_profile_{d_model}.txt").write_text("\n".join(lines) + "\n")


def profile_one(label, mod, u, gy, lines, n=10):
    for _ in range(3):
        step(mod, u, gy)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        step(mod, u, gy)
    torch.cuda.synchronize()
    wall = (time.perf_counter() - t) / n * 1e3
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(n):
            step(mod, u, gy)
        torch.cuda.synchronize()
    rows = []
    for ev in prof.key_averages():
        dt = getattr(ev, "self_device_time_total", None)
        if dt is None:
            dt = getattr(ev, "self_cuda_time_total", 0)
        if dt > 0 and ev.device_type == torch.autograd.DeviceType.CUDA:
            rows.append((dt / n / 1e3, ev.count // n, ev.key[:90], group_of(ev.key)))
    rows.sort(reverse=True)
    gpu = sum(r[0] for r in rows)
    lines.append(f"== {label}: wall {wall:.3f} ms / call, GPU kernels {gpu:.3f} ms / call")
    groups = {}
    for ms, cnt, _, g in rows:
        t, c = groups.get(g, (0.0, 0))
        groups[g] = (t + ms, c + cnt)
    lines.append("  by group: " + ", ".join(
        f"{g} {t:.3f} ms x{c}" for g, (t, c) in sorted(groups.items(), key=lambda kv: -kv[1][0])))
    for ms, cnt, key, g in rows[:40]:
        lines.append(f"  {ms:8.3f} ms  x{cnt:<3d} [{g}] {key}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d-model", type=int, default=2560)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seqlen", type=int, default=4096)
    ap.add_argument("--out", default=None)
    ap.add_argument("--ab", action="store_true", help="also ours through block.py's composition (the split cats)")
    a = ap.parse_args()
    pkg_dir = ROOT / "bench" / "pkgs" / f"bench_block_{a.d_model}"
    pkg = load_generated(pkg_dir)
    ir = load_ir(pkg_dir)
    torch.manual_seed(0)
    gen = make_generated_module(pkg, ir, "cuda").train()
    for prm in gen.parameters():
        prm.requires_grad_(True)
    sd = {k: v.detach().clone() for k, v in gen.state_dict().items()}
    u = torch.randn(a.batch, a.seqlen, a.d_model, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    gy = torch.randn_like(u)
    lines = [f"block fwd+bwd profile, d_model {a.d_model}, ({a.batch}, {a.seqlen}), bf16, {torch.cuda.get_device_name()}"]
    profile_one("generated", gen, u, gy, lines)
    if a.ab:
        import importlib

        block = importlib.import_module(f"{type(gen).__module__.rsplit('.', 1)[0]}.block")
        block.FUSED = False
        profile_one("generated, composition (block.FUSED False: split cats)", gen, u, gy, lines)
        block.FUSED = True
    flush(lines, a.out, a.d_model)
    print("\n".join(lines), flush=True)
    try:  # the bench's own construction of the incumbent (same kwargs, dt_limit, chunk, weights)
        base = load_mamba_ssm(ROOT / ".baseline")
        ctx = SimpleNamespace(device="cuda", baseline=lambda: base)
        m = make_baseline_block(ctx, ir, sd, fused=True)
        profile_one("mamba_ssm_fused", m.train(), u, gy, lines)
    except Exception as e:  # the profile of ours stands alone
        lines.append(f"== mamba_ssm_fused: not profiled ({type(e).__name__}: {e})")
    flush(lines, a.out, a.d_model)
    print("\n".join(lines[lines.index(next(x for x in lines if x.startswith("== mamba_ssm"))):]))


if __name__ == "__main__":
    main()
